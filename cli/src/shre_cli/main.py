"""The top-level ``shre`` group, its error handling and plugin-provided commands.

Nothing here imports torch, transformers, timm or datasets: ``shre --help``,
``shre list`` and ``shre plugins`` read only the registry, and the commands
that train or evaluate import the engine inside their functions.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Sequence
from typing import Any

import click
from shre.errors import ShreError
from shre.errors import one_line as error_line

from shre_cli.errors import UserError
from shre_cli.output import one_line

logger = logging.getLogger(__name__)

DEBUG_VARIABLE = "SHRE_DEBUG"
LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"


class OneLineFormatter(logging.Formatter):
    """Formatter that puts each log message on one line; tracebacks keep their lines.

    pluggy's validation errors, which the plugin manager logs when it skips a
    plugin, span several lines.
    """

    def formatMessage(self, record: logging.LogRecord) -> str:
        return one_line(super().formatMessage(record))


class ShreGroup(click.Group):
    """Click group that turns user errors into one-line messages.

    A ``ShreError`` raised by any command (nested groups included) becomes a
    ``UserError``: ``Error: <message>`` on stderr and exit code 2. With
    ``--debug`` or ``SHRE_DEBUG=1`` the traceback is printed first. Any other
    exception is an internal error and keeps its traceback.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ShreError as error:
            if _debug_enabled(ctx):
                traceback.print_exc()
            # A message that embeds a library's error may span several lines.
            raise UserError(error_line(error), error.exit_code) from None


def _debug_enabled(ctx: click.Context) -> bool:
    return bool(ctx.obj and ctx.obj.get("debug"))


@click.group(cls=ShreGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--debug",
    is_flag=True,
    envvar=DEBUG_VARIABLE,
    help=f"Print the full traceback of user errors too (same as {DEBUG_VARIABLE}=1).",
)
@click.option("-v", "--verbose", count=True, help="Log more: -v for INFO, -vv for DEBUG messages.")
@click.version_option(package_name="shre-cli", prog_name="shre")
@click.pass_context
def cli(ctx: click.Context, debug: bool, verbose: int) -> None:
    """Train, evaluate and distil multimodal models composed from shre plugins.

    Components (tasks, models, encoders, poolers, heads, losses) come from the
    installed plugins: 'shre list' shows them and 'shre plugins' shows the
    plugins themselves.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    levels = {0: logging.WARNING, 1: logging.INFO}
    logging.getLogger().setLevel(levels.get(verbose, logging.DEBUG))


def _register_commands() -> None:
    from shre_cli.commands import inference, listing, new_plugin, train

    for command in (
        train.train,
        inference.evaluate,
        inference.predict,
        listing.list_components,
        listing.plugins,
        new_plugin.new_plugin,
    ):
        cli.add_command(command)


_register_commands()
_plugin_commands_added = False


def add_plugin_commands(group: click.Group = cli) -> None:
    """Call every plugin's ``shre_cli_commands`` hook once.

    A plugin whose hook fails, or that replaces a built-in command, is logged
    and skipped; the other plugins' commands stay.
    """
    global _plugin_commands_added
    if _plugin_commands_added:
        return
    _plugin_commands_added = True

    from shre.plugins import get_plugin_manager

    builtin = dict(group.commands)
    for implementation in get_plugin_manager().hook.shre_cli_commands.get_hookimpls():
        try:
            implementation.function(cli=group)
        except Exception as error:  # noqa: BLE001 - a broken plugin must not stop the CLI
            logger.warning(
                "plugin %r: hook shre_cli_commands failed with %s: %s",
                implementation.plugin_name,
                type(error).__name__,
                error,
            )
        for name, command in builtin.items():
            if group.commands.get(name) is not command:
                logger.warning(
                    "plugin %r replaced the built-in command %r; the built-in one is kept",
                    implementation.plugin_name,
                    name,
                )
                group.commands[name] = command


def main(argv: Sequence[str] | None = None) -> None:
    """Run the ``shre`` console script."""
    handler = logging.StreamHandler()
    handler.setFormatter(OneLineFormatter(LOG_FORMAT))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    add_plugin_commands(cli)
    cli.main(args=list(argv) if argv is not None else None, prog_name="shre")


if __name__ == "__main__":
    main(sys.argv[1:])
