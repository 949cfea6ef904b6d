"""``shre plugins doctor``: check every installed plugin in depth.

Each entry point of the ``shre`` group is checked on its own, so one broken
plugin never hides the findings of another:

- the module imports, timed in a fresh interpreter, which also shows whether
  it pulls torch, transformers, timm or datasets in at import time;
- it declares a ``SHRE_API_VERSION`` that this core accepts;
- pluggy accepts its hook implementations (known hook names, known argument
  names);
- its component hooks return specs of the right type, with valid names and
  factory import strings whose module can be found;
- no short component name clashes with another plugin's;
- every installed ``shre-*`` distribution has a ``shre`` entry point.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from dataclasses import asdict, dataclass
from importlib import metadata
from typing import Any

import pluggy
from shre.plugins import ENTRY_POINT_GROUP, PluginManager
from shre.registry import KINDS, PLURALS, Registry
from shre.specs import SPEC_TYPES
from shre.version import API_VERSION, is_api_compatible

from shre_cli.output import one_line

HEAVY_MODULES = ("torch", "transformers", "timm", "datasets")

# Above this, listing components feels slow; the usual cause is a heavy
# import at module level.
SLOW_IMPORT_SECONDS = 0.5

# Distributions named shre-* that are not plugins.
NON_PLUGIN_DISTRIBUTIONS = {"shre-core", "shre-cli", "shre-workspace"}

_IMPORT_PROBE = """
import importlib, json, sys, time
heavy = {heavy!r}
started = time.perf_counter()
try:
    importlib.import_module({module!r})
except BaseException as error:
    print(json.dumps({{"error": f"{{type(error).__name__}}: {{error}}"}}))
    raise SystemExit(0)
seconds = time.perf_counter() - started
print(json.dumps({{"seconds": seconds, "heavy": [m for m in heavy if m in sys.modules]}}))
"""


@dataclass(frozen=True)
class Finding:
    """One result of one check: ``level`` is ``ok``, ``warning`` or ``error``."""

    plugin: str
    check: str
    level: str
    message: str

    def line(self) -> str:
        return f"[{self.level}] {self.plugin}: {self.check}: {one_line(self.message)}"

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def probe_import(module: str, timeout: float = 60.0) -> dict[str, Any]:
    """Import ``module`` in a fresh interpreter; return its import time and heavy imports."""
    code = _IMPORT_PROBE.format(heavy=HEAVY_MODULES, module=module)
    try:
        completed = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"import took more than {timeout:.0f} s"}
    lines = completed.stdout.strip().splitlines()
    if not lines:
        errors = completed.stderr.strip().splitlines()
        return {"error": errors[-1] if errors else f"no output (exit code {completed.returncode})"}
    return json.loads(lines[-1])


def _check_import(name: str, module: str) -> list[Finding]:
    probe = probe_import(module)
    if "error" in probe:
        return [Finding(name, "import", "error", f"importing {module!r} failed: {probe['error']}")]

    findings = [Finding(name, "import", "ok", f"{module} imports in {probe['seconds']:.3f} s")]
    if probe["heavy"]:
        findings.append(
            Finding(
                name,
                "import",
                "error",
                f"importing {module!r} imports {', '.join(probe['heavy'])}; move those imports "
                "into the factories so that 'shre list' stays fast",
            )
        )
    elif probe["seconds"] > SLOW_IMPORT_SECONDS:
        findings.append(
            Finding(
                name,
                "import",
                "warning",
                f"import takes {probe['seconds']:.2f} s (more than {SLOW_IMPORT_SECONDS} s); "
                "defer the slow imports to the factories",
            )
        )
    return findings


def _check_api_version(name: str, plugin: Any) -> Finding:
    declared = getattr(plugin, "SHRE_API_VERSION", None)
    if declared is None:
        return Finding(
            name,
            "api version",
            "warning",
            f"declares no SHRE_API_VERSION; add SHRE_API_VERSION = {API_VERSION!r} to the module",
        )
    if not is_api_compatible(str(declared)):
        return Finding(
            name,
            "api version",
            "error",
            f"written for plugin API {declared}, but shre-core provides {API_VERSION}; "
            f"install a release of the plugin for API {API_VERSION}",
        )
    return Finding(name, "api version", "ok", f"API {declared} (core {API_VERSION})")


def _check_hooks(name: str, plugin: Any) -> tuple[PluginManager | None, Finding]:
    manager = PluginManager()
    try:
        manager.register(plugin, name=name)
        manager.check_pending()
    except pluggy.PluginValidationError as error:
        return None, Finding(name, "hooks", "error", f"invalid hook implementation: {error}")
    hooks = sorted(caller.name for caller in manager.get_hookcallers(plugin) or ())
    return manager, Finding(name, "hooks", "ok", ", ".join(hooks) or "no hooks")


def _factory_problem(spec: Any) -> str | None:
    factory = spec.factory
    if factory is None or callable(factory):
        return None
    if not isinstance(factory, str):
        return f"factory {factory!r} is neither callable nor an import string"
    module, _, attribute = factory.partition(":")
    if not module or not attribute:
        return f"factory {factory!r} is not of the form 'package.module:attribute'"
    try:
        found = importlib.util.find_spec(module)
    except (ImportError, ValueError) as error:
        return f"factory module {module!r} cannot be found: {error}"
    if found is None:
        return f"factory module {module!r} is not installed"
    return None


def _check_components(name: str, manager: PluginManager) -> list[Finding]:
    findings = []
    for kind in KINDS:
        hook_name = f"shre_{PLURALS[kind]}"
        for implementation in getattr(manager.hook, hook_name).get_hookimpls():
            try:
                specs = list(implementation.function() or ())
            except Exception as error:  # noqa: BLE001 - report, do not stop the doctor
                findings.append(
                    Finding(
                        name, hook_name, "error", f"hook raised {type(error).__name__}: {error}"
                    )
                )
                continue

            problems = []
            seen: set[str] = set()
            for spec in specs:
                expected = SPEC_TYPES[kind]
                if not isinstance(spec, expected):
                    problems.append(f"returned {type(spec).__name__}, expected {expected.__name__}")
                    continue
                if ":" in spec.name or not spec.name:
                    problems.append(f"{kind} name {spec.name!r} is empty or contains ':'")
                if spec.name in seen:
                    problems.append(f"{kind} {spec.name!r} is returned twice")
                seen.add(spec.name)
                factory_problem = _factory_problem(spec)
                if factory_problem:
                    problems.append(f"{kind} {spec.name!r}: {factory_problem}")

            if problems:
                findings.extend(Finding(name, hook_name, "error", problem) for problem in problems)
            else:
                noun = kind if len(specs) == 1 else PLURALS[kind]
                findings.append(Finding(name, hook_name, "ok", f"{len(specs)} {noun}"))
    return findings


def check_entry_point(entry_point: metadata.EntryPoint) -> list[Finding]:
    """Run every per-plugin check on one entry point of the ``shre`` group."""
    name = entry_point.name
    module = entry_point.value.partition(":")[0]
    findings = _check_import(name, module)
    if findings[0].level == "error":
        return findings

    try:
        plugin = entry_point.load()
    except Exception as error:  # noqa: BLE001 - report, do not stop the doctor
        findings.append(
            Finding(name, "import", "error", f"loading {entry_point.value!r} failed: {error}")
        )
        return findings

    findings.append(_check_api_version(name, plugin))
    manager, hooks_finding = _check_hooks(name, plugin)
    findings.append(hooks_finding)
    if manager is not None:
        findings.extend(_check_components(name, manager))
    return findings


def check_clashes(registry: Registry) -> list[Finding]:
    """Report short names that several plugins provide (they need the full name)."""
    findings = []
    for kind in KINDS:
        for short_name, providers in sorted(registry.clashes(kind).items()):
            for provider in providers:
                others = ", ".join(other for other in providers if other != provider)
                findings.append(
                    Finding(
                        provider.partition(":")[0],
                        "name clash",
                        "error",
                        f"{kind} {short_name!r} is also provided by {others}; "
                        f"'{short_name}' alone is ambiguous, so rename one of them",
                    )
                )
    return findings


def check_distributions() -> list[Finding]:
    """Report installed ``shre-*`` distributions that register no ``shre`` entry point."""
    findings = []
    seen: set[str] = set()
    for distribution in metadata.distributions():
        dist_name = (distribution.metadata["Name"] or "").lower().replace("_", "-")
        if not dist_name.startswith("shre-") or dist_name in NON_PLUGIN_DISTRIBUTIONS:
            continue
        if dist_name in seen:
            continue
        seen.add(dist_name)
        if not any(point.group == ENTRY_POINT_GROUP for point in distribution.entry_points):
            findings.append(
                Finding(
                    dist_name,
                    "entry point",
                    "error",
                    f"distribution {dist_name!r} is installed but registers no "
                    f"'{ENTRY_POINT_GROUP}' entry point, so shre never loads it; add "
                    f"[project.entry-points.{ENTRY_POINT_GROUP}] to its pyproject.toml "
                    "and reinstall",
                )
            )
    return findings


def run_doctor() -> list[Finding]:
    """Run every check on every installed plugin and return the findings."""
    from shre.registry import get_registry

    findings: list[Finding] = []
    owners: dict[str, str | None] = {}
    entry_points = sorted(
        metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda point: point.name
    )
    for entry_point in entry_points:
        distribution = entry_point.dist.name if entry_point.dist else None
        if entry_point.name in owners:
            findings.append(
                Finding(
                    entry_point.name,
                    "entry point",
                    "error",
                    f"plugin name {entry_point.name!r} is registered by both "
                    f"{owners[entry_point.name]} and {distribution}; uninstall one of them",
                )
            )
            continue
        owners[entry_point.name] = distribution
        findings.extend(check_entry_point(entry_point))

    findings.extend(check_clashes(get_registry()))
    findings.extend(check_distributions())
    return findings
