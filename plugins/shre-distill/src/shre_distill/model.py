"""The SHRe student: image and text encoders, one shared MLP, the loss, the teacher."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from shre.errors import CheckpointError
from torch import nn

from shre_distill.losses import SHReLoss, kd_loss
from shre_distill.shared import SharedMLP
from shre_distill.teacher import TeacherAdapter


class SHReModel(nn.Module):
    """Student of SHRe distillation.

    Each encoder's CLS token (``x[:, 0]``) goes through the same shared MLP;
    the loss compares both branches' logits with the teacher's (KD) and the
    two branches with each other on every shared layer (ITC).

    Args:
        image_encoder, text_encoder: shre encoders of width D.
        shared: the shared MLP (``D -> 4D -> D -> C``).
        loss: ``SHReLoss``; its logit scales are trained with the student.
        teacher: frozen teacher, or ``None`` for a model that only encodes
            (evaluation of a saved checkpoint needs no teacher).

    Attributes:
        encoders: ``ModuleDict`` with ``image`` and ``text``, so checkpoints
            keep ``encoders.image.*`` and ``encoders.text.*`` for ``--init``.
    """

    def __init__(
        self,
        image_encoder: nn.Module,
        text_encoder: nn.Module,
        shared: SharedMLP,
        loss: SHReLoss,
        teacher: TeacherAdapter | None = None,
    ) -> None:
        super().__init__()
        self.encoders = nn.ModuleDict({"image": image_encoder, "text": text_encoder})
        self.shared = shared
        self.loss = loss
        # A plain attribute, not a submodule: the teacher stays out of
        # state_dict(), parameters() and therefore checkpoints and DDP.
        self.__dict__["teacher"] = teacher
        self._register_load_state_dict_pre_hook(self._check_num_classes)

    def _apply(self, fn: Callable[[torch.Tensor], torch.Tensor], recurse: bool = True) -> SHReModel:
        super()._apply(fn, recurse)
        if self.teacher is not None:
            self.teacher.apply_to_tensors(fn)
        return self

    def encode_image(self, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        """Return the shared outputs (``hidden``, ``proj``, ``logits``) of the images."""
        return self.shared(self.encoders["image"](batch)[:, 0])

    def encode_text(self, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        """Return the shared outputs (``hidden``, ``proj``, ``logits``) of the captions."""
        return self.shared(self.encoders["text"](batch)[:, 0])

    def forward(self, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        """Encode a batch of image-caption pairs and compute the loss.

        Training batches pair row i of ``pixel_values`` with row i of
        ``input_ids``; the loss is ``kd_loss + itc_loss``. Evaluation batches
        may carry several captions per image (``caption_image_index`` maps
        each caption to its image row); their loss is the KD term alone,
        because contrastive targets are undefined for repeated images.

        A batch without ``input_ids`` (images alone) returns the image
        features and no loss.

        Returns:
            ``logits`` (the image branch's ``(B, C)``), ``loss`` and its named
            parts when a teacher is attached, and in eval mode the features
            ``image_<layer>`` ``(B, F)`` and ``text_<layer>`` ``(M, F)``.
        """
        image_outputs = self.encode_image(batch)
        outputs: dict[str, torch.Tensor] = {"logits": image_outputs["logits"]}
        if "input_ids" not in batch:
            # Images alone, as in zero-shot classification: features only.
            outputs.update({f"image_{layer}": value for layer, value in image_outputs.items()})
            return outputs

        text_outputs = self.encode_text(batch)

        caption_rows = batch.get("caption_image_index")
        if self.teacher is not None:
            teacher_logits = self.teacher(batch["pixel_values"])
            if caption_rows is None:
                outputs.update(self.loss(image_outputs, text_outputs, teacher_logits))
            else:
                outputs.update(
                    self._eval_kd(image_outputs, text_outputs, teacher_logits, caption_rows)
                )

        if not self.training:
            for layer in image_outputs:
                outputs[f"image_{layer}"] = image_outputs[layer]
                outputs[f"text_{layer}"] = text_outputs[layer]
        return outputs

    def _eval_kd(
        self,
        image_outputs: Mapping[str, torch.Tensor],
        text_outputs: Mapping[str, torch.Tensor],
        teacher_logits: torch.Tensor,
        caption_rows: torch.Tensor,
    ) -> dict[str, torch.Tensor]:
        kd_image = kd_loss(image_outputs["logits"], teacher_logits)
        kd_text = kd_loss(text_outputs["logits"], teacher_logits[caption_rows])
        kd = (kd_image + kd_text) / 2
        return {"loss": kd, "kd_loss": kd, "kd_image_loss": kd_image, "kd_text_loss": kd_text}

    def _check_num_classes(self, state: Mapping[str, Any], prefix: str, *args: Any) -> None:
        key = f"{prefix}shared.head.weight"
        if key not in state:
            return
        found = int(state[key].shape[0])
        if found != self.shared.num_outputs:
            teacher = self.teacher.name if self.teacher is not None else "the configured teacher"
            raise CheckpointError(
                f"the checkpoint's shared head has {found} classes, but teacher {teacher!r} "
                f"has {self.shared.num_outputs}; resume with the teacher the run was trained "
                "with (task_options.teacher in its config.yaml), or start a new run"
            )
