"""Conformance kit: checks with which a plugin author tests a shre plugin.

``check_plugin(plugin)`` builds every component the plugin provides at a tiny
size and checks its shape contract on a generated batch.
``assert_plugin_conforms`` runs the same checks and fails a test with every
problem listed. The pytest plugin in
``shre.testing.pytest_plugin`` (registered through the ``pytest11`` entry point
of shre-core) offers the same as fixtures.

Tiny sizes: a plugin module may define ``SHRE_TINY_OPTIONS``, a mapping from
``"kind:name"`` (``"encoder:shre-text"``) to the keyword arguments that build
that component small and without downloads (``argument`` for parametric
encoders). For a task, the entry maps dotted config keys to values
(``{"data.dir": "tests/data"}``), applied over the task preset. ``None``
skips building that component, for example one that needs a large teacher.
Components without an entry are built with their spec's own options.

Importing this package imports no torch; the checks import it when they run.
"""

from shre.testing.conformance import (
    CheckResult,
    ConformanceReport,
    assert_plugin_conforms,
    check_imports_without,
    check_plugin,
)

__all__ = [
    "CheckResult",
    "ConformanceReport",
    "assert_plugin_conforms",
    "check_imports_without",
    "check_plugin",
]
