"""GLUE metrics as torchmetrics, accumulated over a whole split.

The GLUE code of TimCares/MasterThesis averaged F1, MCC and Spearman over
batches, which is
not the GLUE metric; these metrics keep every prediction of the split and
compute once (and synchronise across processes under DDP).
"""

from __future__ import annotations

import warnings

import torch
from torchmetrics import Metric, MetricCollection
from torchmetrics.classification import BinaryF1Score, BinaryMatthewsCorrCoef, MulticlassAccuracy
from torchmetrics.regression import PearsonCorrCoef, SpearmanCorrCoef

from shre_glue.definitions import GlueTaskInfo


class MatthewsCorrCoef(BinaryMatthewsCorrCoef):
    """Binary MCC that is 0 when it is undefined, as scikit-learn and the GLUE server compute it.

    MCC is undefined when the predictions or the targets are all one class
    (a zero denominator). torchmetrics 1.9 substitutes a small epsilon in
    that case and reports values such as 0.117 for a model that predicts
    "acceptable" for every CoLA sentence; GLUE scores that model 0.
    """

    def compute(self) -> torch.Tensor:
        (tn, fp), (fn, tp) = self.confmat.double()
        denominator = (tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)
        if denominator == 0:
            return torch.zeros((), dtype=torch.float32, device=self.confmat.device)
        return ((tp * tn - fp * fn) / denominator.sqrt()).float()


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
        return MatthewsCorrCoef()
    if name == "pearson":
        return PearsonCorrCoef()
    if name == "spearman":
        with warnings.catch_warnings():
            # It warns that it keeps every prediction; whole-split ranks need them.
            warnings.simplefilter("ignore", UserWarning)
            return SpearmanCorrCoef()
    raise ValueError(f"unknown GLUE metric {name!r}")


def build_metrics(info: GlueTaskInfo) -> MetricCollection:
    """Build the metrics of ``info``, keyed by their plain names (``mcc``, ``f1``...)."""
    return MetricCollection({name: build_metric(name, info.num_labels) for name in info.metrics})
