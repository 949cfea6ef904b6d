"""A package made by ``shre new-plugin`` installs, trains and passes its own tests.

It is installed with ``pip install --target`` into a temporary folder, never
into the shared virtual environment. Listing and the doctor run as
subprocesses with that folder on ``PYTHONPATH``. Training, evaluation and
prediction run the real ``shre`` group in this process with the folder on
``sys.path``, which saves the torch start-up of a subprocess per command.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from shre.plugins import reset_plugin_manager
from shre_cli.main import cli

pytestmark = pytest.mark.slow

NAME = "demo-sentiment"


def run(args: list[str], site: Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(site), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        args, capture_output=True, text=True, env=environment, cwd=cwd, check=False
    )


def shre_subprocess(*args: str, site: Path) -> subprocess.CompletedProcess:
    return run([sys.executable, "-m", "shre_cli.main", *args], site=site)


def shre(*args: str):
    """Run the ``shre`` group in this process; fail on a non-zero exit code."""
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    return result


def pip_install_target(target: Path, *projects: Path) -> None:
    """Install ``projects`` into ``target`` with pip, without their dependencies.

    With hatchling in this environment the build runs here, offline
    (``--no-build-isolation``). Without it, pip builds in an isolated
    environment and fetches hatchling from the package index.
    """
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
    if importlib.util.find_spec("hatchling") is not None:
        command += ["--no-build-isolation", "--no-index"]
    subprocess.run([*command, "--target", str(target), *map(str, projects)], check=True)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, Path]:
    """Generate and install the package; yield its folders with the install on sys.path."""
    root = tmp_path_factory.mktemp("new-plugin")
    shre("new-plugin", NAME, "--output-dir", str(root))

    site = tmp_path_factory.mktemp("site")
    package = root / f"shre-{NAME}"
    pip_install_target(site, package)

    # importlib.metadata scans sys.path on every call, so a fresh plugin
    # manager discovers the new entry point.
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    reset_plugin_manager(None)
    yield {"package": package, "site": site, "root": root}

    sys.path.remove(str(site))
    reset_plugin_manager(None)


@pytest.fixture(scope="module")
def trained_run(generated) -> Path:
    run_dir = generated["root"] / "run"
    shre(
        "train", "--task", f"{NAME}:sentences", "--model", "shre-tiny", "--max-steps", "4",
        "--batch-size", "8", "--set", "loggers=[tensorboard]", "--output-dir", str(run_dir),
    )  # fmt: skip
    return run_dir


def test_generated_plugin_appears_in_plugins(generated):
    result = shre_subprocess("plugins", "--json", site=generated["site"])
    plugins = {plugin["name"]: plugin for plugin in json.loads(result.stdout)["plugins"]}

    assert plugins[NAME]["distribution"] == f"shre-{NAME}"
    assert plugins[NAME]["components"] == {"tasks": ["sentences"], "poolers": ["max"]}


def test_generated_plugin_passes_doctor(generated):
    result = shre_subprocess("plugins", "doctor", "--json", site=generated["site"])
    findings = [item for item in json.loads(result.stdout) if item["plugin"] == NAME]

    assert findings
    assert [item for item in findings if item["level"] != "ok"] == []


def test_generated_task_trains(trained_run):
    summary = json.loads((trained_run / "summary.json").read_text(encoding="utf-8"))

    assert summary["steps"] == 4
    assert summary["main_metric"] == "accuracy"


def test_training_writes_tensorboard_events(trained_run):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(trained_run / "tensorboard"))
    accumulator.Reload()

    assert {"train/loss", "validation/accuracy"} <= set(accumulator.Tags()["scalars"])


def test_generated_task_evaluates(trained_run):
    result = shre("evaluate", "--checkpoint", str(trained_run), "--json")
    metrics = json.loads(result.stdout)

    assert 0.0 <= metrics["validation"]["accuracy"] <= 1.0


def test_generated_task_predicts(trained_run, generated):
    output_dir = generated["root"] / "predictions"

    result = shre("predict", "--checkpoint", str(trained_run), "--output-dir", str(output_dir))
    written = Path(result.stdout.strip().splitlines()[-1])

    assert written.read_text(encoding="utf-8").splitlines()[0] == "index\tprediction"


def test_resume_continues_run_to_new_max_steps(trained_run):
    # Runs after the evaluate and predict tests, which read the 4-step run.
    shre("train", "--resume", str(trained_run), "--max-steps", "6")
    summary = json.loads((trained_run / "summary.json").read_text(encoding="utf-8"))

    assert summary["steps"] == 6


def test_generated_tests_pass(generated):
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]

    result = run(command, site=generated["site"], cwd=generated["package"])

    assert result.returncode == 0, result.stdout[-3000:]


def test_new_plugin_refuses_existing_folder(generated):
    result = CliRunner().invoke(cli, ["new-plugin", NAME, "--output-dir", str(generated["root"])])

    assert result.exit_code == 2
    assert "already exists" in result.stderr
