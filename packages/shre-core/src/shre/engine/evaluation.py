"""Evaluation over whole splits, and the ``evaluate``/``predict`` entry points."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from accelerate.utils import gather_object, send_to_device
from tqdm.auto import tqdm

from shre.engine.data import ShardedBatchSampler, build_loader, cap_dataset
from shre.errors import ConfigError

if TYPE_CHECKING:
    from accelerate import Accelerator
    from torch import nn

    from shre.task import Task

logger = logging.getLogger(__name__)


def batch_size_of(batch: Mapping[str, Any]) -> int:
    """Return the number of examples in a collated batch (the first dimension)."""
    if "labels" in batch and hasattr(batch["labels"], "shape"):
        return int(batch["labels"].shape[0])
    for value in batch.values():
        if hasattr(value, "shape") and len(value.shape) > 0:
            return int(value.shape[0])
    raise ConfigError("a collated batch contains no tensor; check the task's collate_fn")


def _to_floats(computed: Mapping[str, Any]) -> dict[str, float]:
    results = {}
    for name, value in computed.items():
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            results[name] = float(value)
        elif isinstance(value, (int, float)):
            results[name] = float(value)
        else:
            logger.debug("metric %s is not a scalar; it is not reported", name)
    return results


def run_batches(
    model: nn.Module,
    dataset: Any,
    collate_fn: Callable[[list[Any]], Any] | None,
    accelerator: Accelerator,
    *,
    batch_size: int,
    num_workers: int = 0,
    description: str = "",
    on_batch: Callable[[list[int], Mapping[str, Any], Mapping[str, Any]], None],
) -> None:
    """Run ``model`` in eval mode over this process's disjoint shard of ``dataset``.

    ``on_batch(indices, batch, outputs)`` receives each batch with the
    dataset indices it holds. Shards are unpadded, so processes may run a
    different number of batches; nothing here communicates between them.
    """
    sampler = ShardedBatchSampler(
        len(dataset),
        batch_size,
        shuffle=False,
        pad=False,
        rank=accelerator.process_index,
        world_size=accelerator.num_processes,
    )
    loader = build_loader(dataset, sampler, collate_fn, num_workers=num_workers)
    model.eval()
    progress = tqdm(
        zip(sampler, loader, strict=True),
        total=len(sampler),
        desc=description,
        leave=False,
        # None: tqdm turns the bar off when stderr is not a terminal (a log file).
        disable=None if accelerator.is_local_main_process else True,
    )
    with torch.no_grad():
        for indices, batch in progress:
            batch = send_to_device(batch, accelerator.device)
            with accelerator.autocast():
                outputs = model(batch)
            on_batch(indices, batch, outputs)


def evaluate_split(
    model: nn.Module,
    task: Task,
    split: str,
    dataset: Any,
    collate_fn: Callable[[list[Any]], Any] | None,
    accelerator: Accelerator,
    *,
    batch_size: int,
    num_workers: int = 0,
) -> dict[str, float]:
    """Compute the task's metrics and the mean loss over the whole split.

    Each process updates torchmetrics on its own shard. ``compute()`` then
    synchronises the metric states across processes, so every process gets
    the value over all examples, each counted once.

    Args:
        model: the unwrapped model (not the DDP wrapper, whose forward would
            wait for the other processes on every batch).

    Returns:
        Metric name to value, plus ``loss`` when the split has labels.
    """
    metrics = task.build_metrics(split).to(accelerator.device)
    totals = torch.zeros(2, dtype=torch.float64, device=accelerator.device)

    def on_batch(indices: list[int], batch: Mapping[str, Any], outputs: Mapping[str, Any]) -> None:
        if "loss" in outputs:
            size = batch_size_of(batch)
            totals[0] += outputs["loss"].double() * size
            totals[1] += size
        task.update_metrics(metrics, outputs, batch)

    run_batches(
        model,
        dataset,
        collate_fn,
        accelerator,
        batch_size=batch_size,
        num_workers=num_workers,
        description=f"eval {split}",
        on_batch=on_batch,
    )

    results = _to_floats(metrics.compute())
    metrics.reset()
    if accelerator.num_processes > 1:
        totals = accelerator.reduce(totals, reduction="sum")
    if totals[1] > 0:
        results["loss"] = float(totals[0] / totals[1])
    return results


def collect_predictions(
    model: nn.Module,
    task: Task,
    dataset: Any,
    collate_fn: Callable[[list[Any]], Any] | None,
    accelerator: Accelerator,
    *,
    batch_size: int,
    num_workers: int = 0,
) -> list[Any]:
    """Predict every example of ``dataset``; every process gets all of them, in dataset order."""
    pairs: list[tuple[int, Any]] = []

    def on_batch(indices: list[int], batch: Mapping[str, Any], outputs: Mapping[str, Any]) -> None:
        pairs.extend(zip(indices, task.predictions(outputs), strict=True))

    run_batches(
        model,
        dataset,
        collate_fn,
        accelerator,
        batch_size=batch_size,
        num_workers=num_workers,
        description="predict",
        on_batch=on_batch,
    )
    gathered = gather_object(pairs) if accelerator.num_processes > 1 else pairs
    return [prediction for _, prediction in sorted(gathered, key=lambda pair: pair[0])]


def _load_for_inference(
    checkpoint: str | Path, data_dir: str | Path | None, allow_pickle: bool
) -> tuple[Any, ...]:
    from shre.checkpoint import load_trained_model
    from shre.engine.setup import create_accelerator

    overrides = {"data": {"dir": str(data_dir)}} if data_dir is not None else {}
    model, task, config = load_trained_model(
        checkpoint, config_overrides=overrides, prepare=True, allow_pickle=allow_pickle
    )
    accelerator = create_accelerator(config["train"]["precision"])
    model.to(accelerator.device)
    return model, task, config, accelerator


def _eval_batch_size(config: Mapping[str, Any], batch_size: int | None) -> int:
    train = config["train"]
    return int(batch_size or train.get("eval_batch_size") or train["batch_size"])


def evaluate(
    checkpoint: str | Path,
    *,
    split: str | None = None,
    data_dir: str | Path | None = None,
    batch_size: int | None = None,
    allow_pickle: bool = False,
) -> dict[str, dict[str, float]]:
    """Evaluate a trained model on one split or on all of the task's eval splits.

    Args:
        checkpoint: run directory (best checkpoint, else last) or checkpoint directory.
        split: split name; default: every split in ``task.eval_splits``.
        data_dir: replaces the saved config's ``data.dir``.
        batch_size: examples per batch per process; default: the run's
            ``train.eval_batch_size``, else ``train.batch_size``.
        allow_pickle: accept a checkpoint whose weights are a pickled file.

    Returns:
        Split name to metric name to value. The saved ``data.max_eval_samples``
        applies, so the numbers match the run's own evaluation.
    """
    model, task, config, accelerator = _load_for_inference(checkpoint, data_dir, allow_pickle)
    splits = [split] if split else list(task.eval_splits)
    results = {}
    for name in splits:
        dataset = cap_dataset(
            task.dataset(name, model), config["data"].get("max_eval_samples"), name
        )
        results[name] = evaluate_split(
            model,
            task,
            name,
            dataset,
            task.collate_fn(name, model),
            accelerator,
            batch_size=_eval_batch_size(config, batch_size),
            num_workers=int(config["data"].get("num_workers") or 0),
        )
        logger.info("%s %s: %s", task.name, name, results[name])
    return results


def _prediction_split(task: Any, split: str | None) -> str:
    """Return the split to predict, checked before any inference runs.

    Raises:
        ConfigError: the task writes no prediction files, or ``split`` is not
            one of its ``predict_splits`` (the splits with a submission format).
    """
    from shre.task import Task

    splits = list(task.predict_splits)
    if not splits or type(task).write_predictions is Task.write_predictions:
        raise ConfigError(
            f"task {task.name!r} writes no prediction files; use 'shre evaluate' for its metrics"
        )
    if split is None:
        return splits[0]
    if split not in splits:
        raise ConfigError(
            f"split {split!r} of task {task.name!r} has no prediction format; "
            f"pass --split with one of: {', '.join(splits)}"
        )
    return split


def predict(
    checkpoint: str | Path,
    *,
    split: str | None = None,
    data_dir: str | Path | None = None,
    output_dir: str | Path | None = None,
    batch_size: int | None = None,
    allow_pickle: bool = False,
) -> list[Path]:
    """Write the task's prediction files for a split.

    Args:
        checkpoint: run directory (best checkpoint, else last) or checkpoint directory.
        split: one of ``task.predict_splits``; default: the first of them.
        data_dir: replaces the saved config's ``data.dir``.
        output_dir: where the files go; default: ``predictions/`` in the
            checkpoint's run directory.
        batch_size: examples per batch per process.
        allow_pickle: accept a checkpoint whose weights are a pickled file.

    Returns:
        The written files (only the main process writes; others get ``[]``).
    """
    from shre.checkpoint import resolve_checkpoint

    model, task, config, accelerator = _load_for_inference(checkpoint, data_dir, allow_pickle)
    name = _prediction_split(task, split)
    dataset = cap_dataset(task.dataset(name, model), None, name)
    predictions = collect_predictions(
        model,
        task,
        dataset,
        task.collate_fn(name, model),
        accelerator,
        batch_size=_eval_batch_size(config, batch_size),
        num_workers=int(config["data"].get("num_workers") or 0),
    )
    if not accelerator.is_main_process:
        return []

    if output_dir is None:
        resolved = resolve_checkpoint(checkpoint)
        in_run = resolved.parent.name == "checkpoints"
        output_dir = (resolved.parent.parent if in_run else resolved) / "predictions"
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    written = task.write_predictions(name, predictions, output_dir)
    paths = written if isinstance(written, (list, tuple)) else [written]
    return [Path(path) for path in paths if path is not None]
