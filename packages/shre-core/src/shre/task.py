"""The runtime task: data, model composition, loss and metrics for one run.

A task spec's factory returns a ``Task``. The engine drives it in this order:

1. ``prepare()`` reads or checks the raw data and sets ``num_labels`` when
   the data decides it.
2. ``build_model(registry)`` composes encoder -> pooler -> head with the loss.
3. ``dataset(split, model)`` and ``collate_fn(split, model)`` for the train
   split and each of ``eval_splits``.
4. The model's forward takes a collated batch (a dict of tensors) and
   returns a dict with ``"loss"`` (when the batch has labels), ``"logits"``
   and any named loss parts.
5. ``build_metrics(split)`` and ``update_metrics(...)`` accumulate metrics
   over the whole split; the engine synchronises them across processes.

This module imports no torch at import time, so task spec modules can
subclass ``Task`` without making ``shre list`` slow.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from shre.errors import ConfigError
from shre.specs import TaskSpec

if TYPE_CHECKING:
    import torch
    from torchmetrics import MetricCollection

    from shre.registry import Registry


class Task:
    """Base class for tasks.

    Attributes:
        spec: the task spec.
        config: the resolved run config; ``config["task_options"]`` contains
            the task-specific options.
        num_labels: output width of the head (1 for regression).
        train_split: name of the split used for training.
        eval_splits: splits evaluated after each epoch, main split first.
    """

    train_split: str = "train"
    eval_splits: Sequence[str] = ("validation",)
    predict_splits: Sequence[str] = ("test",)

    def __init__(self, spec: TaskSpec, config: Mapping[str, Any]) -> None:
        self.spec = spec
        self.config = config
        self.num_labels: int | None = spec.num_labels

    @property
    def name(self) -> str:
        return self.spec.qualified_name

    @property
    def modality(self) -> str:
        return self.spec.modality

    @property
    def main_metric(self) -> str:
        return self.spec.main_metric

    @property
    def greater_is_better(self) -> bool:
        return self.spec.greater_is_better

    def prepare(self) -> None:
        """Check or read the raw data; set ``num_labels`` when the data decides it."""

    def build_model(self, registry: Registry) -> torch.nn.Module:
        """Compose the model for this task from the run config's model name."""
        from shre.compose import compose_task_model

        return compose_task_model(self, registry)

    def dataset(self, split: str, model: torch.nn.Module) -> Any:
        """Return the dataset of ``split``, preprocessed for ``model``'s encoder."""
        raise NotImplementedError(f"task {self.name!r} does not implement dataset()")

    def collate_fn(self, split: str, model: torch.nn.Module) -> Callable[[list[Any]], Any] | None:
        """Return the collate function for ``split``, or ``None`` for the default."""
        return None

    def build_metrics(self, split: str) -> MetricCollection:
        """Return fresh torchmetrics for ``split``; names are the reported keys."""
        raise NotImplementedError(f"task {self.name!r} does not implement build_metrics()")

    def update_metrics(
        self, metrics: MetricCollection, outputs: Mapping[str, Any], batch: Mapping[str, Any]
    ) -> None:
        """Add one batch of model outputs to ``metrics``."""
        metrics.update(outputs["logits"], batch["labels"])

    def predictions(self, outputs: Mapping[str, Any]) -> list[Any]:
        """Turn one batch of outputs into per-example predictions (label ids or values)."""
        logits = outputs["logits"]
        if self.num_labels == 1:
            return logits.reshape(-1).tolist()
        return logits.argmax(dim=-1).tolist()

    def write_predictions(self, split: str, predictions: Sequence[Any], output_dir: Any) -> Any:
        """Write predictions of ``split`` in the task's submission format; return the path."""
        raise NotImplementedError(f"task {self.name!r} does not support prediction files")

    def option(self, key: str, default: Any = None) -> Any:
        """Return ``config["task_options"][key]`` or ``default``."""
        return self.config.get("task_options", {}).get(key, default)

    def require_num_labels(self) -> int:
        if self.num_labels is None or self.num_labels < 1:
            raise ConfigError(
                f"task {self.name!r} does not know its number of labels; "
                "prepare() must set num_labels from the data"
            )
        return self.num_labels
