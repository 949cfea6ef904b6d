"""Image transforms, mixup/cutmix and collate functions, built with timm's data utilities.

Training images go through timm's ``create_transform(is_training=True)``:
RandomResizedCrop to the encoder's size, horizontal flip, RandAugment and
random erasing. Evaluation images are resized and centre-cropped. Mixup and
cutmix (timm ``Mixup``) run per batch in the collate function and turn the
labels into soft targets ``(B, C)`` for the core ``cross-entropy`` loss.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from PIL import Image, ImageOps
from shre.errors import ConfigError
from timm.data import Mixup, create_transform
from timm.data.mixup import mixup_target

logger = logging.getLogger(__name__)


def encoder_data_config(encoder: Any) -> dict[str, Any]:
    """Return the encoder's input size, mean, std and interpolation.

    Raises:
        ConfigError: the encoder is not an image encoder or lacks one of
            ``image_size``, ``mean``, ``std``.
    """
    if getattr(encoder, "modality", None) != "image":
        raise ConfigError(
            f"encoder {type(encoder).__name__} is a {getattr(encoder, 'modality', 'unknown')} "
            "encoder; image tasks need a model with an image branch (see 'shre list models')"
        )
    missing = [
        name for name in ("image_size", "mean", "std") if getattr(encoder, name, None) is None
    ]
    if missing:
        raise ConfigError(
            f"image encoder {type(encoder).__name__} does not set {', '.join(missing)}; "
            "an image encoder must define image_size, mean and std"
        )
    return {
        "image_size": int(encoder.image_size),
        "mean": tuple(encoder.mean),
        "std": tuple(encoder.std),
        "interpolation": getattr(encoder, "interpolation", "bicubic"),
    }


def build_transform(
    data_config: Mapping[str, Any], options: Mapping[str, Any], *, training: bool
) -> Callable:
    """Build the image transform ``PIL.Image -> (3, S, S)`` float tensor, normalised.

    Args:
        data_config: output of ``encoder_data_config``; S is its image size.
        options: task options (keys of ``shre_vision.recipe.TASK_OPTIONS``); ``augment: false``
            makes training use the evaluation transform.
        training: build the augmenting training transform.
    """
    common = {
        "input_size": data_config["image_size"],
        "interpolation": data_config["interpolation"],
        "mean": data_config["mean"],
        "std": data_config["std"],
    }
    if training and options.get("augment", True):
        transform = create_transform(
            is_training=True,
            auto_augment=options.get("auto_augment") or None,
            re_prob=float(options.get("re_prob", 0.0)),
            re_mode=options.get("re_mode", "pixel"),
            re_count=int(options.get("re_count", 1)),
            **common,
        )
        _patch_posterize(transform)
        return transform
    return create_transform(
        is_training=False, crop_pct=float(options.get("crop_pct", 1.0)), **common
    )


def _posterize(image: Image.Image, bits_to_keep: int, **_: Any) -> Image.Image:
    """Posterize to ``bits_to_keep`` bits; 0 bits gives a black image, as Pillow < 13 did."""
    if bits_to_keep >= 8:
        return image
    if bits_to_keep <= 0:
        return Image.new(image.mode, image.size)
    return ImageOps.posterize(image, bits_to_keep)


def _patch_posterize(transform: Any) -> None:
    # NOTE: timm 1.0.31's RandAugment requests 0 bits from PosterizeIncreasing
    # at magnitude 10 (m9 with mstd 0.5 reaches it), which Pillow 13 rejects
    # with ValueError. The ops of this transform get a version that keeps the
    # old result (a black image); timm itself is not changed.
    for step in getattr(transform, "transforms", ()):
        for op in getattr(step, "ops", ()):
            if "Posterize" in getattr(op, "name", ""):
                op.aug_fn = _posterize


def build_mixup(options: Mapping[str, Any], num_classes: int) -> Mixup | None:
    """Return timm's ``Mixup`` for the options, or ``None`` when mixup and cutmix are off."""
    mixup_alpha = float(options.get("mixup", 0.0) or 0.0)
    cutmix_alpha = float(options.get("cutmix", 0.0) or 0.0)
    probability = float(options.get("mixup_prob", 1.0))
    if (mixup_alpha <= 0 and cutmix_alpha <= 0) or probability <= 0:
        return None
    return Mixup(
        mixup_alpha=mixup_alpha,
        cutmix_alpha=cutmix_alpha,
        prob=probability,
        switch_prob=float(options.get("mixup_switch_prob", 0.5)),
        mode=options.get("mixup_mode", "batch"),
        label_smoothing=float(options.get("label_smoothing", 0.0)),
        num_classes=num_classes,
    )


class ClassificationCollate:
    """Stack examples into a batch; optionally mix them and smooth the targets.

    Args:
        input_key: the example key to stack: ``pixel_values`` ``(3, S, S)`` or
            ``features`` ``(D,)`` for cached features.
        num_classes: C, needed for soft targets.
        mixup: timm ``Mixup`` applied to the batch, or ``None``.
        label_smoothing: smoothing of the one-hot targets when ``mixup`` is
            ``None`` (timm ``Mixup`` smooths its own targets).

    Returns (from a call) a dict with ``input_key`` and ``labels``: class ids
    ``(B,)`` without mixup and smoothing, soft targets ``(B, C)`` otherwise.
    """

    def __init__(
        self,
        input_key: str = "pixel_values",
        *,
        num_classes: int | None = None,
        mixup: Mixup | None = None,
        label_smoothing: float = 0.0,
    ) -> None:
        if (mixup is not None or label_smoothing > 0) and not num_classes:
            raise ConfigError("mixup and label smoothing need the number of classes")
        self.input_key = input_key
        self.num_classes = num_classes
        self.mixup = mixup
        self.label_smoothing = label_smoothing

    def __call__(self, examples: Sequence[Mapping[str, Any]]) -> dict[str, torch.Tensor]:
        inputs = torch.stack([example[self.input_key] for example in examples])
        labels = torch.as_tensor([int(example["labels"]) for example in examples], dtype=torch.long)

        if self.mixup is not None:
            inputs, labels = self._mix(inputs, labels)
        elif self.label_smoothing > 0:
            labels = mixup_target(labels, self.num_classes, 1.0, self.label_smoothing)
        return {self.input_key: inputs, "labels": labels}

    def _mix(self, inputs: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # timm's Mixup pairs example i with B-1-i and needs an even batch; the
        # last example of an odd batch stays unmixed with a smoothed target.
        assert self.mixup is not None and self.num_classes is not None
        even = len(inputs) - len(inputs) % 2
        if even == 0:
            return inputs, mixup_target(labels, self.num_classes, 1.0, self.mixup.label_smoothing)

        mixed, targets = self.mixup(inputs[:even].clone(), labels[:even])
        if even == len(inputs):
            return mixed, targets

        last_target = mixup_target(labels[even:], self.num_classes, 1.0, self.mixup.label_smoothing)
        return torch.cat([mixed, inputs[even:]]), torch.cat([targets, last_target])
