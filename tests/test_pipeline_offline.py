"""Offline SHRe pipeline across shre-vision, shre-distill and shre-glue, through the CLI.

1. Train a tiny image classifier on the in-repo CIFAR-10 slice: the teacher.
2. Distill ``shre-tiny`` from it on the Flickr8k slice (48 training images,
   16 held out) and score retrieval on the held-out pairs, with the random
   baseline next to it.
3. Fine-tune the distilled text branch on CoLA and the image branch on CIFAR
   with ``--init RUN_DIR``.

Steps are few, so this checks that the pieces fit together; the retrieval
figures of a longer run are in docs/distill.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from shre_cli.main import cli

ROOT = Path(__file__).resolve().parent.parent
CIFAR = ROOT / "plugins" / "shre-vision" / "tests" / "data" / "cifar10_slice"
FLICKR = ROOT / "plugins" / "shre-distill" / "tests" / "data" / "flickr8k_64"
GLUE = ROOT / "plugins" / "shre-glue" / "tests" / "data" / "glue"


def run_cli(*arguments: str) -> str:
    result = CliRunner().invoke(cli, list(arguments), catch_exceptions=False)
    assert result.exit_code == 0, result.output[-3000:]
    return result.output


@pytest.fixture(scope="module")
def distilled(tmp_path_factory) -> Path:
    runs = tmp_path_factory.mktemp("runs")
    run_cli(
        "train",
        "--task",
        "vision:cifar10",
        "--model",
        "vision:shre-tiny-image",
        "--data-dir",
        str(CIFAR),
        "--max-steps",
        "3",
        "--batch-size",
        "16",
        "--output-dir",
        str(runs / "teacher"),
    )
    run_cli(
        "train",
        "--task",
        "distill:shre",
        "--model",
        "shre-tiny",
        "--teacher",
        str(runs / "teacher"),
        "--data-dir",
        str(FLICKR),
        "--max-steps",
        "4",
        "--batch-size",
        "8",
        "--lr",
        "5e-4",
        "--set",
        "task_options.val_images=16",
        "--output-dir",
        str(runs / "distill"),
    )
    return runs / "distill"


def read_train_records(run_dir: Path) -> list[dict]:
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [record for record in map(json.loads, lines) if record.get("split") == "train"]


@pytest.mark.slow
def test_pipeline_distillation_logs_both_losses(distilled):
    records = read_train_records(distilled)
    assert records, "no training records in metrics.jsonl"
    assert "kd_loss" in records[-1]
    assert "itc_loss" in records[-1]


@pytest.mark.slow
def test_pipeline_retrieval_reports_random_baseline(distilled):
    summary = json.loads((distilled / "summary.json").read_text())
    validation = summary["final_metrics"]["validation"]
    assert validation["num_images"] == 16
    assert validation["random_t2i_r1"] == pytest.approx(100 / 16)
    assert 0 <= validation["proj_mean_recall"] <= 100


@pytest.mark.slow
def test_pipeline_saves_no_teacher_weights(distilled):
    from safetensors import safe_open

    checkpoint = sorted((distilled / "checkpoints").iterdir())[-1]
    with safe_open(str(checkpoint / "model.safetensors"), "pt") as weights:
        keys = list(weights.keys())
    assert any(key.startswith("encoders.text.") for key in keys)
    assert not any(key.startswith("teacher") for key in keys)


@pytest.mark.slow
def test_pipeline_text_branch_fine_tunes_on_cola(distilled, tmp_path):
    output = run_cli(
        "train",
        "--task",
        "glue:cola",
        "--model",
        "shre-tiny",
        "--init",
        str(distilled),
        "--data-dir",
        str(GLUE),
        "--max-steps",
        "2",
        "--batch-size",
        "8",
        "--set",
        "data.max_eval_samples=32",
        "--output-dir",
        str(tmp_path / "cola"),
    )
    assert "mcc" in output.lower()


@pytest.mark.slow
def test_pipeline_image_branch_fine_tunes_on_cifar(distilled, tmp_path):
    run_cli(
        "train",
        "--task",
        "vision:cifar10",
        "--model",
        "shre-tiny",
        "--init",
        str(distilled),
        "--data-dir",
        str(CIFAR),
        "--max-steps",
        "2",
        "--batch-size",
        "16",
        "--set",
        "data.max_eval_samples=32",
        "--output-dir",
        str(tmp_path / "cifar"),
    )
    assert (tmp_path / "cifar" / "summary.json").is_file()


@pytest.mark.slow
def test_pipeline_init_rejects_other_architecture(distilled, tmp_path):
    result = CliRunner().invoke(
        cli,
        [
            "train",
            "--task",
            "glue:cola",
            "--model",
            "glue:shre-tiny-text",
            "--init",
            str(distilled),
            "--set",
            "encoder_options.width=64",
            "--set",
            "encoder_options.num_heads=2",
            "--set",
            "encoder_options.intermediate_size=128",
            "--data-dir",
            str(GLUE),
            "--max-steps",
            "1",
            "--output-dir",
            str(tmp_path / "bad"),
        ],
    )
    assert result.exit_code == 2, result.output[-2000:]
    assert "do not fit the model" in result.output


@pytest.mark.slow
def test_pipeline_evaluate_rejects_absent_test_split(distilled):
    # captions.jsonl gives train and validation only; scoring its held-out
    # images as "test" would report model-selection figures as test figures.
    result = CliRunner().invoke(
        cli, ["evaluate", "--checkpoint", str(distilled), "--split", "test"]
    )
    assert result.exit_code == 2, result.output[-2000:]
    assert "no 'test' split" in result.output
