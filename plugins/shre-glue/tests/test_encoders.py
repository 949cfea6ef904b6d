"""The BERT text encoders: shre-tiny-text offline, shre-text and hf: from local directories."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import shre
import torch
from shre.errors import ConfigError
from shre_glue.encoders import build_shre_text, build_shre_tiny_text, shipped_tokenizer
from transformers import BertConfig, BertModel


@pytest.fixture(scope="module")
def bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4-layer BERT with the shipped tokenizer, saved with save_pretrained."""
    directory = tmp_path_factory.mktemp("bert")
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=4,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(directory)
    shipped_tokenizer().save_pretrained(directory)
    return directory


def test_shipped_vocab_has_bert_ids():
    tokenizer = shipped_tokenizer()
    assert len(tokenizer) == 30522
    assert tokenizer.convert_tokens_to_ids(["[CLS]", "[SEP]", "the"]) == [101, 102, 1996]


def test_shipped_tokenizer_lowercases():
    tokens = shipped_tokenizer().tokenize("The Cat SAT")
    assert tokens == ["the", "cat", "sat"]


def test_tiny_text_contract():
    encoder = build_shre_tiny_text()
    assert encoder.modality == "text"
    assert encoder.width == 128
    assert encoder.num_prefix_tokens == 1
    assert encoder.num_layers == 2
    assert encoder.max_length == 512
    assert encoder.model.config.num_attention_heads == 2
    assert encoder.model.config.intermediate_size == 512


def test_tiny_text_forward_shape():
    encoder = build_shre_tiny_text()
    batch = encoder.tokenizer(
        ["a short one", "and a somewhat longer sentence"], padding=True, return_tensors="pt"
    )
    hidden = encoder(dict(batch))
    assert hidden.shape == (2, batch["input_ids"].shape[1], 128)


def test_tiny_text_builds_offline_through_registry():
    encoder = shre.get_registry().resolve("encoder", "glue:shre-tiny-text").build()
    assert encoder.width == 128


def test_shre_tiny_model_uses_tiny_text():
    registry = shre.get_registry()
    model = registry.resolve_model("shre-tiny")
    assert registry.encoder_for(model, "text").name == "glue:shre-tiny-text"


def test_encoder_pooler_is_frozen():
    encoder = build_shre_tiny_text()
    assert not any(p.requires_grad for p in encoder.model.pooler.parameters())
    assert all(p.requires_grad for p in encoder.model.encoder.parameters())


def test_layer_id_by_parameter():
    encoder = build_shre_tiny_text()
    ids = {name: encoder.layer_id(name) for name, _ in encoder.named_parameters()}
    assert ids["model.embeddings.word_embeddings.weight"] == 0
    assert ids["model.encoder.layer.0.attention.self.query.weight"] == 1
    assert ids["model.encoder.layer.1.output.dense.bias"] == 2
    assert ids["model.pooler.dense.weight"] == 3


def test_shre_text_keeps_first_layers(bert_dir: Path):
    full = BertModel.from_pretrained(bert_dir)
    encoder = build_shre_text(pretrained=str(bert_dir), num_layers=2)
    assert encoder.num_layers == 2
    assert len(encoder.model.encoder.layer) == 2
    assert encoder.pretrained
    first = full.encoder.layer[1].output.dense.weight
    assert torch.equal(encoder.model.encoder.layer[1].output.dense.weight, first)
    assert torch.equal(encoder.model.pooler.dense.weight, full.pooler.dense.weight)


def test_shre_text_too_many_layers(bert_dir: Path):
    with pytest.raises(ConfigError) as error:
        build_shre_text(pretrained=str(bert_dir), num_layers=6)
    assert "has 4 layers" in str(error.value)


def test_shre_text_offline_error_says_what_to_do(tmp_path: Path):
    with pytest.raises(ConfigError) as error:
        build_shre_text(pretrained=str(tmp_path / "absent"))
    assert "--model shre-tiny" in str(error.value)
    assert "encoder_options.pretrained=DIR" in str(error.value)
    assert ".." not in str(error.value)


def test_hf_encoder_from_local_dir(bert_dir: Path, build):
    task, model = build("rte", encoder_options={}, model=f"hf:{bert_dir}")
    dataset = task.dataset("validation", model)
    batch = task.collate_fn("validation", model)([dataset[i] for i in range(3)])
    outputs = model(batch)
    assert model.encoder.width == 32
    assert outputs["logits"].shape == (3, 2)


def test_plugin_import_skips_torch():
    code = (
        "import sys, shre; shre.get_registry().resolve('task', 'glue:cola'); "
        "print('torch' in sys.modules, 'transformers' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "False"]
