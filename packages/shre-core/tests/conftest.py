"""Fixtures for the engine tests: the ``toy`` test plugin and its configs."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

TESTS_DIR = Path(__file__).resolve().parent
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

import shre_toy  # noqa: E402

from shre.config import resolve_config  # noqa: E402
from shre.plugins import reset_plugin_manager  # noqa: E402


@pytest.fixture(autouse=True)
def toy_plugin() -> Iterator[None]:
    """Load only the built-in and ``toy`` plugins, whatever else is installed."""
    import torch

    torch.set_num_threads(1)
    shre_toy.register()
    yield
    reset_plugin_manager(None)


def toy_config(output_dir: Path | None, *overrides: str, **sections: Any) -> dict[str, Any]:
    """Resolve a config for ``toy:parity`` with ``toy:bert-tiny`` and small defaults."""
    from shre.registry import get_registry

    spec = get_registry().resolve("task", "toy:parity").spec
    defaults = [
        "train.log_every=2",
        "scheduler.warmup_steps=2",
        "data.max_train_samples=48",
    ]
    config = resolve_config(spec.preset, overrides=[*defaults, *overrides], options=sections)
    config["task"] = "toy:parity"
    config["model"] = "toy:bert-tiny"
    config["output_dir"] = str(output_dir) if output_dir is not None else None
    return config


@pytest.fixture
def make_config():
    return toy_config
