"""A small test plugin, ``toy``: a synthetic text task and a tiny real BERT encoder.

It lets the engine's tests run without the GLUE plugin. Like a real plugin
module it imports no torch; the components live in ``shre_toy.components``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from shre import EncoderSpec, LossSpec, TaskSpec, hookimpl

SHRE_API_VERSION = "1.0"
PLUGIN_NAME = "toy"

_COMPONENTS = "shre_toy.components"


@hookimpl
def shre_encoders() -> list[EncoderSpec]:
    return [
        EncoderSpec(
            name="bert-tiny",
            factory=f"{_COMPONENTS}:build_encoder",
            description="transformers BertModel, 2 layers, width 32, random init",
            modality="text",
            width=32,
        )
    ]


@hookimpl
def shre_losses() -> list[LossSpec]:
    return [
        LossSpec(
            name="nan-after",
            factory=f"{_COMPONENTS}:NanAfterLoss",
            description="cross-entropy that returns NaN from the given call on",
        )
    ]


@hookimpl
def shre_tasks() -> list[TaskSpec]:
    return [
        TaskSpec(
            name="parity",
            factory=f"{_COMPONENTS}:ParityTask",
            description="synthetic: is the first token in the lower half of the vocabulary?",
            modality="text",
            pooler="cls",
            head="linear",
            loss="cross-entropy",
            metrics=("accuracy", "mcc"),
            main_metric="accuracy",
            greater_is_better=True,
            num_labels=2,
            preset={"optimizer": {"lr": 1e-3}, "train": {"batch_size": 8}},
        )
    ]


def register() -> None:
    """Make ``toy`` (and the built-in ``core``) the only plugins of this process."""
    from shre.plugins import PluginInfo, create_plugin_manager, reset_plugin_manager

    manager = create_plugin_manager(load_entry_points=False)
    module = sys.modules[__name__]
    manager.register_plugin(
        module, PluginInfo(PLUGIN_NAME, None, None, __name__, SHRE_API_VERSION, 0.0)
    )
    reset_plugin_manager(manager)


def toy_config(output_dir: Path | None, *overrides: str, **sections: Any) -> dict[str, Any]:
    """Resolve a config for ``toy:parity`` with ``toy:bert-tiny`` and small defaults.

    Call ``register()`` first. ``overrides`` are ``--set`` strings; ``sections``
    are merged last, e.g. ``encoder_options={"dropout": 0.0}``.
    """
    from shre.config import resolve_config
    from shre.registry import get_registry

    spec = get_registry().resolve("task", "toy:parity").spec
    defaults = ["train.log_every=2", "scheduler.warmup_steps=2", "data.max_train_samples=48"]
    config = resolve_config(spec.preset, overrides=[*defaults, *overrides], options=sections)
    config["task"] = "toy:parity"
    config["model"] = "toy:bert-tiny"
    config["output_dir"] = str(output_dir) if output_dir is not None else None
    return config
