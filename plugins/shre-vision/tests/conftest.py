"""Fixtures of the shre-vision tests: the CIFAR-10 slice and image folders built from it."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

DATA_DIR = Path(__file__).parent / "data"
SLICE_DIR = DATA_DIR / "cifar10_slice"


@pytest.fixture
def slice_dir() -> Path:
    """The npz slice: 20 train and 10 test images per CIFAR-10 class."""
    return SLICE_DIR


@pytest.fixture
def npz_copy(tmp_path: Path) -> Path:
    """A writable copy of the npz slice."""
    target = tmp_path / "npz"
    shutil.copytree(SLICE_DIR, target)
    for path in target.iterdir():
        path.chmod(0o644)
    return target


def write_image_folder(
    root: Path, per_class: dict[str, int], classes: list[str] | None = None
) -> Path:
    """Write ``<split>/<class>/<n>.png`` files from the slice; ``per_class`` maps split to count."""
    names = classes or (SLICE_DIR / "classes.txt").read_text(encoding="utf-8").split()
    for split, count in per_class.items():
        archive = np.load(SLICE_DIR / f"{split}.npz")
        for label, name in enumerate(names):
            class_dir = root / split / name
            class_dir.mkdir(parents=True)
            for number, index in enumerate(np.flatnonzero(archive["labels"] == label)[:count]):
                Image.fromarray(archive["images"][index]).save(class_dir / f"{number:04d}.png")
    return root


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    """An image folder of all 10 classes: 4 train and 2 test PNG images per class."""
    return write_image_folder(tmp_path / "folder", {"train": 4, "test": 2})


def fit_config(
    task: str, data_dir: Path, output_dir: Path, *, overrides: tuple[str, ...] = ()
) -> dict:
    """Resolve a small CPU run config of ``task`` with ``shre-tiny`` and no augmentation."""
    from shre.config import resolve_config
    from shre.registry import get_registry

    spec = get_registry().resolve("task", task).spec
    return resolve_config(
        spec.preset,
        overrides=[
            f"task={task}",
            "model=shre-tiny",
            f"data.dir={data_dir}",
            f"output_dir={output_dir}",
            "train.batch_size=32",
            "train.epochs=1",
            "train.log_every=1",
            "task_options.augment=false",
            *overrides,
        ],
    )
