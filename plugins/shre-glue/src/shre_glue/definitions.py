"""The nine GLUE tasks and the AX diagnostic set: files, columns, labels, metrics, presets.

Plain data only (no torch), so the plugin module can build its task specs
from this table without slowing down ``shre list``.

Column names are those of the TSV files that the usual
``download_glue_data.py`` writes. Label strings are listed in class-id order,
which is also the order of the class ids in the Hub dataset ``nyu-mll/glue``,
so both sources give the same ids. The same strings are what the GLUE server
expects in submission files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

HUB_DATASET = "nyu-mll/glue"

# Columns of CoLA's train.tsv and dev.tsv, which have no header line.
COLA_COLUMNS = ("source", "label", "author_label", "sentence")


@dataclass(frozen=True)
class GlueTaskInfo:
    """One GLUE task.

    Attributes:
        name: task name without the plugin prefix (``"cola"``).
        title: the task's usual spelling, also its TSV folder (``"CoLA"``).
        hub_config: configuration name in ``nyu-mll/glue``.
        text_columns: TSV column of sentence A and, for pair tasks, sentence B.
        hub_text_columns: the same columns in the Hub dataset.
        label_column: TSV label column (absent from test files).
        labels: label strings by class id; ``None`` for regression (STS-B).
        metrics: metric names, main metric first.
        lr, batch_size, epochs: GLUE fine-tuning recipe of TimCares/MasterThesis.
        files: split name to the TSV path relative to ``--data-dir``.
        headerless: splits whose file has no header line (CoLA train and dev).
        predict_splits: splits without labels, with their submission file names.
        trainable: ``False`` for AX, which is prediction only.
    """

    name: str
    title: str
    hub_config: str
    text_columns: tuple[str, ...]
    hub_text_columns: tuple[str, ...]
    label_column: str
    labels: tuple[str, ...] | None
    metrics: tuple[str, ...]
    lr: float
    batch_size: int
    epochs: int
    files: Mapping[str, str] = field(default_factory=dict)
    headerless: tuple[str, ...] = ()
    predict_splits: Mapping[str, str] = field(default_factory=dict)
    trainable: bool = True

    @property
    def num_labels(self) -> int:
        """Output width of the head: 1 for regression."""
        return 1 if self.labels is None else len(self.labels)

    @property
    def is_pair(self) -> bool:
        return len(self.text_columns) == 2

    @property
    def eval_splits(self) -> tuple[str, ...]:
        """Labelled splits other than train, main split first."""
        return tuple(
            split for split in self.files if split != "train" and split not in self.predict_splits
        )

    def preset(self) -> dict[str, Any]:
        """Return the reference hyperparameters as a config layer over the engine defaults.

        The layer sets AdamW with betas (0.9, 0.98), eps 1e-6 and weight
        decay 0.1, linear decay after a 10% warm-up and inputs up to 256
        tokens, plus the task's learning rate, batch size and epochs. Source:
        the GLUE fine-tuning of the master thesis "Efficient Multimodal
        Knowledge Distillation" (TimCares/MasterThesis, 2024), which re-did
        SHRe with Transformers.
        """
        return {
            "optimizer": {"lr": self.lr, "betas": [0.9, 0.98], "eps": 1e-6, "weight_decay": 0.1},
            "scheduler": {"name": "linear", "warmup_ratio": 0.1},
            "train": {"batch_size": self.batch_size, "epochs": self.epochs},
            "task_options": {"max_length": 256},
        }


def _files(title: str, *, test: bool = True) -> dict[str, str]:
    files = {"train": f"{title}/train.tsv", "validation": f"{title}/dev.tsv"}
    if test:
        files["test"] = f"{title}/test.tsv"
    return files


_BINARY = ("0", "1")
_NLI3 = ("entailment", "neutral", "contradiction")
_NLI2 = ("entailment", "not_entailment")
_SENTENCE_PAIR = ("sentence1", "sentence2")

TASKS: dict[str, GlueTaskInfo] = {
    info.name: info
    for info in (
        GlueTaskInfo(
            name="cola",
            title="CoLA",
            hub_config="cola",
            text_columns=("sentence",),
            hub_text_columns=("sentence",),
            label_column="label",
            labels=_BINARY,
            metrics=("mcc",),
            lr=1e-5,
            batch_size=16,
            epochs=20,
            files=_files("CoLA"),
            headerless=("train", "validation"),
            predict_splits={"test": "CoLA.tsv"},
        ),
        GlueTaskInfo(
            name="sst2",
            title="SST-2",
            hub_config="sst2",
            text_columns=("sentence",),
            hub_text_columns=("sentence",),
            label_column="label",
            labels=_BINARY,
            metrics=("accuracy",),
            lr=2e-5,
            batch_size=32,
            epochs=10,
            files=_files("SST-2"),
            predict_splits={"test": "SST-2.tsv"},
        ),
        GlueTaskInfo(
            name="mrpc",
            title="MRPC",
            hub_config="mrpc",
            text_columns=("#1 String", "#2 String"),
            hub_text_columns=_SENTENCE_PAIR,
            label_column="Quality",
            labels=_BINARY,
            metrics=("f1", "accuracy"),
            lr=2e-5,
            batch_size=16,
            epochs=20,
            files=_files("MRPC"),
            predict_splits={"test": "MRPC.tsv"},
        ),
        GlueTaskInfo(
            name="qqp",
            title="QQP",
            hub_config="qqp",
            text_columns=("question1", "question2"),
            hub_text_columns=("question1", "question2"),
            label_column="is_duplicate",
            labels=_BINARY,
            metrics=("f1", "accuracy"),
            lr=2e-5,
            batch_size=128,
            epochs=10,
            files=_files("QQP"),
            predict_splits={"test": "QQP.tsv"},
        ),
        GlueTaskInfo(
            name="stsb",
            title="STS-B",
            hub_config="stsb",
            text_columns=_SENTENCE_PAIR,
            hub_text_columns=_SENTENCE_PAIR,
            label_column="score",
            labels=None,
            metrics=("spearman", "pearson"),
            lr=4e-5,
            batch_size=16,
            epochs=20,
            files=_files("STS-B"),
            predict_splits={"test": "STS-B.tsv"},
        ),
        GlueTaskInfo(
            name="mnli",
            title="MNLI",
            hub_config="mnli",
            text_columns=_SENTENCE_PAIR,
            hub_text_columns=("premise", "hypothesis"),
            label_column="gold_label",
            labels=_NLI3,
            metrics=("accuracy",),
            lr=2e-5,
            batch_size=64,
            epochs=10,
            files={
                "train": "MNLI/train.tsv",
                "validation_matched": "MNLI/dev_matched.tsv",
                "validation_mismatched": "MNLI/dev_mismatched.tsv",
                "test_matched": "MNLI/test_matched.tsv",
                "test_mismatched": "MNLI/test_mismatched.tsv",
                "ax": "diagnostic/diagnostic.tsv",
            },
            predict_splits={
                "test_matched": "MNLI-m.tsv",
                "test_mismatched": "MNLI-mm.tsv",
                "ax": "AX.tsv",
            },
        ),
        GlueTaskInfo(
            name="qnli",
            title="QNLI",
            hub_config="qnli",
            text_columns=("question", "sentence"),
            hub_text_columns=("question", "sentence"),
            label_column="label",
            labels=_NLI2,
            metrics=("accuracy",),
            lr=2e-5,
            batch_size=32,
            epochs=10,
            files=_files("QNLI"),
            predict_splits={"test": "QNLI.tsv"},
        ),
        GlueTaskInfo(
            name="rte",
            title="RTE",
            hub_config="rte",
            text_columns=_SENTENCE_PAIR,
            hub_text_columns=_SENTENCE_PAIR,
            label_column="label",
            labels=_NLI2,
            metrics=("accuracy",),
            lr=2e-5,
            batch_size=16,
            epochs=20,
            files=_files("RTE"),
            predict_splits={"test": "RTE.tsv"},
        ),
        GlueTaskInfo(
            name="wnli",
            title="WNLI",
            hub_config="wnli",
            text_columns=_SENTENCE_PAIR,
            hub_text_columns=_SENTENCE_PAIR,
            label_column="label",
            labels=_BINARY,
            metrics=("accuracy",),
            lr=1e-5,
            batch_size=8,
            epochs=20,
            files=_files("WNLI"),
            predict_splits={"test": "WNLI.tsv"},
        ),
        # AX (the diagnostic set) has no training or dev data; it is scored on
        # the MNLI label set by a model trained on MNLI.
        GlueTaskInfo(
            name="ax",
            title="AX",
            hub_config="ax",
            text_columns=_SENTENCE_PAIR,
            hub_text_columns=("premise", "hypothesis"),
            label_column="label",
            labels=_NLI3,
            metrics=(),
            lr=2e-5,
            batch_size=64,
            epochs=10,
            files={"test": "diagnostic/diagnostic.tsv"},
            predict_splits={"test": "AX.tsv"},
            trainable=False,
        ),
    )
}

# Hub (config, split) of each split name that is not simply (hub_config, split).
HUB_SPLITS: dict[tuple[str, str], tuple[str, str]] = {("mnli", "ax"): ("ax", "test")}


def hub_location(info: GlueTaskInfo, split: str) -> tuple[str, str]:
    """Return the ``nyu-mll/glue`` configuration and split that hold ``split``."""
    return HUB_SPLITS.get((info.name, split), (info.hub_config, split))
