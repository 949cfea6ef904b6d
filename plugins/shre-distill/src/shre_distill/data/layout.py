"""Find the image-caption records of a split in a ``--data-dir`` folder.

Layouts, checked in this order unless ``task_options.format`` names one:

- ``karpathy``: ``dataset_coco.json`` or ``dataset_flickr30k.json``; splits
  ``train`` (train + restval), ``validation`` (val) and ``test``.
- ``jsonl``: ``<split>.jsonl`` files, or one ``captions.jsonl`` whose last
  ``val_images`` images (an int, or a fraction of the images when below 1)
  form ``validation`` and the rest ``train``. ``captions.jsonl`` gives no
  ``test`` split; ``test.jsonl`` provides one.
- ``tsv``: ``train.tsv`` (CC3M-style); evaluation splits need ``<split>.jsonl``.
- ``webdataset``: ``*.tar`` shards in the folder or its ``train/`` subfolder,
  read by index for training; evaluation splits need ``<split>.jsonl``.

A ``<split>.jsonl`` file, when present, takes precedence in every layout
but Karpathy. A split that the folder does not provide raises ``DataError``:
no layout substitutes one split for another, so a ``test`` score always
comes from test data.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shre.errors import ConfigError, DataError

from shre_distill.data.readers import ImageCaptions, read_jsonl, read_karpathy, read_tsv

FORMATS = ("auto", "karpathy", "jsonl", "tsv", "webdataset")
KARPATHY_FILES = ("dataset_coco.json", "dataset_flickr30k.json")
DEFAULT_VAL_IMAGES = 0.1


def detect_format(data_dir: Path) -> str:
    """Return the layout of ``data_dir``; raise ``DataError`` listing what was looked for."""
    if any((data_dir / name).is_file() for name in KARPATHY_FILES):
        return "karpathy"
    if (data_dir / "captions.jsonl").is_file() or (data_dir / "train.jsonl").is_file():
        return "jsonl"
    if (data_dir / "train.tsv").is_file():
        return "tsv"
    if any(data_dir.glob("*.tar")) or any((data_dir / "train").glob("*.tar")):
        return "webdataset"
    raise DataError(
        f"no image-caption data found in {str(data_dir)!r}: expected captions.jsonl, "
        f"<split>.jsonl, {' or '.join(KARPATHY_FILES)}, train.tsv or *.tar shards"
    )


def data_dir_of(config: Mapping[str, Any]) -> Path:
    """Return ``data.dir`` as a folder; raise when unset or missing."""
    directory = config.get("data", {}).get("dir")
    if not directory:
        raise ConfigError("no data folder given; pass --data-dir DIR (image-caption pairs)")
    path = Path(directory).expanduser()
    if not path.is_dir():
        raise DataError(f"data folder {str(path)!r} does not exist; check --data-dir")
    return path


def read_split(data_dir: Path, split: str, options: Mapping[str, Any]) -> list[ImageCaptions]:
    """Return the records of ``split`` (``train``, ``validation`` or ``test``).

    Raises:
        ConfigError: an unknown ``format`` or invalid ``val_images``.
        DataError: the folder lacks the split's files, or a file is malformed.
    """
    layout = options.get("format", "auto")
    if layout not in FORMATS:
        raise ConfigError(
            f"invalid task_options.format {layout!r}; choose one of {', '.join(FORMATS)}"
        )
    if layout == "auto":
        layout = detect_format(data_dir)

    if layout == "karpathy":
        name = next(
            (name for name in KARPATHY_FILES if (data_dir / name).is_file()), KARPATHY_FILES[0]
        )
        return read_karpathy(data_dir / name, split, options.get("image_root"))

    split_file = data_dir / f"{split}.jsonl"
    if split_file.is_file():
        return read_jsonl(split_file)
    if layout == "tsv" and split == "train":
        return read_tsv(data_dir / "train.tsv")
    if split in holdout_splits(data_dir, layout):
        records = read_jsonl(data_dir / "captions.jsonl")
        held_out = held_out_count(len(records), options.get("val_images", DEFAULT_VAL_IMAGES))
        cut = len(records) - held_out
        return records[:cut] if split == "train" else records[cut:]
    raise missing_split_error(data_dir, split, layout)


def holdout_splits(data_dir: Path, layout: str) -> tuple[str, ...]:
    """Return the splits that ``captions.jsonl`` provides by holding out its last images.

    Only the JSONL layout without ``train.jsonl`` splits ``captions.jsonl``:
    next to a ``train.jsonl`` its held-out images could overlap the training set.
    """
    if layout != "jsonl" or not (data_dir / "captions.jsonl").is_file():
        return ()
    if (data_dir / "train.jsonl").is_file():
        return ()
    return ("train", "validation")


def missing_split_error(data_dir: Path, split: str, layout: str) -> DataError:
    """Return the ``DataError`` for a split that ``data_dir`` does not provide."""
    present = sorted(path.stem for path in data_dir.glob("*.jsonl") if path.stem != "captions")
    present += [name for name in holdout_splits(data_dir, layout) if name not in present]
    if layout == "webdataset" and split == "train":
        return DataError(
            f"the 'train' split of {str(data_dir)!r} is WebDataset shards, which only "
            "training reads; add train.jsonl to that folder to score the training pairs "
            "(--split train_eval)"
        )
    if layout in ("tsv", "webdataset"):
        present.insert(0, "train")
    available = ", ".join(repr(name) for name in present) or "none"
    return DataError(
        f"no {split!r} split in {str(data_dir)!r} ({layout} layout; splits found: {available}); "
        f"add {split}.jsonl to that folder, one "
        '{"image": "images/NAME.jpg", "captions": ["...", ...]} per line'
    )


def held_out_count(num_images: int, val_images: Any) -> int:
    """Return how many images ``val_images`` (an int, or a fraction below 1) holds out."""
    if isinstance(val_images, bool) or not isinstance(val_images, (int, float)) or val_images <= 0:
        raise ConfigError(
            f"invalid task_options.val_images {val_images!r}; use a number of images "
            "or a fraction below 1"
        )
    count = round(val_images * num_images) if val_images < 1 else int(val_images)
    if not 0 < count < num_images:
        raise ConfigError(
            f"task_options.val_images {val_images!r} holds out {count} of {num_images} images; "
            "keep at least one image for each of train and validation"
        )
    return count


def shard_paths(data_dir: Path) -> list[Path]:
    """Return the WebDataset shards of the training split."""
    from shre_distill.data.webdataset import find_shards

    folder = data_dir / "train" if any((data_dir / "train").glob("*.tar")) else data_dir
    return find_shards(folder)
