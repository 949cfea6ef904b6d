"""Generic poolers, heads and losses that the built-in ``core`` plugin provides."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class ClsPooler(nn.Module):
    """Take the first token: ``(B, T, D)`` to ``(B, D)``."""

    def __init__(self, width: int, encoder: nn.Module | None = None) -> None:
        super().__init__()
        self.width = width

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        return hidden[:, 0]


class MeanPooler(nn.Module):
    """Average the non-prefix tokens: ``(B, T, D)`` to ``(B, D)``.

    The encoder's ``num_prefix_tokens`` leading tokens (CLS, registers) are
    dropped first. Padding positions (``attention_mask == 0``) are excluded.
    """

    def __init__(self, width: int, encoder: nn.Module | None = None) -> None:
        super().__init__()
        self.width = width
        self.num_prefix_tokens = int(getattr(encoder, "num_prefix_tokens", 0))

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        tokens = hidden[:, self.num_prefix_tokens :]
        if attention_mask is None:
            return tokens.mean(dim=1)

        mask = attention_mask[:, self.num_prefix_tokens :].unsqueeze(-1).to(tokens.dtype)
        return (tokens * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)


class LinearHead(nn.Module):
    """One linear layer: ``(B, D)`` to ``(B, C)``."""

    def __init__(self, width: int, num_outputs: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.proj = nn.Linear(width, num_outputs)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.proj(self.dropout(pooled))


class CrossEntropyLoss(nn.Module):
    """Cross-entropy over logits ``(B, C)``; targets are class ids ``(B,)`` or
    soft targets ``(B, C)`` (as mixup and cutmix produce)."""

    def __init__(self, label_smoothing: float = 0.0) -> None:
        super().__init__()
        self.label_smoothing = label_smoothing

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits.float(), labels, label_smoothing=self.label_smoothing)


class MSELoss(nn.Module):
    """Mean squared error for regression: logits ``(B, 1)`` squeezed to ``(B,)``."""

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(logits.float().reshape(-1), labels.float().reshape(-1))
