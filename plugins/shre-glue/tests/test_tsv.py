"""Reading the GLUE TSV layouts and rejecting malformed files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from shre.errors import DataError
from shre_glue.definitions import TASKS
from shre_glue.tsv import read_split

DATA_DIR = Path(__file__).parent / "data" / "glue"


def test_cola_headerless_reads_every_row():
    examples = read_split(TASKS["cola"], "train", DATA_DIR, labelled=True)
    assert len(examples) == 64
    assert (
        examples.text_a[0]
        == "Our friends won't buy this analysis, let alone the next one we propose."
    )
    assert examples.text_b is None
    assert examples.labels[:3] == [1, 1, 1]
    assert set(examples.labels) == {0, 1}


def test_cola_dev_without_final_newline():
    examples = read_split(TASKS["cola"], "validation", DATA_DIR, labelled=True)
    assert len(examples) == 48
    assert examples.idx == list(range(48))


def test_mrpc_bom_header_is_stripped():
    examples = read_split(TASKS["mrpc"], "train", DATA_DIR, labelled=True)
    assert len(examples) == 64
    assert examples.labels[0] == 1
    assert examples.text_a[0].startswith("Amrozi accused his brother")


def test_mrpc_quotes_stay_literal():
    examples = read_split(TASKS["mrpc"], "train", DATA_DIR, labelled=True)
    assert examples.text_a[0] == (
        'Amrozi accused his brother , whom he called " the witness " , '
        "of deliberately distorting his evidence ."
    )


def test_stsb_scores_are_floats():
    examples = read_split(TASKS["stsb"], "validation", DATA_DIR, labelled=True)
    assert examples.labels[:2] == [5.0, 4.75]
    assert examples.text_b[0] == "A man wearing a hard hat is dancing."


def test_nli_label_strings_map_to_ids():
    examples = read_split(TASKS["rte"], "validation", DATA_DIR, labelled=True)
    assert examples.labels[0] == TASKS["rte"].labels.index("not_entailment")
    assert examples.labels[0] == 1


def test_qnli_index_column_is_kept():
    examples = read_split(TASKS["qnli"], "validation", DATA_DIR, labelled=True)
    assert examples.idx[:3] == [0, 1, 2]
    assert examples.text_a[0] == "What came into force after the new constitution was herald?"


def test_cola_test_file_has_header(tmp_path: Path):
    (tmp_path / "CoLA").mkdir()
    (tmp_path / "CoLA" / "test.tsv").write_text("index\tsentence\n0\tBill left.\n1\tLeft Bill.\n")
    examples = read_split(TASKS["cola"], "test", tmp_path, labelled=False)
    assert examples.text_a == ["Bill left.", "Left Bill."]
    assert examples.labels is None


def _copy_task(tmp_path: Path, title: str) -> Path:
    shutil.copytree(DATA_DIR / title, tmp_path / title)
    return tmp_path / title


def _replace_line(path: Path, number: int, text: str) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[number - 1] = text
    path.write_text("\n".join(lines), encoding="utf-8")


def test_wrong_column_count_names_file_and_line(tmp_path: Path):
    folder = _copy_task(tmp_path, "RTE")
    _replace_line(folder / "train.tsv", 5, "3\tonly one sentence\t0")
    with pytest.raises(DataError) as error:
        read_split(TASKS["rte"], "train", tmp_path, labelled=True)
    assert "train.tsv, line 5" in str(error.value)
    assert "expected 4 tab-separated columns" in str(error.value)


def test_non_numeric_score_names_line(tmp_path: Path):
    folder = _copy_task(tmp_path, "STS-B")
    lines = (folder / "dev.tsv").read_text(encoding="utf-8").split("\n")
    fields = lines[2].split("\t")
    fields[-1] = "high"
    _replace_line(folder / "dev.tsv", 3, "\t".join(fields))
    with pytest.raises(DataError) as error:
        read_split(TASKS["stsb"], "validation", tmp_path, labelled=True)
    assert "dev.tsv, line 3" in str(error.value)
    assert "'high'" in str(error.value)


def test_label_outside_classes_is_rejected(tmp_path: Path):
    folder = _copy_task(tmp_path, "CoLA")
    _replace_line(folder / "train.tsv", 2, "gj04\t2\t\tOne more pseudo generalization.")
    with pytest.raises(DataError) as error:
        read_split(TASKS["cola"], "train", tmp_path, labelled=True)
    assert "line 2" in str(error.value)
    assert "expected one of '0', '1'" in str(error.value)


def test_missing_file_names_path_and_layout(tmp_path: Path):
    with pytest.raises(DataError) as error:
        read_split(TASKS["mnli"], "validation_matched", tmp_path, labelled=True)
    message = str(error.value)
    assert str(tmp_path / "MNLI" / "dev_matched.tsv") in message
    assert "MNLI/dev_mismatched.tsv" in message


def test_missing_column_is_reported(tmp_path: Path):
    (tmp_path / "QNLI").mkdir()
    (tmp_path / "QNLI" / "dev.tsv").write_text(
        "index\tquery\tsentence\tlabel\n0\ta\tb\tentailment\n"
    )
    with pytest.raises(DataError) as error:
        read_split(TASKS["qnli"], "validation", tmp_path, labelled=True)
    assert "missing column(s) 'question'" in str(error.value)


MNLI_DEV_HEADER = (
    "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\t"
    "sentence1_parse\tsentence2_parse\tsentence1\tsentence2\t"
    "label1\tlabel2\tlabel3\tlabel4\tlabel5\tgold_label"
)


def test_mnli_dev_layout_by_header(tmp_path: Path):
    # No MNLI slice is shipped, so this file follows the layout of dev_matched.tsv.
    (tmp_path / "MNLI").mkdir()
    rows = [
        "0\t1\t1n\tfiction\t( A )\t( B )\t(ROOT A)\t(ROOT B)\tA man sleeps.\tA man naps."
        "\tentailment\tentailment\tneutral\tentailment\tentailment\tentailment",
        "1\t2\t2c\tfiction\t( C )\t( D )\t(ROOT C)\t(ROOT D)\tIt is day.\tIt is night."
        "\tcontradiction\tcontradiction\tcontradiction\tneutral\tcontradiction\tcontradiction",
    ]
    (tmp_path / "MNLI" / "dev_matched.tsv").write_text("\n".join([MNLI_DEV_HEADER, *rows]) + "\n")
    examples = read_split(TASKS["mnli"], "validation_matched", tmp_path, labelled=True)
    assert examples.text_a == ["A man sleeps.", "It is day."]
    assert examples.text_b == ["A man naps.", "It is night."]
    assert examples.labels == [0, 2]


def test_mnli_reads_diagnostic_as_ax(tmp_path: Path):
    (tmp_path / "diagnostic").mkdir()
    (tmp_path / "diagnostic" / "diagnostic.tsv").write_text(
        "index\tsentence1\tsentence2\n0\tThe cat sat.\tA cat sat.\n1\tNo dogs bark.\tDogs bark.\n"
    )
    examples = read_split(TASKS["mnli"], "ax", tmp_path, labelled=False)
    assert examples.text_b == ["A cat sat.", "Dogs bark."]
    assert examples.labels is None
    assert examples.idx == [0, 1]
