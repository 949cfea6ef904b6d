"""The ``vision`` plugin: image encoders, the ``norm-linear`` head and image classification tasks.

Factories are import strings and this module imports neither torch nor timm,
so ``shre list`` stays fast.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from shre.hookspecs import hookimpl
from shre.specs import EncoderSpec, HeadSpec, TaskSpec

from shre_vision.recipe import CIFAR_LAYER_DECAY, IMAGENET_LAYER_DECAY, preset

SHRE_API_VERSION = "1.0"

logger = logging.getLogger(__name__)

_ENCODERS = "shre_vision.encoders"
_TASKS = "shre_vision.tasks"


def _classification_task(name: str, factory: str, description: str, layer_decay: float) -> TaskSpec:
    return TaskSpec(
        name=name,
        factory=f"{_TASKS}:{factory}",
        description=description,
        modality="image",
        pooler="mean",
        head="norm-linear",
        loss="cross-entropy",
        metrics=("accuracy", "top5"),
        main_metric="accuracy",
        greater_is_better=True,
        preset=preset(layer_decay),
    )


@hookimpl
def shre_encoders() -> list[EncoderSpec]:
    return [
        EncoderSpec(
            name="timm",
            factory=f"{_ENCODERS}:build_timm_encoder",
            description="any timm model, classifier removed: timm:<name> (pretrained by default)",
            parametric=True,
            modality="image",
        ),
        EncoderSpec(
            name="shre-image",
            factory=f"{_ENCODERS}:build_shre_image",
            description="SHRe image branch: first 6 blocks of vit_base_patch16_224, 224 px",
            modality="image",
            width=768,
        ),
        EncoderSpec(
            name="shre-tiny-image",
            factory=f"{_ENCODERS}:build_shre_tiny_image",
            description="download-free random-init ViT: 64 px, patch 8, width 128, 2 blocks",
            modality="image",
            width=128,
        ),
    ]


@hookimpl
def shre_heads() -> list[HeadSpec]:
    return [
        HeadSpec(
            name="norm-linear",
            factory="shre_vision.heads:NormLinearHead",
            description="LayerNorm(D, eps=1e-6) then Linear(D, C), trunc-normal std 0.02",
        )
    ]


@hookimpl
def shre_tasks() -> list[TaskSpec]:
    return [
        _classification_task(
            "cifar10",
            "Cifar10Task",
            "CIFAR-10 classification (uoft-cs/cifar10 or --data-dir)",
            CIFAR_LAYER_DECAY,
        ),
        _classification_task(
            "cifar100",
            "Cifar100Task",
            "CIFAR-100 classification (uoft-cs/cifar100 or --data-dir)",
            CIFAR_LAYER_DECAY,
        ),
        _classification_task(
            "imagenet",
            "ImageNetTask",
            "ImageNet-1k classification (ILSVRC/imagenet-1k or --data-dir)",
            IMAGENET_LAYER_DECAY,
        ),
        _classification_task(
            "folder",
            "ImageFolderTask",
            "image folder under --data-dir: train/<class>/*, test/<class>/*",
            CIFAR_LAYER_DECAY,
        ),
        _classification_task(
            "npz",
            "NpzTask",
            "npz arrays under --data-dir: train.npz, test.npz (images, labels)",
            CIFAR_LAYER_DECAY,
        ),
    ]


FEATURE_CACHE_FILE = "feature_cache.json"


@hookimpl
def shre_on_fit_start(trainer: Any) -> None:
    """Write ``feature_cache.json`` and log ``feature_cache_seconds`` for a cached-feature probe.

    The features are encoded while the engine builds the datasets, before the
    clock of ``summary.json``'s ``run_seconds`` starts, so this file is where
    that one-time cost is recorded. On a resumed run the features are encoded
    again, and the file records that encoding.
    """
    seconds = getattr(getattr(trainer, "task", None), "feature_cache_seconds", None)
    run_dir = getattr(trainer, "run_dir", None)
    if not seconds or run_dir is None or not getattr(trainer, "is_main_process", True):
        return

    total = sum(seconds.values())
    logger.info(
        "feature_cache_seconds=%.1f (%s)",
        total,
        ", ".join(f"{split} {value:.1f} s" for split, value in seconds.items()),
    )
    record = {"feature_cache_seconds": total, "splits": dict(seconds)}
    path = Path(run_dir) / FEATURE_CACHE_FILE
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


@hookimpl
def shre_on_evaluate(trainer: Any, step: int, split: str, metrics: dict[str, float]) -> None:
    """Write the confusion-matrix PNG and per-class CSV of an image task's evaluation."""
    if not getattr(trainer, "is_main_process", True):
        return
    task = getattr(trainer, "task", None)
    run_dir = getattr(trainer, "run_dir", None)
    write_report = getattr(task, "write_evaluation_report", None)
    if write_report is None or run_dir is None:
        return

    paths = write_report(split, Path(run_dir))
    for path in paths:
        logger.info("wrote %s", path)
