"""``shre evaluate`` and ``shre predict``: run a trained model over whole splits.

The engine, and with it torch, is imported inside the command functions, so
that loading this module for ``shre --help`` stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from shre_cli.options import allow_pickle_option
from shre_cli.output import echo_json, echo_table, metrics_rows


def checkpoint_options(split_help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Add the options that evaluate and predict share: checkpoint, split, data and batch size."""
    options = [
        click.option(
            "--checkpoint",
            required=True,
            type=click.Path(exists=True, path_type=Path),
            help="Run directory (best checkpoint, else the last) or checkpoint directory.",
        ),
        click.option("--split", help=split_help),
        click.option(
            "--data-dir",
            type=click.Path(file_okay=False, path_type=Path),
            help="Directory of the task's data files [default: data.dir of the saved run config].",
        ),
        click.option(
            "--batch-size",
            type=click.IntRange(min=1),
            help="Examples per batch in each process.",
        ),
        allow_pickle_option("checkpoint weights"),
    ]

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            function = option(function)
        return function

    return decorate


@click.command()
@checkpoint_options("Split to evaluate [default: the task's evaluation splits].")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print {split: {metric: value}} as JSON instead of a table.",
)
def evaluate(
    checkpoint: Path,
    split: str | None,
    data_dir: Path | None,
    batch_size: int | None,
    as_json: bool,
    allow_pickle: bool,
) -> None:
    """Compute a trained model's metrics over whole splits."""
    import shre.engine

    metrics = shre.engine.evaluate(
        checkpoint,
        split=split,
        data_dir=data_dir,
        batch_size=batch_size,
        allow_pickle=allow_pickle,
    )
    if as_json:
        echo_json(metrics)
        return
    echo_table(["split", "metric", "value"], metrics_rows(metrics))


@click.command()
@checkpoint_options("Split to predict [default: the task's prediction splits].")
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for the prediction files [default: predictions/ in the run directory].",
)
def predict(
    checkpoint: Path,
    split: str | None,
    data_dir: Path | None,
    batch_size: int | None,
    output_dir: Path | None,
    allow_pickle: bool,
) -> None:
    """Write a trained model's predictions in the task's submission format."""
    import shre.engine

    paths = shre.engine.predict(
        checkpoint,
        split=split,
        data_dir=data_dir,
        output_dir=output_dir,
        batch_size=batch_size,
        allow_pickle=allow_pickle,
    )
    for path in paths:
        click.echo(str(path))
