"""``shre train`` config layering and ``evaluate``/``predict`` output, with fake engine calls."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shre.engine
import yaml


def dry_run(run_shre, *args: str) -> dict:
    result = run_shre("train", "--task", "glue:cola", "--model", "shre-tiny", "--dry-run", *args)
    assert result.exit_code == 0, result.output
    return yaml.safe_load(result.stdout)


def test_dry_run_sets_qualified_task_and_model(run_shre):
    config = dry_run(run_shre)

    assert config["task"] == "glue:cola"
    assert config["model"] == "core:shre-tiny"


def test_dry_run_short_task_name_resolves(run_shre):
    result = run_shre("train", "--task", "cola", "--model", "shre-tiny", "--dry-run")

    assert yaml.safe_load(result.stdout)["task"] == "glue:cola"


def test_lr_option_wins_over_set(run_shre):
    config = dry_run(run_shre, "--set", "optimizer.lr=3e-5", "--lr", "1e-3")

    assert config["optimizer"]["lr"] == 1e-3


def test_set_wins_over_config_file(run_shre, tmp_path):
    config_file = tmp_path / "run.yaml"
    config_file.write_text("optimizer:\n  lr: 5.0e-5\ntrain:\n  batch_size: 4\n", encoding="utf-8")

    config = dry_run(run_shre, "--config", str(config_file), "--set", "optimizer.lr=2e-5")

    assert config["optimizer"]["lr"] == 2e-5
    assert config["train"]["batch_size"] == 4


@pytest.mark.parametrize(
    ("args", "section", "key", "expected"),
    [
        (["--max-steps", "7"], "train", "max_steps", 7),
        (["--epochs", "2"], "train", "epochs", 2),
        (["--batch-size", "3"], "train", "batch_size", 3),
        (["--precision", "bf16"], "train", "precision", "bf16"),
        (["--eval-every", "5"], "train", "eval_every", 5),
        (["--grad-accum", "4"], "train", "grad_accum_steps", 4),
        (["--linear-probe"], "train", "freeze_encoder", True),
        (
            ["--teacher", "timm:resnet50.a1_in1k"],
            "task_options",
            "teacher",
            "timm:resnet50.a1_in1k",
        ),
        (["--data-dir", "data/CoLA"], "data", "dir", "data/CoLA"),
    ],
)
def test_option_sets_config_key(run_shre, args, section, key, expected):
    config = dry_run(run_shre, *args)

    assert config[section][key] == expected


def test_linear_probe_absent_keeps_config_file_value(run_shre, tmp_path):
    config_file = tmp_path / "probe.yaml"
    config_file.write_text("train:\n  freeze_encoder: true\n", encoding="utf-8")

    config = dry_run(run_shre, "--config", str(config_file))

    assert config["train"]["freeze_encoder"] is True


def test_seed_and_output_dir_are_top_level(run_shre, tmp_path):
    config = dry_run(run_shre, "--seed", "7", "--output-dir", str(tmp_path / "run"))

    assert config["seed"] == 7
    assert config["output_dir"] == str(tmp_path / "run")


def test_default_output_dir_is_under_runs(run_shre):
    config = dry_run(run_shre)

    assert config["output_dir"].startswith("runs/glue-cola-core-shre-tiny-")


def test_resume_reads_task_and_model_from_run(run_shre, tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "config.yaml").write_text(
        "task: glue:rte\nmodel: shre-tiny\ntrain:\n  batch_size: 5\n", encoding="utf-8"
    )

    result = run_shre("train", "--resume", str(run_dir), "--dry-run")
    config = yaml.safe_load(result.stdout)

    assert config["task"] == "glue:rte"
    assert config["train"]["batch_size"] == 5
    assert config["output_dir"] == str(run_dir)


def test_resume_without_run_config_names_directory(run_shre, tmp_path):
    result = run_shre("train", "--resume", str(tmp_path), "--dry-run")

    assert result.exit_code == 2
    assert "has no config.yaml" in result.stderr


def test_train_passes_resume_and_overwrite_to_fit(run_shre, monkeypatch, tmp_path):
    calls = []

    def fake_fit(config, *, resume=None, overwrite=False, allow_pickle=False):
        calls.append((config, resume, overwrite))
        return {
            "run_dir": config["output_dir"],
            "best_step": 4,
            "best_metric": 0.25,
            "best_metrics": {"validation": {"mcc": 0.25}},
        }

    monkeypatch.setattr(shre.engine, "fit", fake_fit)

    result = run_shre(
        "train",
        "--task",
        "glue:cola",
        "--model",
        "shre-tiny",
        "--output-dir",
        str(tmp_path / "run"),
        "--overwrite",
    )

    assert result.exit_code == 0, result.output
    assert calls[0][1] is None
    assert calls[0][2] is True
    assert "best metrics validation/mcc" in result.stdout
    assert "0.2500" in result.stdout


def test_evaluate_prints_metrics_table(run_shre, monkeypatch, tmp_path):
    monkeypatch.setattr(
        shre.engine, "evaluate", lambda checkpoint, **kwargs: {"validation": {"mcc": 0.5}}
    )

    result = run_shre("evaluate", "--checkpoint", str(tmp_path))

    assert result.exit_code == 0, result.output
    assert "validation  mcc     0.5000" in result.stdout


def test_evaluate_json_is_split_to_metrics(run_shre, monkeypatch, tmp_path):
    received = {}

    def fake_evaluate(checkpoint, **kwargs):
        received.update(kwargs, checkpoint=checkpoint)
        return {"validation": {"mcc": 0.5}}

    monkeypatch.setattr(shre.engine, "evaluate", fake_evaluate)

    result = run_shre(
        "evaluate",
        "--checkpoint",
        str(tmp_path),
        "--split",
        "validation",
        "--batch-size",
        "8",
        "--json",
    )

    assert json.loads(result.stdout) == {"validation": {"mcc": 0.5}}
    assert received["split"] == "validation"
    assert received["batch_size"] == 8


def test_predict_prints_written_files(run_shre, monkeypatch, tmp_path):
    written = [tmp_path / "CoLA.tsv"]
    monkeypatch.setattr(shre.engine, "predict", lambda checkpoint, **kwargs: written)

    result = run_shre(
        "predict", "--checkpoint", str(tmp_path), "--output-dir", str(tmp_path / "out")
    )

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(Path(written[0]))


@pytest.mark.parametrize(
    ("command", "engine_function", "args"),
    [
        ("train", "fit", ("--task", "glue:cola", "--model", "shre-tiny")),
        ("evaluate", "evaluate", ()),
        ("predict", "predict", ()),
    ],
)
@pytest.mark.parametrize("flag", [True, False])
def test_allow_pickle_reaches_engine(
    run_shre, monkeypatch, tmp_path, command, engine_function, args, flag
):
    received = {}

    def fake(first, **kwargs):
        received.update(kwargs)
        return [] if engine_function == "predict" else {}

    monkeypatch.setattr(shre.engine, engine_function, fake)
    location = ("--output-dir", str(tmp_path / "run")) if command == "train" else (
        "--checkpoint",
        str(tmp_path),
    )

    result = run_shre(command, *args, *location, *(["--allow-pickle"] if flag else []))

    assert result.exit_code == 0, result.output
    assert received["allow_pickle"] is flag


@pytest.mark.parametrize(("main", "printed"), [(True, True), (False, False)])
def test_summary_table_only_on_main_process(run_shre, monkeypatch, tmp_path, main, printed):
    import accelerate

    class FakeState:
        is_main_process = main

    monkeypatch.setattr(accelerate, "PartialState", FakeState)
    monkeypatch.setattr(shre.engine, "fit", lambda config, **kwargs: {"steps": 3})

    result = run_shre(
        "train", "--task", "glue:cola", "--model", "shre-tiny", "--output-dir", str(tmp_path)
    )

    assert result.exit_code == 0, result.output
    assert ("run summary" in result.stdout) is printed
