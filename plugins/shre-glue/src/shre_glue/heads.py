"""The GLUE pooler and classification head.

The GLUE recipe of TimCares/MasterThesis (a master thesis that re-did SHRe
with Transformers) takes the ``[CLS]`` hidden state, applies BERT's pooler
(dense + tanh, pretrained) and dropout 0.1, then a classifier. The
``roberta`` head (dense, tanh, dropout, projection) is the default here. The
core ``linear`` head gives the single linear layer that the thesis code used.
"""

from __future__ import annotations

import logging

import torch
from torch import nn

logger = logging.getLogger(__name__)


class BertPooler(nn.Module):
    """``[CLS]`` token -> dense -> tanh -> dropout: ``(B, T, D)`` to ``(B, D)``.

    Args:
        width: hidden size D.
        encoder: the text encoder. When it wraps a pretrained ``BertModel``
            with a pooler (``encoder.model.pooler``), that pooler's weights are
            copied here and trained further. Otherwise the dense layer starts
            from BERT's initialisation (normal, std 0.02).
        dropout: dropout after the tanh.
    """

    def __init__(self, width: int, encoder: nn.Module | None = None, dropout: float = 0.1) -> None:
        super().__init__()
        self.dense = nn.Linear(width, width)
        self.activation = nn.Tanh()
        self.dropout = nn.Dropout(dropout)
        self.initialised_from_encoder = self._copy_pretrained(encoder)
        if not self.initialised_from_encoder:
            nn.init.normal_(self.dense.weight, std=0.02)
            nn.init.zeros_(self.dense.bias)

    def _copy_pretrained(self, encoder: nn.Module | None) -> bool:
        if not getattr(encoder, "pretrained", True):
            return False  # a randomly initialised encoder has nothing worth copying
        source = getattr(getattr(encoder, "model", None), "pooler", None)
        dense = getattr(source, "dense", None)
        if not isinstance(dense, nn.Linear) or dense.weight.shape != self.dense.weight.shape:
            return False

        with torch.no_grad():
            self.dense.weight.copy_(dense.weight)
            self.dense.bias.copy_(dense.bias)
        logger.info("bert-pooler starts from the encoder's pretrained pooler")
        return True

    def forward(
        self, hidden: torch.Tensor, attention_mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        return self.dropout(self.activation(self.dense(hidden[:, 0])))


class RobertaHead(nn.Module):
    """RoBERTa's classification head after the pooler: dense, tanh, dropout, projection.

    Maps ``(B, D)`` to ``(B, C)``; ``C = 1`` for regression. RoBERTa's own
    head starts with a dropout too; here the pooler's dropout plays that role.
    """

    def __init__(self, width: int, num_outputs: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.dense = nn.Linear(width, width)
        self.activation = nn.Tanh()
        self.dropout = nn.Dropout(dropout)
        self.proj = nn.Linear(width, num_outputs)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.proj(self.dropout(self.activation(self.dense(pooled))))
