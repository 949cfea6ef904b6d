"""Options that several commands share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click


def allow_pickle_option(weights: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Return the ``--allow-pickle`` flag; ``weights`` names the files it applies to."""
    return click.option(
        "--allow-pickle",
        is_flag=True,
        help=(
            f"Accept pickled .pt/.bin files for {weights}. Unpickling runs code from the "
            "file: use it only for files you trust, or convert them to safetensors."
        ),
    )
