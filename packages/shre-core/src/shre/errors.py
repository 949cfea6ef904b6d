"""Exceptions that shre raises for problems a user can fix."""

from __future__ import annotations


def one_line(text: object) -> str:
    """Join the non-empty lines of ``text`` with '; ', dropping each line's final period.

    Library errors (transformers' ``OSError``, YAML errors) span several lines
    and end in a period; a shre message embeds them and goes on after them.
    """
    parts = [part.strip().rstrip(".") for part in str(text).splitlines() if part.strip()]
    return "; ".join(part for part in parts if part)


class ShreError(Exception):
    """A user error: a bad name, value, file or state that the user can fix.

    The CLI prints the message without a traceback and exits with code 2.
    Internal errors are any other exception type and keep their traceback.
    """

    exit_code = 2


class UnknownNameError(ShreError, KeyError):
    """A component, task or model name that no installed plugin provides."""

    def __str__(self) -> str:
        # KeyError quotes its argument; a user error reads better unquoted.
        return str(self.args[0]) if self.args else ""


class NameClashError(ShreError):
    """A short name that more than one plugin provides."""


class ConfigError(ShreError):
    """An invalid run configuration value, config file or `--set` override."""


class DataError(ShreError):
    """A missing or malformed data file, column, row or label."""


class CheckpointError(ShreError):
    """A missing, corrupt, unsafe or incompatible checkpoint."""


class PluginError(ShreError):
    """A plugin that cannot be used: failed import, bad hook, wrong API version."""
