"""The checks behind ``shre.testing.check_plugin``.

Shapes follow the component contracts: an encoder maps a batch to ``(B, T, D)``,
a pooler ``(B, T, D)`` to ``(B, D)``, a head ``(B, D)`` to ``(B, C)``, and a
loss maps logits ``(B, C)`` and labels ``(B,)`` to a scalar that gradients
flow through.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pluggy

from shre.plugins import PluginManager
from shre.registry import KINDS, PLURALS
from shre.specs import MODALITIES, SPEC_TYPES, ComponentSpec
from shre.version import API_VERSION, is_api_compatible

HEAVY_MODULES = ("torch", "transformers", "timm", "datasets")
TINY_OPTIONS_ATTRIBUTE = "SHRE_TINY_OPTIONS"


@dataclass(frozen=True)
class CheckResult:
    """One check on one component; ``passed`` is ``None`` for a skipped check."""

    component: str
    check: str
    passed: bool | None
    message: str = ""

    def line(self) -> str:
        status = {True: "ok", False: "FAILED", None: "skipped"}[self.passed]
        return f"{status}: {self.component}: {self.check}" + (
            f": {self.message}" if self.message else ""
        )


@dataclass
class ConformanceReport:
    """All check results for one plugin."""

    plugin: str
    results: list[CheckResult] = field(default_factory=list)

    @property
    def problems(self) -> list[CheckResult]:
        return [result for result in self.results if result.passed is False]

    def add(self, component: str, check: str, passed: bool | None, message: str = "") -> None:
        self.results.append(CheckResult(component, check, passed, message))

    def assert_ok(self) -> None:
        """Raise ``AssertionError`` listing every failed check."""
        if self.problems:
            lines = "\n".join(result.line() for result in self.problems)
            raise AssertionError(
                f"plugin {self.plugin!r} fails {len(self.problems)} check(s):\n{lines}"
            )


def check_imports_without(module: str, heavy: Iterable[str] = HEAVY_MODULES) -> list[str]:
    """Import ``module`` in a fresh interpreter; return the heavy modules it imported.

    Raises:
        AssertionError: the import itself fails.
    """
    heavy = tuple(heavy)
    code = (
        "import importlib, sys\n"
        f"importlib.import_module({module!r})\n"
        f"print(','.join(name for name in {heavy!r} if name in sys.modules))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise AssertionError(f"importing {module!r} failed:\n{completed.stderr.strip()}")
    output = completed.stdout.strip().splitlines()
    return [name for name in (output[-1] if output else "").split(",") if name]


def _resolve_plugin(plugin: Any) -> Any:
    return importlib.import_module(plugin) if isinstance(plugin, str) else plugin


def check_plugin(
    plugin: Any,
    *,
    name: str | None = None,
    tiny_options: Mapping[str, Mapping[str, Any] | None] | None = None,
    check_import: bool = True,
) -> ConformanceReport:
    """Check a plugin against the shre contract and return the report.

    Args:
        plugin: the plugin module, its import path, or a plugin object.
        name: namespace to register it under [default: last part of the
            module name].
        tiny_options: ``"kind:name"`` to factory keyword arguments (``None``
            skips that component) [default: the module's ``SHRE_TINY_OPTIONS``].
        check_import: import the module in a fresh interpreter and fail if
            that imports torch, transformers, timm or datasets (one
            subprocess, about a second).
    """
    plugin = _resolve_plugin(plugin)
    module_name = plugin.__name__ if isinstance(plugin, types.ModuleType) else None
    name = name or (module_name or type(plugin).__name__).rpartition(".")[2]
    if tiny_options is None:
        tiny_options = getattr(plugin, TINY_OPTIONS_ATTRIBUTE, {}) or {}
    report = ConformanceReport(name)

    if check_import and module_name:
        heavy = check_imports_without(module_name)
        report.add(
            module_name,
            "imports without heavy modules",
            not heavy,
            f"importing it imports {', '.join(heavy)}; import them inside the factories"
            if heavy
            else "",
        )

    declared = getattr(plugin, "SHRE_API_VERSION", None)
    report.add(
        name,
        "api version",
        declared is not None and is_api_compatible(str(declared)),
        f"declares {declared!r}; core provides {API_VERSION!r}",
    )

    manager = PluginManager()
    try:
        manager.register(plugin, name=name)
        manager.check_pending()
    except pluggy.PluginValidationError as error:
        report.add(name, "hook implementations", False, str(error))
        return report
    report.add(name, "hook implementations", True)

    specs = _collect_specs(manager, name, report)
    _check_builds(specs, tiny_options, report)
    return report


def assert_plugin_conforms(plugin: Any, **options: Any) -> ConformanceReport:
    """Run ``check_plugin`` and raise ``AssertionError`` listing every failure."""
    report = check_plugin(plugin, **options)
    report.assert_ok()
    return report


def _collect_specs(
    manager: PluginManager, name: str, report: ConformanceReport
) -> dict[str, list[ComponentSpec]]:
    specs: dict[str, list[ComponentSpec]] = {}
    for kind in KINDS:
        hook_name = f"shre_{PLURALS[kind]}"
        for implementation in getattr(manager.hook, hook_name).get_hookimpls():
            try:
                returned = list(implementation.function() or ())
            except Exception as error:  # noqa: BLE001 - reported as a failed check
                report.add(name, hook_name, False, f"raised {type(error).__name__}: {error}")
                continue

            names = [getattr(spec, "name", None) for spec in returned]
            wrong = [
                type(spec).__name__ for spec in returned if not isinstance(spec, SPEC_TYPES[kind])
            ]
            report.add(
                name,
                f"{hook_name} returns {SPEC_TYPES[kind].__name__}",
                not wrong,
                f"got {', '.join(wrong)}" if wrong else "",
            )
            duplicates = sorted({item for item in names if names.count(item) > 1})
            report.add(
                name,
                f"{hook_name} names are unique",
                not duplicates,
                f"returned twice: {duplicates}" if duplicates else "",
            )
            bad = [item for item in names if not isinstance(item, str) or not item or ":" in item]
            report.add(
                name, f"{hook_name} names have no ':'", not bad, f"invalid: {bad}" if bad else ""
            )
            specs[kind] = [
                spec.with_plugin(name) for spec in returned if isinstance(spec, SPEC_TYPES[kind])
            ]
    return specs


def _check_builds(
    specs: Mapping[str, list[ComponentSpec]],
    tiny_options: Mapping[str, Mapping[str, Any] | None],
    report: ConformanceReport,
) -> None:
    from shre.testing import shapes

    encoders: dict[str, Any] = {}
    for spec in specs.get("encoder", []):
        encoder = _run(report, spec, tiny_options, shapes.check_encoder)
        if encoder is not None:
            encoders.setdefault(encoder.modality, encoder)

    for spec in specs.get("pooler", []):
        _run(report, spec, tiny_options, shapes.check_pooler, encoders=encoders)
    for spec in specs.get("head", []):
        _run(report, spec, tiny_options, shapes.check_head)
    for spec in specs.get("loss", []):
        _run(report, spec, tiny_options, shapes.check_loss)
    for spec in specs.get("task", []):
        _run(report, spec, tiny_options, shapes.check_task)
    for spec in specs.get("model", []):
        bad = sorted(modality for modality in spec.encoders if modality not in MODALITIES)
        report.add(
            f"model {spec.qualified_name}",
            "encoder modalities are known",
            not bad,
            f"unknown modalities {bad}; use {', '.join(MODALITIES)}" if bad else "",
        )


def _run(
    report: ConformanceReport,
    spec: ComponentSpec,
    tiny_options: Mapping[str, Any],
    check: Any,
    **extra: Any,
) -> Any:
    component = f"{spec.kind} {spec.qualified_name}"
    key = f"{spec.kind}:{spec.name}"
    if key in tiny_options and tiny_options[key] is None:
        report.add(
            component,
            "builds and meets its contract",
            None,
            f"skipped by {TINY_OPTIONS_ATTRIBUTE}[{key!r}]",
        )
        return None
    options = dict(tiny_options.get(key) or {})
    if spec.parametric and "argument" not in options:
        report.add(
            component,
            "builds and meets its contract",
            None,
            f"parametric; add {{'argument': ...}} under {key!r} "
            f"in {TINY_OPTIONS_ATTRIBUTE} to check it",
        )
        return None

    try:
        built = check(spec, options, **extra)
    except AssertionError as error:
        report.add(component, "meets its contract", False, str(error))
        return None
    except Exception as error:  # noqa: BLE001 - a build failure is a failed check
        report.add(component, "builds", False, f"{type(error).__name__}: {error}")
        return None
    report.add(component, "builds and meets its contract", True)
    return built
