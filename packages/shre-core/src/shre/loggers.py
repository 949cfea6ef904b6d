"""Built-in ``loggers`` plugin: TensorBoard and Weights & Biases through lifecycle hooks.

The engine always writes ``metrics.jsonl``; these loggers add to it when the
run config lists them, for example ``loggers: [tensorboard, wandb]`` or
``--set 'loggers=[tensorboard]'``. They log from the main process only.

- ``tensorboard``: event files in ``<run_dir>/tensorboard`` (needs the
  ``tensorboard`` package: ``pip install 'shre-core[tensorboard]'``).
- ``wandb``: a Weights & Biases run in ``<run_dir>/wandb``, offline unless
  ``WANDB_MODE`` sets another mode (``pip install 'shre-core[wandb]'``).

Scalars are named ``train/<metric>`` for training steps and
``<split>/<metric>`` for evaluations, with the optimiser step as x-axis.
This module is the plugin; it imports neither torch nor the logging packages
until a run enables them.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shre.errors import ConfigError
from shre.hookspecs import hookimpl

SHRE_API_VERSION = "1.0"

logger = logging.getLogger(__name__)

# Logger name to the package it needs and the install line.
REQUIREMENTS = {
    "tensorboard": ("tensorboard", "pip install 'shre-core[tensorboard]'"),
    "wandb": ("wandb", "pip install 'shre-core[wandb]'"),
}
# Names the engine handles itself; accepted here so a config may list them.
ENGINE_LOGGERS = ("jsonl",)


class TensorBoardLogger:
    """Write scalars to TensorBoard event files in ``<run_dir>/tensorboard``."""

    def __init__(self, run_dir: Path, config: Mapping[str, Any]) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(Path(run_dir) / "tensorboard"))

    def log(self, prefix: str, step: int, metrics: Mapping[str, float]) -> None:
        for name, value in metrics.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                self.writer.add_scalar(f"{prefix}/{name}", value, global_step=step)

    def flush(self) -> None:
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


class WandbLogger:
    """Log scalars to a Weights & Biases run, offline by default."""

    def __init__(self, run_dir: Path, config: Mapping[str, Any]) -> None:
        import wandb

        # NOTE: written against the wandb 0.16+ API (init, log, finish); the
        # tests run it only where wandb is installed, which CI does not do.
        self.run = wandb.init(
            dir=str(run_dir),
            name=Path(run_dir).name,
            config=dict(config),
            mode=os.environ.get("WANDB_MODE", "offline"),
            reinit=True,
        )

    def log(self, prefix: str, step: int, metrics: Mapping[str, float]) -> None:
        self.run.log({f"{prefix}/{name}": value for name, value in metrics.items()}, step=step)

    def flush(self) -> None:
        """W&B writes in its own process; nothing to flush here."""

    def close(self) -> None:
        self.run.finish()


LOGGERS = {"tensorboard": TensorBoardLogger, "wandb": WandbLogger}

# Loggers of the runs in progress, keyed by the trainer object's id.
_active: dict[int, list[Any]] = {}


def requested_loggers(config: Mapping[str, Any]) -> list[str]:
    """Return the logger names in ``config["loggers"]`` that this plugin serves.

    Raises:
        ConfigError: ``loggers`` is not a list, names an unknown logger, or
            names one whose package is not installed.
    """
    names = config.get("loggers") or []
    if isinstance(names, str) or not isinstance(names, (list, tuple)):
        raise ConfigError(f"invalid loggers {names!r}; use a list such as [tensorboard, wandb]")

    served = []
    for name in names:
        if name in ENGINE_LOGGERS:
            continue
        if name not in LOGGERS:
            valid = ", ".join((*LOGGERS, *ENGINE_LOGGERS))
            raise ConfigError(f"unknown logger {name!r} in loggers; choose from {valid}")
        package, install = REQUIREMENTS[name]
        if importlib.util.find_spec(package) is None:
            raise ConfigError(f"logger {name!r} needs the {package!r} package; run {install!r}")
        served.append(name)
    return served


@hookimpl
def shre_configure(config: dict[str, Any]) -> None:
    requested_loggers(config)


@hookimpl
def shre_on_fit_start(trainer: Any) -> None:
    if not trainer.is_main_process:
        return
    names = requested_loggers(trainer.config)
    if names:
        _active[id(trainer)] = [LOGGERS[name](trainer.run_dir, trainer.config) for name in names]
        logger.info("logging to %s", ", ".join(names))


@hookimpl
def shre_on_step_end(trainer: Any, step: int, metrics: dict[str, float]) -> None:
    for active in _active.get(id(trainer), ()):
        active.log("train", step, metrics)


@hookimpl
def shre_on_evaluate(trainer: Any, step: int, split: str, metrics: dict[str, float]) -> None:
    # Flush after each evaluation so a run that stops on an error still has
    # its evaluation curves on disk (shre_on_fit_end is not called then).
    for active in _active.get(id(trainer), ()):
        active.log(split, step, metrics)
        active.flush()


@hookimpl
def shre_on_fit_end(trainer: Any, summary: dict[str, Any]) -> None:
    for active in _active.pop(id(trainer), ()):
        active.close()
