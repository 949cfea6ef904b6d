"""The training engine: ``fit``, ``evaluate`` and ``predict``.

Importing this package does not import torch. Each function imports the
engine when called, so the CLI can import ``shre.engine`` and catch its
exceptions while staying fast.

- ``fit(config, *, resume=None, overwrite=False) -> dict``: train the task
  and model of a resolved config (``shre.config.resolve_config``) into the
  run directory ``config["output_dir"]`` and return the summary, which is
  also written to ``summary.json``. ``resume`` is a run directory (its last
  checkpoint) or a checkpoint directory, and the run continues in that run
  directory. ``overwrite=True`` replaces the run files of a used directory.
- ``evaluate(checkpoint, *, split=None, data_dir=None, batch_size=None)``:
  split name to metric name to value.
- ``predict(checkpoint, *, split=None, data_dir=None, output_dir=None,
  batch_size=None)``: write the task's prediction files; return their paths.

Each takes ``allow_pickle=False``. Pickled ``.bin``/``.pt`` weights (for
``fit``, those named by ``config["init"]``) load only when it is True,
because unpickling a file can run any code in it.

Raises ``TrainingInterrupted`` after SIGINT/SIGTERM (a checkpoint was saved)
and ``NonFiniteLossError`` when the loss becomes NaN or infinite.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shre.engine.errors import NonFiniteLossError, TrainingInterrupted


def fit(
    config: dict[str, Any],
    *,
    resume: str | Path | None = None,
    overwrite: bool = False,
    allow_pickle: bool = False,
) -> dict[str, Any]:
    """Train a resolved config; return the run summary. See the module docstring."""
    from shre.engine.loop import fit as _fit

    return _fit(config, resume=resume, overwrite=overwrite, allow_pickle=allow_pickle)


def evaluate(
    checkpoint: str | Path,
    *,
    split: str | None = None,
    data_dir: str | Path | None = None,
    batch_size: int | None = None,
    allow_pickle: bool = False,
) -> dict[str, dict[str, float]]:
    """Evaluate a run or checkpoint; return metrics per split."""
    from shre.engine.evaluation import evaluate as _evaluate

    return _evaluate(
        checkpoint, split=split, data_dir=data_dir, batch_size=batch_size, allow_pickle=allow_pickle
    )


def predict(
    checkpoint: str | Path,
    *,
    split: str | None = None,
    data_dir: str | Path | None = None,
    output_dir: str | Path | None = None,
    batch_size: int | None = None,
    allow_pickle: bool = False,
) -> list[Path]:
    """Write prediction files of a run or checkpoint; return their paths."""
    from shre.engine.evaluation import predict as _predict

    return _predict(
        checkpoint,
        split=split,
        data_dir=data_dir,
        output_dir=output_dir,
        batch_size=batch_size,
        allow_pickle=allow_pickle,
    )


__all__ = ["NonFiniteLossError", "TrainingInterrupted", "evaluate", "fit", "predict"]
