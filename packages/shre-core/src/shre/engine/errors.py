"""Exceptions that end a training run early.

This module imports no torch, so the CLI can catch these without loading the
engine.
"""

from __future__ import annotations

from pathlib import Path

from shre.errors import ShreError


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on SIGINT or SIGTERM after saving a checkpoint.

    It subclasses ``KeyboardInterrupt`` so code that handles Ctrl-C handles it
    too. The CLI exits with ``exit_code`` (130, the shell's code for SIGINT).

    Attributes:
        checkpoint: the checkpoint saved at the step boundary after the signal.
        run_dir: the run directory to resume (``fit(config, resume=run_dir)``).
        signal_name: ``"SIGINT"`` or ``"SIGTERM"``.
        step: optimiser steps completed when training stopped.
    """

    exit_code = 130

    def __init__(self, checkpoint: Path, signal_name: str, step: int) -> None:
        super().__init__(
            f"training stopped by {signal_name} after step {step}; checkpoint saved to "
            f"{checkpoint}. Resume with fit(config, resume='{checkpoint.parent.parent}')"
        )
        self.checkpoint = checkpoint
        self.run_dir = checkpoint.parent.parent
        self.signal_name = signal_name
        self.step = step

    def __str__(self) -> str:
        return str(self.args[0])


class NonFiniteLossError(ShreError):
    """The training loss became NaN or infinite; no weights were updated by that step.

    Attributes:
        step: the optimiser step (counted from 1) whose loss was not finite.
        checkpoint: the last good checkpoint, or ``None`` when none was saved.
    """

    def __init__(self, step: int, checkpoint: Path | None) -> None:
        where = (
            f"the last good checkpoint is {checkpoint}"
            if checkpoint is not None
            else "no checkpoint was saved before it"
        )
        super().__init__(
            f"non-finite training loss at step {step}; training stopped and {where}. "
            "Lower optimizer.lr, set train.max_grad_norm, or use train.precision=fp32"
        )
        self.step = step
        self.checkpoint = checkpoint
