"""GLUE metrics over whole splits, checked against scikit-learn and scipy.

The predictions are real outputs of a randomly initialised tiny model on
the dev slices. Such a model gives nearly the same logits for every input,
so its argmax would be one class everywhere and make the checks trivial.
The tests therefore shift the head's bias to put the decision boundary at
the median logit margin, which splits the predictions between the classes.
"""

from __future__ import annotations

import pytest
import torch
from scipy.stats import pearsonr, spearmanr
from shre_glue.definitions import TASKS
from shre_glue.metrics import build_metrics
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef


def _dev_outputs(task, model, dataset, collate):
    """Run the model over ``dataset`` in batches of 8; yield (outputs, batch)."""
    with torch.no_grad():
        for start in range(0, len(dataset), 8):
            batch = collate([dataset[i] for i in range(start, min(start + 8, len(dataset)))])
            yield model(batch), batch


def _predict(build, name: str):
    """Return (metrics, predictions, labels) of a tiny model on the dev slice of ``glue:<name>``."""
    task, model = build(name)
    model.eval()
    dev = task.dataset("validation", model)
    collate = task.collate_fn("validation", model)

    if task.num_labels == 2:
        logits = torch.cat(
            [outputs["logits"] for outputs, _ in _dev_outputs(task, model, dev, collate)]
        )
        with torch.no_grad():
            model.head.proj.bias[1] -= (logits[:, 1] - logits[:, 0]).median()

    metrics = task.build_metrics("validation")
    predictions, labels = [], []
    for outputs, batch in _dev_outputs(task, model, dev, collate):
        task.update_metrics(metrics, outputs, batch)
        predictions += task.predictions(outputs)
        labels += batch["labels"].tolist()
    values = {key: value.item() for key, value in metrics.compute().items()}
    return values, predictions, labels


@pytest.mark.slow
def test_cola_mcc_matches_sklearn(build):
    values, predictions, labels = _predict(build, "cola")
    assert set(values) == {"mcc"}
    assert len(set(predictions)) == 2, "degenerate predictions would make the check trivial"
    assert values["mcc"] == pytest.approx(matthews_corrcoef(labels, predictions), abs=1e-6)


@pytest.mark.slow
def test_mrpc_f1_and_accuracy_match_sklearn(build):
    values, predictions, labels = _predict(build, "mrpc")
    assert set(values) == {"f1", "accuracy"}
    assert values["f1"] == pytest.approx(f1_score(labels, predictions), abs=1e-6)
    assert values["accuracy"] == pytest.approx(accuracy_score(labels, predictions), abs=1e-6)


@pytest.mark.slow
def test_stsb_correlations_match_scipy(build):
    values, predictions, labels = _predict(build, "stsb")
    assert set(values) == {"pearson", "spearman"}
    assert values["pearson"] == pytest.approx(pearsonr(predictions, labels).statistic, abs=1e-4)
    assert values["spearman"] == pytest.approx(spearmanr(predictions, labels).statistic, abs=1e-4)


@pytest.mark.slow
def test_rte_accuracy_matches_sklearn(build):
    values, predictions, labels = _predict(build, "rte")
    assert set(values) == {"accuracy"}
    assert values["accuracy"] == pytest.approx(accuracy_score(labels, predictions), abs=1e-6)


def test_whole_split_f1_differs_from_batch_mean():
    predictions = torch.tensor([1, 1, 0, 0, 1, 0, 0, 0])
    labels = torch.tensor([1, 0, 0, 0, 1, 1, 1, 1])
    metrics = build_metrics(TASKS["mrpc"])
    metrics.update(predictions[:4], labels[:4])
    metrics.update(predictions[4:], labels[4:])
    whole = metrics.compute()["f1"].item()
    batch_mean = (f1_score(labels[:4], predictions[:4]) + f1_score(labels[4:], predictions[4:])) / 2
    assert whole == pytest.approx(f1_score(labels, predictions))
    assert whole != pytest.approx(batch_mean)


def test_mcc_of_one_class_is_zero():
    metrics = build_metrics(TASKS["cola"])
    metrics.update(torch.ones(10, dtype=torch.long), torch.tensor([1, 0, 1, 1, 0, 1, 1, 1, 0, 1]))
    assert metrics.compute()["mcc"].item() == 0.0


def test_mcc_perfect_is_one():
    labels = torch.tensor([1, 0, 1, 1, 0])
    metrics = build_metrics(TASKS["cola"])
    metrics.update(labels, labels)
    assert metrics.compute()["mcc"].item() == pytest.approx(1.0)


def test_mnli_accuracy_is_three_way():
    metrics = build_metrics(TASKS["mnli"])
    metrics.update(torch.tensor([0, 1, 2, 2]), torch.tensor([0, 1, 1, 2]))
    assert metrics.compute()["accuracy"].item() == pytest.approx(0.75)
