"""GLUE server submission files."""

from __future__ import annotations

from pathlib import Path

import pytest
from shre.errors import ConfigError
from shre_glue.definitions import TASKS
from shre_glue.submission import write_submission

FILE_NAMES = {
    ("cola", "test"): "CoLA.tsv",
    ("sst2", "test"): "SST-2.tsv",
    ("mrpc", "test"): "MRPC.tsv",
    ("qqp", "test"): "QQP.tsv",
    ("stsb", "test"): "STS-B.tsv",
    ("mnli", "test_matched"): "MNLI-m.tsv",
    ("mnli", "test_mismatched"): "MNLI-mm.tsv",
    ("qnli", "test"): "QNLI.tsv",
    ("rte", "test"): "RTE.tsv",
    ("wnli", "test"): "WNLI.tsv",
    ("ax", "test"): "AX.tsv",
    ("mnli", "ax"): "AX.tsv",
}


@pytest.mark.parametrize(("task", "split"), sorted(FILE_NAMES))
def test_file_name_per_split(tmp_path: Path, task: str, split: str):
    path = write_submission(TASKS[task], split, [0, 1], tmp_path)
    assert path.name == FILE_NAMES[(task, split)]
    assert path.read_text().splitlines()[0] == "index\tprediction"


def test_cola_writes_class_ids(tmp_path: Path):
    path = write_submission(TASKS["cola"], "test", [1, 0, 1], tmp_path)
    assert path.read_text() == "index\tprediction\n0\t1\n1\t0\n2\t1\n"


def test_rte_writes_label_names(tmp_path: Path):
    path = write_submission(TASKS["rte"], "test", [0, 1], tmp_path)
    assert path.read_text().splitlines()[1:] == ["0\tentailment", "1\tnot_entailment"]


def test_mnli_writes_three_labels(tmp_path: Path):
    path = write_submission(TASKS["mnli"], "test_mismatched", [2, 1, 0], tmp_path)
    assert path.read_text().splitlines()[1:] == ["0\tcontradiction", "1\tneutral", "2\tentailment"]


def test_ax_uses_mnli_labels(tmp_path: Path):
    path = write_submission(TASKS["ax"], "test", [1], tmp_path)
    assert path.read_text().splitlines()[1] == "0\tneutral"


def test_stsb_scores_clipped(tmp_path: Path):
    path = write_submission(TASKS["stsb"], "test", [-0.4, 2.34567, 5.8], tmp_path)
    assert path.read_text().splitlines()[1:] == ["0\t0.000", "1\t2.346", "2\t5.000"]


def test_indices_from_data(tmp_path: Path):
    path = write_submission(TASKS["wnli"], "test", [1, 0], tmp_path, indices=[7, 9])
    assert path.read_text().splitlines()[1:] == ["7\t1", "9\t0"]


def test_existing_file_not_overwritten(tmp_path: Path):
    (tmp_path / "CoLA.tsv").write_text("mine\n")
    with pytest.raises(ConfigError) as error:
        write_submission(TASKS["cola"], "test", [1], tmp_path)
    assert "exists" in str(error.value)
    assert (tmp_path / "CoLA.tsv").read_text() == "mine\n"


def test_labelled_split_has_no_file(tmp_path: Path):
    with pytest.raises(ConfigError):
        write_submission(TASKS["cola"], "validation", [1], tmp_path)


def test_task_writes_test_predictions(build, tmp_path: Path):
    (tmp_path / "RTE").mkdir()
    (tmp_path / "RTE" / "test.tsv").write_text(
        "index\tsentence1\tsentence2\n0\tA dog runs.\tAn animal runs.\n1\tIt rains.\tIt is dry.\n"
    )
    task, model = build("rte", data_dir=tmp_path)
    dataset = task.dataset("test", model)
    assert "labels" not in dataset.column_names
    outputs = model(task.collate_fn("test", model)([dataset[0], dataset[1]]))
    assert "loss" not in outputs
    path = task.write_predictions("test", task.predictions(outputs), tmp_path / "out")
    rows = path.read_text().splitlines()
    assert rows[0] == "index\tprediction"
    assert [row.split("\t")[0] for row in rows[1:]] == ["0", "1"]
    assert all(row.split("\t")[1] in ("entailment", "not_entailment") for row in rows[1:])
