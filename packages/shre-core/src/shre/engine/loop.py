"""The training loop behind ``shre.engine.fit``.

One code path serves a CPU, one GPU and multi-process DDP (``torchrun``,
``accelerate launch``, several nodes). accelerate places the model, wraps it
in DDP and handles mixed precision. The engine shards the data, accumulates
gradients and tracks the position in the data order itself, so that a
resumed run continues with exactly the batches and random draws that the
uninterrupted run would have used.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import torch
from accelerate.utils import broadcast_object_list, gather_object, send_to_device, set_seed
from tqdm.auto import tqdm

from shre.checkpoint import (
    CHECKPOINTS_DIR,
    load_init_weights,
    load_model_weights,
    load_trainer_state,
    prune_checkpoints,
    read_meta,
    save_checkpoint,
)
from shre.config import dump_config
from shre.engine.data import ShardedBatchSampler, build_loader, cap_dataset
from shre.engine.errors import NonFiniteLossError, TrainingInterrupted
from shre.engine.evaluation import batch_size_of, evaluate_split
from shre.engine.meter import IntervalMeter
from shre.engine.optim import build_optimizer, build_scheduler
from shre.engine.runstate import checkpoint_meta, finish_run, restore_trainer_state, trainer_state
from shre.engine.setup import (
    build_task,
    check_loggers_loaded,
    create_accelerator,
    effective_precision,
)
from shre.engine.signals import StopRequest
from shre.engine.state import capture_rng_state, restore_rng_state
from shre.errors import ConfigError, DataError, ShreError, one_line
from shre.plugins import get_plugin_manager
from shre.registry import get_registry
from shre.rundir import (
    CONFIG_FILE,
    METRICS_FILE,
    MetricsLog,
    default_output_dir,
    prepare_run_dir,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")


class Trainer:
    """One training run; lifecycle hooks receive it as ``trainer``.

    Attributes:
        config: the resolved run config (after ``shre_configure``).
        task, model, optimizer, scheduler, accelerator: the run's parts;
            ``model`` is the prepared (possibly DDP-wrapped) model.
        run_dir: the run directory.
        step: optimiser steps completed; ``epoch``: epochs completed.
        is_main_process: whether this process writes files.
    """

    def __init__(
        self,
        config: dict[str, Any],
        *,
        checkpoint: Path | None,
        overwrite: bool,
        allow_pickle: bool = False,
    ) -> None:
        self.config = config
        self.hook = get_plugin_manager().hook
        train = config["train"]
        self.accelerator = create_accelerator(
            train["precision"],
            # Absent from configs saved before the key existed.
            find_unused_parameters=bool(train.get("find_unused_parameters", True)),
        )
        self.is_main_process = self.accelerator.is_main_process
        # config.yaml records what ran, so a resumed run trains the same way.
        train["precision"] = effective_precision(train["precision"], self.accelerator)
        set_seed(int(config["seed"]))

        self.task = build_task(config)
        self.task.prepare()
        model = self.task.build_model(get_registry())
        if checkpoint is not None:
            load_model_weights(model, checkpoint, allow_pickle=allow_pickle)
        elif config.get("init"):
            load_init_weights(model, config["init"], allow_pickle=allow_pickle)
        self._build_data(model)

        optimizer = build_optimizer(model, config["optimizer"])
        self.total_steps = int(train["max_steps"] or train["epochs"] * self.steps_per_epoch)
        self.scheduler = build_scheduler(optimizer, config["scheduler"], self.total_steps)
        self.model, self.optimizer = self.accelerator.prepare(model, optimizer)

        self.step = self.epoch = self.batches_done = 0
        self.best_metric: float | None = None
        self.best_step: int | None = None
        self.best_metrics: dict[str, dict[str, float]] = {}
        self.final_metrics: dict[str, dict[str, float]] = {}
        self.last_eval_step: int | None = None
        self.last_checkpoint: Path | None = None
        self.seconds_before_resume = 0.0
        self._fit_started = time.monotonic()
        self.resumed_from = str(checkpoint) if checkpoint is not None else None
        self._rng_state: dict[str, Any] | None = None
        self._stop = StopRequest()
        self.meter = IntervalMeter()

        if checkpoint is not None:
            self._check_steps_left(checkpoint)
        # Read the trainer state before the run directory is opened, so that a
        # corrupt trainer_state.pt leaves the run's config.yaml untouched.
        state = load_trainer_state(checkpoint) if checkpoint is not None else None
        self.run_dir = self._open_run_dir(overwrite=overwrite, resume=checkpoint is not None)
        self.metrics_log = MetricsLog(self.run_dir / METRICS_FILE)
        if checkpoint is not None:
            self._rng_state = restore_trainer_state(self, checkpoint, state)

    # Setup

    def _build_data(self, model: torch.nn.Module) -> None:
        data = self.config["data"]
        train = self.config["train"]
        split = self.task.train_split
        self.train_dataset = cap_dataset(
            self.task.dataset(split, model), data["max_train_samples"], split
        )
        self.train_collate = self.task.collate_fn(split, model)
        self.eval_datasets = {
            name: cap_dataset(self.task.dataset(name, model), data["max_eval_samples"], name)
            for name in self.task.eval_splits
        }
        self.eval_collates = {
            name: self.task.collate_fn(name, model) for name in self.task.eval_splits
        }
        self.num_workers = int(data.get("num_workers") or 0)
        self.batch_size = int(train["batch_size"])
        self.eval_batch_size = int(train.get("eval_batch_size") or self.batch_size)
        self.accumulation = int(train["grad_accum_steps"])

        self.batches_per_epoch = len(self._train_sampler(epoch=0, skip_batches=0))
        self.steps_per_epoch = math.ceil(self.batches_per_epoch / self.accumulation)

    def _train_sampler(self, *, epoch: int, skip_batches: int) -> ShardedBatchSampler:
        return ShardedBatchSampler(
            len(self.train_dataset),
            self.batch_size,
            seed=int(self.config["seed"]),
            epoch=epoch,
            rank=self.accelerator.process_index,
            world_size=self.accelerator.num_processes,
            skip_batches=skip_batches,
        )

    def _check_steps_left(self, checkpoint: Path) -> None:
        """Reject a resume whose step budget the checkpoint has already passed.

        Runs before the run directory is opened, so the rejected config does
        not replace the run's ``config.yaml``.
        """
        step = int(read_meta(checkpoint).get("step") or 0)
        train = self.config["train"]
        if train["max_steps"]:
            option, budget = "--max-steps", f"train.max_steps {self.total_steps}"
        else:
            option = "--epochs"
            budget = f"the {self.total_steps} steps of train.epochs {train['epochs']}"
        if step > self.total_steps:
            raise ConfigError(
                f"run is already at step {step}, past {budget}; raise {option} to continue"
            )
        if step == self.total_steps:
            logger.warning(
                "run is already at its last step %d; nothing left to train (raise %s to continue)",
                step,
                option,
            )

    def _open_run_dir(self, *, overwrite: bool, resume: bool) -> Path:
        output = self.config.get("output_dir") or str(
            default_output_dir(self.task.name, str(self.config["model"]))
        )
        # Every process must agree on the directory, and the default one
        # contains a timestamp: take the main process's choice.
        if self.accelerator.num_processes > 1:
            output = broadcast_object_list([output])[0]
        run_dir = Path(output)
        self.config["output_dir"] = str(run_dir)

        def create() -> None:
            prepare_run_dir(run_dir, overwrite=overwrite, resume=resume)
            try:
                (run_dir / CONFIG_FILE).write_text(dump_config(self.config), encoding="utf-8")
            except OSError as error:
                raise ConfigError(
                    f"cannot write to output_dir {str(run_dir)!r}: {error}"
                ) from error

        self.run_on_main(create)
        return run_dir

    def run_on_main(self, function: Callable[[], T]) -> T:
        """Run ``function`` on the main process; re-raise its ``ShreError`` on every process."""
        result: Any = None
        error: ShreError | None = None
        if self.is_main_process:
            try:
                result = function()
            except ShreError as raised:
                error = raised
        if self.accelerator.num_processes > 1:
            result, error = broadcast_object_list([result, error])
        if error is not None:
            raise error
        return result

    # Training

    def fit(self) -> dict[str, Any]:
        """Train to ``total_steps``, evaluate, and return the summary."""
        self._fit_started = time.monotonic()
        self.hook.shre_on_fit_start(trainer=self)
        # Restored last, after anything (hooks included) that may draw random
        # numbers during setup, so the first resumed step starts from the saved state.
        if self._rng_state is not None:
            restore_rng_state(self._rng_state)

        progress = tqdm(
            total=self.total_steps,
            initial=self.step,
            desc="train",
            dynamic_ncols=True,
            # None: off when stderr is not a terminal; the periodic log lines remain.
            disable=None if self.accelerator.is_local_main_process else True,
        )
        with self._stop, progress:
            self._train(progress)
            if self.last_eval_step != self.step:
                self._evaluate_and_save()

        summary = finish_run(self, time.monotonic() - self._fit_started)
        self.hook.shre_on_fit_end(trainer=self, summary=summary)
        return summary

    def _train(self, progress: tqdm) -> None:
        while self.step < self.total_steps:
            sampler = self._train_sampler(epoch=self.epoch, skip_batches=self.batches_done)
            remaining = len(sampler)
            batches = iter(
                build_loader(
                    self.train_dataset, sampler, self.train_collate, num_workers=self.num_workers
                )
            )
            while remaining > 0 and self.step < self.total_steps:
                count = min(self.accumulation, remaining)
                self._optimizer_step(batches, count)
                remaining -= count
                self.batches_done += count
                self.step += 1
                progress.update(1)
                epoch_ended = remaining == 0
                if epoch_ended:
                    self.epoch += 1
                    self.batches_done = 0
                self._after_step(progress, epoch_ended)
                if self._stop_requested():
                    self._interrupt()

    def _optimizer_step(self, batches: Iterator[Any], count: int) -> None:
        """Run ``count`` micro-batches and one optimiser step.

        Raises:
            NonFiniteLossError: a micro-batch loss on any process was NaN or
                infinite; the optimiser step is skipped, so the weights stay finite.
        """
        accelerator = self.accelerator
        self.model.train()
        finite = torch.ones((), dtype=torch.bool, device=accelerator.device)
        for index in range(count):
            batch = send_to_device(next(batches), accelerator.device)
            # Gradients are all-reduced only on the last micro-batch of the step.
            last = index == count - 1
            with contextlib.nullcontext() if last else accelerator.no_sync(self.model):
                outputs = self.model(batch)
                if "loss" not in outputs:
                    raise DataError(
                        f"the model returned no loss on split {self.task.train_split!r}; "
                        "training batches need 'labels' (check the task's dataset)"
                    )
                loss = outputs["loss"]
                finite &= torch.isfinite(loss.detach()).all()
                accelerator.backward(loss / count)
            self.meter.add_micro_batch(outputs, batch_size_of(batch), count)

        non_finite = (~finite).float()
        if accelerator.num_processes > 1:
            non_finite = accelerator.reduce(non_finite, reduction="sum")
        if non_finite > 0:
            self.optimizer.zero_grad(set_to_none=True)
            raise NonFiniteLossError(self.step + 1, self.last_checkpoint)

        max_grad_norm = self.config["train"]["max_grad_norm"]
        if max_grad_norm:
            accelerator.clip_grad_norm_(self.model.parameters(), float(max_grad_norm))
        self.optimizer.step()
        # An fp16 step skipped for overflowing gradients must not advance the schedule.
        if not accelerator.optimizer_step_was_skipped:
            self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)

    def _stop_requested(self) -> bool:
        """Tell whether any process received SIGINT/SIGTERM; all processes get the same result."""
        received = self._stop.received is not None
        if self.accelerator.num_processes == 1:
            return received
        flag = torch.tensor(float(received), device=self.accelerator.device)
        return bool(self.accelerator.reduce(flag, reduction="sum") > 0)

    def _after_step(self, progress: tqdm, epoch_ended: bool) -> None:
        self.meter.steps += 1
        train = self.config["train"]
        if self.step % train["log_every"] == 0 or self.step == self.total_steps:
            self._log_train(progress)
        eval_every = train["eval_every"]
        due = self.step % eval_every == 0 if eval_every else epoch_ended
        if due or self.step == self.total_steps:
            self._evaluate_and_save()

    def _log_train(self, progress: tqdm) -> None:
        metrics = self.meter.compute(self.accelerator)
        metrics["lr"] = float(max(self.scheduler.get_last_lr()))
        if self.is_main_process:
            self.metrics_log.append(
                {"step": self.step, "epoch": self.epoch_progress, "split": "train", **metrics}
            )
        progress.set_postfix(
            loss=f"{metrics['loss']:.4f}", samples_s=f"{metrics['samples_per_second']:.1f}"
        )
        # Without a progress bar (stderr is not a terminal) this line is the progress report.
        level = logging.INFO if progress.disable else logging.DEBUG
        logger.log(level, "step %d/%d: %s", self.step, self.total_steps, _format(metrics))
        self.hook.shre_on_step_end(trainer=self, step=self.step, metrics=metrics)
        self.meter.reset()

    @property
    def epoch_progress(self) -> float:
        """Epochs completed, as a fraction for a step inside an epoch."""
        return self.epoch + self.batches_done / max(self.batches_per_epoch, 1)

    def _interrupt(self) -> None:
        checkpoint = self.last_checkpoint
        if checkpoint is None or checkpoint.name != f"step-{self.step}":
            checkpoint = self._save()
        raise TrainingInterrupted(checkpoint, self._stop.received or "a signal", self.step)

    # Evaluation, checkpoints, summary

    def _evaluate_and_save(self) -> None:
        try:
            results = self._evaluate_all()
        except ShreError as error:
            self._save_after_error(error)
            raise

        self.last_eval_step = self.step
        self.final_metrics = results
        self._update_best(results)
        self._save()

    def _save_after_error(self, error: ShreError) -> None:
        """Save the trained step when evaluation fails on a user error; name it in ``error``.

        Without it, a bad validation file (an undecodable image, say) found
        at the first evaluation would lose every step trained before it.
        """
        if self.step == 0 or (
            self.last_checkpoint is not None and self.last_checkpoint.name == f"step-{self.step}"
        ):
            return
        # The processes may not all have failed, so no collective call is made
        # here: the main process writes, with its own RNG state only.
        # NOTE: a multi-process run resumed from this checkpoint warns that
        # its data order differs from an uninterrupted run.
        if not self.is_main_process:
            return
        try:
            path = save_checkpoint(
                self.run_dir / CHECKPOINTS_DIR,
                self.step,
                self.accelerator.unwrap_model(self.model),
                trainer_state(self, [capture_rng_state()]),
                checkpoint_meta(self),
                dump_config(self.config),
            )
        except ShreError as save_error:
            logger.error("failed to save step %d after the error: %s", self.step, save_error)
            return
        error.args = (
            f"{one_line(error)}. Step {self.step} is saved in {path}; fix the data, "
            "then continue "
            f"with: shre train --resume {self.run_dir}",
            *error.args[1:],
        )

    def _evaluate_all(self) -> dict[str, dict[str, float]]:
        model = self.accelerator.unwrap_model(self.model)
        results = {}
        for split, dataset in self.eval_datasets.items():
            metrics = evaluate_split(
                model,
                self.task,
                split,
                dataset,
                self.eval_collates[split],
                self.accelerator,
                batch_size=self.eval_batch_size,
                num_workers=self.num_workers,
            )
            results[split] = metrics
            if self.is_main_process:
                self.metrics_log.append(
                    {"step": self.step, "epoch": self.epoch_progress, "split": split, **metrics}
                )
            logger.info("step %d %s: %s", self.step, split, _format(metrics))
            self.hook.shre_on_evaluate(trainer=self, step=self.step, split=split, metrics=metrics)
        return results

    def _update_best(self, results: dict[str, dict[str, float]]) -> None:
        if not results:
            return
        split = next(iter(results))
        value = results[split].get(self.task.main_metric)
        if value is None:
            logger.warning(
                "split %s has no metric %r; the best checkpoint is not tracked",
                split,
                self.task.main_metric,
            )
            return
        best = self.best_metric
        greater = self.task.greater_is_better
        if best is None or math.isnan(best) or (value > best if greater else value < best):
            self.best_metric, self.best_step, self.best_metrics = value, self.step, results

    def _save(self) -> Path:
        rng_state = capture_rng_state()
        rng_states = (
            gather_object([rng_state]) if self.accelerator.num_processes > 1 else [rng_state]
        )
        model = self.accelerator.unwrap_model(self.model)

        def write() -> str:
            path = save_checkpoint(
                self.run_dir / CHECKPOINTS_DIR,
                self.step,
                model,
                trainer_state(self, rng_states),
                checkpoint_meta(self),
                dump_config(self.config),
            )
            prune_checkpoints(self.run_dir, int(self.config["train"]["keep_last"]), self.best_step)
            return str(path)

        self.last_checkpoint = Path(self.run_on_main(write))
        return self.last_checkpoint


def _format(metrics: dict[str, float]) -> str:
    return ", ".join(f"{name} {value:.4g}" for name, value in metrics.items())


def fit(
    config: dict[str, Any],
    *,
    resume: str | Path | None = None,
    overwrite: bool = False,
    allow_pickle: bool = False,
) -> dict[str, Any]:
    """Train ``config["task"]`` with ``config["model"]``; see ``shre.engine`` for the contract."""
    from shre.checkpoint import resolve_checkpoint

    config = copy.deepcopy(config)
    checkpoint = None
    if resume is not None:
        checkpoint = resolve_checkpoint(resume, which="last")
        if checkpoint.parent.name == CHECKPOINTS_DIR:
            config["output_dir"] = str(checkpoint.parent.parent)
        elif not config.get("output_dir"):
            raise ConfigError(
                f"checkpoint {str(checkpoint)!r} is not inside a run directory; "
                "set output_dir to the directory that the resumed run should use"
            )
    check_loggers_loaded(config)
    get_plugin_manager().hook.shre_configure(config=config)
    trainer = Trainer(config, checkpoint=checkpoint, overwrite=overwrite, allow_pickle=allow_pickle)
    return trainer.fit()
