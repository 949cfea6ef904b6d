"""The ``shre`` command line.

``shre_cli.main.cli`` is the top-level click group; ``shre_cli.main.main``
is the console-script entry point. ``shre_cli.doctor`` contains the checks of
``shre plugins doctor``.
"""
