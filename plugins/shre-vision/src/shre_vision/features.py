"""Linear probe on cached features (``task_options.cache_features: true``).

A linear probe runs a frozen encoder in eval mode, so with fixed (not
augmented) inputs its pooled output is the same in every epoch. The task
then encodes each split once, stores the pooled features ``(N, D)`` in
memory, and trains the head on them: an epoch costs a pass through the head
instead of through the encoder.

``FeatureProbeModel`` is a ``TaskModel`` with the same modules and parameter
names, so its checkpoints load into an ordinary ``TaskModel``. Its forward
takes a batch with ``features`` ``(B, D)`` and skips the encoder and pooler;
a batch with ``pixel_values`` runs the whole model as usual.

Caching requires a parameter-free pooler (``mean``, ``cls``) because the
pooler's output is what gets cached, and it turns off random augmentation and
mixup, whose point is a new view of each image every epoch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import torch
from shre.compose import TaskModel
from shre.errors import ConfigError
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

logger = logging.getLogger(__name__)

FEATURES_KEY = "features"


class FeatureProbeModel(TaskModel):
    """A frozen-encoder ``TaskModel`` that also accepts cached pooled features."""

    @classmethod
    def from_task_model(cls, model: TaskModel) -> FeatureProbeModel:
        """Wrap the modules of a composed ``TaskModel`` (the encoder must be frozen).

        Raises:
            ConfigError: the encoder is not frozen or the pooler has parameters.
        """
        if not model.freeze_encoder:
            raise ConfigError(
                "task_options.cache_features needs a linear probe; pass --linear-probe "
                "(train.freeze_encoder=true) or set task_options.cache_features=false"
            )
        if any(True for _ in model.pooler.parameters()):
            raise ConfigError(
                f"task_options.cache_features needs a pooler without parameters (mean, cls); "
                f"{type(model.pooler).__name__} has trainable parameters"
            )
        return cls(model.encoder, model.pooler, model.head, model.loss, freeze_encoder=True)

    def forward(self, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        """Return ``logits`` ``(B, C)`` (and ``loss`` with labels) from ``features`` or pixels."""
        if FEATURES_KEY not in batch:
            return super().forward(batch)

        logits = self.head(batch[FEATURES_KEY])
        outputs: dict[str, torch.Tensor] = {"logits": logits}
        labels = batch.get("labels")
        if labels is not None:
            loss = self.loss(logits, labels)
            if isinstance(loss, Mapping):
                outputs.update(loss)
            else:
                outputs["loss"] = loss
        return outputs

    @torch.no_grad()
    def encode(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """Return the pooled features ``(B, D)`` of images ``(B, 3, S, S)``."""
        hidden = self.encoder({"pixel_values": pixel_values})
        return self.pooler(hidden, None)


class FeatureDataset(Dataset):
    """Cached pooled features ``(N, D)`` and labels ``(N,)`` as ``features``/``labels`` examples.

    ``encode_seconds`` is the wall-clock time the encoding took (0.0 when the
    features were not encoded by ``encode_dataset``).
    """

    def __init__(
        self, features: torch.Tensor, labels: torch.Tensor, encode_seconds: float = 0.0
    ) -> None:
        self.features = features
        self.labels = labels
        self.encode_seconds = encode_seconds

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return {FEATURES_KEY: self.features[index], "labels": int(self.labels[index])}


def encode_dataset(
    model: FeatureProbeModel, dataset: Dataset, *, batch_size: int, num_workers: int = 0
) -> FeatureDataset:
    """Run the frozen encoder and pooler once over ``dataset`` of ``pixel_values`` examples.

    The dataset must use a deterministic (evaluation) transform, or the cached
    features would freeze one random view of each image. The returned
    dataset's ``encode_seconds`` is the wall-clock time of this call, image
    decoding included.
    """
    from accelerate import PartialState

    started = time.monotonic()

    # The engine builds the datasets before it moves the model to its
    # device, so encode on that device (a GPU when there is one), then move back.
    home = next(model.parameters()).device
    device = PartialState().device
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers)
    was_training = model.training
    model.eval().to(device)

    features: list[torch.Tensor] = []
    labels: list[torch.Tensor] = []
    for batch in tqdm(loader, desc="encode features", leave=False):
        features.append(model.encode(batch["pixel_values"].to(device)).float().cpu())
        labels.append(torch.as_tensor(batch["labels"]))

    model.to(home).train(was_training)
    seconds = time.monotonic() - started
    cached = FeatureDataset(torch.cat(features), torch.cat(labels), encode_seconds=seconds)
    logger.info(
        "cached features of %d images, width %d, in %.1f s",
        len(cached),
        cached.features.shape[1],
        seconds,
    )
    return cached
