"""Component registry: collects specs from plugins and resolves names.

Names are namespaced by plugin (``glue:cola``). A short name (``cola``)
resolves when exactly one plugin provides it; when several do, resolution
fails with an error that names every provider. Parametric specs take an
argument after their name: ``hf:bert-base-uncased`` resolves to the ``hf``
encoder with the argument ``bert-base-uncased``.
"""

from __future__ import annotations

import difflib
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from shre.errors import NameClashError, PluginError, UnknownNameError
from shre.plugins import PluginManager, get_plugin_manager
from shre.specs import SPEC_TYPES, ComponentSpec, EncoderSpec, ModelSpec

logger = logging.getLogger(__name__)

KINDS = ("task", "model", "encoder", "pooler", "head", "loss")
PLURALS = {kind: "losses" if kind == "loss" else f"{kind}s" for kind in KINDS}
_HOOKS = {kind: f"shre_{PLURALS[kind]}" for kind in KINDS}

# First-party plugins by namespace, so an unknown name can say what to install.
KNOWN_PLUGINS = {
    "glue": "shre-glue",
    "vision": "shre-vision",
    "distill": "shre-distill",
    "timm": "shre-vision",
}


@dataclass(frozen=True)
class Resolved:
    """A resolved name: the spec plus the argument of a parametric spec."""

    spec: ComponentSpec
    argument: str | None = None

    @property
    def name(self) -> str:
        """The full name, with the argument where there is one."""
        if self.argument is None:
            return self.spec.qualified_name
        return f"{self.spec.qualified_name}:{self.argument}"

    def build(self, *args: Any, **kwargs: Any) -> Any:
        """Build the component; parametric specs receive ``argument=``."""
        if self.spec.parametric:
            kwargs = {"argument": self.argument, **kwargs}
        return self.spec.build(*args, **kwargs)


class Registry:
    """All specs of all loaded plugins, by kind."""

    def __init__(self, manager: PluginManager) -> None:
        self.manager = manager
        self.specs: dict[str, dict[str, ComponentSpec]] = {kind: {} for kind in KINDS}
        self.errors: list[str] = []
        for kind in KINDS:
            self._collect(kind)

    def _collect(self, kind: str) -> None:
        hook = getattr(self.manager.hook, _HOOKS[kind])
        expected_type = SPEC_TYPES[kind]
        for implementation in hook.get_hookimpls():
            plugin = implementation.plugin_name
            try:
                specs = implementation.function() or ()
            except Exception as error:  # noqa: BLE001 - one broken plugin must not stop the rest
                self._error(f"plugin {plugin!r}: hook {_HOOKS[kind]} failed: {error}")
                continue
            for spec in specs:
                if not isinstance(spec, expected_type):
                    self._error(
                        f"plugin {plugin!r}: hook {_HOOKS[kind]} returned "
                        f"{type(spec).__name__}, expected {expected_type.__name__}"
                    )
                    continue
                if ":" in spec.name:
                    self._error(
                        f"plugin {plugin!r}: {kind} name {spec.name!r} contains ':'; "
                        "the registry adds the plugin prefix itself"
                    )
                    continue
                spec = spec.with_plugin(plugin)
                if spec.qualified_name in self.specs[kind]:
                    self._error(f"plugin {plugin!r} provides {kind} {spec.name!r} twice")
                    continue
                self.specs[kind][spec.qualified_name] = spec

    def _error(self, message: str) -> None:
        self.errors.append(message)
        logger.warning(message)

    def list(self, kind: str) -> list[ComponentSpec]:
        """Return the specs of one kind, sorted by qualified name."""
        return [self.specs[kind][name] for name in sorted(self.specs[kind])]

    def clashes(self, kind: str) -> dict[str, list[str]]:
        """Return short names that several plugins provide, with the providers."""
        providers: dict[str, list[str]] = defaultdict(list)
        for spec in self.specs[kind].values():
            providers[spec.name].append(spec.qualified_name)
        return {name: sorted(names) for name, names in providers.items() if len(names) > 1}

    def resolve(self, kind: str, name: str) -> Resolved:
        """Resolve ``name`` to a spec of ``kind``.

        Raises:
            UnknownNameError: no plugin provides the name; the message lists the
                closest names and, for a first-party namespace, the install line.
            NameClashError: a short name that several plugins provide.
        """
        specs = self.specs[kind]
        if name in specs:
            return Resolved(specs[name])

        matches = [spec for spec in specs.values() if spec.name == name]
        if len(matches) == 1:
            return Resolved(matches[0])
        if len(matches) > 1:
            providers = ", ".join(sorted(spec.qualified_name for spec in matches))
            raise NameClashError(
                f"{kind} name {name!r} is ambiguous: provided by {providers}; "
                "use the full name with its plugin prefix"
            )

        parametric = self._resolve_parametric(kind, name)
        if parametric is not None:
            return parametric

        raise UnknownNameError(self._unknown_message(kind, name))

    def _resolve_parametric(self, kind: str, name: str) -> Resolved | None:
        for spec in self.specs[kind].values():
            if not spec.parametric:
                continue
            for prefix in (spec.qualified_name, spec.name):
                if name.startswith(prefix + ":") and len(name) > len(prefix) + 1:
                    return Resolved(spec, name[len(prefix) + 1 :])
        return None

    def _unknown_message(self, kind: str, name: str) -> str:
        message = f"unknown {kind} {name!r}"
        candidates = self._names(kind)
        close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.6)
        if close:
            message += "; did you mean " + " or ".join(repr(item) for item in close) + "?"
        else:
            message += "."

        namespace = name.partition(":")[0] if ":" in name else None
        distribution = KNOWN_PLUGINS.get(namespace or "")
        if distribution and namespace not in self.manager.infos:
            message += f" The {namespace!r} plugin is not installed: run 'pip install {distribution}'."
        else:
            message += f" Run 'shre list {PLURALS[kind]}' to see the available names."
        return message

    def _names(self, kind: str) -> Sequence[str]:
        names: set[str] = set()
        for spec in self.specs[kind].values():
            names.add(spec.qualified_name)
            names.add(spec.name)
        return sorted(names)

    def resolve_model(self, name: str) -> ModelSpec:
        """Resolve a model name; any encoder name also serves as a one-branch model."""
        try:
            return self.resolve("model", name).spec  # type: ignore[return-value]
        except UnknownNameError as model_error:
            try:
                encoder = self.resolve("encoder", name)
            except UnknownNameError:
                raise model_error from None

        spec = encoder.spec
        assert isinstance(spec, EncoderSpec)
        # A modality-agnostic encoder (hf:NAME) serves either branch; the
        # built module reports its real modality and composition checks it.
        modalities = ("text", "image") if spec.modality == "any" else (spec.modality,)
        return ModelSpec(
            name=encoder.name,
            description=f"the {encoder.name} encoder alone",
            encoders={modality: encoder.name for modality in modalities},
        )

    def encoder_for(self, model: ModelSpec, modality: str) -> Resolved:
        """Return the encoder that ``model`` uses for ``modality``.

        Raises:
            UnknownNameError: the model has no branch for the modality, or its
                encoder's plugin is not installed.
        """
        if modality not in model.encoders:
            branches = ", ".join(sorted(model.encoders)) or "none"
            raise UnknownNameError(
                f"model {model.qualified_name!r} has no {modality} branch (it has: {branches}); "
                f"choose a model with a {modality} encoder (see 'shre list models')"
            )
        return self.resolve("encoder", model.encoders[modality])


_registry: Registry | None = None


def get_registry() -> Registry:
    """Return the process-wide registry, building it on first use."""
    global _registry
    if _registry is None:
        _registry = Registry(get_plugin_manager())
    return _registry


def reset_registry() -> None:
    """Forget the cached registry so the next call rebuilds it."""
    global _registry
    _registry = None


def iter_all(registry: Registry, kinds: Iterable[str] = KINDS) -> Iterable[ComponentSpec]:
    """Yield every spec of the given kinds."""
    for kind in kinds:
        yield from registry.list(kind)


__all__ = ["KINDS", "KNOWN_PLUGINS", "PLURALS", "PluginError", "Registry", "Resolved", "get_registry"]
