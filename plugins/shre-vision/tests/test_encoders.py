"""Image encoders: shapes, attributes, layer ids, weights and their errors."""

from __future__ import annotations

import pytest
import timm
import torch
from safetensors.torch import save_file
from shre.errors import ConfigError
from shre.registry import get_registry
from shre_vision.encoders import build_shre_tiny_image, build_timm_encoder


def build(name: str, **options):
    return get_registry().resolve("encoder", name).build(**options)


def test_tiny_image_encoder_shape():
    encoder = build("vision:shre-tiny-image")
    hidden = encoder({"pixel_values": torch.randn(2, 3, 64, 64)})
    assert hidden.shape == (2, 65, 128)


def test_tiny_image_encoder_attributes():
    encoder = build("vision:shre-tiny-image")
    assert encoder.modality == "image"
    assert encoder.width == 128
    assert encoder.num_prefix_tokens == 1
    assert encoder.image_size == 64
    assert encoder.num_layers == 2
    assert encoder.mean == pytest.approx((0.485, 0.456, 0.406))


def test_tiny_image_encoder_layer_ids():
    encoder = build("vision:shre-tiny-image")
    assert encoder.layer_id("model.cls_token") == 0
    assert encoder.layer_id("model.patch_embed.proj.weight") == 0
    assert encoder.layer_id("model.blocks.0.attn.qkv.weight") == 1
    assert encoder.layer_id("model.blocks.1.mlp.fc2.bias") == 2
    assert encoder.layer_id("model.norm.weight") == 3


def test_tiny_image_encoder_rejects_bad_patch():
    with pytest.raises(ConfigError, match="image_size 60 is not a multiple of patch_size 8"):
        build_shre_tiny_image(image_size=60)


def test_timm_vit_encoder_at_32px():
    encoder = build("timm:vit_tiny_patch16_224", pretrained=False, img_size=32)
    hidden = encoder({"pixel_values": torch.randn(2, 3, 32, 32)})
    assert hidden.shape == (2, 5, 192)
    assert encoder.image_size == 32
    assert encoder.num_prefix_tokens == 1
    assert encoder.num_layers == 12


def test_timm_vit_num_blocks_cuts_blocks():
    encoder = build("timm:vit_tiny_patch16_224", pretrained=False, img_size=32, num_blocks=3)
    assert len(encoder.model.blocks) == 3
    assert encoder.num_layers == 3
    assert encoder.layer_id("model.norm.weight") == 4


def test_timm_cnn_encoder_tokens():
    encoder = build("timm:resnet18", pretrained=False)
    hidden = encoder({"pixel_values": torch.randn(2, 3, 64, 64)})
    assert hidden.shape == (2, 4, 512)
    assert encoder.num_prefix_tokens == 0
    assert encoder.num_layers == 4
    assert encoder.layer_id("model.conv1.weight") == 0
    assert encoder.layer_id("model.layer3.0.conv1.weight") == 3


def test_timm_encoder_unknown_name():
    with pytest.raises(ConfigError, match="unknown timm model 'vit_tnyy_patch16'"):
        build_timm_encoder("vit_tnyy_patch16")


def test_timm_encoder_bad_num_blocks():
    with pytest.raises(ConfigError, match="invalid num_blocks 13"):
        build_timm_encoder("vit_tiny_patch16_224", pretrained=False, num_blocks=13)


def test_timm_encoder_num_blocks_on_cnn():
    with pytest.raises(ConfigError, match="num_blocks applies to Vision Transformers"):
        build_timm_encoder("resnet18", pretrained=False, num_blocks=2)


def test_timm_encoder_image_size_not_patch_multiple():
    with pytest.raises(ConfigError, match="img_size 40 is not a multiple of the patch size 16"):
        build_timm_encoder("vit_tiny_patch16_224", pretrained=False, img_size=40)


def test_timm_encoder_offline_pretrained_error():
    # conftest sets HF_HUB_OFFLINE=1, so the hub weights are unreachable.
    with pytest.raises(ConfigError, match="encoder_options.pretrained=false"):
        build_timm_encoder("vit_tiny_patch16_224", img_size=32)


def test_timm_encoder_checkpoint_path(tmp_path):
    source = timm.create_model(
        "vit_tiny_patch16_224", pretrained=False, img_size=32, num_classes=10
    )
    path = tmp_path / "weights.safetensors"
    save_file(source.state_dict(), str(path))

    encoder = build_timm_encoder("vit_tiny_patch16_224", checkpoint_path=str(path), img_size=32)
    assert torch.equal(encoder.model.pos_embed, source.pos_embed)
    assert torch.equal(encoder.model.blocks[5].mlp.fc1.weight, source.blocks[5].mlp.fc1.weight)


def test_timm_encoder_missing_checkpoint_path(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        build_timm_encoder("vit_tiny_patch16_224", checkpoint_path=str(tmp_path / "none.pth"))


def test_shre_image_geometry():
    encoder = build("vision:shre-image", pretrained=False)
    assert encoder.width == 768
    assert encoder.image_size == 224
    assert len(encoder.model.blocks) == 6
    assert encoder.model.blocks[0].attn.num_heads == 12
    assert encoder.model.patch_embed.patch_size == (16, 16)


def test_timm_cnn_image_size_sets_data_size():
    encoder = build("timm:resnet18", pretrained=False, image_size=32)
    assert encoder.image_size == 32
    assert encoder({"pixel_values": torch.randn(2, 3, 32, 32)}).shape == (2, 1, 512)


def test_timm_vit_image_size_builds_model():
    encoder = build("timm:vit_tiny_patch16_224", pretrained=False, image_size=48)
    assert encoder.model.patch_embed.img_size == (48, 48)
