"""MkDocs hook that renders the hook reference from ``shre.hookspecs``.

``docs/hooks.md`` contains the marker ``<!-- shre:hookspecs -->``. At build
time the hook replaces it with one section per hook specification, with
signature and docstring, so the reference never drifts from the code.
"""

from __future__ import annotations

import inspect
from typing import Any

MARKER = "<!-- shre:hookspecs -->"

GROUPS = (
    (
        "Component hooks",
        ("shre_encoders", "shre_poolers", "shre_heads", "shre_losses", "shre_tasks", "shre_models"),
    ),
    (
        "Lifecycle hooks",
        (
            "shre_configure",
            "shre_on_fit_start",
            "shre_on_step_end",
            "shre_on_evaluate",
            "shre_on_fit_end",
        ),
    ),
    ("Command-line hooks", ("shre_cli_commands",)),
)


def hookspec_names() -> list[str]:
    """Return the names of every function in ``shre.hookspecs`` marked as a hook specification."""
    from shre import hookspecs

    marker = f"{hookspecs.PROJECT_NAME}_spec"
    return [
        name
        for name, function in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(function, marker)
    ]


def render_hookspecs() -> str:
    """Render every hook specification as Markdown, grouped by kind."""
    from shre import hookspecs

    names = hookspec_names()
    grouped = {name for _, members in GROUPS for name in members}
    missing = sorted(set(names) - grouped)
    groups = [*GROUPS, ("Other hooks", tuple(missing))] if missing else GROUPS

    sections = []
    for title, members in groups:
        sections.append(f"## {title}\n")
        for name in members:
            function = getattr(hookspecs, name)
            signature = str(inspect.signature(function)).replace("'", "")
            sections.append(f"### `{name}{signature}`\n\n{inspect.getdoc(function) or ''}\n")
    return "\n".join(sections)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, render_hookspecs())
