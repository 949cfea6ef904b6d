"""The norm-linear head, the mean pooler on image tokens, and hf:NAME vision models."""

from __future__ import annotations

import torch
from shre.registry import get_registry
from shre_vision.heads import NormLinearHead
from transformers import ViTConfig, ViTModel


def test_norm_linear_head_init():
    torch.manual_seed(0)
    head = NormLinearHead(256, 100)
    assert head.norm.eps == 1e-6
    assert torch.equal(head.proj.bias, torch.zeros(100))
    assert abs(float(head.proj.weight.detach().std()) - 0.02) < 0.002


def test_norm_linear_head_normalises():
    head = NormLinearHead(4, 2)
    pooled = torch.tensor([[1.0, 2.0, 3.0, 4.0]])
    expected = head.proj(torch.nn.functional.layer_norm(pooled, (4,), eps=1e-6))
    assert torch.allclose(head(pooled), expected)


def test_mean_pooler_drops_prefix_tokens():
    registry = get_registry()
    encoder = registry.resolve("encoder", "vision:shre-tiny-image").build()
    pooler = registry.resolve("pooler", "mean").build(width=128, encoder=encoder)
    hidden = torch.ones(2, 65, 128)
    hidden[:, 0] = 1000.0  # the CLS token must not enter the mean
    hidden[1, 1:] = 3.0
    pooled = pooler(hidden, None)
    assert torch.equal(pooled[0], torch.ones(128))
    assert torch.equal(pooled[1], torch.full((128,), 3.0))


def test_hf_vit_encoder_from_local_directory(tmp_path):
    config = ViTConfig(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        image_size=32,
        patch_size=8,
    )
    ViTModel(config).save_pretrained(tmp_path)
    encoder = get_registry().resolve("encoder", f"hf:{tmp_path}").build()
    hidden = encoder({"pixel_values": torch.randn(2, 3, 32, 32)})
    assert hidden.shape == (2, 17, 32)
    assert encoder.modality == "image"
    assert encoder.image_size == 32
    assert encoder.num_prefix_tokens == 1
    assert encoder.mean == (0.5, 0.5, 0.5)


def test_hf_vit_encoder_layer_ids(tmp_path):
    config = ViTConfig(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        image_size=32,
        patch_size=8,
    )
    ViTModel(config).save_pretrained(tmp_path)
    encoder = get_registry().resolve("encoder", f"hf:{tmp_path}").build()
    assert encoder.num_layers == 2
    assert encoder.layer_id("model.embeddings.cls_token") == 0
    assert encoder.layer_id("model.encoder.layer.1.output.dense.weight") == 2
    assert encoder.layer_id("model.layernorm.weight") == 3
