"""The vision plugin's specs, and that listing them imports no torch."""

from __future__ import annotations

import subprocess
import sys

from shre.registry import get_registry


def test_plugin_provides_encoders():
    names = {spec.qualified_name for spec in get_registry().list("encoder")}
    assert {"vision:timm", "vision:shre-image", "vision:shre-tiny-image"} <= names


def test_plugin_provides_tasks():
    names = {spec.qualified_name for spec in get_registry().list("task")}
    expected = {
        "vision:cifar10",
        "vision:cifar100",
        "vision:imagenet",
        "vision:folder",
        "vision:npz",
    }
    assert expected <= names


def test_plugin_provides_norm_linear_head():
    assert get_registry().resolve("head", "norm-linear").spec.plugin == "vision"


def test_task_preset_layer_decay():
    registry = get_registry()
    assert (
        registry.resolve("task", "vision:cifar10").spec.preset["optimizer"]["layer_decay"] == 0.75
    )
    assert (
        registry.resolve("task", "vision:imagenet").spec.preset["optimizer"]["layer_decay"] == 0.81
    )


def test_task_preset_recipe():
    preset = get_registry().resolve("task", "vision:cifar100").spec.preset
    assert preset["train"] == {"epochs": 15, "batch_size": 256}
    assert preset["optimizer"]["lr"] == 1e-3
    assert preset["scheduler"] == {"name": "cosine", "warmup_ratio": 0.1}
    assert preset["task_options"]["auto_augment"] == "rand-m9-mstd0.5-inc1"
    assert preset["task_options"]["mixup"] == 0.8
    assert preset["task_options"]["cutmix"] == 1.0


def test_task_spec_defaults():
    spec = get_registry().resolve("task", "vision:cifar10").spec
    assert (spec.pooler, spec.head, spec.loss, spec.main_metric) == (
        "mean",
        "norm-linear",
        "cross-entropy",
        "accuracy",
    )


def test_listing_imports_no_torch():
    code = (
        "import sys; from shre.registry import get_registry; registry = get_registry(); "
        "assert 'vision:cifar10' in {s.qualified_name for s in registry.list('task')}; "
        "heavy = [name for name in ('torch', 'timm', 'torchvision', 'transformers') "
        "if name in sys.modules]; "
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_package_exports_load_lazily():
    import shre_vision
    from shre_vision.teacher import load_teacher

    assert shre_vision.load_teacher is load_teacher
