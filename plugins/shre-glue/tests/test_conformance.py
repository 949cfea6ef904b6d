"""The shre conformance kit (``shre.testing``) on the glue plugin."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def tiny_bert_dir(tmp_path_factory):
    """A 1-layer, width-32 BERT with the shipped uncased tokenizer, saved like a Hub checkpoint."""
    from shre_glue.encoders import shipped_tokenizer
    from transformers import BertConfig, BertModel

    tokenizer = shipped_tokenizer()
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    directory = tmp_path_factory.mktemp("tiny-bert")
    BertModel(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


@pytest.mark.slow
def test_glue_plugin_conforms(shre_conformance, tiny_bert_dir):
    report = shre_conformance(
        "shre_glue.plugin",
        name="glue",
        # shre-text loads a saved BERT, so a 1-layer one replaces bert-base-uncased.
        tiny_options={"encoder:shre-text": {"pretrained": str(tiny_bert_dir), "num_layers": 1}},
    )

    skipped = [result.line() for result in report.results if result.passed is None]
    assert skipped == []
