"""pytest fixtures of the conformance kit, loaded through the ``pytest11`` entry point.

- ``shre_conformance``: ``assert_plugin_conforms(plugin, **options)``, which
  fails the test with every broken contract listed.
- ``shre_plugins``: ``use(plugin, ..., name=None)`` replaces the process-wide
  plugin manager with the built-in plugin plus the given ones for the rest of
  the test, so ``shre.get_registry()`` resolves the plugin's names without
  installing it. The previous manager comes back after the test.

This module imports no torch, so it costs nothing in test sessions that do
not use it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from shre.testing.conformance import assert_plugin_conforms


@pytest.fixture
def shre_conformance() -> Callable[..., Any]:
    """Return ``assert_plugin_conforms``."""
    return assert_plugin_conforms


@pytest.fixture
def shre_plugins() -> Iterator[Callable[..., Any]]:
    """Yield ``use(*plugins, names=None)``; restore the previous plugin manager afterwards."""
    import importlib

    from shre import plugins as plugin_module
    from shre.plugins import PluginInfo, create_plugin_manager, reset_plugin_manager
    from shre.version import API_VERSION

    previous = plugin_module._manager

    def use(*plugins: Any, names: list[str] | None = None) -> Any:
        manager = create_plugin_manager(load_entry_points=False)
        for index, plugin in enumerate(plugins):
            plugin = importlib.import_module(plugin) if isinstance(plugin, str) else plugin
            name = (
                names[index]
                if names
                else getattr(plugin, "__name__", type(plugin).__name__).rpartition(".")[2]
            )
            info = PluginInfo(name, None, None, getattr(plugin, "__name__", name), API_VERSION, 0.0)
            manager.register_plugin(plugin, info)
        reset_plugin_manager(manager)
        return manager

    yield use
    reset_plugin_manager(previous)
