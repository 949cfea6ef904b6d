"""shre-vision: image encoders, the ``norm-linear`` head and image classification tasks.

The plugin module (``shre_vision.plugin``) is the ``vision`` entry point of the
``shre`` group. Importing this package imports neither torch nor timm, so
``shre list`` stays fast: the public names below load their module on first
access.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_PUBLIC = {
    "ImageClassificationTask": "shre_vision.tasks",
    "ImageTeacher": "shre_vision.teacher",
    "NormLinearHead": "shre_vision.heads",
    "TimmEncoder": "shre_vision.encoders",
    "build_timm_encoder": "shre_vision.encoders",
    "load_teacher": "shre_vision.teacher",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'shre_vision' has no attribute {name!r}")
    return getattr(importlib.import_module(_PUBLIC[name]), name)
