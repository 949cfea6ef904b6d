"""Training, evaluation and prediction through ``shre.engine`` on the GLUE slices."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import shre.engine

# Folder and the task's main metric, for every task with a train slice.
TRAINABLE = {
    "sst2": "accuracy",
    "mrpc": "f1",
    "stsb": "spearman",
    "rte": "accuracy",
    "wnli": "accuracy",
}


def _fit(
    make_config, task: str, run_dir: Path, data_dir: Path, max_eval: int | None = None, **train
):
    config = make_config(task, data_dir, output_dir=str(run_dir), train={"batch_size": 8, **train})
    config["data"]["max_eval_samples"] = max_eval
    return shre.engine.fit(config)


@pytest.mark.slow
def test_cola_summary_matches_evaluate(config_factory, glue_dir: Path, tmp_path: Path):
    summary = _fit(config_factory, "cola", tmp_path / "run", glue_dir, max_steps=4)
    evaluated = shre.engine.evaluate(tmp_path / "run")
    assert summary["main_metric"] == "mcc"
    assert summary["steps"] == 4
    assert evaluated["validation"]["mcc"] == pytest.approx(
        summary["best_metrics"]["validation"]["mcc"]
    )
    assert evaluated["validation"]["loss"] == pytest.approx(
        summary["best_metrics"]["validation"]["loss"]
    )


@pytest.mark.slow
@pytest.mark.parametrize("task", sorted(TRAINABLE))
def test_task_trains_on_slice(config_factory, glue_dir: Path, tmp_path: Path, task: str):
    summary = _fit(config_factory, task, tmp_path / "run", glue_dir, max_eval=16, max_steps=1)
    metrics = summary["final_metrics"]["validation"]
    assert summary["main_metric"] == TRAINABLE[task]
    assert set(metrics) >= {TRAINABLE[task], "loss"}


@pytest.mark.slow
def test_qnli_trains_and_predicts(config_factory, glue_dir: Path, tmp_path: Path):
    # The QNLI slice has dev rows only; they double as training rows here.
    data_dir = tmp_path / "glue"
    shutil.copytree(glue_dir / "QNLI", data_dir / "QNLI")
    shutil.copy(data_dir / "QNLI" / "dev.tsv", data_dir / "QNLI" / "train.tsv")
    lines = (data_dir / "QNLI" / "dev.tsv").read_text().splitlines()
    test_rows = ["\t".join(line.split("\t")[:3]) for line in lines[:6]]
    (data_dir / "QNLI" / "test.tsv").write_text("\n".join(test_rows) + "\n")

    summary = _fit(config_factory, "qnli", tmp_path / "run", data_dir, max_steps=1)
    paths = shre.engine.predict(tmp_path / "run", output_dir=tmp_path / "predictions")
    assert summary["main_metric"] == "accuracy"
    assert [path.name for path in paths] == ["QNLI.tsv"]
    rows = paths[0].read_text().splitlines()
    assert len(rows) == 6
    assert rows[1].split("\t")[1] in ("entailment", "not_entailment")
