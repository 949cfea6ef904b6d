"""Plugin discovery: broken plugins are skipped and reported, the rest load."""

from __future__ import annotations

import sys
import types
from importlib import metadata

import pytest

from shre.plugins import LOAD_PLUGINS_VARIABLE, _load_entry_point, create_plugin_manager
from shre.version import is_api_compatible


@pytest.fixture()
def fake_modules(monkeypatch):
    def install(name: str, **attributes):
        module = types.ModuleType(name)
        for key, value in attributes.items():
            setattr(module, key, value)
        monkeypatch.setitem(sys.modules, name, module)
        return module

    return install


def entry_point(name: str, value: str) -> metadata.EntryPoint:
    return metadata.EntryPoint(name=name, value=value, group="shre")


def test_missing_module_is_recorded():
    manager = create_plugin_manager(load_entry_points=False)
    _load_entry_point(manager, entry_point("ghost", "shre_ghost_plugin_absent"))
    assert manager.load_errors[0].name == "ghost"
    assert "ModuleNotFoundError" in manager.load_errors[0].message


def test_incompatible_api_is_skipped_with_fix(fake_modules):
    fake_modules("shre_future_plugin", SHRE_API_VERSION="2.0")
    manager = create_plugin_manager(load_entry_points=False)
    _load_entry_point(manager, entry_point("future", "shre_future_plugin"))
    assert "future" not in manager.infos
    assert "install a release" in manager.load_errors[0].message


def test_wrong_hook_argument_is_recorded(fake_modules):
    from shre import hookimpl

    @hookimpl
    def shre_on_fit_start(trainer, unknown_argument):
        pass

    fake_modules("shre_bad_hook_plugin", shre_on_fit_start=shre_on_fit_start)
    manager = create_plugin_manager(load_entry_points=False)
    _load_entry_point(manager, entry_point("badhook", "shre_bad_hook_plugin"))
    assert "invalid hook implementation" in manager.load_errors[0].message


def test_good_plugin_loads(fake_modules):
    fake_modules("shre_good_plugin", SHRE_API_VERSION="1.0")
    manager = create_plugin_manager(load_entry_points=False)
    _load_entry_point(manager, entry_point("good", "shre_good_plugin"))
    assert manager.infos["good"].api_version == "1.0"


def test_duplicate_plugin_name_is_recorded(fake_modules):
    fake_modules("shre_twin_plugin")
    manager = create_plugin_manager(load_entry_points=False)
    _load_entry_point(manager, entry_point("twin", "shre_twin_plugin"))
    _load_entry_point(manager, entry_point("twin", "shre_twin_plugin"))
    assert "already used" in manager.load_errors[0].message


def test_load_plugins_variable_empty_loads_only_core(monkeypatch):
    monkeypatch.setenv(LOAD_PLUGINS_VARIABLE, "")
    assert list(create_plugin_manager().infos) == ["core"]


@pytest.mark.parametrize(
    ("plugin_version", "expected"),
    [("1.0", True), ("1.1", False), ("0.9", False), ("2.0", False), ("one", False)],
)
def test_api_compatibility(plugin_version, expected):
    assert is_api_compatible(plugin_version, "1.0") is expected


@pytest.mark.parametrize(
    ("variable", "warned"),
    [("loggers,nosuch", True), ("loggers", False), ("core,loggers", False)],
)
def test_load_plugins_variable_unknown_name_warns(monkeypatch, caplog, variable, warned):
    monkeypatch.setenv(LOAD_PLUGINS_VARIABLE, variable)

    create_plugin_manager()

    assert ("nosuch, which match no installed plugin" in caplog.text) is warned


def test_load_plugins_variable_warning_lists_installed(monkeypatch, caplog):
    monkeypatch.setenv(LOAD_PLUGINS_VARIABLE, "nosuch")

    create_plugin_manager()

    assert "installed plugins: " in caplog.text
    assert "loggers" in caplog.text.split("installed plugins: ")[1]
