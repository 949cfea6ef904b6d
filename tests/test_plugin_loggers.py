"""The built-in ``loggers`` plugin: TensorBoard event files and config validation."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import pytest
from shre import ConfigError, loggers

pytest.importorskip("tensorboard")


def make_trainer(run_dir: Path, names: list[str], main: bool = True) -> SimpleNamespace:
    return SimpleNamespace(run_dir=run_dir, config={"loggers": names}, is_main_process=main)


def read_scalars(log_dir: Path) -> dict[str, list[tuple[int, float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(log_dir))
    accumulator.Reload()
    return {
        tag: [(event.step, event.value) for event in accumulator.Scalars(tag)]
        for tag in accumulator.Tags()["scalars"]
    }


def run_fake_fit(trainer: SimpleNamespace) -> None:
    loggers.shre_on_fit_start(trainer=trainer)
    loggers.shre_on_step_end(trainer=trainer, step=1, metrics={"loss": 0.75, "lr": 1e-4})
    loggers.shre_on_step_end(trainer=trainer, step=2, metrics={"loss": 0.5, "lr": 2e-4})
    loggers.shre_on_evaluate(
        trainer=trainer, step=2, split="validation", metrics={"accuracy": 0.625}
    )
    loggers.shre_on_fit_end(trainer=trainer, summary={})


def test_tensorboard_writes_train_scalars(tmp_path):
    run_fake_fit(make_trainer(tmp_path, ["tensorboard"]))

    scalars = read_scalars(tmp_path / "tensorboard")

    assert scalars["train/loss"] == [(1, 0.75), (2, 0.5)]


def test_tensorboard_writes_evaluation_scalars(tmp_path):
    run_fake_fit(make_trainer(tmp_path, ["tensorboard"]))

    scalars = read_scalars(tmp_path / "tensorboard")

    assert scalars["validation/accuracy"] == [(2, 0.625)]


def test_tensorboard_learning_rate_is_logged(tmp_path):
    run_fake_fit(make_trainer(tmp_path, ["tensorboard"]))

    scalars = read_scalars(tmp_path / "tensorboard")

    assert scalars["train/lr"][1][1] == pytest.approx(2e-4)


def test_non_main_process_writes_nothing(tmp_path):
    run_fake_fit(make_trainer(tmp_path, ["tensorboard"], main=False))

    assert not (tmp_path / "tensorboard").exists()


def test_no_loggers_writes_nothing(tmp_path):
    run_fake_fit(make_trainer(tmp_path, []))

    assert not (tmp_path / "tensorboard").exists()


def test_unknown_logger_is_rejected():
    with pytest.raises(ConfigError, match="unknown logger 'tensorbored'"):
        loggers.shre_configure(config={"loggers": ["tensorbored"]})


def test_loggers_must_be_a_list():
    with pytest.raises(ConfigError, match="use a list"):
        loggers.shre_configure(config={"loggers": "tensorboard"})


def test_jsonl_is_accepted_and_left_to_engine():
    assert loggers.requested_loggers({"loggers": ["jsonl", "tensorboard"]}) == ["tensorboard"]


@pytest.mark.skipif(importlib.util.find_spec("wandb") is not None, reason="wandb is installed")
def test_wandb_without_package_names_install_line():
    with pytest.raises(ConfigError, match=r"shre-core\[wandb\]"):
        loggers.shre_configure(config={"loggers": ["wandb"]})


def test_wandb_logs_offline(tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_MODE", "offline")

    run_fake_fit(make_trainer(tmp_path, ["wandb"]))

    assert list((tmp_path / "wandb").glob("offline-run-*"))
