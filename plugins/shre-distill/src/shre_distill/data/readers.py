"""Readers of image-caption annotation files into ``ImageCaptions`` records.

Supported layouts:

- JSONL: one ``{"image": "images/<name>.jpg", "captions": [...]}`` per line,
  image paths relative to the file's folder (the Flickr8k slice's layout).
- Karpathy split JSON (``dataset_coco.json``, ``dataset_flickr30k.json``):
  ``images[*]`` with ``filepath`` (COCO only), ``filename``, ``split`` and
  ``sentences[*].raw``; ``restval`` counts as train.
- CC3M-style TSV: ``caption<TAB>path`` per line, or a header naming the
  ``caption`` and ``filepath`` (or ``url``) columns. Only local paths load;
  download URLs first (img2dataset writes WebDataset shards, see
  ``shre_distill.data.webdataset``).

Every reader raises ``shre.DataError`` naming the file, the line and the fix.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from shre.errors import DataError

KARPATHY_SPLITS = {"train": ("train", "restval"), "validation": ("val",), "test": ("test",)}


@dataclass(frozen=True)
class ImageCaptions:
    """One image and all its captions.

    Attributes:
        image: path of the image file.
        captions: the image's captions, in file order.
        image_id: integer id; the median-rank protocol sorts images by it.
    """

    image: Path
    captions: tuple[str, ...]
    image_id: int


def read_jsonl(path: str | Path, *, check_images: bool = True) -> list[ImageCaptions]:
    """Read a captions JSONL file; image ids are line numbers from 0.

    Raises:
        DataError: the file is missing, a line is not a JSON object, lacks
            ``image`` or ``captions``, has no captions, or names a missing image.
    """
    path = Path(path)
    records = []
    for line_number, line in enumerate(_read_lines(path), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataError(
                f"{path}:{line_number}: line is not valid JSON ({error.msg}); each line must be "
                '{"image": "images/NAME.jpg", "captions": ["...", ...]}'
            ) from error
        if not isinstance(entry, dict):
            raise DataError(
                f"{path}:{line_number}: expected a JSON object, got {type(entry).__name__}"
            )
        for key in ("image", "captions"):
            if key not in entry:
                raise DataError(
                    f"{path}:{line_number}: missing key {key!r}; each line needs "
                    "'image' (a path relative to the file) and 'captions' (a list of strings)"
                )
        captions = entry["captions"]
        if isinstance(captions, str):
            captions = [captions]
        if not captions or not all(isinstance(caption, str) for caption in captions):
            raise DataError(f"{path}:{line_number}: 'captions' must be a non-empty list of strings")
        records.append(ImageCaptions(path.parent / entry["image"], tuple(captions), len(records)))

    if check_images:
        check_image_files(records, path)
    return records


def read_karpathy(
    path: str | Path, split: str, image_root: str | Path | None = None, *, check_images: bool = True
) -> list[ImageCaptions]:
    """Read one split of a Karpathy split JSON file.

    Args:
        path: ``dataset_coco.json`` or ``dataset_flickr30k.json``.
        split: ``train`` (Karpathy train + restval), ``validation`` or ``test``.
        image_root: folder that ``filepath/filename`` is relative to; defaults
            to the JSON file's folder, or its ``flickr30k-images`` subfolder
            when that exists.

    Raises:
        DataError: missing file, invalid JSON, a missing key, or a missing image.
    """
    path = Path(path)
    try:
        data = json.loads("\n".join(_read_lines(path)))
    except json.JSONDecodeError as error:
        raise DataError(f"{path}:{error.lineno}: not valid JSON ({error.msg})") from error
    if split not in KARPATHY_SPLITS:
        raise DataError(
            f"no {split!r} split in {path}: a Karpathy split file has the splits "
            f"{', '.join(KARPATHY_SPLITS)}; pass one of them with --split"
        )
    if not isinstance(data, dict) or "images" not in data:
        raise DataError(f"{path}: missing the top-level 'images' list of a Karpathy split file")

    root = Path(image_root) if image_root else path.parent
    if image_root is None and (root / "flickr30k-images").is_dir():
        root = root / "flickr30k-images"

    records = []
    for position, entry in enumerate(data["images"]):
        try:
            if entry["split"] not in KARPATHY_SPLITS[split]:
                continue
            image = root / entry.get("filepath", "") / entry["filename"]
            captions = tuple(sentence["raw"] for sentence in entry["sentences"])
        except (KeyError, TypeError) as error:
            raise DataError(
                f"{path}: images[{position}] is missing the key {error}; "
                "each entry needs 'filename', "
                "'split' and 'sentences' with 'raw' captions"
            ) from error
        image_id = int(entry.get("cocoid", entry.get("imgid", position)))
        records.append(ImageCaptions(image, captions, image_id))

    if not records:
        raise DataError(
            f"{path} has no images whose 'split' is {' or '.join(KARPATHY_SPLITS[split])}, "
            f"so the {split!r} split is empty; use a Karpathy file that has one"
        )
    if check_images:
        check_image_files(records, path)
    return records


def read_tsv(path: str | Path, *, check_images: bool = True) -> list[ImageCaptions]:
    """Read a CC3M-style TSV of ``caption<TAB>path`` rows; one caption per image.

    A first row containing ``caption`` and ``filepath`` (or ``url``) is a
    header that names the columns. Relative paths are relative to the file.

    Raises:
        DataError: a row without two columns, a URL instead of a local path,
            or a missing image.
    """
    path = Path(path)
    rows = list(csv.reader(_read_lines(path), delimiter="\t", quoting=csv.QUOTE_NONE))
    caption_column, path_column, first_row = 0, 1, 0
    if rows and "caption" in rows[0]:
        header = rows[0]
        path_names = [name for name in ("filepath", "url", "image") if name in header]
        if not path_names:
            raise DataError(f"{path}:1: header {header} has no 'filepath' or 'url' column")
        caption_column, path_column, first_row = (
            header.index("caption"),
            header.index(path_names[0]),
            1,
        )

    records = []
    for line_number, row in enumerate(rows[first_row:], start=first_row + 1):
        if not row:
            continue
        if len(row) <= max(caption_column, path_column):
            raise DataError(
                f"{path}:{line_number}: expected caption<TAB>path, got {len(row)} column(s)"
            )
        location = row[path_column]
        if location.startswith(("http://", "https://")):
            raise DataError(
                f"{path}:{line_number}: {location!r} is a URL; download the images first "
                "(img2dataset writes WebDataset shards, which --data-dir accepts)"
            )
        records.append(ImageCaptions(path.parent / location, (row[caption_column],), len(records)))

    if check_images:
        check_image_files(records, path)
    return records


def check_image_files(records: list[ImageCaptions], source: Path) -> None:
    """Raise ``DataError`` naming the first record whose image file does not exist."""
    for record in records:
        if not record.image.is_file():
            raise DataError(
                f"image {str(record.image)!r} listed in {source} does not exist; "
                "check the path or pass the folder that contains it with --data-dir"
            )


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as error:
        raise DataError(f"caption file {str(path)!r} not found; check --data-dir") from error
    except UnicodeDecodeError as error:
        raise DataError(f"caption file {str(path)!r} is not UTF-8 text: {error}") from error
