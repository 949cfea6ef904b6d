"""Task specs: reference presets, metrics, components and splits."""

from __future__ import annotations

import pytest
import shre
from shre.config import resolve_config

# lr, batch size, epochs of the reference GLUE fine-tuning (TimCares/MasterThesis).
REFERENCE = {
    "mnli": (2e-5, 64, 10),
    "qnli": (2e-5, 32, 10),
    "rte": (2e-5, 16, 20),
    "mrpc": (2e-5, 16, 20),
    "qqp": (2e-5, 128, 10),
    "stsb": (4e-5, 16, 20),
    "cola": (1e-5, 16, 20),
    "sst2": (2e-5, 32, 10),
    "wnli": (1e-5, 8, 20),
}

MAIN_METRICS = {
    "cola": "mcc",
    "stsb": "spearman",
    "mrpc": "f1",
    "qqp": "f1",
    "mnli": "accuracy",
    "qnli": "accuracy",
    "rte": "accuracy",
    "sst2": "accuracy",
    "wnli": "accuracy",
}


def _spec(name: str):
    return shre.get_registry().resolve("task", f"glue:{name}").spec


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_preset_per_task(name: str):
    config = resolve_config(_spec(name).preset)
    lr, batch_size, epochs = REFERENCE[name]
    assert config["optimizer"]["lr"] == lr
    assert config["train"]["batch_size"] == batch_size
    assert config["train"]["epochs"] == epochs


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_preset_shared_settings(name: str):
    config = resolve_config(_spec(name).preset)
    assert config["optimizer"]["name"] == "adamw"
    assert config["optimizer"]["betas"] == [0.9, 0.98]
    assert config["optimizer"]["eps"] == 1e-6
    assert config["optimizer"]["weight_decay"] == 0.1
    assert config["scheduler"]["name"] == "linear"
    assert config["scheduler"]["warmup_ratio"] == 0.1
    assert config["task_options"]["max_length"] == 256


@pytest.mark.parametrize("name", sorted(MAIN_METRICS))
def test_main_metric_per_task(name: str):
    spec = _spec(name)
    assert spec.main_metric == MAIN_METRICS[name]
    assert spec.greater_is_better


def test_stsb_is_regression():
    spec = _spec("stsb")
    assert spec.num_labels == 1
    assert spec.loss == "core:mse"


def test_classification_uses_cross_entropy():
    assert _spec("mnli").loss == "core:cross-entropy"
    assert _spec("mnli").num_labels == 3


def test_default_components():
    spec = _spec("cola")
    assert spec.pooler == "glue:bert-pooler"
    assert spec.head == "glue:roberta"


def test_mnli_splits(task_factory):
    task = task_factory("mnli")
    assert tuple(task.eval_splits) == ("validation_matched", "validation_mismatched")
    assert tuple(task.predict_splits) == ("test_matched", "test_mismatched", "ax")


def test_ax_is_prediction_only(task_factory, build):
    task, model = build("ax")
    assert tuple(task.eval_splits) == ()
    with pytest.raises(shre.ConfigError) as error:
        task.dataset("train", model)
    assert "prediction only" in str(error.value)


def test_unknown_split_lists_splits(build):
    task, model = build("rte")
    with pytest.raises(shre.ConfigError) as error:
        task.dataset("validation_matched", model)
    assert "train, validation, test" in str(error.value)


def test_missing_data_dir_is_reported(tmp_path, task_factory):
    task = task_factory("cola", data_dir=tmp_path / "nowhere")
    with pytest.raises(shre.DataError) as error:
        task.prepare()
    assert "nowhere" in str(error.value)


def test_offline_without_data_dir_says_how(build):
    task, model = build("cola", data_dir=None)
    with pytest.raises(shre.DataError) as error:
        task.dataset("validation", model)
    assert "nyu-mll/glue" in str(error.value)
    assert "--data-dir" in str(error.value)
