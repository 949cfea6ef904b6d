"""User errors exit with code 2 and name the value; internal errors keep tracebacks."""

from __future__ import annotations

from pathlib import Path

import pytest
import shre.engine
from shre.engine.errors import TrainingInterrupted


def test_train_unknown_task_suggests_close_name(run_shre):
    result = run_shre("train", "--task", "glue:cola2", "--model", "shre-tiny", "--dry-run")

    assert result.exit_code == 2
    assert "unknown task 'glue:cola2'" in result.stderr
    assert "did you mean 'glue:cola'" in result.stderr


def test_train_unknown_task_prints_no_traceback(run_shre):
    result = run_shre("train", "--task", "glue:cola2", "--model", "shre-tiny", "--dry-run")

    assert "Traceback" not in result.output


def test_train_unknown_model_names_value(run_shre):
    result = run_shre("train", "--task", "glue:cola", "--model", "shre-tiniest", "--dry-run")

    assert result.exit_code == 2
    assert "'shre-tiniest'" in result.stderr


def test_train_malformed_set_names_override(run_shre):
    result = run_shre(
        "train", "--task", "glue:cola", "--model", "shre-tiny", "--set", "optimizer.lr", "--dry-run"
    )

    assert result.exit_code == 2
    assert "malformed override 'optimizer.lr'" in result.stderr


def test_train_unknown_set_key_suggests_key(run_shre):
    result = run_shre(
        "train",
        "--task",
        "glue:cola",
        "--model",
        "shre-tiny",
        "--set",
        "optimizer.lrr=1",
        "--dry-run",
    )

    assert result.exit_code == 2
    assert "'optimizer.lrr'" in result.stderr


def test_train_missing_config_file_names_file(run_shre, tmp_path):
    missing = tmp_path / "no-such-run.yaml"

    result = run_shre(
        "train",
        "--task",
        "glue:cola",
        "--model",
        "shre-tiny",
        "--config",
        str(missing),
        "--dry-run",
    )

    assert result.exit_code == 2
    assert str(missing) in result.stderr


def test_train_bad_precision_names_value(run_shre):
    result = run_shre(
        "train", "--task", "glue:cola", "--model", "shre-tiny", "--precision", "fp8", "--dry-run"
    )

    assert result.exit_code == 2
    assert "'fp8'" in result.stderr


def test_train_without_task_asks_for_task(run_shre):
    result = run_shre("train", "--model", "shre-tiny", "--dry-run")

    assert result.exit_code == 2
    assert "pass --task NAME" in result.stderr


def test_debug_option_prints_traceback(run_shre):
    result = run_shre(
        "--debug", "train", "--task", "glue:cola2", "--model", "shre-tiny", "--dry-run"
    )

    assert result.exit_code == 2
    assert "Traceback" in result.stderr


def test_debug_variable_prints_traceback(run_shre):
    result = run_shre(
        "train",
        "--task",
        "glue:cola2",
        "--model",
        "shre-tiny",
        "--dry-run",
        env={"SHRE_DEBUG": "1"},
    )

    assert result.exit_code == 2
    assert "Traceback" in result.stderr


def test_internal_error_keeps_its_exception(run_shre, monkeypatch, tmp_path):
    def broken_fit(config, **kwargs):
        raise RuntimeError("engine bug")

    monkeypatch.setattr(shre.engine, "fit", broken_fit)

    result = run_shre(
        "train",
        "--task",
        "glue:cola",
        "--model",
        "shre-tiny",
        "--output-dir",
        str(tmp_path / "run"),
    )

    assert isinstance(result.exception, RuntimeError)


def test_training_interrupted_exits_130_with_checkpoint(run_shre, monkeypatch, tmp_path):
    checkpoint = tmp_path / "run" / "checkpoints" / "step-3"

    def interrupted_fit(config, **kwargs):
        raise TrainingInterrupted(checkpoint, "SIGINT", 3)

    monkeypatch.setattr(shre.engine, "fit", interrupted_fit)

    result = run_shre(
        "train",
        "--task",
        "glue:cola",
        "--model",
        "shre-tiny",
        "--output-dir",
        str(tmp_path / "run"),
    )

    assert result.exit_code == 130
    assert str(checkpoint) in result.stderr
    assert f"--resume {tmp_path / 'run'}" in result.stderr


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_missing_checkpoint_names_path(run_shre, tmp_path, command):
    missing = tmp_path / "no-run"

    result = run_shre(command, "--checkpoint", str(missing))

    assert result.exit_code == 2
    assert str(missing) in result.stderr


def test_output_dir_differing_from_resume_is_rejected(run_shre, tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "config.yaml").write_text("task: glue:cola\nmodel: shre-tiny\n", encoding="utf-8")

    result = run_shre(
        "train",
        "--resume",
        str(run_dir),
        "--output-dir",
        str(Path(tmp_path / "other")),
        "--dry-run",
    )

    assert result.exit_code == 2
    assert "--output-dir" in result.stderr


def test_multiline_user_error_prints_one_line(run_shre, monkeypatch, tmp_path):
    from shre.errors import ConfigError

    def failing_fit(config, **kwargs):
        raise ConfigError("cannot load model 'x': first line.\n\nsecond line")

    monkeypatch.setattr(shre.engine, "fit", failing_fit)

    result = run_shre(
        "train", "--task", "glue:cola", "--model", "shre-tiny", "--output-dir", str(tmp_path)
    )

    assert result.exit_code == 2
    assert result.stderr == "Error: cannot load model 'x': first line; second line\n"
