"""Image encoders: any timm model (``timm:NAME``) and the SHRe student's image branch.

Every encoder here is a ``TimmEncoder``: ``forward(batch)`` reads
``batch["pixel_values"]`` ``(B, 3, H, W)`` and returns tokens ``(B, T, D)``
with the prefix tokens (CLS, registers) first. Vision Transformers return
their token sequence after the final norm; CNNs return their last feature
map flattened to ``(B, H' * W', C)`` with no prefix token.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from typing import Any

import timm
import torch
from shre.errors import ConfigError
from timm.data import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD, resolve_model_data_config
from timm.models import VisionTransformer, split_model_name_tag
from timm.models._manipulate import group_parameters
from torch import nn

logger = logging.getLogger(__name__)

# Prefix of the wrapped timm model in the encoder's parameter names.
_MODEL_PREFIX = "model."
_BLOCK_PATTERN = re.compile(r"blocks\.(\d+)\.")

SHRE_IMAGE_CHECKPOINT = "vit_base_patch16_224"
SHRE_IMAGE_BLOCKS = 6


class TimmEncoder(nn.Module):
    """A timm model as a shre image encoder.

    Args:
        model: a timm model built with ``num_classes=0``.
        image_size: side of the square input in pixels.
        mean, std: per-channel normalisation the model was trained with.
        interpolation: resize interpolation of the model's data config.

    Attributes:
        modality: ``"image"``.
        width: D, the feature width (``model.num_features``).
        num_prefix_tokens: CLS and register tokens at the front of T (0 for CNNs).
        num_layers: transformer blocks (ViTs) or stages (CNNs), for layer-wise
            lr decay.
    """

    modality = "image"

    def __init__(
        self,
        model: nn.Module,
        *,
        image_size: int,
        mean: tuple[float, ...],
        std: tuple[float, ...],
        interpolation: str = "bicubic",
    ) -> None:
        super().__init__()
        self.model = model
        self.width = int(model.num_features)
        self.num_prefix_tokens = int(getattr(model, "num_prefix_tokens", 0))
        self.image_size = int(image_size)
        self.mean = tuple(float(value) for value in mean)
        self.std = tuple(float(value) for value in std)
        self.interpolation = interpolation
        self._layer_ids, self.num_layers = _layer_ids(model)

    def forward(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Encode ``batch["pixel_values"]`` ``(B, 3, H, W)`` to tokens ``(B, T, D)``."""
        features = self.model.forward_features(batch["pixel_values"])
        if features.ndim == 4:
            # CNN feature map (B, C, H', W') -> one token per position.
            return features.flatten(2).transpose(1, 2)
        return features

    def layer_id(self, param_name: str) -> int:
        """Return the lr-decay layer of a parameter of this encoder.

        0 is the stem (patch embedding, CLS and position embeddings), ``i``
        block or stage ``i`` (1-based), ``num_layers + 1`` anything after the
        last block, such as the final norm.
        """
        name = param_name.removeprefix(_MODEL_PREFIX)
        return self._layer_ids.get(name, self.num_layers + 1)


def _layer_ids(model: nn.Module) -> tuple[dict[str, int], int]:
    """Map parameter names to lr-decay layers; return them and ``num_layers``.

    Transformers with a ``blocks`` sequence get 0 for the stem, ``i`` for
    ``blocks.<i-1>`` and ``num_layers + 1`` for the rest. timm's own grouping
    merges the final norm into the last block, which would decay it. Other
    models (CNNs) use timm's coarse grouping: stem 0, stage i.
    """
    matcher = getattr(model, "group_matcher", None)
    blocks = getattr(model, "blocks", None)
    names = [name for name, _ in model.named_parameters()]
    if isinstance(blocks, nn.Sequential):
        num_layers = len(blocks)
        stem = matcher(coarse=True).get("stem") if matcher is not None else None
        layer_ids = {}
        for name in names:
            match = _BLOCK_PATTERN.match(name)
            if match is not None:
                layer_ids[name] = int(match.group(1)) + 1
            elif isinstance(stem, str) and re.match(stem, name):
                layer_ids[name] = 0
            else:
                layer_ids[name] = num_layers + 1
        return layer_ids, num_layers

    if matcher is None:
        logger.warning(
            "timm model %s has no group_matcher; layer-wise lr decay treats it as one layer",
            type(model).__name__,
        )
        return {}, 0
    groups = group_parameters(model, matcher(coarse=True))
    num_layers = max((int(group) for group in groups), default=0)
    return {name: int(group) for group, members in groups.items() for name in members}, num_layers


def build_timm_encoder(
    argument: str | None = None,
    *,
    pretrained: bool = True,
    checkpoint_path: str | None = None,
    num_blocks: int | None = None,
    image_size: int | None = None,
    **model_kwargs: Any,
) -> TimmEncoder:
    """Build ``timm:NAME``: any timm model, its classifier removed.

    Args:
        argument: the timm model name, for example ``vit_small_patch16_224``.
        pretrained: load the model's hub weights (needs Hub access).
        checkpoint_path: a local weights file (``.safetensors``, ``.pth``, ``.bin``)
            loaded as the pretrained weights; works offline.
        num_blocks: keep only the first N transformer blocks of a ViT.
        image_size: input size in pixels. A ViT is built for it (timm's
            ``img_size``). A CNN takes any size, so for a CNN it only sets the
            size the data is resized to. Default: the size of the model's
            pretrained config.
        model_kwargs: passed to ``timm.create_model``, e.g. ``drop_path_rate=0.1``.

    Raises:
        ConfigError: unknown model name, weights that cannot be loaded, an
            invalid ``num_blocks`` or an image size the patch size does not divide.
    """
    if not argument:
        raise ConfigError("the timm encoder needs a model name: timm:<name>, e.g. timm:resnet50")
    architecture = split_model_name_tag(argument)[0]
    if not timm.is_model(architecture):
        close = timm.list_models(f"*{architecture[:6]}*")[:5]
        hint = f"; close names: {', '.join(close)}" if close else ""
        raise ConfigError(f"unknown timm model {argument!r}{hint}. See timm.list_models()")

    model = _create_sized_model(argument, pretrained, checkpoint_path, model_kwargs, image_size)
    if num_blocks is not None:
        _truncate_blocks(model, argument, num_blocks)

    data_config = resolve_model_data_config(model)
    if image_size is None:
        image_size = _image_size(model, data_config)
    return TimmEncoder(
        model,
        image_size=image_size,
        mean=data_config["mean"],
        std=data_config["std"],
        interpolation=data_config.get("interpolation", "bicubic"),
    )


def _create_sized_model(
    name: str,
    pretrained: bool,
    checkpoint_path: str | None,
    model_kwargs: dict[str, Any],
    image_size: int | None,
) -> nn.Module:
    """Create the model, built for ``image_size`` when its class takes ``img_size``."""
    if image_size is None or "img_size" in model_kwargs:
        return _create_timm_model(name, pretrained, checkpoint_path, model_kwargs)
    try:
        return _create_timm_model(
            name, pretrained, checkpoint_path, {**model_kwargs, "img_size": image_size}
        )
    except TypeError as error:
        # CNNs take any input size and have no img_size argument.
        if "img_size" not in str(error):
            raise
        return _create_timm_model(name, pretrained, checkpoint_path, model_kwargs)


def _create_timm_model(
    name: str, pretrained: bool, checkpoint_path: str | None, model_kwargs: dict[str, Any]
) -> nn.Module:
    kwargs: dict[str, Any] = {"num_classes": 0, **model_kwargs}
    if checkpoint_path is not None:
        if not os.path.isfile(checkpoint_path):
            raise ConfigError(
                f"timm checkpoint_path {checkpoint_path!r} does not exist; "
                "give a local .safetensors, .pth or .bin file"
            )
        # Loading through the pretrained path drops a classifier whose class
        # count differs, which a strict checkpoint load would reject.
        pretrained = True
        kwargs["pretrained_cfg_overlay"] = {"file": checkpoint_path}

    _check_patch_divides(name, kwargs)
    try:
        return timm.create_model(name, pretrained=pretrained, **kwargs)
    except (OSError, RuntimeError, ValueError) as error:
        if not pretrained:
            raise ConfigError(
                f"cannot build timm model {name!r} with {model_kwargs}: {error}"
            ) from error
        raise ConfigError(
            f"cannot load the pretrained weights of timm model {name!r}: {error}. Without Hub "
            "access, set encoder_options.pretrained=false for random weights, or "
            "encoder_options.checkpoint_path=FILE for a local weights file"
        ) from error


def _check_patch_divides(name: str, kwargs: Mapping[str, Any]) -> None:
    """Reject an ``img_size`` that the patch size of a ViT name does not divide."""
    image_size = kwargs.get("img_size")
    match = re.search(r"patch(\d+)", name)
    patch_size = kwargs.get("patch_size") or (int(match.group(1)) if match else None)
    if image_size is None or patch_size is None:
        return
    sizes = image_size if isinstance(image_size, (tuple, list)) else (image_size,)
    if any(int(size) % int(patch_size) for size in sizes):
        raise ConfigError(
            f"img_size {image_size} is not a multiple of the patch size {patch_size} of "
            f"timm model {name!r}; choose a multiple, for example {int(patch_size) * 2}"
        )


def _truncate_blocks(model: nn.Module, name: str, num_blocks: int) -> None:
    blocks = getattr(model, "blocks", None)
    if not isinstance(blocks, nn.Sequential):
        raise ConfigError(
            f"num_blocks applies to Vision Transformers with a 'blocks' sequence; "
            f"timm model {name!r} has none. Remove encoder_options.num_blocks"
        )
    if isinstance(num_blocks, bool) or not 1 <= int(num_blocks) <= len(blocks):
        raise ConfigError(
            f"invalid num_blocks {num_blocks!r} for timm model {name!r}; "
            f"use an integer from 1 to {len(blocks)}"
        )
    model.blocks = blocks[: int(num_blocks)]


def _image_size(model: nn.Module, data_config: Mapping[str, Any]) -> int:
    # A ViT built with img_size=N keeps the pretrained config's input size,
    # so the patch embedding is the reliable source.
    patch_embed = getattr(model, "patch_embed", None)
    size = getattr(patch_embed, "img_size", None)
    if size is None:
        size = data_config["input_size"][-2:]
    if isinstance(size, (tuple, list)):
        if size[0] != size[1]:
            raise ConfigError(f"non-square encoder input {tuple(size)} is not supported")
        size = size[0]
    return int(size)


def build_shre_image(
    argument: str | None = None, *, pretrained: bool = True, **options: Any
) -> TimmEncoder:
    """Build the SHRe student's image branch: the first 6 blocks of ViT-B/16.

    224 px, patch 16, width 768, 12 heads. Weights come from timm's
    ``vit_base_patch16_224`` hub checkpoint when ``pretrained`` (needs Hub
    access), are random with ``pretrained=false``, or come from a distilled
    SHRe checkpoint through ``--init`` (keys ``encoders.image.*``).
    """
    options.setdefault("num_blocks", SHRE_IMAGE_BLOCKS)
    return build_timm_encoder(SHRE_IMAGE_CHECKPOINT, pretrained=pretrained, **options)


def build_shre_tiny_image(
    argument: str | None = None,
    *,
    image_size: int = 64,
    patch_size: int = 8,
    width: int = 128,
    depth: int = 2,
    num_heads: int = 2,
) -> TimmEncoder:
    """Build the download-free tiny image branch: a random-init ViT sized for a CPU.

    Defaults: 64 px images, patch 8 (64 patches plus CLS), width 128,
    2 blocks, 2 heads, ImageNet mean and std.
    """
    if image_size % patch_size:
        raise ConfigError(
            f"image_size {image_size} is not a multiple of patch_size {patch_size}; "
            f"choose a multiple, for example {patch_size * 8}"
        )
    if width % num_heads:
        raise ConfigError(f"width {width} is not a multiple of num_heads {num_heads}")

    model = VisionTransformer(
        img_size=image_size,
        patch_size=patch_size,
        embed_dim=width,
        depth=depth,
        num_heads=num_heads,
        num_classes=0,
    )
    return TimmEncoder(
        model, image_size=image_size, mean=IMAGENET_DEFAULT_MEAN, std=IMAGENET_DEFAULT_STD
    )
