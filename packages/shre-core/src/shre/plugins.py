"""Plugin discovery: entry points of the ``shre`` group, loaded one by one.

A plugin that fails to import, declares an incompatible API version or has an
invalid hook implementation is recorded in ``PluginManager.load_errors`` and
skipped; every other plugin keeps working.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import pluggy

from shre import hookspecs
from shre.version import API_VERSION, is_api_compatible

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "shre"
LOAD_PLUGINS_VARIABLE = "SHRE_LOAD_PLUGINS"
BUILTIN_PLUGIN = "core"


@dataclass(frozen=True)
class PluginInfo:
    """One loaded plugin.

    Attributes:
        name: entry-point name, which is also the namespace of its components.
        distribution: name of the installed distribution, or ``None`` for the
            built-in plugin and plugins registered in code.
        version: distribution version.
        module: import path of the plugin module.
        api_version: plugin API version the plugin declares.
        import_seconds: time spent importing the plugin module.
    """

    name: str
    distribution: str | None
    version: str | None
    module: str
    api_version: str
    import_seconds: float


@dataclass(frozen=True)
class PluginLoadError:
    """A plugin that was skipped, with the reason and the fix."""

    name: str
    distribution: str | None
    entry_point: str
    message: str


class PluginManager(pluggy.PluginManager):
    """pluggy manager that records plugin metadata and load errors."""

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT_NAME)
        self.add_hookspecs(hookspecs)
        self.infos: dict[str, PluginInfo] = {}
        self.load_errors: list[PluginLoadError] = []

    def register_plugin(self, plugin: Any, info: PluginInfo) -> None:
        """Register ``plugin`` under ``info.name``; raise if its hooks are invalid."""
        self.register(plugin, name=info.name)
        self.infos[info.name] = info


def _allowed_plugins() -> set[str] | None:
    value = os.environ.get(LOAD_PLUGINS_VARIABLE)
    if value is None:
        return None
    return {name.strip() for name in value.split(",") if name.strip()}


def _declared_api_version(plugin: Any) -> str:
    return str(getattr(plugin, "SHRE_API_VERSION", API_VERSION))


def _load_entry_point(manager: PluginManager, entry_point: metadata.EntryPoint) -> None:
    distribution = entry_point.dist.name if entry_point.dist else None
    version = entry_point.dist.version if entry_point.dist else None

    def record(message: str) -> None:
        error = PluginLoadError(entry_point.name, distribution, entry_point.value, message)
        manager.load_errors.append(error)
        logger.warning("skipped plugin %r: %s", entry_point.name, message)

    if entry_point.name in manager.infos:
        record(
            f"plugin name {entry_point.name!r} is already used by "
            f"{manager.infos[entry_point.name].distribution or 'another plugin'}; "
            "uninstall one of the two distributions"
        )
        return

    started = time.perf_counter()
    try:
        plugin = entry_point.load()
    except Exception as error:  # noqa: BLE001 - any import failure must not stop the CLI
        record(
            f"import of {entry_point.value!r} failed with {type(error).__name__}: {error}; "
            f"fix or reinstall {distribution or 'the plugin'}"
        )
        return
    import_seconds = time.perf_counter() - started

    api_version = _declared_api_version(plugin)
    if not is_api_compatible(api_version):
        record(
            f"written for plugin API {api_version}, but shre-core provides {API_VERSION}; "
            f"install a release of {distribution or entry_point.name} for API {API_VERSION}"
        )
        return

    info = PluginInfo(
        name=entry_point.name,
        distribution=distribution,
        version=version,
        module=entry_point.value,
        api_version=api_version,
        import_seconds=import_seconds,
    )
    try:
        manager.register_plugin(plugin, info)
    except pluggy.PluginValidationError as error:
        record(f"invalid hook implementation: {error}")


def create_plugin_manager(*, load_entry_points: bool = True) -> PluginManager:
    """Create a manager with the built-in plugin and the installed plugins.

    ``SHRE_LOAD_PLUGINS`` (comma-separated plugin names) restricts which
    installed plugins load; set it to an empty string to load none. The
    built-in ``core`` plugin always loads.
    """
    from shre import builtin

    manager = PluginManager()
    manager.register_plugin(
        builtin,
        PluginInfo(BUILTIN_PLUGIN, "shre-core", _core_version(), builtin.__name__, API_VERSION, 0.0),
    )
    if not load_entry_points:
        return manager

    allowed = _allowed_plugins()
    entry_points = sorted(
        metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda point: point.name
    )
    if allowed is not None:
        _warn_unknown_allowed(allowed, {point.name for point in entry_points})
    for entry_point in entry_points:
        if allowed is not None and entry_point.name not in allowed:
            continue
        _load_entry_point(manager, entry_point)
    return manager


def _warn_unknown_allowed(allowed: set[str], installed: set[str]) -> None:
    # A misspelt name would otherwise just leave its plugin out.
    unknown = sorted(allowed - installed - {BUILTIN_PLUGIN})
    if unknown:
        logger.warning(
            "%s names %s, which match no installed plugin; installed plugins: %s",
            LOAD_PLUGINS_VARIABLE,
            ", ".join(unknown),
            ", ".join(sorted(installed)) or "none",
        )


def _core_version() -> str | None:
    try:
        return metadata.version("shre-core")
    except metadata.PackageNotFoundError:
        return None


_manager: PluginManager | None = None


def get_plugin_manager() -> PluginManager:
    """Return the process-wide plugin manager, creating it on first use."""
    global _manager
    if _manager is None:
        _manager = create_plugin_manager()
    return _manager


def reset_plugin_manager(manager: PluginManager | None = None) -> None:
    """Replace the process-wide manager; tests use this to load test plugins."""
    global _manager
    _manager = manager
    from shre import registry

    registry.reset_registry()
