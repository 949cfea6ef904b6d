"""Fixtures of the shre-glue tests: the GLUE slices and a tiny composed model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import shre
import torch
from shre.config import resolve_config

DATA_DIR = Path(__file__).parent / "data" / "glue"


def make_config(
    task: str, data_dir: Path | str | None = DATA_DIR, **overrides: Any
) -> dict[str, Any]:
    """Resolved config of ``glue:<task>`` with shre-tiny, caching off."""
    spec = shre.get_registry().resolve("task", f"glue:{task}").spec
    options = {
        "task": f"glue:{task}",
        "model": "shre-tiny",
        "data": {"dir": None if data_dir is None else str(data_dir)},
        "task_options": {"cache_dir": None},
        **overrides,
    }
    return resolve_config(spec.preset, options=options)


def make_task(task: str, data_dir: Path | str | None = DATA_DIR, **overrides: Any) -> Any:
    spec = shre.get_registry().resolve("task", f"glue:{task}").spec
    return spec.build(spec, make_config(task, data_dir, **overrides))


@pytest.fixture
def glue_dir() -> Path:
    """The GLUE slices: train and dev of CoLA, SST-2, MRPC, STS-B, RTE, WNLI; QNLI dev."""
    return DATA_DIR


@pytest.fixture
def config_factory():
    """Return ``make_config``: the resolved config of a ``glue:<task>`` run with shre-tiny."""
    return make_config


@pytest.fixture
def task_factory():
    """Return ``make_task``: a ``glue:<task>`` task without its model."""
    return make_task


@pytest.fixture
def build():
    """Return ``(task, model)`` for a task name, seeded for repeatable weights."""

    def _build(task: str, data_dir: Path | str | None = DATA_DIR, **overrides: Any):
        torch.manual_seed(0)
        glue_task = make_task(task, data_dir, **overrides)
        glue_task.prepare()
        return glue_task, glue_task.build_model(shre.get_registry())

    return _build
