"""Registry: namespacing, short names, clashes, parametric specs, unknown names."""

from __future__ import annotations

import types

import pytest

from shre import hookimpl
from shre.errors import NameClashError, UnknownNameError
from shre.plugins import PluginInfo, create_plugin_manager
from shre.registry import Registry
from shre.specs import EncoderSpec, HeadSpec, TaskSpec


def make_plugin(**hooks):
    module = types.ModuleType("fake_plugin")
    for name, function in hooks.items():
        setattr(module, name, hookimpl(function))
    return module


def make_registry(*plugins: tuple[str, types.ModuleType]) -> Registry:
    manager = create_plugin_manager(load_entry_points=False)
    for name, plugin in plugins:
        manager.register_plugin(plugin, PluginInfo(name, None, None, name, "1.0", 0.0))
    return Registry(manager)


def head_plugin(*names: str) -> types.ModuleType:
    return make_plugin(
        shre_heads=lambda: [HeadSpec(name=name, factory="shre.components:LinearHead") for name in names]
    )


def test_resolve_qualified_name():
    registry = make_registry(("alpha", head_plugin("probe")))
    assert registry.resolve("head", "alpha:probe").spec.qualified_name == "alpha:probe"


def test_resolve_unique_short_name():
    registry = make_registry(("alpha", head_plugin("probe")))
    assert registry.resolve("head", "probe").spec.plugin == "alpha"


def test_short_name_clash_names_every_provider():
    registry = make_registry(("alpha", head_plugin("probe")), ("beta", head_plugin("probe")))
    with pytest.raises(NameClashError) as caught:
        registry.resolve("head", "probe")
    assert "alpha:probe" in str(caught.value)
    assert "beta:probe" in str(caught.value)


def test_clash_listing():
    registry = make_registry(("alpha", head_plugin("probe")), ("beta", head_plugin("probe")))
    assert registry.clashes("head") == {"probe": ["alpha:probe", "beta:probe"]}


def test_qualified_name_resolves_despite_clash():
    registry = make_registry(("alpha", head_plugin("probe")), ("beta", head_plugin("probe")))
    assert registry.resolve("head", "beta:probe").spec.plugin == "beta"


def test_unknown_name_suggests_closest():
    registry = make_registry(("alpha", head_plugin("probe")))
    with pytest.raises(UnknownNameError) as caught:
        registry.resolve("head", "alpha:prbe")
    assert "did you mean 'alpha:probe'" in str(caught.value)


def test_unknown_first_party_namespace_gives_install_line():
    registry = make_registry()
    with pytest.raises(UnknownNameError) as caught:
        registry.resolve("task", "glue:cola")
    assert "pip install shre-glue" in str(caught.value)


def test_unknown_name_points_to_list_command():
    registry = make_registry()
    with pytest.raises(UnknownNameError) as caught:
        registry.resolve("loss", "nonexistent")
    assert "shre list losses" in str(caught.value)


def test_parametric_encoder_gets_argument():
    resolved = make_registry().resolve("encoder", "hf:bert-base-uncased")
    assert resolved.spec.qualified_name == "core:hf"
    assert resolved.argument == "bert-base-uncased"


def test_parametric_encoder_with_plugin_prefix():
    resolved = make_registry().resolve("encoder", "core:hf:./local-model")
    assert resolved.argument == "./local-model"


def test_encoder_name_serves_as_model():
    model = make_registry().resolve_model("hf:bert-base-uncased")
    assert model.encoders == {"text": "core:hf:bert-base-uncased", "image": "core:hf:bert-base-uncased"}


def test_model_without_branch_is_rejected():
    plugin = make_plugin(
        shre_encoders=lambda: [EncoderSpec(name="words", factory="x:y", modality="text")]
    )
    registry = make_registry(("alpha", plugin))
    model = registry.resolve_model("alpha:words")
    with pytest.raises(UnknownNameError) as caught:
        registry.encoder_for(model, "image")
    assert "has no image branch" in str(caught.value)


def test_broken_hook_is_recorded_and_others_load():
    def broken():
        raise RuntimeError("boom")

    registry = make_registry(("bad", make_plugin(shre_heads=broken)), ("good", head_plugin("probe")))
    assert registry.resolve("head", "probe").spec.plugin == "good"
    assert any("boom" in error for error in registry.errors)


def test_wrong_spec_type_is_recorded():
    plugin = make_plugin(shre_heads=lambda: [TaskSpec(name="oops", factory="x:y")])
    registry = make_registry(("odd", plugin))
    assert [spec.plugin for spec in registry.list("head")] == ["core"]
    assert any("expected HeadSpec" in error for error in registry.errors)


def test_name_with_colon_is_rejected():
    registry = make_registry(("odd", head_plugin("a:b")))
    assert any("contains ':'" in error for error in registry.errors)
