"""A package made by ``shre new-plugin`` installs, trains and passes its own tests.

It is installed with ``pip install --target`` into a temporary folder that the
subprocesses get on ``PYTHONPATH``, so the shared virtual environment is
never modified.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def run(
    args: list[str], site: Path | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    if site is not None:
        environment["PYTHONPATH"] = str(site)
    return subprocess.run(
        args, capture_output=True, text=True, env=environment, cwd=cwd, check=False
    )


def shre(*args: str, site: Path | None = None) -> subprocess.CompletedProcess:
    return run([sys.executable, "-m", "shre_cli.main", *args], site=site)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, Path]:
    """The generated package folder and the folder it is installed in."""
    root = tmp_path_factory.mktemp("new-plugin")
    created = shre("new-plugin", "demo-sentiment", "--output-dir", str(root))
    assert created.returncode == 0, created.stderr

    site = tmp_path_factory.mktemp("site")
    package = root / "shre-demo-sentiment"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(site),
            str(package),
        ],
        check=True,
    )
    return {"package": package, "site": site, "root": root}


@pytest.fixture(scope="module")
def trained_run(generated) -> Path:
    run_dir = generated["root"] / "run"
    result = shre(
        "train",
        "--task",
        "demo-sentiment:sentences",
        "--model",
        "shre-tiny",
        "--max-steps",
        "4",
        "--batch-size",
        "8",
        "--set",
        "loggers=[tensorboard]",
        "--output-dir",
        str(run_dir),
        site=generated["site"],
    )
    assert result.returncode == 0, result.stderr
    return run_dir


def test_generated_plugin_appears_in_plugins(generated):
    result = shre("plugins", "--json", site=generated["site"])
    names = {plugin["name"]: plugin for plugin in json.loads(result.stdout)["plugins"]}

    assert names["demo-sentiment"]["distribution"] == "shre-demo-sentiment"
    assert names["demo-sentiment"]["components"] == {"tasks": ["sentences"], "poolers": ["max"]}


def test_generated_plugin_passes_doctor(generated):
    result = shre("plugins", "doctor", "--json", site=generated["site"])
    findings = [item for item in json.loads(result.stdout) if item["plugin"] == "demo-sentiment"]

    assert [item for item in findings if item["level"] != "ok"] == []


def test_generated_task_trains(trained_run):
    summary = json.loads((trained_run / "summary.json").read_text(encoding="utf-8"))

    assert summary["steps"] == 4
    assert summary["main_metric"] == "accuracy"


def test_generated_task_evaluates(trained_run, generated):
    result = shre("evaluate", "--checkpoint", str(trained_run), "--json", site=generated["site"])
    metrics = json.loads(result.stdout)

    assert 0.0 <= metrics["validation"]["accuracy"] <= 1.0


def test_generated_task_predicts(trained_run, generated):
    output_dir = generated["root"] / "predictions"

    result = shre(
        "predict",
        "--checkpoint",
        str(trained_run),
        "--output-dir",
        str(output_dir),
        site=generated["site"],
    )
    written = Path(result.stdout.strip().splitlines()[-1])

    assert written.read_text(encoding="utf-8").splitlines()[0] == "index\tprediction"


def test_generated_tests_pass(generated):
    result = run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(generated["package"] / "tests"),
        ],
        site=generated["site"],
        cwd=generated["package"],
    )

    assert result.returncode == 0, result.stdout[-3000:]


def test_resume_continues_run_to_new_max_steps(trained_run, generated):
    # Runs after the evaluate and predict tests, which read the 4-step run.
    result = shre("train", "--resume", str(trained_run), "--max-steps", "6", site=generated["site"])
    summary = json.loads((trained_run / "summary.json").read_text(encoding="utf-8"))

    assert result.returncode == 0, result.stderr
    assert summary["steps"] == 6


def test_new_plugin_refuses_existing_folder(generated):
    result = shre("new-plugin", "demo-sentiment", "--output-dir", str(generated["root"]))

    assert result.returncode == 2
    assert "already exists" in result.stderr


def test_training_writes_tensorboard_events(trained_run):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(trained_run / "tensorboard"))
    accumulator.Reload()

    assert {"train/loss", "validation/accuracy"} <= set(accumulator.Tags()["scalars"])
