"""Reading and checking the GLUE TSV files that ``download_glue_data.py`` writes.

The files are tab-separated with quoting off (a ``"`` is an ordinary
character: MRPC and MNLI sentences contain unbalanced quotes). CoLA's train
and dev files have no header line; every other file has one. MRPC's train
and dev files start with a UTF-8 byte order mark. Test files have no label
column.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from shre.errors import DataError

from shre_glue.definitions import COLA_COLUMNS, GlueTaskInfo

INDEX_COLUMNS = ("index", "id")


@dataclass
class Examples:
    """The rows of one split, column by column.

    Attributes:
        text_a: first sentence of each example.
        text_b: second sentence, or ``None`` for single-sentence tasks.
        labels: class ids, STS-B scores, or ``None`` for a split without labels.
        idx: the example ids the GLUE server expects in submission files.
    """

    text_a: list[str]
    text_b: list[str] | None
    labels: list[int] | list[float] | None
    idx: list[int]

    def __len__(self) -> int:
        return len(self.text_a)


def expected_layout(info: GlueTaskInfo) -> str:
    """Describe the files that ``--data-dir`` must hold for ``info``, for error messages."""
    return ", ".join(info.files.values())


def read_split(info: GlueTaskInfo, split: str, data_dir: str | Path, *, labelled: bool) -> Examples:
    """Read one split of ``info`` from the GLUE folder layout under ``data_dir``.

    Raises:
        DataError: the file is missing or has no data rows, a row has the
            wrong number of columns, a required column is missing, or a label
            is invalid. The
            message names the file and, for a row, its line number.
    """
    path = Path(data_dir) / info.files[split]
    if not path.is_file():
        raise DataError(
            f"missing GLUE file {str(path)!r} for split {split!r} of task {info.name!r}; "
            f"--data-dir must hold the standard GLUE folders: {expected_layout(info)} "
            "(as download_glue_data.py writes them)"
        )

    header = COLA_COLUMNS if split in info.headerless else None
    rows = _read_rows(path, header)
    columns = rows[0][1] if rows else (header or ())
    text_columns = _text_columns(info, split, columns, path)

    text_a: list[str] = []
    text_b: list[str] | None = [] if len(text_columns) == 2 else None
    labels: list[int] | list[float] | None = [] if labelled else None
    idx: list[int] = []
    for position, (line, record) in enumerate(rows[1:] if header is None else rows):
        text_a.append(record[text_columns[0]])
        if text_b is not None:
            text_b.append(record[text_columns[1]])
        if labels is not None:
            labels.append(parse_label(info, record, path, line))
        idx.append(_parse_index(record, position, path, line))
    if not idx:
        raise DataError(
            f"GLUE file {str(path)!r} has no data rows; restore it from the GLUE download "
            f"(split {split!r} of task {info.name!r})"
        )
    return Examples(text_a, text_b, labels, idx)


def _read_rows(path: Path, header: Sequence[str] | None) -> list[tuple[int, dict[str, str]]]:
    """Return ``(line number, row)`` pairs; the first pair is the header when the file has one.

    A header row is returned as ``(1, {name: name})`` so callers see its columns.
    """
    rows: list[tuple[int, dict[str, str]]] = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        names = list(header) if header is not None else None
        for fields in reader:
            if not fields:
                continue  # a blank line, such as a trailing empty line
            if names is None:
                names = fields
                rows.append((reader.line_num, dict(zip(names, names, strict=True))))
                continue
            if len(fields) != len(names):
                raise DataError(
                    f"{path}, line {reader.line_num}: expected {len(names)} tab-separated "
                    f"columns ({', '.join(names)}), found {len(fields)}; GLUE files are read "
                    "with quoting off, so a stray tab in a sentence splits it"
                )
            rows.append((reader.line_num, dict(zip(names, fields, strict=True))))
    return rows


def _text_columns(
    info: GlueTaskInfo, split: str, columns: Sequence[str], path: Path
) -> tuple[str, ...]:
    wanted = info.text_columns
    missing = [name for name in wanted if name not in columns]
    if missing:
        raise DataError(
            f"{path}: missing column(s) {', '.join(map(repr, missing))} for split {split!r} "
            f"of task {info.name!r}; the header has {', '.join(map(repr, columns))}"
        )
    return tuple(wanted)


def parse_label(info: GlueTaskInfo, record: dict[str, str], path: Path, line: int) -> int | float:
    """Return the class id (or the STS-B score) of one row.

    Raises:
        DataError: the label column is missing, the score is not a number in
            [0, 5], or the label is not one of the task's classes.
    """
    column = info.label_column
    if column not in record:
        raise DataError(
            f"{path}: no label column {column!r}; is this a test file? "
            f"Labelled splits of {info.name!r} need it"
        )
    value = record[column].strip()

    if info.labels is None:
        try:
            score = float(value)
        except ValueError:
            score = math.nan
        if not 0.0 <= score <= 5.0:
            raise DataError(
                f"{path}, line {line}: invalid {info.title} score {value!r}; "
                "expected a number from 0 to 5"
            )
        return score

    if value not in info.labels:
        allowed = ", ".join(repr(label) for label in info.labels)
        raise DataError(
            f"{path}, line {line}: invalid {info.title} label {value!r}; expected one of {allowed}"
        )
    return info.labels.index(value)


def _parse_index(record: dict[str, str], position: int, path: Path, line: int) -> int:
    for column in INDEX_COLUMNS:
        if column in record:
            try:
                return int(record[column])
            except ValueError:
                raise DataError(
                    f"{path}, line {line}: invalid {column} {record[column]!r}; expected an integer"
                ) from None
    return position
