"""Loading splits from the Hub dataset ``nyu-mll/glue``, with a stub ``load_dataset``."""

from __future__ import annotations

import datasets
import pytest
from shre_glue import data
from shre_glue.definitions import TASKS


@pytest.fixture
def hub_requests(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str]]:
    """Serve two MNLI-style rows (Hub column names) and record each request."""
    requests: list[tuple[str, str, str]] = []

    def load_dataset(path: str, name: str, split: str) -> datasets.Dataset:
        requests.append((path, name, split))
        return datasets.Dataset.from_dict(
            {
                "premise": ["A man sleeps.", "It is day."],
                "hypothesis": ["A man naps.", "It is night."],
                "label": [0, -1] if split.startswith("test") else [0, 2],
                "idx": [0, 1],
            }
        )

    monkeypatch.setattr(data.datasets, "load_dataset", load_dataset)
    return requests


def test_hub_mnli_columns_mapped(hub_requests):
    examples = data.load_examples(TASKS["mnli"], "validation_matched", None, labelled=True)
    assert hub_requests == [("nyu-mll/glue", "mnli", "validation_matched")]
    assert examples.text_a == ["A man sleeps.", "It is day."]
    assert examples.text_b == ["A man naps.", "It is night."]
    assert examples.labels == [0, 2]


def test_hub_test_split_drops_labels(hub_requests):
    examples = data.load_examples(TASKS["mnli"], "test_matched", None, labelled=False)
    assert examples.labels is None
    assert examples.idx == [0, 1]


def test_hub_ax_split_of_mnli(hub_requests):
    data.load_examples(TASKS["mnli"], "ax", None, labelled=False)
    assert hub_requests == [("nyu-mll/glue", "ax", "test")]
