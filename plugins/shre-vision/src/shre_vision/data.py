"""Labelled image splits from npz files, image folders and the Hugging Face Hub.

Every loader returns an ``ImageSplit``: the class names, the labels ``(N,)``
and a way to decode image ``i`` as an RGB ``PIL.Image``. Labels are checked
against the class count when the split is loaded, so a bad file fails before
training starts.

Local layouts (``--data-dir``):

- npz: ``train.npz`` and ``test.npz``, each with ``images`` (uint8, N x H x W x 3;
  N x H x W grayscale and N x H x W x 4 RGBA are converted to RGB) and
  ``labels`` (integers in ``[0, C)``), plus an optional ``classes.txt`` with one
  class name per line (line i names label i).
- image folder: ``train/<class>/<image>`` and ``test/<class>/<image>`` (or
  ``val/``), one sub-folder per class; classes are the sorted folder names.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError
from shre.errors import DataError

logger = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".pgm", ".tif", ".tiff", ".webp")

# Folder names tried for each split name, first match wins.
SPLIT_FOLDERS = {
    "train": ("train",),
    "test": ("test", "val", "validation"),
    "validation": ("val", "validation", "test"),
}


@dataclass
class ImageSplit:
    """The labelled images of one split.

    Attributes:
        name: split name (``train``, ``test``...).
        source: where the split was read from, for messages.
        classes: class names; label i is ``classes[i]``.
        labels: integer labels ``(N,)`` in ``[0, len(classes))``.
        load_image: decodes image ``i`` to an RGB ``PIL.Image``.
    """

    name: str
    source: str
    classes: list[str]
    labels: np.ndarray
    load_image: Callable[[int], Image.Image]

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, indices: Sequence[int]) -> ImageSplit:
        """Return the split restricted to ``indices`` (positions in this split)."""
        indices = np.asarray(indices, dtype=np.int64)
        return ImageSplit(
            self.name,
            self.source,
            self.classes,
            self.labels[indices],
            _SubsetImages(self.load_image, indices),
        )


# Image decoders are small classes, not closures, so that data loader
# workers can pickle them under the spawn and forkserver start methods.


class _SubsetImages:
    def __init__(self, parent: Callable[[int], Image.Image], indices: np.ndarray) -> None:
        self.parent = parent
        self.indices = indices

    def __call__(self, index: int) -> Image.Image:
        return self.parent(int(self.indices[index]))


class _ArrayImages:
    def __init__(self, images: np.ndarray) -> None:
        self.images = images

    def __call__(self, index: int) -> Image.Image:
        return Image.fromarray(self.images[index])


class _FileImages:
    def __init__(self, files: list[Path]) -> None:
        self.files = files

    def __call__(self, index: int) -> Image.Image:
        return decode_image(self.files[index])


class _HubImages:
    def __init__(self, dataset: Any, image_key: str) -> None:
        self.dataset = dataset
        self.image_key = image_key

    def __call__(self, index: int) -> Image.Image:
        return self.dataset[index][self.image_key].convert("RGB")


def check_labels(labels: np.ndarray, num_classes: int, source: str) -> None:
    """Raise ``DataError`` naming the first label outside ``[0, num_classes)``."""
    bad = np.flatnonzero((labels < 0) | (labels >= num_classes))
    if bad.size:
        index = int(bad[0])
        raise DataError(
            f"{source}: label {int(labels[index])} at index {index} is outside [0, {num_classes}) "
            f"({bad.size} labels out of range); labels must index the {num_classes} classes"
        )


def read_class_names(path: Path) -> list[str]:
    """Read ``classes.txt``: one class name per line, blank lines ignored at the end."""
    names = path.read_text(encoding="utf-8").rstrip("\n").split("\n")
    names = [name.strip() for name in names]
    for line, name in enumerate(names, start=1):
        if not name:
            raise DataError(f"{path}:{line}: empty class name; write one class name per line")
    if len(set(names)) != len(names):
        raise DataError(f"{path}: duplicate class names; each line must name a different class")
    return names


def to_rgb_array(images: np.ndarray, source: str) -> np.ndarray:
    """Return ``images`` as uint8 ``(N, H, W, 3)``; grayscale and RGBA are converted."""
    if images.dtype != np.uint8:
        raise DataError(
            f"{source}: 'images' has dtype {images.dtype}; store uint8 pixel values 0-255"
        )
    if images.ndim == 3:
        return np.repeat(images[..., None], 3, axis=-1)
    if images.ndim == 4 and images.shape[-1] == 1:
        return np.repeat(images, 3, axis=-1)
    if images.ndim == 4 and images.shape[-1] == 4:
        # The alpha channel is dropped, as PIL's RGBA -> RGB conversion does.
        return np.ascontiguousarray(images[..., :3])
    if images.ndim == 4 and images.shape[-1] == 3:
        return images
    raise DataError(
        f"{source}: 'images' has shape {images.shape}; expected N x H x W x 3 "
        "(N x H x W grayscale and N x H x W x 4 RGBA are converted)"
    )


def load_npz_split(path: Path, name: str, classes: list[str] | None = None) -> ImageSplit:
    """Read one npz split with the keys ``images`` and ``labels``.

    Args:
        path: the ``.npz`` file.
        name: split name.
        classes: class names; without them the classes are ``"0"`` ...
            ``str(max label)``.

    Raises:
        DataError: missing file or key, lengths that differ, bad dtype or
            shape, or a label outside the classes.
    """
    if not path.is_file():
        raise DataError(f"npz split {name!r} not found: {path} does not exist")
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise DataError(f"cannot read {path}: {error}; write it with numpy.savez") from error

    with archive:
        missing = [key for key in ("images", "labels") if key not in archive.files]
        if missing:
            raise DataError(
                f"{path} has no {' or '.join(repr(key) for key in missing)} array "
                f"(it has: {', '.join(archive.files) or 'nothing'}); save images and labels"
            )
        images = to_rgb_array(archive["images"], str(path))
        labels = archive["labels"]

    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise DataError(
            f"{path}: 'labels' must be a 1-D integer array, got {labels.dtype} {labels.shape}"
        )
    if len(images) != len(labels):
        raise DataError(
            f"{path}: {len(images)} images but {len(labels)} labels; "
            "the two arrays must have the same length"
        )
    if classes is None:
        classes = [str(index) for index in range(int(labels.max(initial=-1)) + 1)]
    check_labels(labels, len(classes), str(path))

    return ImageSplit(name, str(path), classes, labels.astype(np.int64), _ArrayImages(images))


def find_split_folder(data_dir: Path, split: str) -> Path | None:
    """Return the folder of ``split`` under ``data_dir`` (``test`` may be ``val``)."""
    for folder in SPLIT_FOLDERS.get(split, (split,)):
        if (data_dir / folder).is_dir():
            return data_dir / folder
    return None


def folder_classes(folder: Path) -> list[str]:
    """Return the sorted class sub-folder names of an image folder split."""
    classes = sorted(entry.name for entry in folder.iterdir() if entry.is_dir())
    if not classes:
        raise DataError(
            f"image folder {folder} has no class sub-folders; put the images of "
            f"class C in {folder}/C/"
        )
    return classes


def load_folder_split(folder: Path, name: str, classes: list[str]) -> ImageSplit:
    """List the images of an image folder split, one sub-folder per class.

    Raises:
        DataError: an empty class folder, or a class folder not among ``classes``.
    """
    unknown = [
        entry.name for entry in folder.iterdir() if entry.is_dir() and entry.name not in classes
    ]
    if unknown:
        raise DataError(
            f"{folder} has class folders {unknown} that the training split does not have; "
            "every split must use the training split's classes"
        )

    files: list[Path] = []
    labels: list[int] = []
    for label, class_name in enumerate(classes):
        class_dir = folder / class_name
        if not class_dir.is_dir():
            continue
        class_files = sorted(
            path for path in class_dir.rglob("*") if path.suffix.lower() in IMAGE_EXTENSIONS
        )
        if not class_files:
            raise DataError(
                f"class folder {class_dir} contains no images ({', '.join(IMAGE_EXTENSIONS)}); "
                "add images or remove the folder"
            )
        files.extend(class_files)
        labels.extend([label] * len(class_files))

    return ImageSplit(
        name, str(folder), classes, np.asarray(labels, dtype=np.int64), _FileImages(files)
    )


def decode_image(path: Path) -> Image.Image:
    """Open ``path`` and convert it to RGB (grayscale, palette and RGBA included)."""
    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise DataError(
            f"cannot decode image {path}: {error}; replace or delete the file"
        ) from error


def image_files(split: ImageSplit) -> list[Path] | None:
    """Return the image files of an image folder split, or None for npz and Hub splits."""
    return split.load_image.files if isinstance(split.load_image, _FileImages) else None


def verify_image_files(files: Sequence[Path]) -> None:
    """Open every file with PIL and run ``Image.verify()`` on it, without decoding pixels.

    NOTE: ``verify()`` checks the header and a PNG's chunk checksums. A JPEG
    whose data is cut short after a valid header passes, and fails only when
    it is decoded.

    Raises:
        DataError: a file PIL cannot identify or whose header is broken, naming the file.
    """
    for path in files:
        try:
            with Image.open(path) as image:
                image.verify()
        # PIL's verify() raises SyntaxError for some broken PNG chunks.
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
            raise DataError(
                f"invalid image {path}: {error}; replace or delete the file "
                "(task_options.verify_images=false skips this check)"
            ) from error


def detect_layout(data_dir: Path) -> str:
    """Return ``"npz"`` or ``"folder"`` for a local data directory.

    Raises:
        DataError: the directory is missing or has neither layout.
    """
    if not data_dir.is_dir():
        raise DataError(f"data directory {data_dir} does not exist")
    if (data_dir / "train.npz").is_file():
        return "npz"
    if (data_dir / "train").is_dir():
        return "folder"
    raise DataError(
        f"{data_dir} has neither train.npz (npz layout) nor a train/ folder (image folder "
        "layout: train/<class>/*.jpg); see the shre-vision README for both layouts"
    )


def load_local_splits(
    data_dir: Path, splits: Sequence[str], layout: str | None = None
) -> dict[str, ImageSplit]:
    """Load ``splits`` from an npz or image folder directory (``layout`` auto-detected).

    The training split defines the classes; every other split must use them.
    """
    layout = layout or detect_layout(data_dir)
    if layout == "npz":
        classes_file = data_dir / "classes.txt"
        classes = read_class_names(classes_file) if classes_file.is_file() else None
        loaded: dict[str, ImageSplit] = {}
        for split in splits:
            split_classes = classes or (loaded["train"].classes if "train" in loaded else None)
            loaded[split] = load_npz_split(data_dir / f"{split}.npz", split, split_classes)
        return loaded

    train_folder = data_dir / "train"
    if not train_folder.is_dir():
        raise DataError(
            f"image folder {data_dir} has no train/ folder; put images in train/<class>/"
        )
    classes = folder_classes(train_folder)
    loaded = {}
    for split in splits:
        folder = find_split_folder(data_dir, split)
        if folder is None:
            tried = ", ".join(f"{data_dir / name}/" for name in SPLIT_FOLDERS.get(split, (split,)))
            raise DataError(f"split {split!r} not found: none of {tried} exists")
        loaded[split] = load_folder_split(folder, split, classes)
    return loaded


def load_hub_split(name: str, split: str, image_key: str, label_key: str) -> ImageSplit:
    """Load one split of a Hugging Face Hub image classification dataset.

    Raises:
        DataError: the dataset cannot be loaded (no Hub access, gated
            dataset), with the ``--data-dir`` alternative.
    """
    import datasets

    try:
        dataset = datasets.load_dataset(name, split=split)
    except Exception as error:  # noqa: BLE001 - datasets raises many types for network and auth
        raise DataError(
            f"cannot load Hugging Face dataset {name!r} split {split!r}: {error}. Without Hub "
            "access, pass --data-dir with an npz or image folder copy (see the shre-vision README)"
        ) from error

    feature = dataset.features[label_key]
    classes = list(getattr(feature, "names", None) or [])
    labels = np.asarray(dataset[label_key], dtype=np.int64)
    if not classes:
        classes = [str(index) for index in range(int(labels.max(initial=-1)) + 1)]
    check_labels(labels, len(classes), f"{name} {split}")

    return ImageSplit(split, f"{name} ({split})", classes, labels, _HubImages(dataset, image_key))


def sample_indices(num_items: int, max_items: int | None, seed: int) -> np.ndarray | None:
    """Return sorted random indices for keeping ``max_items`` of ``num_items``, or ``None``.

    A random sample (not the first ``max_items``) keeps every class in files
    sorted by class, such as the CIFAR npz files.
    """
    if max_items is None or max_items >= num_items:
        return None
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(num_items, size=max_items, replace=False))
