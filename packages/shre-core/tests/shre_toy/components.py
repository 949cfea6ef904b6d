"""Components of the ``toy`` test plugin: a tiny BERT encoder and the parity task."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from shre.hf import HFEncoder
from shre.task import Task
from torch import nn
from torch.nn import functional as F
from torchmetrics import MetricCollection
from torchmetrics.classification import MulticlassAccuracy, MulticlassMatthewsCorrCoef
from transformers import BertConfig, BertModel

VOCAB_SIZE = 100
SEQUENCE_LENGTH = 12
SPLIT_SEEDS = {"train": 1, "validation": 2, "test": 3}


class TinyBertEncoder(HFEncoder):
    """``HFEncoder`` over a 2-layer BERT, with ``num_layers``/``layer_id`` for layer decay."""

    def __init__(self, model: BertModel) -> None:
        super().__init__(model, None, max_length=SEQUENCE_LENGTH)
        self.num_layers = model.config.num_hidden_layers

    def layer_id(self, name: str) -> int:
        if name.startswith("model.embeddings."):
            return 0
        if name.startswith("model.encoder.layer."):
            return int(name.split(".")[3]) + 1
        return self.num_layers + 1


def build_encoder(
    hidden_size: int = 32, num_hidden_layers: int = 2, dropout: float = 0.1
) -> TinyBertEncoder:
    config = BertConfig(
        hidden_dropout_prob=dropout,
        attention_probs_dropout_prob=dropout,
        vocab_size=VOCAB_SIZE,
        hidden_size=hidden_size,
        num_hidden_layers=num_hidden_layers,
        num_attention_heads=2,
        intermediate_size=2 * hidden_size,
        max_position_embeddings=32,
    )
    return TinyBertEncoder(BertModel(config, add_pooling_layer=False))


class NanAfterLoss(nn.Module):
    """Cross-entropy until call ``calls``, NaN from then on (counts training calls only)."""

    def __init__(self, calls: int = 3) -> None:
        super().__init__()
        self.calls = calls
        self.seen = 0

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        loss = F.cross_entropy(logits, labels)
        if self.training:
            self.seen += 1
            if self.seen >= self.calls:
                return loss * float("nan")
        return loss


def make_examples(split: str, size: int) -> list[dict[str, torch.Tensor]]:
    """Deterministic examples: random tokens; label 1 when the first token is below 50."""
    generator = torch.Generator().manual_seed(SPLIT_SEEDS[split])
    tokens = torch.randint(5, VOCAB_SIZE, (size, SEQUENCE_LENGTH), generator=generator)
    examples = []
    for row in tokens:
        example = {"input_ids": row, "attention_mask": torch.ones_like(row)}
        if split != "test":
            example["labels"] = torch.tensor(int(row[0] < 50))
        examples.append(example)
    return examples


class ParityTask(Task):
    """Synthetic binary task; sizes come from ``task_options`` (``train_size``, ``eval_size``)."""

    eval_splits = ("validation",)
    predict_splits = ("test",)

    def dataset(self, split: str, model: nn.Module) -> list[dict[str, torch.Tensor]]:
        size = self.option("train_size", 64) if split == "train" else self.option("eval_size", 37)
        return make_examples(split, size)

    def build_metrics(self, split: str) -> MetricCollection:
        return MetricCollection(
            {
                "accuracy": MulticlassAccuracy(num_classes=2, average="micro"),
                "mcc": MulticlassMatthewsCorrCoef(num_classes=2),
            }
        )

    def write_predictions(self, split: str, predictions: Sequence[Any], output_dir: Any) -> Path:
        path = Path(output_dir) / f"{split}.tsv"
        with path.open("w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream, delimiter="\t")
            writer.writerow(["index", "prediction"])
            writer.writerows(enumerate(predictions))
        return path
