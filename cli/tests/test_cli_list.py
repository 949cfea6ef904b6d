"""``shre list``, ``shre plugins`` and commands that plugins add."""

from __future__ import annotations

import json
import logging

import click
import pytest
import shre
from shre.plugins import create_plugin_manager, reset_plugin_manager
from shre_cli.main import add_plugin_commands


def test_list_tasks_shows_qualified_names(run_shre):
    result = run_shre("list", "tasks")

    assert result.exit_code == 0
    assert "glue:cola" in result.stdout


def test_list_losses_shows_builtin_losses(run_shre):
    result = run_shre("list", "losses")

    assert "core:cross-entropy" in result.stdout
    assert "core:mse" in result.stdout


def test_list_without_kind_shows_every_kind(run_shre):
    result = run_shre("list")

    lines = result.stdout.splitlines()
    for heading in ("tasks", "models", "encoders", "poolers", "heads", "losses"):
        assert heading in lines


def test_list_marks_parametric_encoders(run_shre):
    result = run_shre("list", "encoders")

    assert "core:hf:<argument>" in result.stdout


def test_list_unknown_kind_exits_2(run_shre):
    result = run_shre("list", "optimisers")

    assert result.exit_code == 2
    assert "'optimisers'" in result.stderr


def test_plugins_json_reports_core_components(run_shre):
    result = run_shre("plugins", "--json")
    report = json.loads(result.stdout)
    core = next(plugin for plugin in report["plugins"] if plugin["name"] == "core")

    assert core["distribution"] == "shre-core"
    assert "shre-tiny" in core["components"]["models"]
    assert "shre_models" in core["hooks"]


def test_plugins_table_has_header(run_shre):
    result = run_shre("plugins")

    assert result.stdout.splitlines()[0].split() == [
        "plugin",
        "distribution",
        "version",
        "hooks",
        "components",
    ]


class CommandPlugin:
    """A plugin object that adds the command 'hello'."""

    @shre.hookimpl
    def shre_cli_commands(self, cli: click.Group) -> None:
        @cli.command()
        def hello() -> None:
            """Say hello."""
            click.echo("hello from a plugin")


class BrokenCommandPlugin:
    """A plugin whose hook raises."""

    @shre.hookimpl
    def shre_cli_commands(self, cli: click.Group) -> None:
        raise RuntimeError("no commands today")


class HijackingPlugin:
    """A plugin that replaces the built-in 'list' command."""

    @shre.hookimpl
    def shre_cli_commands(self, cli: click.Group) -> None:
        cli.add_command(click.Command("list", callback=lambda: click.echo("hijacked")))


@pytest.fixture
def group_with_plugins(monkeypatch):
    """A fresh copy of the shre group with three command plugins registered."""
    from shre_cli import main  # the module, not the function

    manager = create_plugin_manager(load_entry_points=False)
    for name, plugin in (
        ("hello", CommandPlugin()),
        ("broken", BrokenCommandPlugin()),
        ("hijack", HijackingPlugin()),
    ):
        manager.register(plugin, name=name)
    reset_plugin_manager(manager)
    group = click.Group("shre", commands=dict(main.cli.commands))
    monkeypatch.setattr(main, "_plugin_commands_added", False)
    yield group
    reset_plugin_manager(None)


def test_plugin_command_is_added(group_with_plugins):
    add_plugin_commands(group_with_plugins)

    assert "hello" in group_with_plugins.commands


def test_failing_command_hook_is_logged(group_with_plugins, caplog):
    with caplog.at_level(logging.WARNING):
        add_plugin_commands(group_with_plugins)

    assert "no commands today" in caplog.text


def test_builtin_command_cannot_be_replaced(group_with_plugins):
    from shre_cli.commands.listing import list_components

    add_plugin_commands(group_with_plugins)

    assert group_with_plugins.commands["list"] is list_components
