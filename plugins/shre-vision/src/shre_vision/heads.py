"""The ``norm-linear`` head: LayerNorm then a linear classifier."""

from __future__ import annotations

import torch
from torch import nn


class NormLinearHead(nn.Module):
    """``LayerNorm(D, eps=1e-6)`` then ``Linear(D, C)``: ``(B, D)`` to ``(B, C)``.

    The default head of the image classification tasks. The linear weight is
    drawn with ``trunc_normal_(std=0.02)`` (torch's default cut-off at +-2,
    as timm, BEiT and data2vec initialise their heads) and the bias is zero.
    """

    def __init__(self, width: int, num_outputs: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width, eps=eps)
        self.proj = nn.Linear(width, num_outputs)
        nn.init.trunc_normal_(self.proj.weight, std=0.02)
        nn.init.zeros_(self.proj.bias)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.proj(self.norm(pooled))
