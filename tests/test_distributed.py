"""Two-process training with torchrun (gloo on CPU): metrics count every example once.

The validation split has 37 examples, an odd size: a padded distributed
sampler would count one example twice across the two processes, and a
per-batch average would weight the short last batch wrongly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOY_TESTS = ROOT / "packages" / "shre-core" / "tests"
FIT_SCRIPT = TOY_TESTS / "fit_script.py"
TORCHRUN = Path(sys.executable).parent / "torchrun"

pytestmark = pytest.mark.slow


def torchrun(script: Path, *arguments: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [str(TORCHRUN), "--standalone", "--nproc_per_node", "2", str(script), *arguments],
        env=environment, capture_output=True, text=True, timeout=300,
    )


@pytest.fixture
def toy_plugin():
    sys.path.insert(0, str(TOY_TESTS))
    import shre_toy

    from shre.plugins import reset_plugin_manager

    shre_toy.register()
    yield shre_toy
    reset_plugin_manager(None)


def test_two_process_metrics_equal_single_process(tmp_path, toy_plugin):
    from shre import engine

    run_dir = tmp_path / "run"
    config = toy_plugin.toy_config(run_dir, "train.max_steps=3", "train.batch_size=4",
                                   "train.eval_batch_size=4")
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))

    result = torchrun(FIT_SCRIPT, str(config_file))
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((run_dir / "summary.json").read_text())
    two_process = summary["final_metrics"]["validation"]

    single_process = engine.evaluate(run_dir)["validation"]

    assert summary["world_size"] == 2
    assert two_process["accuracy"] == single_process["accuracy"]
    assert two_process["mcc"] == pytest.approx(single_process["mcc"], abs=1e-6)
    assert two_process["loss"] == pytest.approx(single_process["loss"], rel=1e-5)


def test_two_process_predictions_in_dataset_order(tmp_path, toy_plugin):
    from shre import engine

    run_dir = tmp_path / "run"
    config = toy_plugin.toy_config(run_dir, "train.max_steps=2")
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    assert torchrun(FIT_SCRIPT, str(config_file)).returncode == 0

    script = tmp_path / "predict.py"
    script.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(TOY_TESTS)!r})\n"
        "import shre_toy\n"
        "shre_toy.register()\n"
        "from shre import engine\n"
        f"engine.predict({str(run_dir)!r}, output_dir={str(tmp_path / 'two')!r})\n"
    )
    result = torchrun(script)
    assert result.returncode == 0, result.stderr[-3000:]
    engine.predict(run_dir, output_dir=tmp_path / "one")

    two = (tmp_path / "two" / "test.tsv").read_text()
    one = (tmp_path / "one" / "test.tsv").read_text()
    assert two == one
