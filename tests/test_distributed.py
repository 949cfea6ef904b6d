"""Two-process training with torchrun (gloo on CPU): metrics count every example once.

The validation splits have an odd number of examples: a padded distributed
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
GLUE_DATA = ROOT / "plugins" / "shre-glue" / "tests" / "data" / "glue"
TORCHRUN = Path(sys.executable).parent / "torchrun"

pytestmark = pytest.mark.slow


def torchrun(*arguments: str, plugins: str | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    if plugins is not None:
        environment["SHRE_LOAD_PLUGINS"] = plugins
    return subprocess.run(
        [str(TORCHRUN), "--standalone", "--nproc_per_node", "2", str(FIT_SCRIPT), *arguments],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def toy_plugin():
    sys.path.insert(0, str(TOY_TESTS))
    import shre_toy
    from shre.plugins import reset_plugin_manager

    shre_toy.register()
    yield shre_toy
    reset_plugin_manager(None)


def test_two_processes_match_single_process(tmp_path, toy_plugin):
    from shre import engine
    from shre.checkpoint import load_trained_model
    from shre.engine.data import cap_dataset
    from shre.engine.evaluation import collect_predictions
    from shre.engine.setup import create_accelerator

    run_dir = tmp_path / "run"
    config = toy_plugin.toy_config(
        run_dir, "train.max_steps=3", "train.batch_size=4", "train.eval_batch_size=4"
    )
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))

    result = torchrun(str(config_file), "--predictions", str(tmp_path / "predictions.json"))
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((run_dir / "summary.json").read_text())
    two_process = summary["final_metrics"]["validation"]
    gathered = json.loads((tmp_path / "predictions.json").read_text())["predictions"]

    single_process = engine.evaluate(run_dir)["validation"]
    model, task, _ = load_trained_model(run_dir)
    dataset = cap_dataset(task.dataset("validation", model), None, "validation")
    expected = collect_predictions(model, task, dataset, None, create_accelerator(), batch_size=5)

    assert summary["world_size"] == 2
    assert two_process["accuracy"] == single_process["accuracy"]
    assert two_process["mcc"] == pytest.approx(single_process["mcc"], abs=1e-6)
    assert two_process["loss"] == pytest.approx(single_process["loss"], rel=1e-5)
    assert len(gathered) == 37
    assert gathered == expected


def test_two_process_glue_stsb_matches_scipy_sklearn(tmp_path):
    """STS-B correlations keep every prediction: the gather over processes must be exact."""
    from scipy.stats import pearsonr, spearmanr
    from shre.config import resolve_config
    from shre.plugins import reset_plugin_manager
    from shre.registry import get_registry
    from sklearn.feature_selection import r_regression

    pytest.importorskip("shre_glue")
    os.environ["SHRE_LOAD_PLUGINS"] = "glue"
    reset_plugin_manager(None)
    try:
        spec = get_registry().resolve("task", "glue:stsb").spec
    finally:
        del os.environ["SHRE_LOAD_PLUGINS"]
        reset_plugin_manager(None)
    run_dir = tmp_path / "run"
    config = resolve_config(
        spec.preset,
        overrides=[
            "train.max_steps=3",
            "train.batch_size=8",
            "data.max_eval_samples=47",
            "task_options.cache_dir=null",
            "train.log_every=1",
            "scheduler.warmup_steps=0",
            "optimizer.lr=1e-3",
        ],
    )
    config.update(task="glue:stsb", model="shre-tiny", output_dir=str(run_dir))
    config["data"]["dir"] = str(GLUE_DATA)
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))

    result = torchrun(
        str(config_file),
        "--installed-plugins",
        "--predictions",
        str(tmp_path / "predictions.json"),
        plugins="glue",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((run_dir / "summary.json").read_text())["final_metrics"]["validation"]
    gathered = json.loads((tmp_path / "predictions.json").read_text())

    assert len(gathered["predictions"]) == 47
    assert metrics["pearson"] == pytest.approx(
        pearsonr(gathered["predictions"], gathered["labels"]).statistic, abs=1e-4
    )
    features = [[prediction] for prediction in gathered["predictions"]]
    assert metrics["pearson"] == pytest.approx(
        float(r_regression(features, gathered["labels"])[0]), abs=1e-4
    )
    assert metrics["spearman"] == pytest.approx(
        spearmanr(gathered["predictions"], gathered["labels"]).statistic, abs=1e-4
    )


def test_sigterm_one_process_stops_both(tmp_path, toy_plugin):
    from shre.checkpoint import list_checkpoints, load_trainer_state

    run_dir = tmp_path / "run"
    config = toy_plugin.toy_config(run_dir, "train.batch_size=4", "train.log_every=1")
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))

    result = torchrun(str(config_file), "--sigterm-at-step", "2", "--sigterm-rank", "1")

    assert result.stdout.count(f"interrupted: {run_dir / 'checkpoints' / 'step-2'}") == 2
    assert [path.name for path in list_checkpoints(run_dir)] == ["step-2"]
    assert len(load_trainer_state(run_dir / "checkpoints" / "step-2")["rng_states"]) == 2
