"""GLUE splits as tokenised ``datasets.Dataset`` objects.

Data comes from ``--data-dir`` (the standard GLUE TSV folders) when one is
given, else from the Hugging Face Hub dataset ``nyu-mll/glue``. Sentence
pairs are encoded together as ``[CLS] A [SEP] B [SEP]`` with token-type ids
0 for A and 1 for B, and truncated with ``longest_first``. Padding happens
per batch, in the collate function.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import datasets
from datasets.fingerprint import Hasher
from shre.errors import DataError
from transformers import PreTrainedTokenizerBase

from shre_glue.definitions import HUB_DATASET, GlueTaskInfo, hub_location
from shre_glue.tsv import Examples, expected_layout, read_split

logger = logging.getLogger(__name__)


def load_examples(
    info: GlueTaskInfo, split: str, data_dir: str | Path | None, *, labelled: bool
) -> Examples:
    """Read ``split`` from ``data_dir`` or, without one, from the Hub.

    Raises:
        DataError: a bad or missing TSV file, or no ``data_dir`` while the
            Hub cannot be reached.
    """
    if data_dir is not None:
        return read_split(info, split, data_dir, labelled=labelled)
    return _load_hub_examples(info, split, labelled=labelled)


def _load_hub_examples(info: GlueTaskInfo, split: str, *, labelled: bool) -> Examples:
    config_name, hub_split = hub_location(info, split)
    try:
        table = datasets.load_dataset(HUB_DATASET, config_name, split=hub_split)
    except (OSError, ValueError, datasets.exceptions.DatasetNotFoundError) as error:
        raise DataError(
            f"cannot load {HUB_DATASET!r} ({config_name}, {hub_split}) from the Hugging Face "
            f"Hub: {error}. To work offline, pass --data-dir DIR holding the standard GLUE "
            f"TSV folders ({expected_layout(info)}), as download_glue_data.py writes them"
        ) from error

    text_a = list(table[info.hub_text_columns[0]])
    text_b = list(table[info.hub_text_columns[1]]) if info.is_pair else None
    labels = list(table["label"]) if labelled else None
    return Examples(text_a, text_b, labels, list(table["idx"]))


def tokenise(
    examples: Examples,
    tokenizer: PreTrainedTokenizerBase,
    *,
    max_length: int,
    cache_dir: str | Path | None = None,
) -> datasets.Dataset:
    """Build a dataset of ``input_ids``, ``token_type_ids``, ``attention_mask`` and ``labels``.

    Args:
        examples: the rows of one split.
        tokenizer: the encoder's tokenizer.
        max_length: maximum encoded length in tokens, special tokens included.
        cache_dir: where ``datasets`` keeps the tokenised split; ``None``
            keeps it in memory. The cache file name is a hash of the rows,
            the tokenizer and ``max_length``, so a change to any of them
            tokenises again.
    """
    columns: dict[str, list[Any]] = {"text_a": examples.text_a}
    if examples.text_b is not None:
        columns["text_b"] = examples.text_b
    if examples.labels is not None:
        columns["labels"] = examples.labels
    table = datasets.Dataset.from_dict(columns)

    cache_file = None
    if cache_dir is not None:
        fingerprint = Hasher.hash([columns, tokenizer, max_length])
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        cache_file = str(Path(cache_dir) / f"glue-{fingerprint}.arrow")

    return table.map(
        _encode,
        batched=True,
        fn_kwargs={"tokenizer": tokenizer, "max_length": max_length},
        remove_columns=[name for name in ("text_a", "text_b") if name in columns],
        cache_file_name=cache_file,
        desc="Tokenising",
    )


def _encode(
    batch: dict[str, list[Any]], *, tokenizer: PreTrainedTokenizerBase, max_length: int
) -> Any:
    return tokenizer(
        batch["text_a"],
        batch.get("text_b"),
        truncation="longest_first",
        max_length=max_length,
        return_token_type_ids=True,
    )
