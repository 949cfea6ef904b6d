"""The runtime GLUE task that the engine drives (``glue:cola`` ... ``glue:ax``)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import datasets
import torch
from shre.errors import ConfigError, DataError
from shre.specs import TaskSpec
from shre.task import Task
from torchmetrics import MetricCollection
from transformers import DataCollatorWithPadding

from shre_glue.data import load_examples, tokenise
from shre_glue.definitions import TASKS
from shre_glue.metrics import build_metrics
from shre_glue.submission import write_submission
from shre_glue.tsv import Examples

logger = logging.getLogger(__name__)

DEFAULT_MAX_LENGTH = 256


class GlueTask(Task):
    """One GLUE task: TSV or Hub data, tokenisation, metrics and submission files.

    Options (``config["task_options"]``):
        max_length: maximum encoded length in tokens (default 256, capped
            at the encoder's ``max_length``).
        cache_dir: where tokenised splits are cached; default
            ``<datasets cache>/shre-glue``; ``null`` keeps them in memory only.
    """

    def __init__(self, spec: TaskSpec, config: Mapping[str, Any]) -> None:
        super().__init__(spec, config)
        self.info = TASKS[spec.name]
        self.num_labels = self.info.num_labels
        self.eval_splits = self.info.eval_splits
        self.predict_splits = tuple(self.info.predict_splits)
        self._indices: dict[str, list[int]] = {}
        # Splits read and checked by prepare(), used once by dataset().
        self._examples: dict[str, Examples] = {}

    @property
    def data_dir(self) -> str | None:
        return self.config.get("data", {}).get("dir")

    def prepare(self) -> None:
        """Read and check every TSV split under ``--data-dir`` before any tokenisation.

        Parsing is cheap next to tokenising, so a bad row in ``dev.tsv`` fails
        here instead of after the whole training split is tokenised. Every
        split file present is read. A missing training or evaluation file is
        reported here only when the training file exists, because
        ``shre evaluate`` and ``shre predict`` also call ``prepare()`` with a
        folder that may hold only the split they read. Without a training
        file, a missing file is reported when its split is loaded. Hub data
        is not checked here.

        Raises:
            DataError: the data directory does not exist, or a split file is
                missing or has a bad row (file and line in the message).
        """
        if self.data_dir is None:
            return
        data_dir = Path(self.data_dir)
        if not data_dir.is_dir():
            raise DataError(
                f"data directory {self.data_dir!r} does not exist; pass --data-dir DIR "
                f"holding the GLUE folders, for example {self.info.title}/"
            )

        train_file = self.info.files.get("train")
        has_train_file = train_file is not None and (data_dir / train_file).is_file()
        required = {"train", *self.eval_splits} if has_train_file else set()
        for split, file in self.info.files.items():
            if split not in required and not (data_dir / file).is_file():
                continue
            labelled = split not in self.info.predict_splits
            self._examples[split] = load_examples(self.info, split, data_dir, labelled=labelled)
            logger.info("%s %s: %d rows checked", self.name, split, len(self._examples[split]))

    def dataset(self, split: str, model: torch.nn.Module) -> datasets.Dataset:
        """Return the tokenised ``split``.

        Columns: ``input_ids``, ``token_type_ids``, ``attention_mask`` and, for
        labelled splits, ``labels``.
        """
        self._check_split(split)
        encoder = model.encoders[self.modality]
        labelled = split not in self.info.predict_splits
        examples = self._examples.pop(split, None)
        if examples is None:
            examples = load_examples(self.info, split, self.data_dir, labelled=labelled)
        self._indices[split] = examples.idx

        max_length = min(int(self.option("max_length", DEFAULT_MAX_LENGTH)), encoder.max_length)
        logger.info(
            "%s %s: %d examples, up to %d tokens", self.name, split, len(examples), max_length
        )
        return tokenise(
            examples, encoder.tokenizer, max_length=max_length, cache_dir=self._cache_dir()
        )

    def _check_split(self, split: str) -> None:
        if split in self.info.files:
            return
        if not self.info.trainable:
            raise ConfigError(
                f"glue:{self.info.name} is prediction only: GLUE has no {split} split for it. "
                "Train glue:mnli, then predict its split 'ax': "
                "shre predict --checkpoint MNLI_RUN --split ax"
            )
        splits = ", ".join(self.info.files)
        raise ConfigError(f"task {self.name!r} has no split {split!r}; its splits are {splits}")

    def _cache_dir(self) -> Path | None:
        options = self.config.get("task_options", {})
        if "cache_dir" in options:
            return None if options["cache_dir"] is None else Path(options["cache_dir"])
        return Path(datasets.config.HF_DATASETS_CACHE) / "shre-glue"

    def collate_fn(self, split: str, model: torch.nn.Module) -> Callable[[list[Any]], Any]:
        """Pad each batch to its longest example (``transformers.DataCollatorWithPadding``)."""
        return PaddingCollator(model.encoders[self.modality].tokenizer)

    def build_metrics(self, split: str) -> MetricCollection:
        return build_metrics(self.info)

    def update_metrics(
        self, metrics: MetricCollection, outputs: Mapping[str, Any], batch: Mapping[str, Any]
    ) -> None:
        """Add class ids (argmax of the logits), or scores for STS-B, against the labels."""
        logits = outputs["logits"].detach()
        if self.num_labels == 1:
            predictions = logits.float().reshape(-1)
        else:
            predictions = logits.argmax(dim=-1)
        metrics.update(predictions, batch["labels"])

    def write_predictions(self, split: str, predictions: Sequence[Any], output_dir: Any) -> Path:
        """Write the GLUE server file of ``split`` (``CoLA.tsv``, ``MNLI-m.tsv``, ``AX.tsv``...)."""
        indices = self._indices.get(split)
        if indices is not None and len(indices) != len(predictions):
            indices = None  # the engine predicted a subset; number the rows from 0
        return write_submission(self.info, split, predictions, output_dir, indices)


class PaddingCollator:
    """``DataCollatorWithPadding`` that returns a plain dict of tensors.

    A class rather than a closure so that DataLoader worker processes can pickle it.
    """

    def __init__(self, tokenizer: Any) -> None:
        self.pad = DataCollatorWithPadding(tokenizer, return_tensors="pt")

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        return dict(self.pad(features))


def build_task(spec: TaskSpec, config: Mapping[str, Any]) -> GlueTask:
    """Task factory of every ``glue:*`` task spec."""
    return GlueTask(spec, config)
