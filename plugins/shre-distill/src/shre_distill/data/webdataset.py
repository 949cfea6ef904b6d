"""Readers of WebDataset tar shards as img2dataset writes them: streamed or indexed.

A shard is a tar file whose members are grouped by key: ``00000.jpg`` with
``00000.txt`` (its caption), plus optional ``00000.json``. Shards are split
across processes (by rank) and then across DataLoader workers, so each sample
is read once per epoch. Only tar headers and the members of this process's
shards are read; nothing is loaded into memory beyond the shuffle buffer.
``IndexedShards`` gives map-style access to the same shards for loaders that
need indices, as the shre engine does.
"""

from __future__ import annotations

import io
import logging
import random
import tarfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from PIL import Image
from shre.errors import DataError
from torch.utils.data import Dataset, IterableDataset, get_worker_info

from shre_distill.gather import world_info

logger = logging.getLogger(__name__)

IMAGE_EXTENSIONS = ("jpg", "jpeg", "png", "webp")


def find_shards(folder: str | Path) -> list[Path]:
    """Return the ``*.tar`` files of ``folder``, sorted; raise ``DataError`` when there are none."""
    shards = sorted(Path(folder).glob("*.tar"))
    if not shards:
        raise DataError(f"no WebDataset shards (*.tar) in {str(folder)!r}")
    return shards


def iter_shard(path: Path) -> Iterator[tuple[str, Image.Image, str]]:
    """Yield ``(key, image, caption)`` for each complete sample of one shard.

    Samples without an image or a caption (img2dataset keeps failed
    downloads' ``.json`` alone) are skipped.
    """
    try:
        archive = tarfile.open(path, mode="r|*")
    except (OSError, tarfile.TarError) as error:
        raise DataError(f"cannot open WebDataset shard {str(path)!r}: {error}") from error

    with archive:
        current_key, members = None, {}
        for member in archive:
            if not member.isfile():
                continue
            key, _, extension = member.name.partition(".")
            if key != current_key:
                sample = _to_sample(current_key, members, path)
                if sample is not None:
                    yield sample
                current_key, members = key, {}
            file = archive.extractfile(member)
            members[extension.lower()] = file.read() if file else b""
        sample = _to_sample(current_key, members, path)
        if sample is not None:
            yield sample


def _to_sample(key: str | None, members: dict[str, bytes], shard: Path) -> Any:
    image_bytes = next((members[ext] for ext in IMAGE_EXTENSIONS if ext in members), None)
    if key is None or image_bytes is None or "txt" not in members:
        return None
    try:
        with Image.open(io.BytesIO(image_bytes)) as image:
            rgb = image.convert("RGB")
    except OSError as error:
        raise DataError(
            f"cannot decode image of sample {key!r} in shard {str(shard)!r}: {error}"
        ) from error
    return key, rgb, members["txt"].decode("utf-8").strip()


class WebDatasetPairs(IterableDataset):
    """Image-caption pairs streamed from tar shards, one item per sample.

    Args:
        shards: shard paths; each process reads ``shards[rank::world_size]``
            and each of its workers every ``num_workers``-th of those.
        transform: image transform (the training or evaluation one).
        shuffle_buffer: samples held for shuffling; 0 keeps file order.
        seed: base seed; the shard order and buffer shuffle change with
            ``set_epoch``.

    Items have the keys of ``CaptionTrainDataset`` (``image``, ``caption``,
    ``image_id``); the image id is the sample's key when it is numeric.
    """

    def __init__(
        self,
        shards: Sequence[str | Path],
        transform: Callable,
        *,
        shuffle_buffer: int = 1000,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.shards = [Path(shard) for shard in shards]
        self.transform = transform
        self.shuffle_buffer = shuffle_buffer
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Reseed the shard order and shuffle buffer for ``epoch``."""
        self.epoch = epoch

    def shards_for_this_worker(self) -> list[Path]:
        """Return the shards that this process and DataLoader worker read."""
        rank, world_size = world_info()
        shards = list(self.shards)
        if self.shuffle_buffer:
            random.Random(self.seed + self.epoch).shuffle(shards)
        shards = shards[rank::world_size]
        if len(self.shards) < world_size:
            logger.warning(
                "%d shards for %d processes; some processes get none", len(self.shards), world_size
            )

        worker = get_worker_info()
        if worker is not None:
            shards = shards[worker.id :: worker.num_workers]
        return shards

    def __iter__(self) -> Iterator[dict[str, Any]]:
        worker = get_worker_info()
        rng = random.Random(self.seed + 1000 * self.epoch + (worker.id if worker else 0))
        buffer: list[tuple[str, Image.Image, str]] = []
        for shard in self.shards_for_this_worker():
            for sample in iter_shard(shard):
                if self.shuffle_buffer <= 1:
                    yield self._item(sample)
                    continue
                buffer.append(sample)
                if len(buffer) >= self.shuffle_buffer:
                    yield self._item(buffer.pop(rng.randrange(len(buffer))))
        rng.shuffle(buffer)
        for sample in buffer:
            yield self._item(sample)

    def __len__(self) -> int:
        """Count this process's samples by reading tar headers (no image decoding).

        NOTE: with several DataLoader workers this is the process's total,
        which is what a DataLoader's length needs.
        """
        rank, world_size = world_info()
        shards = list(self.shards)
        if self.shuffle_buffer:
            random.Random(self.seed + self.epoch).shuffle(shards)
        return sum(_count_samples(shard) for shard in shards[rank::world_size])

    def _item(self, sample: tuple[str, Image.Image, str]) -> dict[str, Any]:
        key, image, caption = sample
        image_id = int(key) if key.isdigit() else -1
        return {"image": self.transform(image), "caption": caption, "image_id": image_id}


def _count_samples(path: Path) -> int:
    extensions: dict[str, set[str]] = {}
    with tarfile.open(path, mode="r|*") as archive:
        for member in archive:
            key, _, extension = member.name.partition(".")
            extensions.setdefault(key, set()).add(extension.lower())
    return sum(
        1
        for found in extensions.values()
        if "txt" in found and any(ext in found for ext in IMAGE_EXTENSIONS)
    )


class IndexedShards(Dataset):
    """Map-style access to uncompressed tar shards, one item per complete sample.

    The engine's loader needs a map-style dataset (its sampler shards
    indices across processes), so ``distill:shre`` trains on shards through
    this class. It reads only tar headers up front and records where each
    sample's image and caption bytes lie. Items have the keys of
    ``WebDatasetPairs``.

    Raises:
        DataError: a shard that cannot be opened or is compressed (no random
            access; use ``WebDatasetPairs`` to stream those).
    """

    def __init__(self, shards: Sequence[str | Path], transform: Callable) -> None:
        self.transform = transform
        self.samples: list[tuple[Path, str, tuple[int, int], tuple[int, int]]] = []
        for shard in shards:
            self.samples.extend(_index_shard(Path(shard)))
        if not self.samples:
            raise DataError(f"no complete image-caption samples in {len(shards)} shard(s)")

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> dict[str, Any]:
        shard, key, (image_offset, image_size), (text_offset, text_size) = self.samples[index]
        with open(shard, "rb") as file:
            file.seek(image_offset)
            image_bytes = file.read(image_size)
            file.seek(text_offset)
            text_bytes = file.read(text_size)
        # _to_sample finds the image by extension; the bytes may be any image format.
        _, image, caption = _to_sample(key, {"jpg": image_bytes, "txt": text_bytes}, shard)
        image_id = int(key) if key.isdigit() else index
        return {"image": self.transform(image), "caption": caption, "image_id": image_id}


def _index_shard(path: Path) -> list[tuple[Path, str, tuple[int, int], tuple[int, int]]]:
    try:
        with tarfile.open(path, mode="r:") as archive:
            members = archive.getmembers()
    except tarfile.ReadError as error:
        raise DataError(
            f"cannot index WebDataset shard {str(path)!r} ({error}); only uncompressed .tar "
            "shards allow random access"
        ) from error
    except OSError as error:
        raise DataError(f"cannot open WebDataset shard {str(path)!r}: {error}") from error

    locations: dict[str, dict[str, tuple[int, int]]] = {}
    for member in members:
        if member.isfile():
            key, _, extension = member.name.partition(".")
            locations.setdefault(key, {})[extension.lower()] = (member.offset_data, member.size)

    samples = []
    for key, found in locations.items():
        image = next((found[ext] for ext in IMAGE_EXTENSIONS if ext in found), None)
        if image is not None and "txt" in found:
            samples.append((path, key, image, found["txt"]))
    return samples
