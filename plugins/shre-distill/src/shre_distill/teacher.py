"""The frozen teacher and the adapter that feeds it the student's crop.

The teacher sees the same augmented crop as the student: the student's
pixels are un-normalised with the student's mean/std, normalised with the
teacher's, and resized (bicubic) to the teacher's input size when it differs.
The teacher runs in eval mode without gradients and is not a registered
submodule, so its weights stay out of ``state_dict()``, the optimiser and
checkpoints; the run config stores its name instead.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from shre.errors import ConfigError
from torch import nn
from torch.nn import functional as F

logger = logging.getLogger(__name__)

DEFAULT_TEACHER = "timm:resnet50.a1_in1k"
"""Supervised ImageNet-1k ResNet-50 (timm's A1 recipe), the SHRe teacher."""


def load_teacher(name_or_path: str, *, pretrained: bool = True) -> tuple[nn.Module, dict[str, Any]]:
    """Load a frozen classifier and its timm data config (``input_size``, ``mean``, ``std``).

    ``name_or_path`` is a timm name (``timm:resnet50.a1_in1k``, or without
    the prefix when no such path exists) or a shre-vision run directory of a
    trained classifier; shre-vision does the loading. ``pretrained=False``
    gives a timm teacher random weights (download-free tests).

    Raises:
        ConfigError: the name is empty or shre-vision cannot load it.
    """
    if not name_or_path:
        raise ConfigError(
            "no teacher given; pass --teacher NAME (a timm classifier such as "
            f"{DEFAULT_TEACHER}, or a shre-vision run directory)"
        )
    from shre_vision.teacher import load_teacher as load_vision_teacher

    name = str(name_or_path)
    if not name.startswith("timm:") and not Path(name).expanduser().exists():
        if looks_like_path(name):
            # Without this check the value would go to timm and fail as an
            # unknown model name, hiding a mistyped run directory.
            raise ConfigError(
                f"teacher {name!r} is neither an existing run directory nor a timm model "
                "name; pass the run directory of a shre-vision image classifier (the "
                f"--output-dir of its `shre train`) or a timm name such as {DEFAULT_TEACHER}"
            )
        name = f"timm:{name}"
    module, data_config = load_vision_teacher(name, pretrained=pretrained)
    return module, dict(data_config)


def looks_like_path(name: str) -> bool:
    """Return whether ``name`` reads as a file path rather than a timm model name.

    The names in timm's registry (``timm.list_models()``) contain no path
    separator and do not start with ``.`` or ``~``.
    """
    separators = {"/", os.sep} | ({os.altsep} if os.altsep else set())
    return name.startswith((".", "~")) or any(separator in name for separator in separators)


def count_classes(module: nn.Module, input_size: Sequence[int]) -> int:
    """Return the teacher's class count: ``num_classes`` or the width of one forward."""
    num_classes = getattr(module, "num_classes", None)
    if isinstance(num_classes, int) and num_classes > 0:
        return num_classes
    with torch.no_grad():
        return int(module(torch.zeros(1, *input_size)).shape[-1])


class TeacherAdapter:
    """Run a frozen teacher on the student's normalised crop.

    Args:
        teacher: classifier mapping ``(B, 3, H, W)`` to logits ``(B, C)``.
        data_config: the teacher's ``input_size`` ``(3, H, W)``, ``mean`` and ``std``.
        student_mean, student_std: normalisation of the student's pixels.
        name: teacher name or path, for messages.

    Attributes:
        num_classes: C.
    """

    def __init__(
        self,
        teacher: nn.Module,
        data_config: Mapping[str, Any],
        student_mean: Sequence[float],
        student_std: Sequence[float],
        name: str = "",
    ) -> None:
        self.module = teacher.eval().requires_grad_(False)
        self.name = name
        self.input_size = tuple(int(value) for value in data_config["input_size"])
        self.num_classes = count_classes(self.module, self.input_size)
        # One affine map x * scale + shift does both un- and re-normalisation.
        student_mean_t, student_std_t = _column(student_mean), _column(student_std)
        teacher_mean, teacher_std = _column(data_config["mean"]), _column(data_config["std"])
        self.scale = student_std_t / teacher_std
        self.shift = (student_mean_t - teacher_mean) / teacher_std

    def apply_to_tensors(self, fn: Any) -> None:
        """Apply ``nn.Module._apply``'s tensor function (device or dtype moves)."""
        self.module._apply(fn)
        self.scale = fn(self.scale)
        self.shift = fn(self.shift)

    def __call__(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """Return teacher logits ``(B, C)`` in fp32 for student pixels ``(B, 3, H, W)``."""
        self.module.eval()
        with torch.no_grad():
            pixels = pixel_values.float() * self.scale + self.shift
            height, width = self.input_size[1:]
            if pixels.shape[-2:] != (height, width):
                pixels = F.interpolate(
                    pixels,
                    size=(height, width),
                    mode="bicubic",
                    align_corners=False,
                    antialias=True,
                )
            return self.module(pixels).float()


def _column(values: Sequence[float]) -> torch.Tensor:
    return torch.tensor([float(value) for value in values]).view(1, -1, 1, 1)
