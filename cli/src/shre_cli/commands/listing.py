"""``shre list`` and ``shre plugins``: what the installed plugins provide.

Both read only the registry and the plugin manager, so neither imports
torch, transformers, timm or datasets.
"""

from __future__ import annotations

from typing import Any

import click

from shre_cli.output import echo_json, echo_table, one_line

# Accept both the plural used on the command line and the singular kind.
_KIND_CHOICES = ("tasks", "models", "encoders", "poolers", "heads", "losses")


def _kind_of(plural: str) -> str:
    from shre.registry import PLURALS

    return next(kind for kind, name in PLURALS.items() if name == plural)


def _spec_row(spec: Any) -> list[Any]:
    extra = ""
    kind = spec.kind
    if kind == "task":
        extra = f"{spec.modality}; metrics: {', '.join(spec.metrics) or spec.main_metric}"
    elif kind == "model":
        extra = ", ".join(f"{modality}={name}" for modality, name in spec.encoders.items())
    elif kind == "encoder":
        extra = spec.modality + (f", width {spec.width}" if spec.width else "")
    name = spec.qualified_name + (":<argument>" if spec.parametric else "")
    return [name, extra, spec.description]


@click.command("list")
@click.argument("kind", required=False, type=click.Choice(_KIND_CHOICES))
def list_components(kind: str | None) -> None:
    """List the components of the installed plugins.

    KIND is one of tasks, models, encoders, poolers, heads, losses; without
    it every kind is listed. Names are shown with their plugin prefix
    (glue:cola); the short name (cola) works wherever it is unique.
    """
    from shre.registry import KINDS, PLURALS, get_registry

    registry = get_registry()
    kinds = [_kind_of(kind)] if kind else list(KINDS)
    for index, current in enumerate(kinds):
        if len(kinds) > 1:
            if index:
                click.echo()
            click.secho(PLURALS[current], bold=True)
        specs = registry.list(current)
        if not specs:
            click.echo(f"(no {PLURALS[current]}; install a plugin such as shre-glue)")
            continue
        rows = [_spec_row(spec) for spec in specs]
        detail = {"task": "modality; metrics", "model": "encoders", "encoder": "modality"}.get(
            current
        )
        if detail:
            echo_table(["name", detail, "description"], rows)
        else:
            echo_table(["name", "description"], [[row[0], row[2]] for row in rows])

    for message in registry.errors:
        click.echo(f"warning: {message}", err=True)


def plugin_report() -> dict[str, Any]:
    """Collect every loaded plugin and every load error as plain data."""
    from shre.registry import KINDS, PLURALS, get_registry

    registry = get_registry()
    manager = registry.manager
    provided: dict[str, dict[str, list[str]]] = {}
    for kind in KINDS:
        for spec in registry.list(kind):
            provided.setdefault(spec.plugin, {}).setdefault(PLURALS[kind], []).append(spec.name)

    plugins = []
    for name, info in manager.infos.items():
        plugin = manager.get_plugin(name)
        hooks = sorted(caller.name for caller in manager.get_hookcallers(plugin) or ())
        plugins.append(
            {
                "name": name,
                "distribution": info.distribution,
                "version": info.version,
                "module": info.module,
                "api_version": info.api_version,
                "import_seconds": round(info.import_seconds, 4),
                "hooks": hooks,
                "components": provided.get(name, {}),
            }
        )
    errors = [
        {
            "name": error.name,
            "distribution": error.distribution,
            "entry_point": error.entry_point,
            "message": error.message,
        }
        for error in manager.load_errors
    ]
    return {"plugins": plugins, "load_errors": errors, "registry_errors": list(registry.errors)}


def _components_text(components: dict[str, list[str]]) -> str:
    return "; ".join(f"{kind}: {', '.join(names)}" for kind, names in components.items()) or "-"


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def plugins(ctx: click.Context, as_json: bool) -> None:
    """Show the installed plugins: distribution, version, hooks, components, load errors.

    'shre plugins doctor' checks them in depth.
    """
    if ctx.invoked_subcommand is not None:
        return

    report = plugin_report()
    if as_json:
        echo_json(report)
        return

    rows = [
        [
            plugin["name"],
            plugin["distribution"],
            plugin["version"],
            ", ".join(hook.removeprefix("shre_") for hook in plugin["hooks"]),
            _components_text(plugin["components"]),
        ]
        for plugin in report["plugins"]
    ]
    echo_table(["plugin", "distribution", "version", "hooks", "components"], rows)
    if report["load_errors"] or report["registry_errors"]:
        click.echo()
        click.secho("load errors", bold=True)
        for error in report["load_errors"]:
            distribution = error["distribution"] or "-"
            click.echo(f"{error['name']} ({distribution}): {one_line(error['message'])}")
        for message in report["registry_errors"]:
            click.echo(one_line(message))


@plugins.command()
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
def doctor(as_json: bool) -> None:
    """Check every installed plugin; exit 1 when a problem is found.

    For each plugin, the doctor checks that the entry point imports (and how
    long that takes), that the module declares a compatible SHRE_API_VERSION,
    and that the hook implementations match the hook specifications. It
    calls the component hooks and checks the returned specs and their factory
    import strings. It also reports component names that two plugins
    provide, and installed 'shre-*' distributions without a 'shre' entry point.
    """
    from shre_cli.doctor import run_doctor

    findings = run_doctor()
    problems = [finding for finding in findings if finding.level == "error"]
    if as_json:
        echo_json([finding.as_dict() for finding in findings])
    else:
        for finding in findings:
            click.echo(finding.line())
        click.echo()
        click.echo(f"{len(problems)} problem(s) found" if problems else "no problems found")
    if problems:
        raise click.exceptions.Exit(1)
