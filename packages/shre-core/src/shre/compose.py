"""Composition of encoder -> pooler -> head with a task's loss.

Every composed model keeps its encoders in ``model.encoders``, a
``ModuleDict`` keyed by modality, so weights move between tasks by key. A
distilled checkpoint's ``encoders.text.*`` initialises the text encoder of
a GLUE model, and its ``encoders.image.*`` the encoder of an image task.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from shre.errors import ConfigError
from shre.registry import PLURALS

if TYPE_CHECKING:
    from shre.registry import Registry
    from shre.task import Task

logger = logging.getLogger(__name__)


class TaskModel(nn.Module):
    """Encoder, pooler, head and loss for a single-modality task.

    Args:
        encoder: maps a batch to hidden states ``(B, T, D)``.
        pooler: maps ``(B, T, D)`` and the attention mask to ``(B, D)``.
        head: maps ``(B, D)`` to logits ``(B, C)``.
        loss: maps logits and labels to a scalar, or to a dict with ``"loss"``.
        freeze_encoder: linear probe. The encoder stays in eval mode with
            ``requires_grad`` off and runs under ``torch.no_grad()``, so its
            parameters and buffers (batch-norm statistics too) never change.
    """

    def __init__(
        self,
        encoder: nn.Module,
        pooler: nn.Module,
        head: nn.Module,
        loss: nn.Module,
        *,
        freeze_encoder: bool = False,
    ) -> None:
        super().__init__()
        self.modality: str = encoder.modality
        self.encoders = nn.ModuleDict({self.modality: encoder})
        self.pooler = pooler
        self.head = head
        self.loss = loss
        self.freeze_encoder = freeze_encoder
        if freeze_encoder:
            encoder.requires_grad_(False)
            encoder.eval()

    @property
    def encoder(self) -> nn.Module:
        return self.encoders[self.modality]

    def train(self, mode: bool = True) -> TaskModel:
        super().train(mode)
        if self.freeze_encoder:
            self.encoder.eval()
        return self

    def forward(self, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        """Return ``logits`` ``(B, C)`` and, when ``batch`` has labels, ``loss``."""
        if self.freeze_encoder:
            with torch.no_grad():
                hidden = self.encoder(batch)
        else:
            hidden = self.encoder(batch)

        pooled = self.pooler(hidden, batch.get("attention_mask"))
        logits = self.head(pooled)
        outputs: dict[str, torch.Tensor] = {"logits": logits}

        labels = batch.get("labels")
        if labels is not None:
            loss = self.loss(logits, labels)
            if isinstance(loss, Mapping):
                outputs.update(loss)
            else:
                outputs["loss"] = loss
        return outputs


def compose_task_model(task: Task, registry: Registry) -> TaskModel:
    """Build the model that ``task`` requests through the run config.

    The config's ``model`` names the model; ``components`` may override the
    task's default pooler, head and loss; ``*_options`` go to the factories.

    Raises:
        UnknownNameError: an unknown model or component, or a model without
            an encoder for the task's modality.
        ConfigError: the encoder's modality does not match the task.
    """
    config = task.config
    model_name = config["model"]
    if not model_name:
        raise ConfigError("no model given; pass --model NAME (see 'shre list models')")

    model_spec = registry.resolve_model(model_name)
    encoder_resolved = registry.encoder_for(model_spec, task.modality)
    encoder_options = {
        **model_spec.encoder_options.get(task.modality, {}),
        **config.get("encoder_options", {}),
    }
    encoder = encoder_resolved.build(**encoder_options)
    if getattr(encoder, "modality", task.modality) != task.modality:
        raise ConfigError(
            f"encoder {encoder_resolved.name!r} is a {encoder.modality} encoder, "
            f"but task {task.name!r} needs {task.modality}"
        )

    components = config.get("components", {})
    pooler_name = components.get("pooler") or task.spec.pooler
    head_name = components.get("head") or task.spec.head
    loss_name = components.get("loss") or task.spec.loss
    for kind, name in (("pooler", pooler_name), ("head", head_name), ("loss", loss_name)):
        if not name:
            raise ConfigError(
                f"task {task.name!r} has no default {kind}; set components.{kind} "
                f"(see 'shre list {PLURALS[kind]}')"
            )

    width = encoder.width
    pooler = registry.resolve("pooler", pooler_name).build(
        width=width, encoder=encoder, **config.get("pooler_options", {})
    )
    head = registry.resolve("head", head_name).build(
        width=width, num_outputs=task.require_num_labels(), **config.get("head_options", {})
    )
    loss = registry.resolve("loss", loss_name).build(**config.get("loss_options", {}))

    logger.info(
        "composed %s: encoder %s (width %d) -> pooler %s -> head %s, loss %s",
        task.name, encoder_resolved.name, width, pooler_name, head_name, loss_name,
    )
    return TaskModel(
        encoder, pooler, head, loss, freeze_encoder=bool(config["train"].get("freeze_encoder"))
    )
