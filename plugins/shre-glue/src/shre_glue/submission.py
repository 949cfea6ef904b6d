"""GLUE server submission files: one ``<TASK>.tsv`` per test split.

Each file has the header ``index<TAB>prediction`` and one row per test
example, with predictions in the form the server reads:

- QNLI, RTE: ``entailment`` or ``not_entailment``;
- MNLI, AX: ``entailment``, ``neutral`` or ``contradiction``;
- CoLA, SST-2, MRPC, QQP, WNLI: class ids ``0`` or ``1``;
- STS-B: scores clipped to [0, 5].
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from shre.errors import ConfigError

from shre_glue.definitions import GlueTaskInfo


def format_prediction(info: GlueTaskInfo, prediction: float) -> str:
    """Render one prediction (a class id, or an STS-B score) as the server expects."""
    if info.labels is None:
        return f"{min(max(float(prediction), 0.0), 5.0):.3f}"
    return info.labels[int(prediction)]


def write_submission(
    info: GlueTaskInfo,
    split: str,
    predictions: Sequence[float],
    output_dir: str | Path,
    indices: Sequence[int] | None = None,
) -> Path:
    """Write the submission file of ``split`` into ``output_dir`` and return its path.

    Args:
        info: the task.
        split: a prediction split of the task (``test``, ``test_matched``, ``ax``...).
        predictions: class ids or scores, in the order of the split's rows.
        output_dir: created if missing.
        indices: the rows' GLUE indices; ``None`` numbers them from 0.

    Raises:
        ConfigError: ``split`` has no submission file, ``indices`` does not
            match ``predictions``, or the file exists already (it is never
            overwritten).
    """
    if split not in info.predict_splits:
        raise ConfigError(
            f"split {split!r} of glue:{info.name} has no submission file; "
            f"prediction splits are {', '.join(info.predict_splits)}"
        )
    if indices is None:
        indices = range(len(predictions))
    if len(indices) != len(predictions):
        raise ConfigError(
            f"{len(predictions)} predictions for {len(indices)} rows of glue:{info.name} {split}"
        )

    path = Path(output_dir) / info.predict_splits[split]
    if path.exists():
        raise ConfigError(
            f"prediction file {str(path)!r} exists; remove it or choose another output directory"
        )

    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["index\tprediction"]
    lines += [
        f"{index}\t{format_prediction(info, value)}"
        for index, value in zip(indices, predictions, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
