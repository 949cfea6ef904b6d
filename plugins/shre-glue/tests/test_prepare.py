"""prepare(): every TSV split is read and checked before any tokenisation."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import shre
import shre.engine
import shre_glue.task


def copy_task_folder(glue_dir: Path, tmp_path: Path, folder: str) -> Path:
    data_dir = tmp_path / "glue"
    shutil.copytree(glue_dir / folder, data_dir / folder)
    return data_dir


def test_prepare_rejects_bad_dev_row(glue_dir, tmp_path, task_factory):
    data_dir = copy_task_folder(glue_dir, tmp_path, "RTE")
    dev = data_dir / "RTE" / "dev.tsv"
    line_count = len(dev.read_text(encoding="utf-8").splitlines())
    with dev.open("a", encoding="utf-8") as handle:
        handle.write("999\tonly one sentence\n")

    task = task_factory("rte", data_dir=data_dir)
    with pytest.raises(shre.DataError) as error:
        task.prepare()
    assert f"dev.tsv, line {line_count + 1}" in str(error.value)
    assert "expected 4 tab-separated columns" in str(error.value)


def test_prepare_rejects_bad_dev_label(glue_dir, tmp_path, task_factory):
    data_dir = copy_task_folder(glue_dir, tmp_path, "RTE")
    with (data_dir / "RTE" / "dev.tsv").open("a", encoding="utf-8") as handle:
        handle.write("999\tA premise.\tA hypothesis.\tmaybe\n")

    task = task_factory("rte", data_dir=data_dir)
    with pytest.raises(shre.DataError, match="invalid RTE label 'maybe'"):
        task.prepare()


def test_prepare_rejects_missing_dev_file(glue_dir, tmp_path, task_factory):
    data_dir = copy_task_folder(glue_dir, tmp_path, "RTE")
    (data_dir / "RTE" / "dev.tsv").unlink()

    task = task_factory("rte", data_dir=data_dir)
    with pytest.raises(shre.DataError, match="missing GLUE file .*dev.tsv"):
        task.prepare()


def test_prepare_accepts_dev_only_folder(glue_dir, task_factory):
    # The QNLI slice has dev.tsv only, as a folder passed to shre evaluate may.
    task = task_factory("qnli", data_dir=glue_dir)
    task.prepare()
    assert sorted(task._examples) == ["validation"]


def test_dataset_uses_prepared_rows(build):
    task, model = build("rte")
    rows = len(task._examples["validation"])
    dataset = task.dataset("validation", model)
    assert len(dataset) == rows
    assert "validation" not in task._examples


def test_fit_fails_on_bad_dev_before_tokenising(glue_dir, tmp_path, config_factory, monkeypatch):
    data_dir = copy_task_folder(glue_dir, tmp_path, "RTE")
    with (data_dir / "RTE" / "dev.tsv").open("a", encoding="utf-8") as handle:
        handle.write("999\tonly one sentence\n")
    tokenised_splits: list[int] = []
    original = shre_glue.task.tokenise

    def counting_tokenise(examples, *args, **kwargs):
        tokenised_splits.append(len(examples))
        return original(examples, *args, **kwargs)

    monkeypatch.setattr(shre_glue.task, "tokenise", counting_tokenise)
    config = config_factory("rte", data_dir, output_dir=str(tmp_path / "run"))
    with pytest.raises(shre.DataError, match="dev.tsv, line"):
        shre.engine.fit(config)
    assert tokenised_splits == []
