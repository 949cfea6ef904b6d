"""Top-1, top-5 and per-class accuracy against scikit-learn; the confusion-matrix picture."""

from __future__ import annotations

import numpy as np
import torch
from shre_vision.metrics import (
    build_classification_metrics,
    metric_key,
    write_confusion_matrix,
    write_per_class_csv,
)
from sklearn.metrics import accuracy_score, confusion_matrix, recall_score, top_k_accuracy_score

CLASSES = ["air plane", "car", "bird", "cat", "deer", "dog", "frog"]


def random_predictions(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    logits = torch.randn(300, len(CLASSES), generator=generator)
    labels = torch.randint(0, len(CLASSES), (300,), generator=generator)
    return logits, labels


def computed_metrics() -> tuple[dict, torch.Tensor, torch.Tensor]:
    logits, labels = random_predictions()
    metrics = build_classification_metrics(CLASSES)
    for start in range(0, 300, 64):
        metrics.update(logits[start : start + 64], labels[start : start + 64])
    return metrics.compute(), logits, labels


def test_accuracy_matches_sklearn():
    results, logits, labels = computed_metrics()
    expected = accuracy_score(labels.numpy(), logits.argmax(1).numpy())
    assert float(results["accuracy"]) == np.float32(expected)


def test_top5_matches_sklearn():
    results, logits, labels = computed_metrics()
    expected = top_k_accuracy_score(labels.numpy(), logits.numpy(), k=5, labels=range(len(CLASSES)))
    assert abs(float(results["top5"]) - expected) < 1e-6


def test_per_class_accuracy_matches_sklearn_recall():
    results, logits, labels = computed_metrics()
    expected = recall_score(labels.numpy(), logits.argmax(1).numpy(), average=None)
    for name, value in zip(CLASSES, expected, strict=True):
        assert abs(float(results[f"accuracy_{metric_key(name)}"]) - value) < 1e-6


def test_confusion_matrix_matches_sklearn():
    logits, labels = random_predictions()
    metrics = build_classification_metrics(CLASSES)
    metrics.update(logits, labels)
    metrics.compute()
    expected = confusion_matrix(labels.numpy(), logits.argmax(1).numpy())
    assert np.array_equal(metrics["per_class"].last_matrix.numpy(), expected)


def test_metric_key_cleans_class_names():
    assert metric_key("air plane") == "air_plane"
    assert metric_key("Tench, Tinca tinca") == "tench_tinca_tinca"


def test_top5_with_few_classes_is_top_all():
    metrics = build_classification_metrics(["a", "b", "c"])
    metrics.update(torch.randn(4, 3), torch.tensor([0, 1, 2, 0]))
    assert float(metrics.compute()["top5"]) == 1.0


def test_many_classes_skip_per_class_keys():
    names = [f"c{index}" for index in range(150)]
    metrics = build_classification_metrics(names)
    metrics.update(torch.randn(8, 150), torch.arange(8))
    assert set(metrics.compute()) == {"accuracy", "top5"}


def test_confusion_matrix_png(tmp_path):
    matrix = torch.tensor([[3, 1], [0, 4]])
    path = write_confusion_matrix(matrix, ["cat", "dog"], tmp_path / "confusion.png", title="test")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_per_class_csv(tmp_path):
    matrix = torch.tensor([[3, 1], [0, 4]])
    lines = (
        write_per_class_csv(matrix, ["cat", "dog"], tmp_path / "classes.csv")
        .read_text()
        .splitlines()
    )
    assert lines[0] == "class,label,support,correct,accuracy"
    assert lines[1] == "cat,0,4,3,0.750000"
