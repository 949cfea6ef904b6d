"""Classification metrics (top-1, top-5, per-class accuracy) and the confusion-matrix picture.

All metrics are torchmetrics objects, so the engine synchronises them across
processes before ``compute()``. ``PerClassAccuracy`` keeps the confusion
matrix of its last ``compute()``; the vision plugin's ``shre_on_evaluate``
hook writes it as a PNG into the run directory.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from pathlib import Path

import torch
from torchmetrics import MetricCollection
from torchmetrics.classification import MulticlassAccuracy, MulticlassConfusionMatrix

# Above this many classes, per-class accuracies go only to the CSV file, not
# into every metrics line (ImageNet would add 1000 keys per evaluation).
MAX_PER_CLASS_METRICS = 100


class PerClassAccuracy(MulticlassConfusionMatrix):
    """Confusion matrix whose ``compute()`` returns per-class accuracy.

    Args:
        class_names: the C class names; metric keys are ``accuracy_<name>``.
        report_per_class: return the per-class keys from ``compute()``; with
            ``False`` it returns an empty dict and only keeps the matrix.

    Attributes:
        last_matrix: the ``(C, C)`` confusion matrix (rows true class, columns
            predicted) of the last ``compute()``, or ``None``.
    """

    def __init__(self, class_names: Sequence[str], *, report_per_class: bool = True) -> None:
        super().__init__(num_classes=len(class_names))
        self.class_names = list(class_names)
        self.report_per_class = report_per_class
        self.last_matrix: torch.Tensor | None = None

    def compute(self) -> dict[str, torch.Tensor]:  # type: ignore[override]
        matrix = super().compute()
        self.last_matrix = matrix.detach().cpu()
        if not self.report_per_class:
            return {}
        accuracies = per_class_accuracy(matrix)
        return {
            f"accuracy_{metric_key(name)}": accuracy
            for name, accuracy in zip(self.class_names, accuracies, strict=True)
        }


def per_class_accuracy(matrix: torch.Tensor) -> torch.Tensor:
    """Return recall per class ``(C,)`` from a confusion matrix; 0 for absent classes."""
    matrix = matrix.float()
    support = matrix.sum(dim=1)
    return torch.where(
        support > 0, matrix.diagonal() / support.clamp(min=1), torch.zeros_like(support)
    )


def metric_key(name: str) -> str:
    """Turn a class name into a metric-key fragment: lower case, ``_`` for other characters."""
    return re.sub(r"[^0-9a-zA-Z]+", "_", name).strip("_").lower() or "class"


def build_classification_metrics(class_names: Sequence[str]) -> MetricCollection:
    """Return ``accuracy`` (top-1), ``top5`` and per-class accuracy for C classes.

    ``top5`` is top-min(5, C); per-class keys appear for up to
    ``MAX_PER_CLASS_METRICS`` classes.
    """
    num_classes = len(class_names)
    return MetricCollection(
        {
            "accuracy": MulticlassAccuracy(num_classes, top_k=1, average="micro"),
            "top5": MulticlassAccuracy(num_classes, top_k=min(5, num_classes), average="micro"),
            "per_class": PerClassAccuracy(
                class_names, report_per_class=num_classes <= MAX_PER_CLASS_METRICS
            ),
        },
        compute_groups=False,
    )


def write_confusion_matrix(
    matrix: torch.Tensor, class_names: Sequence[str], path: Path, *, title: str = ""
) -> Path:
    """Draw a row-normalised confusion matrix ``(C, C)`` to the PNG file ``path``.

    Rows are true classes and columns predictions; each cell shows the share
    of the row's examples. Class names label the axes up to 30 classes.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    counts = matrix.float()
    shares = (counts / counts.sum(dim=1, keepdim=True).clamp(min=1)).numpy()
    num_classes = len(class_names)
    size = min(4 + 0.45 * num_classes, 20)

    figure, axes = plt.subplots(figsize=(size, size))
    image = axes.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04, label="share of true class")
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    axes.set_title(title)
    if num_classes <= 30:
        axes.set_xticks(range(num_classes), class_names, rotation=90)
        axes.set_yticks(range(num_classes), class_names)
    if num_classes <= 15:
        for row in range(num_classes):
            for column in range(num_classes):
                value = shares[row, column]
                color = "white" if value > 0.5 else "black"
                axes.text(
                    column, row, f"{value:.2f}", ha="center", va="center", color=color, fontsize=8
                )

    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def write_per_class_csv(matrix: torch.Tensor, class_names: Sequence[str], path: Path) -> Path:
    """Write ``class,label,support,correct,accuracy`` rows for every class to ``path``."""
    accuracies = per_class_accuracy(matrix)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["class", "label", "support", "correct", "accuracy"])
        for label, name in enumerate(class_names):
            support = int(matrix[label].sum())
            correct = int(matrix[label, label])
            writer.writerow([name, label, support, correct, f"{float(accuracies[label]):.6f}"])
    return path
