"""The ``shre`` command line.

``shre_cli.main.cli`` is the top-level click group; ``shre_cli.main.main``
is the console-script entry point that turns ``shre.ShreError`` into a
one-line message and exit code 2.
"""

from shre_cli.main import cli, main

__all__ = ["cli", "main"]
