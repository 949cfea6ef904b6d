"""Two gloo processes give the loss and gradients of one process on the whole batch."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from shre_distill.gather import gather_with_grad

WORKER = Path(__file__).with_name("gather_worker.py")


def test_gather_without_process_group_is_identity():
    features = torch.randn(3, 4)
    assert gather_with_grad(features) is features


@pytest.mark.slow
def test_gather_two_processes_match_one(tmp_path):
    result = tmp_path / "differences.json"
    # --standalone starts a local rendezvous on a free loopback port.
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            "2",
            str(WORKER),
            str(result),
        ],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]

    differences = json.loads(result.read_text())
    assert set(differences) >= {"loss", "logit_scale", "image_proj", "text_logits"}
    for name, difference in differences.items():
        assert difference < 1e-5, f"{name} differs by {difference}"
