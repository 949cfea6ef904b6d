"""SHRe objective: response-based KD plus CLIP contrastive loss on three layers.

``L = L_kd + L_itc`` with

- ``L_kd = 1/2 KL(teacher || image logits) + 1/2 KL(teacher || text logits)``
  over the softmax of the teacher's classes, batch mean, fp32, no temperature;
- ``L_itc = 1/3 * sum`` over the L2-normalised shared outputs (``hidden``,
  ``proj``, ``logits``) of the symmetric CLIP loss, each layer with its own
  learnable logit scale.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from shre_distill.gather import gather_with_grad, world_info
from shre_distill.shared import LAYER_NAMES

INIT_LOGIT_SCALE = math.log(1 / 0.07)
"""Initial log logit scale: temperature 0.07, as CLIP."""

MAX_LOGIT_SCALE = math.log(100)
"""Upper clamp of the log logit scale: the scale never exceeds 100, as CLIP."""


def kd_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor) -> torch.Tensor:
    """Return ``KL(softmax(teacher) || softmax(student))``, summed over classes, batch mean.

    Args:
        student_logits: ``(B, C)``.
        teacher_logits: ``(B, C)``; no gradient flows into it.
    """
    student = F.log_softmax(student_logits.float(), dim=-1)
    teacher = F.log_softmax(teacher_logits.detach().float(), dim=-1)
    return F.kl_div(student, teacher, log_target=True, reduction="batchmean")


def clip_loss(
    image_features: torch.Tensor, text_features: torch.Tensor, logit_scale: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return the symmetric CLIP loss of one layer and both top-1 accuracies.

    Features are L2-normalised here. In a process group each process scores
    its own rows against the columns of all processes (gathered with
    gradients), with targets ``arange(B) + B * rank``; the mean over processes
    then equals the loss of one process on the concatenated batch.

    Args:
        image_features: ``(B, F)``.
        text_features: ``(B, F)``; row i is the caption of image i.
        logit_scale: scalar scale s (not its log).

    Returns:
        ``(loss, accuracy_i2t, accuracy_t2i)``; the accuracies count local rows.
    """
    image = F.normalize(image_features.float(), dim=-1)
    text = F.normalize(text_features.float(), dim=-1)
    all_image = gather_with_grad(image)
    all_text = gather_with_grad(text)

    rank, _ = world_info()
    batch_size = image.shape[0]
    targets = torch.arange(batch_size, device=image.device) + batch_size * rank

    logits_i2t = logit_scale * image @ all_text.T
    logits_t2i = logit_scale * text @ all_image.T
    loss = (F.cross_entropy(logits_i2t, targets) + F.cross_entropy(logits_t2i, targets)) / 2

    with torch.no_grad():
        accuracy_i2t = (logits_i2t.argmax(dim=-1) == targets).float().mean()
        accuracy_t2i = (logits_t2i.argmax(dim=-1) == targets).float().mean()
    return loss, accuracy_i2t, accuracy_t2i


class SHReLoss(nn.Module):
    """``L_kd + L_itc`` with one learnable log logit scale per shared layer.

    Args:
        layers: names of the shared outputs that get a contrastive term.
        kd_weight, itc_weight: weights of the two terms (1 and 1 in SHRe).

    Attributes:
        logit_scale: ``(len(layers),)`` log logit scales, initialised to
            ``ln(1 / 0.07)`` and clamped in place to ``[0, ln(100)]`` at every
            forward, as CLIP clamps after each step.
    """

    def __init__(
        self,
        layers: Sequence[str] = LAYER_NAMES,
        kd_weight: float = 1.0,
        itc_weight: float = 1.0,
    ) -> None:
        super().__init__()
        self.layers = tuple(layers)
        self.kd_weight = kd_weight
        self.itc_weight = itc_weight
        self.logit_scale = nn.Parameter(torch.full((len(self.layers),), INIT_LOGIT_SCALE))

    def forward(
        self,
        image_outputs: Mapping[str, torch.Tensor],
        text_outputs: Mapping[str, torch.Tensor],
        teacher_logits: torch.Tensor | None,
    ) -> dict[str, torch.Tensor]:
        """Compute the loss and its named parts.

        Args:
            image_outputs, text_outputs: shared outputs by layer name, each
                ``(B, F)``; ``"logits"`` is ``(B, C)``.
            teacher_logits: ``(B, C)`` for the images, or ``None`` to skip KD.

        Returns:
            ``loss``, ``kd_loss``, ``kd_image_loss``, ``kd_text_loss``,
            ``itc_loss``, ``itc_loss_<layer>``, ``itc_accuracy_i2t``,
            ``itc_accuracy_t2i`` (mean over layers) and ``logit_scale_<layer>``
            (the scale, not its log).
        """
        parts: dict[str, torch.Tensor] = {}
        total = image_outputs["logits"].new_zeros((), dtype=torch.float32)

        if teacher_logits is not None:
            parts["kd_image_loss"] = kd_loss(image_outputs["logits"], teacher_logits)
            parts["kd_text_loss"] = kd_loss(text_outputs["logits"], teacher_logits)
            parts["kd_loss"] = (parts["kd_image_loss"] + parts["kd_text_loss"]) / 2
            total = total + self.kd_weight * parts["kd_loss"]

        if self.layers:
            itc = self._itc(image_outputs, text_outputs, parts)
            total = total + self.itc_weight * itc

        parts["loss"] = total
        return parts

    def _itc(
        self,
        image_outputs: Mapping[str, torch.Tensor],
        text_outputs: Mapping[str, torch.Tensor],
        parts: dict[str, torch.Tensor],
    ) -> torch.Tensor:
        with torch.no_grad():
            self.logit_scale.clamp_(0, MAX_LOGIT_SCALE)
        scales = self.logit_scale.exp()

        losses, accuracies_i2t, accuracies_t2i = [], [], []
        for index, layer in enumerate(self.layers):
            loss, accuracy_i2t, accuracy_t2i = clip_loss(
                image_outputs[layer], text_outputs[layer], scales[index]
            )
            parts[f"itc_loss_{layer}"] = loss
            parts[f"logit_scale_{layer}"] = scales[index].detach()
            losses.append(loss)
            accuracies_i2t.append(accuracy_i2t)
            accuracies_t2i.append(accuracy_t2i)

        parts["itc_loss"] = torch.stack(losses).mean()
        parts["itc_accuracy_i2t"] = torch.stack(accuracies_i2t).mean()
        parts["itc_accuracy_t2i"] = torch.stack(accuracies_t2i).mean()
        return parts["itc_loss"]


def build_shre_loss(**options: object) -> SHReLoss:
    """Loss factory of ``distill:shre``: ``factory(**options)``."""
    return SHReLoss(**options)  # type: ignore[arg-type]
