"""Shared fixtures: a tiny SHRe task on the in-repo Flickr8k slice with a random timm teacher."""

from pathlib import Path

import pytest
from shre.config import resolve_config
from shre.registry import get_registry

DATA = Path(__file__).parent / "data" / "flickr8k_64"

# timm's test_resnet (a few thousand parameters, 1000 classes) with random
# weights replaces the ImageNet teacher, so no download is needed.
TINY_TEACHER = ["task_options.teacher=timm:test_resnet", "task_options.teacher_pretrained=false"]


def tiny_config(output_dir=None, *overrides):
    spec = get_registry().resolve("task", "distill:shre").spec
    config = resolve_config(
        spec.preset, overrides=[*TINY_TEACHER, "task_options.val_images=16", *overrides]
    )
    config.update(
        task="distill:shre", model="shre-tiny", output_dir=str(output_dir) if output_dir else None
    )
    config["data"]["dir"] = str(DATA)
    return config


@pytest.fixture(scope="module")
def tiny_task_and_model():
    from shre_distill.task import DistillTask

    spec = get_registry().resolve("task", "distill:shre").spec
    task = DistillTask(spec, tiny_config())
    task.prepare()
    return task, task.build_model(get_registry())


@pytest.fixture(scope="session")
def make_tiny_config():
    """The ``tiny_config`` builder, for tests that change options before building."""
    return tiny_config
