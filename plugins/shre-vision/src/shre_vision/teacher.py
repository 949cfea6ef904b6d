"""Frozen image classifiers as distillation teachers.

``load_teacher(name_or_path)`` returns a module that maps normalised
``pixel_values`` ``(B, 3, S, S)`` to logits ``(B, C)``, in eval mode with
every parameter frozen, plus the data config its inputs need (input size,
mean, std, interpolation, crop_pct). Sources:

- ``timm:<name>``: any timm classifier with its pretrained weights, e.g.
  ``timm:resnet50.a1_in1k`` (the SHRe teacher).
- a shre run directory or checkpoint directory of an image classification
  run: the model is rebuilt with ``shre.checkpoint.load_trained_model``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from shre.errors import CheckpointError, ConfigError
from torch import nn

TIMM_PREFIX = "timm:"


class ImageTeacher(nn.Module):
    """A frozen classifier: ``pixel_values`` ``(B, 3, S, S)`` to logits ``(B, C)``.

    Args:
        model: a timm classifier (takes a tensor) or a shre ``TaskModel``
            (takes a batch dict and returns ``{"logits": ...}``).
        num_classes: C.
        class_names: the C class names, when known.
    """

    def __init__(
        self, model: nn.Module, num_classes: int, class_names: list[str] | None = None
    ) -> None:
        super().__init__()
        self.model = model
        self.num_classes = num_classes
        self.class_names = class_names
        self.takes_batch = not hasattr(model, "forward_features")
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> ImageTeacher:
        # A teacher stays in eval mode (batch-norm statistics, dropout) even
        # when the student's parent module switches to training.
        return super().train(False)

    @torch.no_grad()
    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        if self.takes_batch:
            return self.model({"pixel_values": pixel_values})["logits"]
        return self.model(pixel_values)


def load_teacher(
    name_or_path: str | Path, *, pretrained: bool = True
) -> tuple[ImageTeacher, dict[str, Any]]:
    """Load a frozen image teacher and its data config.

    Args:
        name_or_path: ``timm:<name>``, or a shre run directory or checkpoint directory.
        pretrained: load timm hub weights (``False`` gives random weights,
            for tests without Hub access); ignored for shre runs.

    Returns:
        The teacher module and a data config dict with ``input_size``
        ``(3, S, S)``, ``mean``, ``std``, ``interpolation`` and ``crop_pct``.

    Raises:
        ConfigError: an unknown timm name or weights that cannot be loaded.
        CheckpointError: a path that is not a shre image classification run.
    """
    text = str(name_or_path)
    if text.startswith(TIMM_PREFIX):
        return _load_timm_teacher(text[len(TIMM_PREFIX) :], pretrained)
    return _load_shre_teacher(Path(text).expanduser())


def _load_timm_teacher(name: str, pretrained: bool) -> tuple[ImageTeacher, dict[str, Any]]:
    import timm
    from timm.data import resolve_model_data_config

    if not timm.is_model(timm.models.split_model_name_tag(name)[0]):
        raise ConfigError(f"unknown timm model {name!r}; see timm.list_models()")
    try:
        model = timm.create_model(name, pretrained=pretrained)
    except (OSError, RuntimeError, ValueError) as error:
        raise ConfigError(
            f"cannot load the pretrained weights of teacher timm:{name}: {error}. "
            "It needs Hub access or a cached copy in the Hugging Face cache"
        ) from error

    data_config = dict(resolve_model_data_config(model))
    return ImageTeacher(model, int(model.num_classes)), data_config


def _load_shre_teacher(path: Path) -> tuple[ImageTeacher, dict[str, Any]]:
    if not path.exists():
        raise CheckpointError(
            f"teacher {str(path)!r} is neither timm:<name> nor an existing shre run directory"
        )
    from shre.checkpoint import load_trained_model

    model, task, _config = load_trained_model(path)
    encoder = getattr(model, "encoder", None)
    if getattr(encoder, "modality", None) != "image":
        raise CheckpointError(
            f"{path} is a {getattr(encoder, 'modality', 'unknown')} model; "
            "an image teacher must come from an image classification run (vision:*)"
        )

    options = task.config.get("task_options", {})
    class_names = options.get("classes")
    size = int(encoder.image_size)
    data_config = {
        "input_size": (3, size, size),
        "mean": tuple(encoder.mean),
        "std": tuple(encoder.std),
        "interpolation": getattr(encoder, "interpolation", "bicubic"),
        "crop_pct": float(options.get("crop_pct", 1.0)),
    }
    class_names = [str(name) for name in class_names] if class_names else None
    return ImageTeacher(model, int(task.num_labels), class_names), data_config
