"""The built-in ``shre`` commands, one module per concern."""
