"""Fixtures for the CLI tests: an in-process runner over the real ``shre`` group."""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result
from shre_cli.main import cli


@pytest.fixture
def run_shre():
    """Return ``run(*args, env=None) -> click Result`` for the ``shre`` group."""
    runner = CliRunner()

    def run(*args: str, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(cli, list(args), env=env)

    return run
