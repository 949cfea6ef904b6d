"""Gather features from every process while keeping their gradients.

``torch.distributed.all_gather`` returns tensors detached from the graph. The
contrastive loss needs the other processes' features as negatives and the
gradient of those similarities flowing back to the process that produced
them. ``GatherWithGrad`` does both: its backward sums the gradient of the
gathered tensor over processes and returns each process its own rows, which
works on every backend (gloo has no reduce-scatter).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed as dist


def world_info() -> tuple[int, int]:
    """Return ``(rank, world_size)``; ``(0, 1)`` outside a process group."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


class GatherWithGrad(torch.autograd.Function):
    """All-gather along dim 0 whose backward routes gradients to their source process."""

    @staticmethod
    def forward(ctx: Any, features: torch.Tensor) -> torch.Tensor:
        rank, world_size = world_info()
        ctx.rank, ctx.batch_size = rank, features.shape[0]
        parts = [torch.empty_like(features) for _ in range(world_size)]
        dist.all_gather(parts, features.contiguous())
        return torch.cat(parts, dim=0)

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> torch.Tensor:
        # Every process's loss depends on every process's rows, so this
        # process's rows get the sum of all processes' gradients for them.
        grad = grad_output.contiguous().clone()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        start = ctx.rank * ctx.batch_size
        return grad[start : start + ctx.batch_size]


def gather_with_grad(features: torch.Tensor) -> torch.Tensor:
    """Concatenate ``features`` ``(B, F)`` of all processes into ``(world * B, F)``.

    Rows of rank r sit at ``r * B`` to ``(r + 1) * B - 1``. Every process must
    pass the same B. Outside a process group the input is returned unchanged.
    """
    _, world_size = world_info()
    if world_size == 1:
        return features
    return GatherWithGrad.apply(features)
