"""Run records: the trainer state, the checkpoint metadata and the summary.

They live apart from the loop so that the loop reads as training only. The
functions take the ``Trainer`` and read or set its counters.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shre.checkpoint import load_trainer_state
from shre.config import load_config_file
from shre.plugins import get_plugin_manager
from shre.rundir import CONFIG_FILE, plot_curves, write_summary

if TYPE_CHECKING:
    from shre.engine.loop import Trainer

logger = logging.getLogger(__name__)


def restore_trainer_state(
    trainer: Trainer, checkpoint: Path, state: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Load the optimiser, scheduler, scaler and counters saved in ``checkpoint``.

    ``state`` is the already loaded trainer state of ``checkpoint``, if the
    caller read it first.

    Returns:
        This process's RNG state. It is returned, not applied, so that the
        caller restores it right before the first resumed step.
    """
    if state is None:
        state = load_trainer_state(checkpoint)
    warn_config_changes(trainer.run_dir / CONFIG_FILE, checkpoint / CONFIG_FILE)
    trainer.optimizer.load_state_dict(state["optimizer"])
    trainer.scheduler.load_state_dict(state["scheduler"])
    if state.get("scaler") is not None and trainer.accelerator.scaler is not None:
        trainer.accelerator.scaler.load_state_dict(state["scaler"])

    for key in (
        "step",
        "epoch",
        "batches_done",
        "best_metric",
        "best_step",
        "best_metrics",
        "final_metrics",
        "last_eval_step",
    ):
        setattr(trainer, key, state[key])
    trainer.seconds_before_resume = float(state["run_seconds"])
    trainer.last_checkpoint = checkpoint

    rng_states = state["rng_states"]
    if len(rng_states) != trainer.accelerator.num_processes:
        logger.warning(
            "checkpoint %s was saved by %d processes, this run has %d: the data order "
            "and random draws will differ from an uninterrupted run",
            checkpoint,
            len(rng_states),
            trainer.accelerator.num_processes,
        )
    trainer.run_on_main(lambda: trainer.metrics_log.truncate_after(trainer.step))
    logger.info("resuming from %s at step %d (epoch %d)", checkpoint, trainer.step, trainer.epoch)
    return rng_states[trainer.accelerator.process_index % len(rng_states)]


def trainer_state(trainer: Trainer, rng_states: list[dict[str, Any]]) -> dict[str, Any]:
    """Return ``trainer_state.pt``'s content: plain types and tensors only."""
    scaler = trainer.accelerator.scaler
    return {
        "optimizer": trainer.optimizer.state_dict(),
        "scheduler": trainer.scheduler.state_dict(),
        "scaler": scaler.state_dict() if scaler is not None else None,
        "rng_states": rng_states,
        "step": trainer.step,
        "epoch": trainer.epoch,
        "batches_done": trainer.batches_done,
        "best_metric": trainer.best_metric,
        "best_step": trainer.best_step,
        "best_metrics": trainer.best_metrics,
        "final_metrics": trainer.final_metrics,
        "last_eval_step": trainer.last_eval_step,
        "run_seconds": trainer.seconds_before_resume + time.monotonic() - trainer._fit_started,
    }


def checkpoint_meta(trainer: Trainer) -> dict[str, Any]:
    """Return ``meta.json``'s content.

    ``best_step`` is how a run directory resolves its best checkpoint.
    """
    return {
        "step": trainer.step,
        "epoch": trainer.epoch_progress,
        "metrics": trainer.final_metrics if trainer.last_eval_step == trainer.step else {},
        "best_step": trainer.best_step,
        "main_metric": trainer.task.main_metric,
        "best_metric": trainer.best_metric,
        "task": trainer.task.name,
        "model": trainer.config["model"],
        "num_labels": trainer.task.num_labels,
        "world_size": trainer.accelerator.num_processes,
    }


def finish_run(trainer: Trainer, seconds: float) -> dict[str, Any]:
    """Write ``summary.json`` and ``curves.png`` (main process) and return the summary."""
    infos = get_plugin_manager().infos
    summary = {
        "task": trainer.task.name,
        "model": trainer.config["model"],
        "run_dir": str(trainer.run_dir),
        "steps": trainer.step,
        "epochs": trainer.epoch_progress,
        "main_metric": trainer.task.main_metric,
        "greater_is_better": trainer.task.greater_is_better,
        "best_step": trainer.best_step,
        "best_metric": trainer.best_metric,
        "best_metrics": trainer.best_metrics,
        "final_metrics": trainer.final_metrics,
        "last_checkpoint": str(trainer.last_checkpoint),
        "run_seconds": trainer.seconds_before_resume + seconds,
        "world_size": trainer.accelerator.num_processes,
        "resumed_from": trainer.resumed_from,
        "plugins": {
            name: {"distribution": info.distribution, "version": info.version}
            for name, info in sorted(infos.items())
        },
    }
    if trainer.is_main_process:
        write_summary(trainer.run_dir, summary)
        main_split = next(iter(trainer.eval_datasets), None)
        plot_curves(
            trainer.run_dir, trainer.metrics_log.read(), trainer.task.main_metric, main_split
        )
    trainer.accelerator.wait_for_everyone()
    return summary


def warn_config_changes(current_config: Path, checkpoint_config: Path) -> None:
    """Log the config keys that differ between the checkpoint and the resumed run."""
    if not checkpoint_config.is_file() or not current_config.is_file():
        return
    before = _flatten(load_config_file(checkpoint_config))
    after = _flatten(load_config_file(current_config))
    changed = sorted(
        key
        for key in before.keys() | after.keys()
        if key != "output_dir" and before.get(key) != after.get(key)
    )
    if changed:
        logger.warning("resuming with a changed config: %s", ", ".join(changed))


def _flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat = {}
    for key, value in config.items():
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
