"""BERT text encoders: ``shre-text`` (pretrained, first 6 layers) and ``shre-tiny-text``.

Both wrap a transformers ``BertModel`` with its pooler kept, so the
``bert-pooler`` component can start from the pretrained pooler weights.
The encoder itself returns the last hidden states and never uses that
pooler, so its parameters are frozen here: an unused trainable parameter
would break distributed training (DDP waits for its gradient).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from importlib import resources

import torch
from shre.errors import ConfigError, one_line
from torch import nn
from transformers import BertConfig, BertModel, BertTokenizerFast, PreTrainedTokenizerBase

logger = logging.getLogger(__name__)

_TEXT_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_LAYER_PATTERN = re.compile(r"(?:^|\.)encoder\.layer\.(\d+)\.")

# The uncased WordPiece vocabulary of bert-base-uncased (30522 entries,
# Apache-2.0), shipped so that shre-tiny-text needs no download.
VOCAB_DIR = "vocab/bert-base-uncased"


class BertTextEncoder(nn.Module):
    """A ``BertModel`` as a shre text encoder.

    Args:
        model: the BERT model; its pooler, if any, is frozen and unused.
        tokenizer: the WordPiece tokenizer that matches ``model``'s vocabulary.
        pretrained: whether ``model`` has pretrained weights. ``bert-pooler``
            copies the pooler only from a pretrained model.

    Attributes:
        modality: ``"text"``.
        width: hidden size D.
        num_prefix_tokens: 1, the ``[CLS]`` token.
        max_length: maximum input length in tokens (the position-embedding table size).
        num_layers: number of Transformer layers, for layer-wise lr decay.
    """

    modality = "text"
    num_prefix_tokens = 1

    def __init__(
        self, model: BertModel, tokenizer: PreTrainedTokenizerBase, *, pretrained: bool
    ) -> None:
        super().__init__()
        self.model = model
        self.tokenizer = tokenizer
        self.pretrained = pretrained
        self.width = int(model.config.hidden_size)
        self.num_layers = int(model.config.num_hidden_layers)
        self.max_length = int(model.config.max_position_embeddings)
        if model.pooler is not None:
            model.pooler.requires_grad_(False)

    def forward(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Encode token ids ``(B, T)`` into hidden states ``(B, T, D)``."""
        inputs = {key: batch[key] for key in _TEXT_INPUTS if key in batch}
        return self.model(**inputs).last_hidden_state

    def layer_id(self, param_name: str) -> int:
        """Layer of a parameter for layer-wise lr decay.

        0 for the embeddings, ``i`` for Transformer layer ``i`` (1-based), and
        ``num_layers + 1`` for anything after the last layer (the pooler).
        """
        if ".embeddings." in f".{param_name}":
            return 0
        match = _LAYER_PATTERN.search(param_name)
        if match:
            return int(match.group(1)) + 1
        return self.num_layers + 1


def shipped_tokenizer() -> BertTokenizerFast:
    """Build the uncased BERT WordPiece tokenizer from the vocabulary shipped with shre-glue."""
    vocab_dir = resources.files("shre_glue").joinpath(VOCAB_DIR)
    with resources.as_file(vocab_dir) as path:
        return BertTokenizerFast.from_pretrained(
            str(path), do_lower_case=True, model_max_length=512
        )


def build_shre_text(
    *,
    pretrained: str = "bert-base-uncased",
    num_layers: int = 6,
    revision: str | None = None,
) -> BertTextEncoder:
    """Load the SHRe student's text encoder: BERT embeddings and the first ``num_layers`` layers.

    Args:
        pretrained: Hub id or local directory (saved with ``save_pretrained``)
            of a BERT model and its tokenizer.
        num_layers: Transformer layers to keep, from the bottom.
        revision: Hub revision (branch, tag or commit).

    Raises:
        ConfigError: the model or tokenizer cannot be loaded. The message
            names the offline alternatives.
    """
    try:
        config = BertConfig.from_pretrained(pretrained, revision=revision)
        if config.num_hidden_layers < num_layers:
            raise ConfigError(
                f"{pretrained!r} has {config.num_hidden_layers} layers, fewer than "
                f"num_layers={num_layers}; lower encoder_options.num_layers"
            )
        config.num_hidden_layers = num_layers
        model = BertModel.from_pretrained(
            pretrained, config=config, revision=revision, add_pooling_layer=True
        )
        tokenizer = BertTokenizerFast.from_pretrained(pretrained, revision=revision)
    except OSError as error:
        raise ConfigError(
            f"cannot load BERT model {pretrained!r} for glue:shre-text: {one_line(error)}. "
            "Without Hub access, pass --set encoder_options.pretrained=DIR (a directory saved "
            "with save_pretrained, tokenizer included) or use the download-free model: "
            "--model shre-tiny"
        ) from error

    logger.info("loaded %s with its first %d layers", pretrained, num_layers)
    return BertTextEncoder(model, tokenizer, pretrained=True)


def build_shre_tiny_text(
    *,
    num_layers: int = 2,
    width: int = 128,
    num_heads: int = 2,
    intermediate_size: int = 512,
) -> BertTextEncoder:
    """Build a randomly initialised small BERT with the real uncased vocabulary, without downloads.

    Args:
        num_layers: Transformer layers.
        width: hidden size D.
        num_heads: attention heads; must divide ``width``.
        intermediate_size: feed-forward width.
    """
    tokenizer = shipped_tokenizer()
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=width,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        intermediate_size=intermediate_size,
        max_position_embeddings=512,
        type_vocab_size=2,
        pad_token_id=tokenizer.pad_token_id,
    )
    return BertTextEncoder(BertModel(config, add_pooling_layer=True), tokenizer, pretrained=False)
