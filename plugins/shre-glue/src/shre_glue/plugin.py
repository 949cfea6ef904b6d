"""The ``glue`` plugin: BERT text encoders, the GLUE pooler and head, and the GLUE tasks.

Every factory is an import string, and this module imports only ``shre``
and the plain task table, so ``shre list`` stays fast (no torch).
"""

from __future__ import annotations

import shre
from shre.specs import EncoderSpec, HeadSpec, PoolerSpec, TaskSpec

from shre_glue.definitions import TASKS, GlueTaskInfo

SHRE_API_VERSION = "1.0"

_DESCRIPTIONS = {
    "cola": "CoLA: grammatical acceptability (MCC)",
    "sst2": "SST-2: sentiment of movie review sentences (accuracy)",
    "mrpc": "MRPC: paraphrase pairs from news (F1, accuracy)",
    "qqp": "QQP: duplicate Quora questions (F1, accuracy)",
    "stsb": "STS-B: sentence similarity 0-5, regression (Spearman, Pearson)",
    "mnli": "MNLI: 3-way entailment, matched and mismatched dev (accuracy)",
    "qnli": "QNLI: does the sentence answer the question (accuracy)",
    "rte": "RTE: textual entailment (accuracy)",
    "wnli": "WNLI: Winograd pronoun entailment (accuracy)",
    "ax": "AX: GLUE diagnostic set, prediction only, MNLI labels",
}


@shre.hookimpl
def shre_encoders() -> list[EncoderSpec]:
    return [
        EncoderSpec(
            name="shre-text",
            factory="shre_glue.encoders:build_shre_text",
            description=(
                "bert-base-uncased embeddings and first 6 layers (options: pretrained, num_layers)"
            ),
            modality="text",
            width=768,
        ),
        EncoderSpec(
            name="shre-tiny-text",
            factory="shre_glue.encoders:build_shre_tiny_text",
            description=(
                "download-free BERT: 2 layers, width 128, 2 heads, random init, uncased vocab"
            ),
            modality="text",
            width=128,
        ),
    ]


@shre.hookimpl
def shre_poolers() -> list[PoolerSpec]:
    return [
        PoolerSpec(
            name="bert-pooler",
            factory="shre_glue.heads:BertPooler",
            description=(
                "CLS -> dense + tanh (pretrained BERT pooler when there is one) -> dropout 0.1"
            ),
            modality="text",
        ),
    ]


@shre.hookimpl
def shre_heads() -> list[HeadSpec]:
    return [
        HeadSpec(
            name="roberta",
            factory="shre_glue.heads:RobertaHead",
            description="RoBERTa classification head: dense, tanh, dropout 0.1, Linear(D, C)",
        ),
    ]


def _task_spec(info: GlueTaskInfo) -> TaskSpec:
    return TaskSpec(
        name=info.name,
        factory="shre_glue.task:build_task",
        description=_DESCRIPTIONS[info.name],
        modality="text",
        pooler="glue:bert-pooler",
        head="glue:roberta",
        loss="core:mse" if info.labels is None else "core:cross-entropy",
        metrics=info.metrics,
        # AX has no labelled split, so it has no metric to select checkpoints by.
        main_metric=info.metrics[0] if info.metrics else "loss",
        greater_is_better=True,
        num_labels=info.num_labels,
        preset=info.preset(),
    )


@shre.hookimpl
def shre_tasks() -> list[TaskSpec]:
    return [_task_spec(info) for info in TASKS.values()]
