"""Training loss and throughput over one logging interval."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from accelerate import Accelerator


class IntervalMeter:
    """Sums of the loss, the other scalar outputs and the examples since the last log.

    Scalar outputs are the named loss parts (``kd_loss``, ``itc_loss``) and
    diagnostics such as contrastive accuracy or a logit scale. Tensors with
    more than one element (``logits``, features) are not logged.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.sums: dict[str, Any] = {}
        self.samples = 0
        self.steps = 0
        self.started = time.monotonic()

    def add_micro_batch(self, outputs: Mapping[str, Any], size: int, count: int) -> None:
        """Add one micro-batch of an optimiser step made of ``count`` micro-batches."""
        for key, value in outputs.items():
            if isinstance(value, torch.Tensor) and value.numel() == 1:
                part = value.detach().float().reshape(()) / count
                self.sums[key] = self.sums.get(key, 0.0) + part
        self.samples += size

    def compute(self, accelerator: Accelerator) -> dict[str, float]:
        """Return each loss as a mean per optimiser step and over processes, and the throughput.

        Every process must call this at the same step, because it reduces
        across processes. ``samples_per_second`` counts all processes.
        """
        names = sorted(self.sums)
        device = accelerator.device
        sums = [torch.as_tensor(self.sums[name], device=device) for name in names]
        values = torch.stack(sums) / max(self.steps, 1)
        samples = torch.tensor(float(self.samples), device=device)
        if accelerator.num_processes > 1:
            values = accelerator.reduce(values, reduction="mean")
            samples = accelerator.reduce(samples, reduction="sum")

        elapsed = max(time.monotonic() - self.started, 1e-9)
        metrics = {name: float(value) for name, value in zip(names, values, strict=True)}
        metrics["samples_per_second"] = float(samples) / elapsed
        return metrics
