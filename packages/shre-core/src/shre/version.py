"""The plugin API version that shre-core provides."""

from __future__ import annotations

# MAJOR.MINOR. A plugin written for API X.Y works with any core of major X
# and minor >= Y. Bump the minor for additions, the major for breaking changes.
API_VERSION = "1.0"


def is_api_compatible(plugin_api_version: str, core_api_version: str = API_VERSION) -> bool:
    """Tell whether a plugin written for ``plugin_api_version`` runs on this core."""
    try:
        plugin_major, plugin_minor = (int(part) for part in plugin_api_version.split("."))
        core_major, core_minor = (int(part) for part in core_api_version.split("."))
    except ValueError:
        return False
    return plugin_major == core_major and plugin_minor <= core_minor
