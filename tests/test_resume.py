"""Exact resume: a run killed with SIGKILL and resumed ends bit-identical to an uninterrupted one.

Every run is its own process running ``fit_script.py`` (the toy plugin,
dropout on, two micro-batches per optimiser step), as a user's run is.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOY_TESTS = ROOT / "packages" / "shre-core" / "tests"
FIT_SCRIPT = TOY_TESTS / "fit_script.py"

ENVIRONMENT = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}

pytestmark = pytest.mark.slow


def toy_config_file(directory: Path, run_dir: Path) -> Path:
    """Write the config of a 2-epoch toy run (6 optimiser steps per epoch) as JSON."""
    sys.path.insert(0, str(TOY_TESTS))
    import shre_toy
    from shre.plugins import reset_plugin_manager

    shre_toy.register()
    try:
        config = shre_toy.toy_config(
            run_dir,
            "train.epochs=2",
            "train.batch_size=4",
            "train.grad_accum_steps=2",
            "train.eval_every=2",
            "train.log_every=1",
            "train.keep_last=10",
        )
    finally:
        reset_plugin_manager(None)
    path = directory / f"{run_dir.name}.json"
    path.write_text(json.dumps(config))
    return path


def fit_command(config: Path, *arguments: str) -> list[str]:
    return [sys.executable, str(FIT_SCRIPT), str(config), *arguments]


def run_fit(config: Path, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        fit_command(config, *arguments),
        env=ENVIRONMENT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def final_weights(run_dir: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(run_dir / "checkpoints" / "step-12" / "model.safetensors"))


def train_losses(run_dir: Path) -> dict[int, float]:
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return {record["step"]: record["loss"] for record in records if record["split"] == "train"}


def test_resume_after_sigkill_is_bit_identical(tmp_path):
    """Kill at step 5 (mid-epoch), resume from step 4, then cross into epoch 2."""
    import torch

    uninterrupted_dir = tmp_path / "uninterrupted"
    # The reference run goes in parallel with the killed and resumed ones.
    uninterrupted = subprocess.Popen(
        fit_command(toy_config_file(tmp_path, uninterrupted_dir)),
        env=ENVIRONMENT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    run_dir = tmp_path / "run"
    config = toy_config_file(tmp_path, run_dir)

    killed = run_fit(config, "--kill-at-step", "5")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert (run_dir / "checkpoints" / "step-4").is_dir()
    assert not (run_dir / "checkpoints" / "step-12").exists()

    resumed = run_fit(config, "--resume", str(run_dir))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    _, errors = uninterrupted.communicate(timeout=300)
    assert uninterrupted.returncode == 0, errors[-3000:]

    expected = final_weights(uninterrupted_dir)
    actual = final_weights(run_dir)
    assert sorted(actual) == sorted(expected)
    different = [key for key in expected if not torch.equal(actual[key], expected[key])]
    assert different == []
    assert train_losses(run_dir) == train_losses(uninterrupted_dir)
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    train_steps = [record["step"] for record in records if record["split"] == "train"]
    assert train_steps == list(range(1, 13))
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["resumed_from"] == str(run_dir / "checkpoints" / "step-4")
