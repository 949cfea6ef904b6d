"""Build one component at a tiny size and check its shape contract.

Each ``check_*`` function raises ``AssertionError`` naming the contract that
failed and returns the built component. This module imports torch; the
conformance checks import it only when they build components.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from shre.config import resolve_config
from shre.specs import ComponentSpec
from shre.task import Task

BATCH_SIZE = 2
NUM_TOKENS = 6
WIDTH = 16
NUM_OUTPUTS = 3
SENTENCES = ["a tiny encoder reads this sentence.", "and this one, which is a little longer."]


class StandInEncoder(nn.Module):
    """Encoder attributes for poolers when the plugin provides no encoder."""

    def __init__(
        self, width: int = WIDTH, modality: str = "text", num_prefix_tokens: int = 1
    ) -> None:
        super().__init__()
        self.width = width
        self.modality = modality
        self.num_prefix_tokens = num_prefix_tokens


def encoder_batch(encoder: nn.Module) -> dict[str, torch.Tensor]:
    """Generate a batch for ``encoder``: tokenised sentences or random pixels ``(B, 3, H, W)``."""
    if encoder.modality == "image":
        size = int(encoder.image_size)
        return {"pixel_values": torch.randn(BATCH_SIZE, 3, size, size)}

    tokenizer = getattr(encoder, "tokenizer", None)
    if tokenizer is not None:
        max_length = int(getattr(encoder, "max_length", 32))
        encoded = tokenizer(
            SENTENCES, padding=True, truncation=True, max_length=max_length, return_tensors="pt"
        )
        return dict(encoded)
    input_ids = torch.randint(0, 100, (BATCH_SIZE, NUM_TOKENS))
    return {"input_ids": input_ids, "attention_mask": torch.ones_like(input_ids)}


def check_encoder(spec: ComponentSpec, options: Mapping[str, Any]) -> nn.Module:
    encoder = spec.build(**options)
    for attribute in ("modality", "width", "num_prefix_tokens"):
        assert hasattr(encoder, attribute), f"encoder has no attribute {attribute!r}"
    if spec.modality != "any":
        assert encoder.modality == spec.modality, (
            f"built modality {encoder.modality!r} differs from the spec's {spec.modality!r}"
        )
    if spec.width is not None and not options:
        assert encoder.width == spec.width, (
            f"built width {encoder.width} differs from the spec's {spec.width}"
        )
    if encoder.modality == "image":
        for attribute in ("image_size", "mean", "std"):
            assert hasattr(encoder, attribute), f"image encoder has no attribute {attribute!r}"

    encoder.eval()
    with torch.no_grad():
        hidden = encoder(encoder_batch(encoder))
    assert isinstance(hidden, torch.Tensor), (
        f"forward returned {type(hidden).__name__}, expected a tensor"
    )
    assert hidden.dim() == 3, f"output shape {tuple(hidden.shape)} is not (B, T, D)"
    assert hidden.shape[0] == BATCH_SIZE, (
        f"output batch size {hidden.shape[0]}, expected {BATCH_SIZE}"
    )
    assert hidden.shape[2] == encoder.width, (
        f"output width {hidden.shape[2]} differs from encoder.width {encoder.width}"
    )
    assert hidden.shape[1] > encoder.num_prefix_tokens, (
        "output has no tokens after the prefix tokens"
    )
    assert torch.isfinite(hidden).all(), "output has NaN or infinite values"
    return encoder


def check_pooler(
    spec: ComponentSpec, options: Mapping[str, Any], encoders: Mapping[str, nn.Module]
) -> nn.Module:
    modality = getattr(spec, "modality", None)
    encoder = encoders.get(modality) if modality else next(iter(encoders.values()), None)
    encoder = encoder or StandInEncoder(modality=modality or "text")
    width = int(encoder.width)

    pooler = spec.build(width=width, encoder=encoder, **options)
    hidden = torch.randn(BATCH_SIZE, NUM_TOKENS, width, requires_grad=True)
    attention_mask = torch.ones(BATCH_SIZE, NUM_TOKENS, dtype=torch.long)
    attention_mask[1, -2:] = 0

    pooled = pooler(hidden, attention_mask)
    assert isinstance(pooled, torch.Tensor), (
        f"forward returned {type(pooled).__name__}, expected a tensor"
    )
    assert tuple(pooled.shape) == (BATCH_SIZE, width), (
        f"output shape {tuple(pooled.shape)}, expected (B, D) = {(BATCH_SIZE, width)}"
    )
    assert torch.isfinite(pooled).all(), "output has NaN or infinite values"

    unmasked = pooler(hidden, None)
    assert tuple(unmasked.shape) == (BATCH_SIZE, width), (
        "output without attention mask is not (B, D)"
    )
    return pooler


def check_head(spec: ComponentSpec, options: Mapping[str, Any]) -> nn.Module:
    head = spec.build(width=WIDTH, num_outputs=NUM_OUTPUTS, **options)
    logits = head(torch.randn(BATCH_SIZE, WIDTH))
    assert isinstance(logits, torch.Tensor), (
        f"forward returned {type(logits).__name__}, expected a tensor"
    )
    assert tuple(logits.shape) == (BATCH_SIZE, NUM_OUTPUTS), (
        f"output shape {tuple(logits.shape)}, expected (B, C) = {(BATCH_SIZE, NUM_OUTPUTS)}"
    )
    return head


def _loss_value(output: Any) -> torch.Tensor:
    value = output["loss"] if isinstance(output, Mapping) else output
    assert isinstance(value, torch.Tensor), f"loss is {type(value).__name__}, expected a tensor"
    assert value.dim() == 0, f"loss shape {tuple(value.shape)} is not a scalar"
    return value


def check_loss(spec: ComponentSpec, options: Mapping[str, Any]) -> nn.Module:
    """Try class-id targets ``(B,)`` first, then regression targets for ``(B, 1)`` logits."""
    loss = spec.build(**options)
    cases = [
        (torch.randn(BATCH_SIZE, NUM_OUTPUTS), torch.randint(0, NUM_OUTPUTS, (BATCH_SIZE,))),
        (torch.randn(BATCH_SIZE, 1), torch.randn(BATCH_SIZE)),
    ]
    errors = []
    for logits, labels in cases:
        logits.requires_grad_(True)
        try:
            value = _loss_value(loss(logits, labels))
        except (RuntimeError, ValueError, IndexError, TypeError) as error:
            errors.append(f"logits {tuple(logits.shape)}: {type(error).__name__}: {error}")
            continue
        assert value.requires_grad, "the loss does not depend on the logits, so no gradient flows"
        value.backward()
        assert logits.grad is not None, "no gradient reaches the logits"
        assert torch.isfinite(logits.grad).all(), "gradient has NaN or infinite values"
        return loss
    raise AssertionError("loss fails on class-id and on regression targets: " + "; ".join(errors))


def check_task(spec: ComponentSpec, options: Mapping[str, Any]) -> Task:
    assert spec.modality in ("text", "image", "image-text"), f"unknown modality {spec.modality!r}"
    metrics = tuple(spec.metrics)
    assert spec.main_metric == "loss" or spec.main_metric in metrics, (
        f"main_metric {spec.main_metric!r} is not among metrics {metrics}"
    )
    # Task options are config overrides; JSON is valid YAML, so values keep their types.
    overrides = [f"{key}={json.dumps(value)}" for key, value in options.items()]
    config = resolve_config(preset=spec.preset, overrides=overrides)
    config["task"] = spec.qualified_name

    task = spec.load()(spec, config)
    assert isinstance(task, Task), f"factory returned {type(task).__name__}, expected a shre.Task"
    return task
