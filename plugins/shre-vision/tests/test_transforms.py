"""Transforms from the encoder's data config, mixup/cutmix targets and collation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from shre.errors import ConfigError
from shre_vision.encoders import build_shre_tiny_image
from shre_vision.recipe import TASK_OPTIONS
from shre_vision.transforms import (
    ClassificationCollate,
    _posterize,
    build_mixup,
    build_transform,
    encoder_data_config,
)

DATA_CONFIG = {
    "image_size": 64,
    "mean": (0.5, 0.5, 0.5),
    "std": (0.5, 0.5, 0.5),
    "interpolation": "bicubic",
}


def cifar_image() -> Image.Image:
    pixels = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    return Image.fromarray(pixels)


def test_data_config_from_encoder():
    config = encoder_data_config(build_shre_tiny_image())
    assert config["image_size"] == 64
    assert config["interpolation"] == "bicubic"


def test_data_config_rejects_text_encoder():
    text_encoder = torch.nn.Linear(2, 2)
    text_encoder.modality = "text"
    with pytest.raises(ConfigError, match="needs a model with an image branch|image tasks need"):
        encoder_data_config(text_encoder)


def test_train_transform_upsamples_to_encoder_size():
    transform = build_transform(DATA_CONFIG, TASK_OPTIONS, training=True)
    assert transform(cifar_image()).shape == (3, 64, 64)


def test_train_transform_has_recipe_steps():
    text = repr(build_transform(DATA_CONFIG, TASK_OPTIONS, training=True))
    assert "RandomResizedCrop" in text
    assert "RandAugment" in text
    assert "RandomErasing" in text


def test_eval_transform_is_resize_and_normalise():
    image = cifar_image()
    pixels = build_transform(DATA_CONFIG, TASK_OPTIONS, training=False)(image)
    expected = np.asarray(image.resize((64, 64), Image.BICUBIC), dtype=np.float32) / 255.0
    expected = (torch.from_numpy(expected).permute(2, 0, 1) - 0.5) / 0.5
    assert torch.allclose(pixels, expected, atol=1e-5)


def test_train_transform_without_augment_is_eval():
    image = cifar_image()
    train = build_transform(DATA_CONFIG, {"augment": False}, training=True)(image)
    evaluation = build_transform(DATA_CONFIG, {}, training=False)(image)
    assert torch.equal(train, evaluation)


def test_posterize_zero_bits_is_black():
    black = np.asarray(_posterize(cifar_image(), 0))
    assert black.max() == 0


def test_randaugment_survives_max_magnitude():
    options = {**TASK_OPTIONS, "auto_augment": "rand-m10-n4-inc1"}
    transform = build_transform(DATA_CONFIG, options, training=True)
    for _ in range(30):
        assert transform(cifar_image()).shape == (3, 64, 64)


def test_mixup_off_returns_none():
    assert build_mixup({"mixup": 0, "cutmix": 0}, 10) is None
    assert build_mixup({**TASK_OPTIONS, "mixup_prob": 0.0}, 10) is None


def examples(count: int) -> list[dict]:
    return [
        {"pixel_values": torch.full((3, 4, 4), float(i)), "labels": i % 3} for i in range(count)
    ]


def test_collate_without_mixup_keeps_class_ids():
    batch = ClassificationCollate()(examples(4))
    assert batch["pixel_values"].shape == (4, 3, 4, 4)
    assert batch["labels"].tolist() == [0, 1, 2, 0]


def test_collate_label_smoothing_targets():
    batch = ClassificationCollate(num_classes=3, label_smoothing=0.3)(examples(2))
    assert torch.allclose(batch["labels"][0], torch.tensor([0.8, 0.1, 0.1]))


def test_mixup_targets_are_soft_and_sum_to_one():
    mixup = build_mixup({**TASK_OPTIONS, "mixup_prob": 1.0}, 3)
    batch = ClassificationCollate(num_classes=3, mixup=mixup)(examples(6))
    assert batch["labels"].shape == (6, 3)
    assert torch.allclose(batch["labels"].sum(dim=1), torch.ones(6))
    assert batch["labels"].max() < 1.0


def test_mixup_matches_lambda():
    torch.manual_seed(0)
    np.random.seed(0)
    mixup = build_mixup({"mixup": 0.8, "cutmix": 0, "mixup_prob": 1.0, "label_smoothing": 0.0}, 3)
    batch = ClassificationCollate(num_classes=3, mixup=mixup)(examples(2))
    # Image 0 (value 0) mixes with image 1 (value 1): its pixels equal 1 - lam.
    lam = 1.0 - float(batch["pixel_values"][0].mean())
    assert torch.allclose(batch["labels"][0], torch.tensor([lam, 1 - lam, 0.0]), atol=1e-5)


def test_mixup_odd_batch_keeps_last_unmixed():
    mixup = build_mixup({**TASK_OPTIONS, "mixup_prob": 1.0, "label_smoothing": 0.0}, 3)
    batch = ClassificationCollate(num_classes=3, mixup=mixup)(examples(5))
    assert batch["labels"].shape == (5, 3)
    assert torch.equal(batch["pixel_values"][4], torch.full((3, 4, 4), 4.0))
    assert batch["labels"][4].tolist() == [0.0, 1.0, 0.0]


def test_collate_needs_class_count_for_mixup():
    with pytest.raises(ConfigError, match="number of classes"):
        ClassificationCollate(label_smoothing=0.1)
