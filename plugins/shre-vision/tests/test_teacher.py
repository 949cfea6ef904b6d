"""load_teacher: timm classifiers and shre image classification runs as frozen teachers."""

from __future__ import annotations

import pytest
import shre.engine as engine
import torch
from shre.errors import CheckpointError, ConfigError
from shre_vision.teacher import load_teacher

from .conftest import fit_config


def test_timm_teacher_outputs_logits():
    teacher, data_config = load_teacher("timm:resnet18", pretrained=False)
    logits = teacher(torch.randn(2, 3, 64, 64))
    assert logits.shape == (2, 1000)
    assert data_config["input_size"] == (3, 224, 224)
    assert data_config["mean"] == pytest.approx((0.485, 0.456, 0.406))


def test_timm_teacher_stays_frozen_in_eval_mode():
    teacher, _ = load_teacher("timm:resnet18", pretrained=False)
    teacher.train()
    assert not teacher.model.training
    assert all(not parameter.requires_grad for parameter in teacher.parameters())
    assert not teacher(torch.randn(2, 3, 64, 64)).requires_grad


def test_timm_teacher_unknown_name():
    with pytest.raises(ConfigError, match="unknown timm model 'resnet_nope'"):
        load_teacher("timm:resnet_nope")


def test_teacher_missing_path(tmp_path):
    with pytest.raises(CheckpointError, match="neither timm:<name> nor an existing shre run"):
        load_teacher(tmp_path / "missing")


@pytest.mark.slow
def test_shre_run_teacher_matches_model(slice_dir, tmp_path):
    config = fit_config(
        "vision:cifar10", slice_dir, tmp_path / "run", overrides=("train.max_steps=2",)
    )
    engine.fit(config)
    teacher, data_config = load_teacher(tmp_path / "run")
    assert data_config["input_size"] == (3, 64, 64)
    assert teacher.num_classes == 10
    assert teacher.class_names[0] == "airplane"

    pixels = torch.randn(3, 3, 64, 64)
    from shre.checkpoint import load_trained_model

    model, _, _ = load_trained_model(tmp_path / "run")
    with torch.no_grad():
        expected = model({"pixel_values": pixels})["logits"]
    assert torch.allclose(teacher(pixels), expected)
