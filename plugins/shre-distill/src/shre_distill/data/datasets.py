"""Map-style image-caption datasets, their transforms and the collate function.

Training draws one caption per image each time an image is visited, so one
epoch shows every image once with a random caption. Evaluation yields every
image once with all its captions; the collate function flattens the captions
and records which image each belongs to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from PIL import Image
from shre.errors import DataError
from torch.utils.data import Dataset
from torchvision import transforms as T

from shre_distill.data.readers import ImageCaptions

TRAIN_CROP_SCALE = (0.9, 1.0)
"""RandomResizedCrop scale of SHRe training: nearly the whole image."""

MAX_CAPTION_TOKENS = 64
"""Caption length in tokens, [CLS] and [SEP] included; longer captions are truncated."""


def train_transform(image_size: int, mean: Sequence[float], std: Sequence[float]) -> Callable:
    """RandomResizedCrop (scale 0.9-1.0, bicubic), horizontal flip, the student's normalisation."""
    return T.Compose(
        [
            T.RandomResizedCrop(
                image_size, scale=TRAIN_CROP_SCALE, interpolation=T.InterpolationMode.BICUBIC
            ),
            T.RandomHorizontalFlip(),
            T.ToTensor(),
            T.Normalize(mean, std),
        ]
    )


def eval_transform(image_size: int, mean: Sequence[float], std: Sequence[float]) -> Callable:
    """Resize to ``image_size x image_size`` (bicubic, no crop), the student's normalisation."""
    return T.Compose(
        [
            T.Resize((image_size, image_size), interpolation=T.InterpolationMode.BICUBIC),
            T.ToTensor(),
            T.Normalize(mean, std),
        ]
    )


def load_image(path: Any) -> Image.Image:
    """Open an image file as RGB; raise ``DataError`` naming the file when it cannot be read."""
    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except FileNotFoundError as error:
        raise DataError(f"image {str(path)!r} does not exist; check --data-dir") from error
    except OSError as error:
        raise DataError(f"cannot decode image {str(path)!r}: {error}") from error


class CaptionTrainDataset(Dataset):
    """One item per image: the transformed image and one random caption of it."""

    def __init__(self, records: Sequence[ImageCaptions], transform: Callable) -> None:
        self.records = list(records)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> dict[str, Any]:
        record = self.records[index]
        # torch's generator is seeded per worker by the DataLoader, so draws
        # differ across workers and epochs yet repeat for a fixed seed.
        choice = int(torch.randint(len(record.captions), ()).item())
        return {
            "image": self.transform(load_image(record.image)),
            "caption": record.captions[choice],
            "image_id": record.image_id,
        }


class CaptionEvalDataset(Dataset):
    """One item per image: the transformed image and all its captions."""

    def __init__(self, records: Sequence[ImageCaptions], transform: Callable) -> None:
        self.records = list(records)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> dict[str, Any]:
        record = self.records[index]
        return {
            "image": self.transform(load_image(record.image)),
            "captions": list(record.captions),
            "image_id": record.image_id,
        }


class CaptionCollator:
    """Stack images and tokenise captions with the text encoder's tokenizer.

    Training items (``caption``) give a batch with one caption per image.
    Evaluation items (``captions``) give ``M >= B`` captions plus
    ``caption_image_index`` ``(M,)`` (row of each caption's image in the
    batch), ``text_image_ids`` and ``text_caption_index``.

    Args:
        tokenizer: a Hugging Face tokenizer.
        max_length: tokens per caption after padding or truncation.
    """

    def __init__(self, tokenizer: Any, max_length: int = MAX_CAPTION_TOKENS) -> None:
        self.tokenizer = tokenizer
        self.max_length = max_length

    def __call__(self, items: Sequence[Mapping[str, Any]]) -> dict[str, torch.Tensor]:
        batch = {
            "pixel_values": torch.stack([item["image"] for item in items]),
            "image_ids": torch.tensor([item["image_id"] for item in items], dtype=torch.long),
        }
        if "captions" in items[0]:
            captions, rows, caption_index = [], [], []
            for row, item in enumerate(items):
                captions.extend(item["captions"])
                rows.extend([row] * len(item["captions"]))
                caption_index.extend(range(len(item["captions"])))
            batch["caption_image_index"] = torch.tensor(rows, dtype=torch.long)
            batch["text_image_ids"] = batch["image_ids"][batch["caption_image_index"]]
            batch["text_caption_index"] = torch.tensor(caption_index, dtype=torch.long)
        else:
            captions = [item["caption"] for item in items]

        tokens = self.tokenizer(
            captions,
            padding="max_length",
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )
        batch.update({key: value for key, value in tokens.items()})
        return batch
