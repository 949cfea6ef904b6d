"""Image classification tasks: CIFAR-10, CIFAR-100, ImageNet-1k, any image folder or npz.

Each task reads its splits in ``prepare()`` (from ``--data-dir`` when given,
else from the Hugging Face Hub for the named datasets), takes the class count
from the data, and composes encoder -> ``mean`` pooler -> ``norm-linear`` head
with the ``cross-entropy`` loss. The image size, mean and std always come
from the encoder, so CIFAR's 32 px images are resized to what the encoder
takes (224 px for ``shre``, 64 px for ``shre-tiny``).
"""

from __future__ import annotations

import csv
import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from shre.errors import ConfigError, DataError
from shre.task import Task
from torch import nn
from torch.utils.data import Dataset

from shre_vision.data import (
    ImageSplit,
    image_files,
    load_hub_split,
    load_local_splits,
    sample_indices,
    verify_image_files,
)
from shre_vision.features import FeatureProbeModel, encode_dataset
from shre_vision.metrics import (
    PerClassAccuracy,
    build_classification_metrics,
    write_confusion_matrix,
    write_per_class_csv,
)
from shre_vision.recipe import VERIFY_IMAGES_MAX_FILES
from shre_vision.transforms import (
    ClassificationCollate,
    build_mixup,
    build_transform,
    encoder_data_config,
)

logger = logging.getLogger(__name__)


class ImageClassificationDataset(Dataset):
    """Examples ``{"pixel_values": (3, S, S), "labels": int}`` of one split."""

    def __init__(self, split: ImageSplit, transform: Callable) -> None:
        self.split = split
        self.transform = transform

    def __len__(self) -> int:
        return len(self.split)

    def __getitem__(self, index: int) -> dict[str, Any]:
        image = self.split.load_image(index)
        return {"pixel_values": self.transform(image), "labels": int(self.split.labels[index])}


class ImageClassificationTask(Task):
    """Single-label image classification, fine-tune or linear probe.

    Class attributes of subclasses name the Hub dataset used without
    ``--data-dir``: ``hub_name``, ``hub_image_key``, ``hub_label_key`` and
    ``hub_splits`` (shre split name -> Hub split name).

    Task options (``task_options``) are the augmentation and mixup keys of
    ``shre_vision.recipe.TASK_OPTIONS``, ``cache_features`` (a linear probe
    on features computed once), ``verify_images`` (check image folder files
    in ``prepare()``) and the optional ``image_size``, which must match the
    encoder's input size.
    """

    train_split = "train"
    eval_splits: tuple[str, ...] = ("test",)
    predict_splits: tuple[str, ...] = ("test",)

    hub_name: str | None = None
    hub_image_key = "image"
    hub_label_key = "label"
    hub_splits: Mapping[str, str] = {}
    # "npz" or "folder" forces a local layout; None detects it.
    local_layout: str | None = None

    def __init__(self, spec: Any, config: Mapping[str, Any]) -> None:
        super().__init__(spec, config)
        self.splits: dict[str, ImageSplit] = {}
        self.classes: list[str] = []
        self._metrics: dict[str, Any] = {}
        # Split name -> seconds spent encoding it (cache_features only). The
        # engine's run_seconds starts after the datasets are built, so it
        # leaves this time out; the plugin writes it to feature_cache.json.
        self.feature_cache_seconds: dict[str, float] = {}

    @property
    def cache_features(self) -> bool:
        return bool(self.option("cache_features", False))

    def prepare(self) -> None:
        """Read every split, check its labels and set ``num_labels`` from the classes."""
        names = (self.train_split, *self.eval_splits)
        data_dir = self.config.get("data", {}).get("dir")
        if data_dir:
            self.splits = load_local_splits(Path(data_dir).expanduser(), names, self.local_layout)
            self._verify_images()
        else:
            self.splits = {name: self._load_hub_split(name) for name in names}

        self.classes = self.splits[self.train_split].classes
        self.num_labels = len(self.classes)
        if self.num_labels < 2:
            raise DataError(
                f"{self.splits[self.train_split].source} has {self.num_labels} class; "
                "classification needs at least 2 classes"
            )
        self._check_trained_classes()
        # Saved with the run's config.yaml, so a rebuilt model (evaluation, a
        # teacher) has its class names and can reject data with other classes.
        self.config.setdefault("task_options", {})["classes"] = list(self.classes)
        for name, split in self.splits.items():
            logger.info(
                "%s %s: %d images, %d classes from %s",
                self.name,
                name,
                len(split),
                self.num_labels,
                split.source,
            )

    def _verify_images(self) -> None:
        """Check every image folder file's header now, so a bad file fails before training.

        Raises:
            ConfigError: ``task_options.verify_images`` is not true, false or "auto".
            DataError: a file that PIL cannot open, named by its path.
        """
        files = [path for split in self.splits.values() for path in image_files(split) or ()]
        if not files:
            return
        setting = self.option("verify_images", "auto")
        if setting not in (True, False, "auto"):
            raise ConfigError(
                f"task_options.verify_images is {setting!r}; set it to true, false or auto"
            )
        if setting is False:
            return
        if setting == "auto" and len(files) > VERIFY_IMAGES_MAX_FILES:
            logger.info(
                "verify_images: skipped for %d files (auto checks up to %d); a bad image fails "
                "when it is decoded, set task_options.verify_images=true to check them first",
                len(files),
                VERIFY_IMAGES_MAX_FILES,
            )
            return

        started = time.monotonic()
        verify_image_files(files)
        logger.info(
            "verify_images: %d files opened in %.1f s", len(files), time.monotonic() - started
        )

    def _check_trained_classes(self) -> None:
        """Reject data whose class count differs from the classes a saved run was trained on."""
        trained = self.option("classes")
        if not trained or len(trained) == self.num_labels:
            return
        source = self.splits[self.train_split].source
        raise DataError(
            f"the model was trained on {len(trained)} classes ({', '.join(map(str, trained[:5]))}"
            f"{', ...' if len(trained) > 5 else ''}) but {source} has {self.num_labels}; "
            "evaluate it on data with the same classes, or fine-tune a new head on this data"
        )

    def _load_hub_split(self, name: str) -> ImageSplit:
        if self.hub_name is None:
            raise ConfigError(f"task {self.name!r} reads local files; pass --data-dir DIR")
        hub_split = self.hub_splits.get(name, name)
        return load_hub_split(self.hub_name, hub_split, self.hub_image_key, self.hub_label_key)

    def build_model(self, registry: Any) -> nn.Module:
        """Compose encoder -> pooler -> head; check the encoder takes images."""
        model = super().build_model(registry)
        data_config = encoder_data_config(model.encoder)

        requested_size = self.option("image_size")
        if requested_size is not None and int(requested_size) != data_config["image_size"]:
            raise ConfigError(
                f"task_options.image_size {requested_size} differs from the encoder's input size "
                f"{data_config['image_size']}; the image size comes from the encoder: remove "
                "task_options.image_size, or set encoder_options.image_size (timm:NAME, "
                "shre-tiny-image)"
            )
        if self.cache_features:
            return FeatureProbeModel.from_task_model(model)
        return model

    def dataset(self, split: str, model: nn.Module) -> Dataset:
        """Return the examples of ``split`` transformed for ``model``'s encoder.

        With ``cache_features`` the examples are the pooled features
        ``{"features": (D,), "labels": int}``, computed here once.
        """
        self._check_head(model)
        data = self._split(split)
        data_config = encoder_data_config(_unwrap(model).encoder)
        training = split == self.train_split and not self.cache_features
        transform = build_transform(data_config, self._options(), training=training)
        images = ImageClassificationDataset(data, transform)
        if not self.cache_features:
            return images

        if split == self.train_split:
            logger.info(
                "cache_features: training on features encoded once, without augmentation or mixup"
            )

        # NOTE: with several processes, each one encodes the whole split; the
        # engine then shards the cached features like any dataset.
        batch_size = (
            self.config["train"].get("eval_batch_size") or self.config["train"]["batch_size"]
        )
        num_workers = int(self.config.get("data", {}).get("num_workers") or 0)
        cached = encode_dataset(
            _unwrap(model), images, batch_size=batch_size, num_workers=num_workers
        )
        self.feature_cache_seconds[split] = cached.encode_seconds
        return cached

    def _split(self, split: str) -> ImageSplit:
        if split not in self.splits:
            raise DataError(
                f"task {self.name!r} has no split {split!r}; it has {', '.join(self.splits)}"
            )
        data = self.splits[split]
        limit_key = "max_train_samples" if split == self.train_split else "max_eval_samples"
        indices = sample_indices(
            len(data), self.config.get("data", {}).get(limit_key), self.config.get("seed", 0)
        )
        return data if indices is None else data.subset(indices)

    def _check_head(self, model: nn.Module) -> None:
        """Reject a model whose head has another class count than the data."""
        linears = [
            module for module in _unwrap(model).head.modules() if isinstance(module, nn.Linear)
        ]
        if not linears or self.num_labels is None:
            return
        outputs = linears[-1].out_features
        if outputs != self.num_labels:
            raise DataError(
                f"the model's head has {outputs} outputs but the data of task {self.name!r} has "
                f"{self.num_labels} classes; use data with the model's classes, or train a new head"
            )

    def collate_fn(self, split: str, model: nn.Module) -> Callable:
        """Stack examples; for training, apply mixup/cutmix and label smoothing."""
        input_key = "features" if self.cache_features else "pixel_values"
        if split != self.train_split:
            return ClassificationCollate(input_key)

        options = self._options()
        mixup = None if self.cache_features else build_mixup(options, self.require_num_labels())
        return ClassificationCollate(
            input_key,
            num_classes=self.require_num_labels(),
            mixup=mixup,
            label_smoothing=float(options.get("label_smoothing", 0.0)),
        )

    def _options(self) -> dict[str, Any]:
        return dict(self.config.get("task_options", {}))

    def build_metrics(self, split: str) -> Any:
        """Return ``accuracy``, ``top5`` and per-class accuracy; keep them for the report."""
        self.require_num_labels()
        metrics = build_classification_metrics(self.classes)
        self._metrics[split] = metrics
        return metrics

    def write_evaluation_report(self, split: str, run_dir: Path) -> list[Path]:
        """Write the confusion-matrix PNG and per-class CSV of the last evaluation of ``split``."""
        metrics = self._metrics.get(split)
        per_class = metrics["per_class"] if metrics is not None else None
        if not isinstance(per_class, PerClassAccuracy) or per_class.last_matrix is None:
            return []
        title = f"{self.name} {split}"
        return [
            write_confusion_matrix(
                per_class.last_matrix,
                self.classes,
                run_dir / f"confusion_matrix_{split}.png",
                title=title,
            ),
            write_per_class_csv(
                per_class.last_matrix, self.classes, run_dir / f"per_class_accuracy_{split}.csv"
            ),
        ]

    def write_predictions(self, split: str, predictions: Any, output_dir: Any) -> Path:
        """Write ``index,label,class`` rows to ``<output_dir>/predictions_<split>.csv``."""
        path = Path(output_dir) / f"predictions_{split}.csv"
        if path.exists():
            raise DataError(f"{path} exists; choose another output directory or remove the file")
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["index", "label", "class"])
            for index, label in enumerate(predictions):
                writer.writerow([index, int(label), self.classes[int(label)]])
        return path


def _unwrap(model: nn.Module) -> nn.Module:
    """Return the composed model inside a DDP or accelerate wrapper."""
    return getattr(model, "module", model)


class Cifar10Task(ImageClassificationTask):
    """CIFAR-10: ``uoft-cs/cifar10`` on the Hub, or an npz or image folder copy."""

    hub_name = "uoft-cs/cifar10"
    hub_image_key = "img"
    hub_label_key = "label"


class Cifar100Task(ImageClassificationTask):
    """CIFAR-100 (fine labels): ``uoft-cs/cifar100`` on the Hub, or a local copy."""

    hub_name = "uoft-cs/cifar100"
    hub_image_key = "img"
    hub_label_key = "fine_label"


class ImageNetTask(ImageClassificationTask):
    """ImageNet-1k: ``ILSVRC/imagenet-1k`` on the Hub (gated: accept its terms and log in),
    or a local ``train/<wnid>/`` and ``val/<wnid>/`` folder."""

    eval_splits = ("validation",)
    predict_splits = ("validation",)
    hub_name = "ILSVRC/imagenet-1k"
    hub_image_key = "image"
    hub_label_key = "label"


class LocalImageTask(ImageClassificationTask):
    """Any local image folder or npz directory given with ``--data-dir``."""

    def prepare(self) -> None:
        if not self.config.get("data", {}).get("dir"):
            raise ConfigError(
                f"task {self.name!r} reads local files; pass --data-dir DIR "
                "(train/<class>/*.jpg and test/<class>/..., or train.npz and test.npz)"
            )
        super().prepare()


class ImageFolderTask(LocalImageTask):
    """``train/<class>/<image>`` and ``test/<class>/<image>`` (or ``val/``) under ``--data-dir``."""

    local_layout = "folder"


class NpzTask(LocalImageTask):
    """``train.npz`` and ``test.npz`` (``images``, ``labels``) and optional ``classes.txt``."""

    local_layout = "npz"
