"""GLUE metrics as torchmetrics, accumulated over a whole split.

The reference code averaged F1, MCC and Spearman over batches, which is
not the GLUE metric; these metrics keep every prediction of the split and
compute once (and synchronise across processes under DDP).
"""

from __future__ import annotations

import warnings

from torchmetrics import Metric, MetricCollection
from torchmetrics.classification import BinaryF1Score, BinaryMatthewsCorrCoef, MulticlassAccuracy
from torchmetrics.regression import PearsonCorrCoef, SpearmanCorrCoef

from shre_glue.definitions import GlueTaskInfo


def build_metric(name: str, num_labels: int) -> Metric:
    """Return a fresh metric by its reported name.

    Classification metrics take predicted class ids ``(N,)``; the
    correlations take predicted scores ``(N,)``, both against targets ``(N,)``.
    """
    if name == "accuracy":
        return MulticlassAccuracy(num_classes=num_labels, average="micro")
    if name == "f1":
        return BinaryF1Score()
    if name == "mcc":
        return BinaryMatthewsCorrCoef()
    if name == "pearson":
        return PearsonCorrCoef()
    if name == "spearman":
        with warnings.catch_warnings():
            # It warns that it keeps every prediction; whole-split ranks need them.
            warnings.simplefilter("ignore", UserWarning)
            return SpearmanCorrCoef()
    raise ValueError(f"unknown GLUE metric {name!r}")


def build_metrics(info: GlueTaskInfo) -> MetricCollection:
    """The metrics of ``info``, keyed by their plain names (``mcc``, ``f1``...)."""
    return MetricCollection({name: build_metric(name, info.num_labels) for name in info.metrics})
