"""The image fine-tuning recipe that every vision task presets (no heavy imports).

It is the BEiT/data2vec recipe that the SHRe image experiments use. Training
runs 15 epochs at batch 256 with AdamW (lr 1e-3, betas 0.9/0.999, eps 1e-8,
weight decay 0.01), a cosine schedule with 10% warm-up and layer-wise lr
decay (0.75 for CIFAR, 0.81 for ImageNet). Augmentation is RandAugment
``rand-m9-mstd0.5-inc1``, random erasing 0.25 in pixel mode, and mixup 0.8 /
cutmix 1.0 with probability 0.9, switch probability 0.5 and label smoothing
0.1. Evaluation sees the full image (resize and centre crop, ``crop_pct`` 1.0).
"""

from __future__ import annotations

from typing import Any

CIFAR_LAYER_DECAY = 0.75
IMAGENET_LAYER_DECAY = 0.81

# Largest image folder (all splits together) that verify_images "auto" checks.
VERIFY_IMAGES_MAX_FILES = 50_000

# Task options (``task_options``); tests and demos switch augmentation off
# with ``augment: false`` and mixup with ``mixup: 0`` and ``cutmix: 0``.
TASK_OPTIONS: dict[str, Any] = {
    "augment": True,
    "auto_augment": "rand-m9-mstd0.5-inc1",
    "re_prob": 0.25,
    "re_mode": "pixel",
    "re_count": 1,
    "crop_pct": 1.0,
    "mixup": 0.8,
    "cutmix": 1.0,
    "mixup_prob": 0.9,
    "mixup_switch_prob": 0.5,
    "mixup_mode": "batch",
    "label_smoothing": 0.1,
    "cache_features": False,
    # Image folders only: check every file's header before training. "auto"
    # checks folders of up to VERIFY_IMAGES_MAX_FILES files in all.
    "verify_images": "auto",
}


def preset(layer_decay: float) -> dict[str, Any]:
    """Return the task preset (config layer) with the given layer-wise lr decay."""
    return {
        "train": {"epochs": 15, "batch_size": 256},
        "optimizer": {
            "name": "adamw",
            "lr": 1e-3,
            "betas": [0.9, 0.999],
            "eps": 1e-8,
            "weight_decay": 0.01,
            "layer_decay": layer_decay,
        },
        "scheduler": {"name": "cosine", "warmup_ratio": 0.1},
        "task_options": dict(TASK_OPTIONS),
    }
