"""Optimiser parameter groups and learning-rate schedules."""

from __future__ import annotations

import pytest
import torch
from shre.components import ClsPooler, CrossEntropyLoss, LinearHead
from shre.compose import TaskModel
from shre.engine.optim import build_optimizer, build_scheduler, parameter_groups, warmup_steps
from shre.errors import ConfigError
from shre_toy.components import build_encoder
from torch import nn


def toy_model(freeze_encoder: bool = False) -> TaskModel:
    encoder = build_encoder()
    return TaskModel(
        encoder, ClsPooler(32), LinearHead(32, 2), CrossEntropyLoss(), freeze_encoder=freeze_encoder
    )


def group_of(groups: list[dict], name: str) -> dict:
    return next(group for group in groups if name in group["names"])


def test_parameter_groups_no_decay_on_bias_norm_embeddings():
    groups = parameter_groups(toy_model(), lr=1e-3, weight_decay=0.1)

    bias = "encoders.text.model.encoder.layer.0.attention.self.query.bias"
    norm = "encoders.text.model.encoder.layer.0.output.LayerNorm.weight"
    embedding = "encoders.text.model.embeddings.word_embeddings.weight"
    assert group_of(groups, bias)["weight_decay"] == 0.0
    assert group_of(groups, norm)["weight_decay"] == 0.0
    assert group_of(groups, embedding)["weight_decay"] == 0.0


def test_parameter_groups_decay_on_weight_matrices():
    groups = parameter_groups(toy_model(), lr=1e-3, weight_decay=0.1)

    assert (
        group_of(groups, "encoders.text.model.encoder.layer.1.intermediate.dense.weight")[
            "weight_decay"
        ]
        == 0.1
    )
    assert group_of(groups, "head.proj.weight")["weight_decay"] == 0.1


def test_parameter_groups_cover_each_parameter_once():
    model = toy_model()
    groups = parameter_groups(model, lr=1e-3, weight_decay=0.1, layer_decay=0.5)
    names = [name for group in groups for name in group["names"]]

    assert sorted(names) == sorted(name for name, _ in model.named_parameters())


def test_parameter_groups_layer_decay_learning_rates():
    groups = parameter_groups(toy_model(), lr=1.0, weight_decay=0.0, layer_decay=0.5)

    # Two layers: embeddings id 0, blocks 1 and 2, head id 3 = num_layers + 1.
    assert group_of(groups, "encoders.text.model.embeddings.word_embeddings.weight")["lr"] == 0.125
    assert group_of(groups, "encoders.text.model.encoder.layer.0.output.dense.weight")["lr"] == 0.25
    assert group_of(groups, "encoders.text.model.encoder.layer.1.output.dense.weight")["lr"] == 0.5
    assert group_of(groups, "head.proj.weight")["lr"] == 1.0


def test_parameter_groups_leave_out_frozen_encoder():
    groups = parameter_groups(toy_model(freeze_encoder=True), lr=1e-3, weight_decay=0.1)
    names = {name for group in groups for name in group["names"]}

    assert names == {"head.proj.weight", "head.proj.bias"}


def test_layer_decay_without_layer_ids_raises():
    encoder = nn.Linear(4, 4)
    encoder.modality, encoder.width, encoder.num_prefix_tokens = "text", 4, 0
    model = TaskModel(encoder, ClsPooler(4), LinearHead(4, 2), CrossEntropyLoss())

    with pytest.raises(ConfigError, match="layer_decay"):
        parameter_groups(model, lr=1e-3, weight_decay=0.0, layer_decay=0.75)


def test_build_optimizer_sets_betas_and_eps():
    optimizer = build_optimizer(
        toy_model(),
        {
            "name": "adamw",
            "lr": 2e-5,
            "betas": [0.9, 0.98],
            "eps": 1e-6,
            "weight_decay": 0.1,
            "layer_decay": None,
        },
    )

    assert optimizer.defaults["betas"] == (0.9, 0.98)
    assert optimizer.defaults["eps"] == 1e-6


def test_build_optimizer_unknown_name_raises():
    with pytest.raises(ConfigError, match="'sgd'"):
        build_optimizer(toy_model(), {"name": "sgd", "lr": 1e-3, "weight_decay": 0.0})


def learning_rates(name: str, total: int, warmup: int) -> list[float]:
    optimizer = torch.optim.AdamW([nn.Parameter(torch.zeros(1))], lr=1.0)
    scheduler = build_scheduler(optimizer, {"name": name, "warmup_steps": warmup}, total)
    rates = []
    for _ in range(total):
        rates.append(scheduler.get_last_lr()[0])
        optimizer.step()
        scheduler.step()
    return rates


def test_linear_schedule_warms_up_then_decays_to_zero():
    rates = learning_rates("linear", total=10, warmup=2)

    assert rates[:3] == [0.0, 0.5, 1.0]
    assert rates[-1] == pytest.approx(1 / 8)


def test_cosine_schedule_is_half_at_midpoint():
    rates = learning_rates("cosine", total=12, warmup=2)

    assert rates[2] == 1.0
    assert rates[7] == pytest.approx(0.5)


def test_constant_schedule_after_warmup():
    rates = learning_rates("constant", total=6, warmup=2)

    assert rates == [0.0, 0.5, 1.0, 1.0, 1.0, 1.0]


def test_warmup_steps_from_ratio_rounds_up():
    assert warmup_steps({"warmup_steps": None, "warmup_ratio": 0.1}, 25) == 3


def test_warmup_steps_explicit_wins_over_ratio():
    assert warmup_steps({"warmup_steps": 7, "warmup_ratio": 0.1}, 25) == 7
