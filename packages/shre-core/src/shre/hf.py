"""Any Hugging Face transformers encoder as a shre encoder (``hf:NAME``)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from shre.errors import ConfigError, one_line

_TEXT_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_LAYER_PATTERN = re.compile(r"encoder\.layers?\.(\d+)\.")


class HFEncoder(nn.Module):
    """Wrap a transformers base model; forward returns ``last_hidden_state`` ``(B, T, D)``.

    Attributes:
        modality: ``"image"`` for vision models (their config has
            ``num_channels``), ``"text"`` otherwise.
        width: hidden size D.
        num_prefix_tokens: 1 (the CLS token) for both BERT-like and ViT-like models.
        tokenizer: the model's tokenizer, for text models.
        num_layers: ``config.num_hidden_layers``, for layer-wise lr decay.
    """

    def __init__(
        self,
        model: nn.Module,
        tokenizer: Any | None = None,
        *,
        max_length: int = 512,
        image_size: int | None = None,
        mean: tuple[float, ...] | None = None,
        std: tuple[float, ...] | None = None,
    ) -> None:
        super().__init__()
        self.model = model
        self.tokenizer = tokenizer
        config = model.config
        self.modality = "image" if hasattr(config, "num_channels") else "text"
        self.width = int(config.hidden_size)
        self.num_prefix_tokens = 1
        self.max_length = max_length
        self.image_size = image_size or getattr(config, "image_size", None)
        self.mean = mean
        self.std = std
        self.num_layers = int(getattr(config, "num_hidden_layers", 0) or 0)

    def layer_id(self, param_name: str) -> int:
        """Return the lr-decay layer of a parameter of this encoder.

        0 for the embeddings, i for ``encoder.layer.<i-1>``, ``num_layers + 1``
        for anything else (a final norm, the pooler).

        NOTE: the names follow BERT, RoBERTa, ViT and DeiT (``embeddings.*``,
        ``encoder.layer.N.*``). Models named otherwise get ``num_layers + 1``
        (the full learning rate) for every parameter.
        """
        name = param_name.removeprefix("model.")
        if name.startswith("embeddings."):
            return 0
        match = _LAYER_PATTERN.match(name)
        if match is not None:
            return int(match.group(1)) + 1
        return self.num_layers + 1

    def forward(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        if self.modality == "image":
            outputs = self.model(pixel_values=batch["pixel_values"])
        else:
            inputs = {key: batch[key] for key in _TEXT_INPUTS if key in batch}
            outputs = self.model(**inputs)
        return outputs.last_hidden_state


def build_hf_encoder(
    argument: str | None = None,
    *,
    trust_remote_code: bool = False,
    revision: str | None = None,
    num_hidden_layers: int | None = None,
) -> HFEncoder:
    """Load ``argument`` (a Hub id or a local directory) with ``AutoModel``.

    Args:
        argument: Hub model id such as ``bert-base-uncased``, or a local path.
        trust_remote_code: run model code shipped with the checkpoint; off by
            default because that code runs with the user's rights.
        revision: Hub revision (branch, tag or commit).
        num_hidden_layers: keep only the first N layers.

    Raises:
        ConfigError: no name given, or the model cannot be loaded (with the
            offline hint when the Hub is unreachable).
    """
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    if not argument:
        raise ConfigError("the hf encoder needs a model name: hf:<hub-id-or-local-path>")

    overrides = {} if num_hidden_layers is None else {"num_hidden_layers": num_hidden_layers}
    try:
        config = AutoConfig.from_pretrained(
            argument, trust_remote_code=trust_remote_code, revision=revision, **overrides
        )
        model = AutoModel.from_pretrained(
            argument, config=config, trust_remote_code=trust_remote_code, revision=revision
        )
    except (OSError, ValueError) as error:
        hint = ""
        if os.environ.get("HF_HUB_OFFLINE") == "1" or not os.path.exists(argument):
            hint = (
                " Without Hub access, pass a local directory saved with save_pretrained(), "
                "or use a download-free model: --model shre-tiny"
            )
        raise ConfigError(f"cannot load hf model {argument!r}: {one_line(error)}.{hint}") from error

    tokenizer = None
    if not hasattr(config, "num_channels"):
        try:
            tokenizer = AutoTokenizer.from_pretrained(argument, revision=revision)
        except (OSError, ValueError) as error:
            raise ConfigError(
                f"cannot load the tokenizer of hf model {argument!r}: {one_line(error)}"
            ) from error

    image_mean = image_std = None
    if hasattr(config, "num_channels"):
        image_mean, image_std = (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)
        try:
            from transformers import AutoImageProcessor

            processor = AutoImageProcessor.from_pretrained(argument, revision=revision)
            image_mean = tuple(processor.image_mean)
            image_std = tuple(processor.image_std)
        except (OSError, ValueError, AttributeError):
            pass  # NOTE: without a saved processor, ViT's usual 0.5/0.5 normalisation is assumed.

    max_length = int(getattr(config, "max_position_embeddings", 512))
    return HFEncoder(model, tokenizer, max_length=max_length, mean=image_mean, std=image_std)
