"""Typed component specs that plugins return from the component hooks.

A spec describes a component without building it. Its ``factory`` is either a
callable or an import string ``"package.module:attribute"`` that is imported
only when the component is built, so listing components never imports torch,
transformers or timm.

Factory signatures, by kind (keyword arguments only):

- encoder: ``factory(argument=None, **options) -> nn.Module``. ``argument`` is
  the text after the spec name for parametric specs (``hf:bert-base-uncased``
  passes ``"bert-base-uncased"``). The module returns ``(B, T, D)`` hidden
  states and has the attributes ``width`` (D), ``modality`` and
  ``num_prefix_tokens`` (CLS and register tokens at the start of T).
- pooler: ``factory(width, encoder, **options) -> nn.Module`` mapping
  ``(B, T, D)`` (plus an optional attention mask) to ``(B, D)``.
- head: ``factory(width, num_outputs, **options) -> nn.Module`` mapping
  ``(B, D)`` to ``(B, C)``.
- loss: ``factory(**options) -> nn.Module`` whose forward returns a scalar
  tensor or a dict with the scalar under ``"loss"`` and named parts.
- task: ``factory(spec, config) -> shre.Task``.
- model: ``factory`` is optional; without one, shre composes the model from
  ``encoders`` (one encoder name per modality) and ``shared``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from shre.errors import PluginError

Factory = Callable[..., Any] | str

MODALITIES = ("text", "image", "image-text")


def load_factory(factory: Factory, *, owner: str = "") -> Callable[..., Any]:
    """Import ``factory`` if it is an import string and return the callable.

    Raises:
        PluginError: the module or attribute does not exist or is not callable.
    """
    if callable(factory):
        return factory

    module_name, _, attribute = factory.partition(":")
    if not module_name or not attribute:
        raise PluginError(
            f"invalid factory {factory!r} for {owner or 'a component'}; "
            "write it as 'package.module:attribute'"
        )

    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise PluginError(
            f"cannot import module {module_name!r} for {owner or factory}: {error}"
        ) from error

    target: Any = module
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError as error:
            raise PluginError(
                f"module {module_name!r} has no attribute {attribute!r} "
                f"(factory of {owner or factory})"
            ) from error

    if not callable(target):
        raise PluginError(f"factory {factory!r} of {owner or 'a component'} is not callable")
    return target


@dataclass(frozen=True)
class ComponentSpec:
    """Fields that every component spec has.

    Attributes:
        name: short name without the plugin prefix, for example ``"cola"``.
        factory: callable or ``"module:attribute"`` import string.
        description: one line for ``shre list``.
        parametric: the spec takes an argument after its name, as in
            ``hf:bert-base-uncased`` or ``timm:vit_small_patch16_224``.
        options: keyword arguments passed to the factory.
        plugin: the providing plugin's name, set by the registry.
    """

    kind: ClassVar[str] = "component"

    name: str
    factory: Factory
    description: str = ""
    parametric: bool = False
    options: Mapping[str, Any] = field(default_factory=dict)
    plugin: str = ""

    @property
    def qualified_name(self) -> str:
        """Name with the plugin prefix, for example ``glue:cola``."""
        return f"{self.plugin}:{self.name}" if self.plugin else self.name

    def with_plugin(self, plugin: str) -> ComponentSpec:
        return replace(self, plugin=plugin)

    def load(self) -> Callable[..., Any]:
        """Import and return the factory."""
        return load_factory(self.factory, owner=f"{self.kind} {self.qualified_name!r}")

    def build(self, *args: Any, **kwargs: Any) -> Any:
        """Build the component, with ``kwargs`` overriding the spec's options."""
        return self.load()(*args, **{**self.options, **kwargs})


@dataclass(frozen=True)
class EncoderSpec(ComponentSpec):
    """An encoder: inputs of one modality to hidden states ``(B, T, D)``.

    Attributes:
        modality: ``"text"``, ``"image"``, or ``"any"`` for specs whose built
            module decides (``hf:NAME``).
        width: D, or ``None`` when it depends on the argument.
    """

    kind: ClassVar[str] = "encoder"

    modality: str = "text"
    width: int | None = None


@dataclass(frozen=True)
class PoolerSpec(ComponentSpec):
    """A pooler: hidden states ``(B, T, D)`` to one vector ``(B, D)``."""

    kind: ClassVar[str] = "pooler"

    modality: str | None = None


@dataclass(frozen=True)
class HeadSpec(ComponentSpec):
    """A head: pooled features ``(B, D)`` to outputs ``(B, C)``."""

    kind: ClassVar[str] = "head"


@dataclass(frozen=True)
class LossSpec(ComponentSpec):
    """A loss: model outputs and targets to a scalar (and named parts)."""

    kind: ClassVar[str] = "loss"


@dataclass(frozen=True)
class TaskSpec(ComponentSpec):
    """A task: data, modality, default pooler, head, loss, metrics, preset.

    Attributes:
        modality: ``"text"``, ``"image"`` or ``"image-text"``.
        pooler, head, loss: default component names; a config may override them.
        metrics: metric names the task reports, main metric first.
        main_metric: metric that selects the best checkpoint.
        greater_is_better: direction of ``main_metric``.
        num_labels: number of classes (1 for regression), ``None`` when the
            data decides it.
        preset: reference hyperparameters, merged over the engine defaults.
    """

    kind: ClassVar[str] = "task"

    modality: str = "text"
    pooler: str | None = None
    head: str | None = None
    loss: str | None = None
    metrics: tuple[str, ...] = ()
    main_metric: str = "loss"
    greater_is_better: bool = True
    num_labels: int | None = None
    preset: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelSpec(ComponentSpec):
    """A model: which encoder serves each modality, plus any shared part.

    Attributes:
        encoders: modality to encoder name, e.g. ``{"text": "glue:shre-text"}``.
        shared: component built over the encoders for multimodal tasks.
        encoder_options: modality to keyword arguments for that encoder.
    """

    kind: ClassVar[str] = "model"

    factory: Factory | None = None  # type: ignore[assignment]
    encoders: Mapping[str, str] = field(default_factory=dict)
    shared: str | None = None
    encoder_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def load(self) -> Callable[..., Any]:
        if self.factory is None:
            raise PluginError(f"model {self.qualified_name!r} has no factory; it is composed")
        return super().load()


SPEC_TYPES: dict[str, type[ComponentSpec]] = {
    spec_type.kind: spec_type
    for spec_type in (EncoderSpec, PoolerSpec, HeadSpec, LossSpec, TaskSpec, ModelSpec)
}
