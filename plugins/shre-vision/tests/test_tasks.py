"""Image tasks end to end through shre.engine: fine-tune, linear probe, cached features."""

from __future__ import annotations

import json
import types

import pytest
import shre.engine as engine
import torch
from safetensors.torch import load_file
from shre.checkpoint import resolve_checkpoint
from shre.config import resolve_config
from shre.engine.setup import build_task
from shre.errors import ConfigError, DataError, UnknownNameError
from shre.hookspecs import hookimpl
from shre.plugins import PluginInfo, create_plugin_manager
from shre.registry import Registry, get_registry
from shre.specs import EncoderSpec
from shre_vision.features import FeatureProbeModel

from .conftest import fit_config


def prepared_task(task_name, data_dir, *overrides):
    spec = get_registry().resolve("task", task_name).spec
    config = resolve_config(
        spec.preset,
        overrides=[f"task={task_name}", "model=shre-tiny", f"data.dir={data_dir}", *overrides],
    )
    task = build_task(config)
    task.prepare()
    return task


def test_prepare_counts_classes_npz(slice_dir):
    task = prepared_task("vision:cifar10", slice_dir)
    assert task.num_labels == 10
    assert task.classes[1] == "automobile"


def test_prepare_counts_classes_folder(tmp_path):
    from .conftest import write_image_folder

    root = write_image_folder(tmp_path / "three", {"train": 2, "test": 1}, ["cat", "dog", "frog"])
    task = prepared_task("vision:folder", root)
    assert task.num_labels == 3


def test_cifar10_accepts_image_folder(image_folder):
    assert prepared_task("vision:cifar10", image_folder).num_labels == 10


def test_npz_task_rejects_folder(image_folder):
    with pytest.raises(DataError, match="train.npz does not exist|not found"):
        prepared_task("vision:npz", image_folder)


def test_prepare_rejects_bad_test_image(image_folder):
    bad = image_folder / "test" / "cat" / "broken.jpg"
    bad.write_bytes(b"not an image")
    with pytest.raises(DataError, match="invalid image .*test/cat/broken.jpg"):
        prepared_task("vision:folder", image_folder)


def test_prepare_rejects_corrupt_png_header(image_folder):
    image = image_folder / "test" / "dog" / "0000.png"
    data = bytearray(image.read_bytes())
    data[16:20] = b"\xff\xff\xff\xff"  # the IHDR width, so the chunk's CRC no longer matches
    image.write_bytes(bytes(data))
    with pytest.raises(DataError, match="invalid image .*test/dog/0000.png"):
        prepared_task("vision:folder", image_folder)


def test_prepare_skips_verify_when_disabled(image_folder):
    (image_folder / "test" / "cat" / "broken.jpg").write_bytes(b"not an image")
    task = prepared_task("vision:folder", image_folder, "task_options.verify_images=false")
    assert len(task.splits["test"]) == 21


def test_prepare_skips_verify_above_auto_limit(image_folder, monkeypatch, caplog):
    import shre_vision.tasks

    monkeypatch.setattr(shre_vision.tasks, "VERIFY_IMAGES_MAX_FILES", 10)
    (image_folder / "test" / "cat" / "broken.jpg").write_bytes(b"not an image")
    with caplog.at_level("INFO", logger="shre_vision.tasks"):
        task = prepared_task("vision:folder", image_folder)
    assert len(task.splits["test"]) == 21
    assert "verify_images: skipped for 61 files" in caplog.text


def test_prepare_verifies_above_limit_when_true(image_folder, monkeypatch):
    import shre_vision.tasks

    monkeypatch.setattr(shre_vision.tasks, "VERIFY_IMAGES_MAX_FILES", 10)
    (image_folder / "test" / "cat" / "broken.jpg").write_bytes(b"not an image")
    with pytest.raises(DataError, match="invalid image .*broken.jpg"):
        prepared_task("vision:folder", image_folder, "task_options.verify_images=true")


def test_prepare_rejects_bad_verify_setting(image_folder):
    with pytest.raises(ConfigError, match="verify_images is 'sometimes'"):
        prepared_task("vision:folder", image_folder, "task_options.verify_images=sometimes")


def test_local_task_needs_data_dir():
    spec = get_registry().resolve("task", "vision:folder").spec
    config = resolve_config(spec.preset, overrides=["task=vision:folder", "model=shre-tiny"])
    with pytest.raises(ConfigError, match="pass --data-dir"):
        build_task(config).prepare()


def test_hub_dataset_offline_error():
    spec = get_registry().resolve("task", "vision:cifar100").spec
    config = resolve_config(spec.preset, overrides=["task=vision:cifar100", "model=shre-tiny"])
    with pytest.raises(DataError, match="uoft-cs/cifar100.*--data-dir"):
        build_task(config).prepare()


def test_image_size_mismatch_error(slice_dir):
    task = prepared_task("vision:cifar10", slice_dir, "task_options.image_size=224")
    with pytest.raises(
        ConfigError, match="image_size 224 differs from the encoder's input size 64"
    ):
        task.build_model(get_registry())


def test_model_without_image_branch(slice_dir):
    task = prepared_task("vision:cifar10", slice_dir)
    task.config["model"] = "texttest:text-only"
    with pytest.raises(UnknownNameError, match="has no image branch"):
        task.build_model(text_only_registry())


def text_only_registry() -> Registry:
    """The installed plugins plus the plugin 'texttest' with one text encoder, 'text-only'."""
    plugin = types.ModuleType("texttest")

    @hookimpl
    def shre_encoders():
        return [EncoderSpec(name="text-only", factory="torch.nn:Identity", modality="text")]

    plugin.shre_encoders = shre_encoders
    manager = create_plugin_manager()
    manager.register_plugin(plugin, PluginInfo("texttest", None, None, "texttest", "1.0", 0.0))
    return Registry(manager)


def test_cache_features_needs_linear_probe(slice_dir):
    task = prepared_task("vision:cifar10", slice_dir, "task_options.cache_features=true")
    with pytest.raises(ConfigError, match="needs a linear probe"):
        task.build_model(get_registry())


def test_cached_features_match_full_forward(slice_dir):
    task = prepared_task(
        "vision:cifar10", slice_dir, "task_options.cache_features=true", "train.freeze_encoder=true"
    )
    model = task.build_model(get_registry())
    assert isinstance(model, FeatureProbeModel)
    features = task.dataset("test", model)
    images = task.splits["test"]

    collate = task.collate_fn("test", model)
    cached = model(collate([features[index] for index in range(4)]))["logits"]
    from shre_vision.tasks import ImageClassificationDataset
    from shre_vision.transforms import build_transform, encoder_data_config

    transform = build_transform(encoder_data_config(model.encoder), {}, training=False)
    pixels = torch.stack(
        [ImageClassificationDataset(images, transform)[index]["pixel_values"] for index in range(4)]
    )
    with torch.no_grad():
        full = model({"pixel_values": pixels})["logits"]
    assert torch.allclose(cached, full, atol=1e-5)


@pytest.mark.slow
def test_fine_tune_end_to_end(slice_dir, tmp_path):
    config = fit_config(
        "vision:cifar10", slice_dir, tmp_path / "run", overrides=("task_options.mixup=0.8",)
    )
    summary = engine.fit(config)
    metrics = summary["final_metrics"]["test"]
    assert set(metrics) >= {"accuracy", "top5", "accuracy_airplane", "loss"}
    assert 0.0 <= metrics["accuracy"] <= 1.0
    assert (tmp_path / "run" / "confusion_matrix_test.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "run" / "per_class_accuracy_test.csv").is_file()


@pytest.mark.slow
def test_linear_probe_keeps_encoder_bit_identical(slice_dir, tmp_path):
    # A timm ResNet has batch-norm buffers, which a probe must not update either.
    config = fit_config(
        "vision:cifar10",
        slice_dir,
        tmp_path / "probe",
        overrides=(
            "model=timm:resnet18",
            "encoder_options.pretrained=false",
            "encoder_options.image_size=32",
            "train.freeze_encoder=true",
            "train.max_steps=3",
            "task_options.mixup=0.8",
        ),
    )
    initial = _initial_model_state(config)
    engine.fit(config)
    trained = load_file(
        str(resolve_checkpoint(tmp_path / "probe", which="last") / "model.safetensors")
    )

    encoder_keys = [key for key in initial if key.startswith("encoders.image.")]
    assert any(key.endswith("bn1.running_mean") for key in encoder_keys)
    for key in encoder_keys:
        assert torch.equal(trained[key], initial[key]), key
    assert not torch.equal(trained["head.proj.weight"], initial["head.proj.weight"])


def _initial_model_state(config) -> dict[str, torch.Tensor]:
    """Build the run's model as the engine does (same seed): its weights before training."""
    from accelerate.utils import set_seed

    set_seed(int(config["seed"]))
    task = build_task(config)
    task.prepare()
    state = task.build_model(get_registry()).state_dict()
    return {key: tensor.clone() for key, tensor in state.items()}


@pytest.mark.slow
def test_cached_probe_end_to_end_and_evaluate(slice_dir, tmp_path):
    config = fit_config(
        "vision:cifar10",
        slice_dir,
        tmp_path / "cached",
        overrides=(
            "train.freeze_encoder=true",
            "task_options.cache_features=true",
            "train.epochs=2",
        ),
    )
    summary = engine.fit(config)
    results = engine.evaluate(tmp_path / "cached")
    assert results["test"]["accuracy"] == pytest.approx(summary["best_metrics"]["test"]["accuracy"])
    lines = [
        json.loads(line)
        for line in (tmp_path / "cached" / "metrics.jsonl").read_text().splitlines()
    ]
    assert any(line["split"] == "test" for line in lines)


@pytest.mark.slow
def test_cached_probe_records_encoding_seconds(slice_dir, tmp_path):
    config = fit_config(
        "vision:cifar10",
        slice_dir,
        tmp_path / "cached",
        overrides=(
            "train.freeze_encoder=true",
            "task_options.cache_features=true",
            "train.max_steps=1",
        ),
    )
    engine.fit(config)
    record = json.loads((tmp_path / "cached" / "feature_cache.json").read_text())
    assert sorted(record["splits"]) == ["test", "train"]
    assert record["splits"]["train"] > 0
    assert record["splits"]["test"] > 0
    assert record["feature_cache_seconds"] == pytest.approx(sum(record["splits"].values()))


def test_uncached_run_writes_no_feature_cache_file(slice_dir, tmp_path):
    config = fit_config(
        "vision:cifar10",
        slice_dir,
        tmp_path / "run",
        overrides=("train.freeze_encoder=true", "train.max_steps=1"),
    )
    engine.fit(config)
    assert not (tmp_path / "run" / "feature_cache.json").exists()


@pytest.mark.slow
def test_evaluate_rejects_other_class_count(slice_dir, tmp_path):
    config = fit_config(
        "vision:cifar10", slice_dir, tmp_path / "run", overrides=("train.max_steps=1",)
    )
    engine.fit(config)
    from .conftest import write_image_folder

    other = write_image_folder(tmp_path / "three", {"train": 2, "test": 1}, ["cat", "dog", "frog"])
    with pytest.raises(DataError, match="trained on 10 classes .* has 3"):
        engine.evaluate(tmp_path / "run", data_dir=other)


@pytest.mark.slow
def test_predict_writes_class_names(slice_dir, tmp_path):
    config = fit_config(
        "vision:cifar10", slice_dir, tmp_path / "run", overrides=("train.max_steps=1",)
    )
    engine.fit(config)
    paths = engine.predict(tmp_path / "run")
    lines = paths[0].read_text().splitlines()
    assert lines[0] == "index,label,class"
    assert len(lines) == 101


def test_layer_decay_learning_rates(slice_dir):
    from shre.engine.optim import parameter_groups

    task = prepared_task("vision:cifar10", slice_dir)
    model = task.build_model(get_registry())
    groups = parameter_groups(model, lr=1e-3, weight_decay=0.01, layer_decay=0.75)
    lr_of = {name: group["lr"] for group in groups for name in group["names"]}
    assert lr_of["encoders.image.model.pos_embed"] == pytest.approx(1e-3 * 0.75**3)
    assert lr_of["encoders.image.model.blocks.0.attn.qkv.weight"] == pytest.approx(1e-3 * 0.75**2)
    assert lr_of["encoders.image.model.blocks.1.attn.qkv.weight"] == pytest.approx(1e-3 * 0.75)
    assert lr_of["encoders.image.model.norm.weight"] == pytest.approx(1e-3)
    assert lr_of["head.proj.weight"] == pytest.approx(1e-3)


def test_imagenet_folder_val_is_validation(tmp_path):
    from .conftest import write_image_folder

    root = write_image_folder(tmp_path / "imagenet", {"train": 2, "test": 1}, ["n01", "n02", "n03"])
    (root / "test").rename(root / "val")
    task = prepared_task("vision:imagenet", root)
    assert task.eval_splits == ("validation",)
    assert len(task.splits["validation"]) == 3


def test_evaluate_hook_skips_other_tasks(tmp_path):
    from shre_vision.plugin import shre_on_evaluate

    trainer = types.SimpleNamespace(is_main_process=True, task=object(), run_dir=tmp_path)
    shre_on_evaluate(trainer=trainer, step=1, split="test", metrics={})
    assert list(tmp_path.iterdir()) == []
