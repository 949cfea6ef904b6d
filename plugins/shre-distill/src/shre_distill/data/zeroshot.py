"""Labelled images for zero-shot classification: ``<split>.npz`` plus ``classes.txt``.

The layout of ``vision:cifar10``-style folders: ``images`` uint8
``(N, H, W, 3)`` and ``labels`` int ``(N,)`` in the npz, and one class name
per line of ``classes.txt`` (line i is label i).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from shre.errors import DataError
from torch.utils.data import Dataset


def read_class_names(folder: str | Path) -> list[str]:
    """Return the class names of ``folder/classes.txt``, label order."""
    path = Path(folder) / "classes.txt"
    try:
        names = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    except FileNotFoundError as error:
        raise DataError(
            f"zero-shot class names {str(path)!r} not found; write one class name per line"
        ) from error
    names = [name for name in names if name]
    if not names:
        raise DataError(f"{path} lists no class names")
    return names


class LabelledImages(Dataset):
    """Images and labels of one npz split, transformed for the student."""

    def __init__(
        self, folder: str | Path, split: str, transform: Callable, num_classes: int
    ) -> None:
        path = Path(folder) / f"{split}.npz"
        try:
            with np.load(path) as data:
                self.images, self.labels = data["images"], data["labels"].astype(np.int64)
        except FileNotFoundError as error:
            raise DataError(
                f"zero-shot split {str(path)!r} not found; check task_options.zeroshot_dir"
            ) from error
        except KeyError as error:
            raise DataError(
                f"{path} lacks the array {error}; it needs 'images' and 'labels'"
            ) from error
        if self.labels.size and not 0 <= self.labels.min() <= self.labels.max() < num_classes:
            raise DataError(
                f"{path}: labels span {self.labels.min()}..{self.labels.max()}, but classes.txt "
                f"lists {num_classes} classes"
            )
        self.transform = transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> dict[str, Any]:
        image = Image.fromarray(self.images[index]).convert("RGB")
        return {"image": self.transform(image), "label": int(self.labels[index])}


def collate_labelled(items: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
    """Stack ``pixel_values`` ``(B, 3, H, W)`` and ``labels`` ``(B,)``."""
    return {
        "pixel_values": torch.stack([item["image"] for item in items]),
        "labels": torch.tensor([item["label"] for item in items], dtype=torch.long),
    }
