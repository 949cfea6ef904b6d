"""The SHRe shared encoder: one 3-layer MLP applied to each branch's CLS token."""

from __future__ import annotations

import torch
from torch import nn

LAYER_NAMES = ("hidden", "proj", "logits")
"""Names of the three shared-encoder outputs, first layer first."""


class SharedMLP(nn.Module):
    """3-layer MLP shared by the image and text branches.

    ``Linear(D, 4D) -> GELU -> LayerNorm -> Linear(4D, D) -> LayerNorm ->
    Linear(D, C)``, LayerNorm eps 1e-6, no dropout. The same weights serve
    both modalities. Weights get BERT-style init (normal, std 0.02, zero
    bias); the encoders underneath keep their own weights.

    Args:
        width: encoder width D (768 for ``shre``, 128 for ``shre-tiny``).
        num_outputs: C, the teacher's class count (1000 for ImageNet).
        hidden_ratio: width of the first layer as a multiple of D.
    """

    def __init__(self, width: int, num_outputs: int, hidden_ratio: int = 4) -> None:
        super().__init__()
        hidden = width * hidden_ratio
        self.width = width
        self.num_outputs = num_outputs
        self.fc1 = nn.Linear(width, hidden)
        self.act = nn.GELU()
        self.norm1 = nn.LayerNorm(hidden, eps=1e-6)
        self.fc2 = nn.Linear(hidden, width)
        self.norm2 = nn.LayerNorm(width, eps=1e-6)
        self.head = nn.Linear(width, num_outputs)
        self.apply(_init_bert)

    def forward(self, cls_token: torch.Tensor) -> dict[str, torch.Tensor]:
        """Map CLS tokens to the three shared outputs.

        Args:
            cls_token: ``(B, D)``, the first token of an encoder's last layer.

        Returns:
            ``hidden`` ``(B, 4D)`` (the first linear layer before GELU),
            ``proj`` ``(B, D)`` and ``logits`` ``(B, C)``.
        """
        hidden = self.fc1(cls_token)
        proj = self.fc2(self.norm1(self.act(hidden)))
        logits = self.head(self.norm2(proj))
        return {"hidden": hidden, "proj": proj, "logits": logits}


def _init_bert(module: nn.Module) -> None:
    if isinstance(module, nn.Linear):
        nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


def build_shared_mlp(width: int, num_outputs: int, **options: int) -> SharedMLP:
    """Head-style factory of ``distill:shre-mlp``: ``factory(width=, num_outputs=)``."""
    return SharedMLP(width, num_outputs, **options)
