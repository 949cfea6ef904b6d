"""``shre new-plugin NAME``: write a complete third-party plugin package.

The package comes from the templates in ``shre_cli/templates/plugin``.
Every ``*.tmpl`` file is filled in with ``string.Template`` (``${namespace}``,
``${package}``, ``${distribution}``) and written without the suffix, and
the folder ``src/package`` becomes ``src/<package>``.
"""

from __future__ import annotations

import re
import string
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

import click
from shre.errors import ConfigError

TEMPLATE_SUFFIX = ".tmpl"
# A plugin namespace: lowercase words joined by hyphens, as entry-point names and
# distribution names usually are; it must not contain ':' (the namespace separator).
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


def plugin_names(name: str) -> dict[str, str]:
    """Derive the namespace, distribution and import package from ``NAME``.

    ``sentiment`` and ``shre-sentiment`` both give the namespace ``sentiment``,
    the distribution ``shre-sentiment`` and the package ``shre_sentiment``.

    Raises:
        ConfigError: ``name`` is not lowercase words joined by hyphens.
    """
    namespace = name.removeprefix("shre-")
    if not NAME_PATTERN.match(namespace) or namespace in {"core", "cli"}:
        raise ConfigError(
            f"invalid plugin name {name!r}; use lowercase letters, digits and hyphens, "
            "starting with a letter (for example 'sentiment'), and not 'core' or 'cli'"
        )
    distribution = f"shre-{namespace}"
    return {
        "namespace": namespace,
        "distribution": distribution,
        "package": distribution.replace("-", "_"),
    }


def _template_files(root: Traversable, prefix: Path = Path()) -> list[tuple[Path, Traversable]]:
    files = []
    for entry in sorted(root.iterdir(), key=lambda item: item.name):
        relative = prefix / entry.name
        if entry.is_dir():
            files.extend(_template_files(entry, relative))
        elif entry.name.endswith(TEMPLATE_SUFFIX):
            files.append((relative, entry))
    return files


def write_plugin(name: str, output_dir: Path) -> Path:
    """Write the plugin package for ``name`` into a new folder under ``output_dir``.

    Returns:
        The package folder, ``output_dir/shre-<namespace>``.

    Raises:
        ConfigError: an invalid name, or the folder exists already.
    """
    names = plugin_names(name)
    target = output_dir / names["distribution"]
    if target.exists():
        raise ConfigError(
            f"{str(target)!r} already exists; choose another --output-dir or NAME "
            "(shre never overwrites existing files)"
        )

    root = resources.files("shre_cli") / "templates" / "plugin"
    for relative, template in _template_files(root):
        parts = [names["package"] if part == "package" else part for part in relative.parts]
        destination = target.joinpath(*parts).with_name(parts[-1].removesuffix(TEMPLATE_SUFFIX))
        destination.parent.mkdir(parents=True, exist_ok=True)
        text = string.Template(template.read_text(encoding="utf-8")).substitute(names)
        destination.write_text(text, encoding="utf-8")
    return target


@click.command("new-plugin")
@click.argument("name")
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder in which the package folder shre-NAME is created.",
)
def new_plugin(name: str, output_dir: Path) -> None:
    """Create a third-party plugin package named shre-NAME.

    The package has a pyproject.toml with the 'shre' entry point, a task
    over a small bundled CSV data set that trains offline with the shre-tiny
    model, a max pooler, a README and tests that use the conformance kit.
    An existing folder is never overwritten.
    """
    target = write_plugin(name, output_dir)
    names = plugin_names(name)
    click.echo(f"created {target}")
    click.echo("next steps:")
    click.echo(f"  pip install -e '{target}[test]'")
    click.echo(f"  pytest {target}")
    click.echo(
        f"  shre train --task {names['namespace']}:sentences --model shre-tiny --max-steps 30"
    )
