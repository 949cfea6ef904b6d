"""The click exception that shows a user error as one line with its exit code."""

from __future__ import annotations

import click


class UserError(click.ClickException):
    """A ``ShreError`` shown as ``Error: <message>`` on stderr, with the error's exit code."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code
