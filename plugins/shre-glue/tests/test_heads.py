"""The bert-pooler and the GLUE heads."""

from __future__ import annotations

import shre
import torch
from shre_glue.encoders import build_shre_tiny_text
from shre_glue.heads import BertPooler, RobertaHead


def test_bert_pooler_copies_pretrained_pooler():
    encoder = build_shre_tiny_text()
    encoder.pretrained = True
    pooler = BertPooler(128, encoder)
    assert pooler.initialised_from_encoder
    assert torch.equal(pooler.dense.weight, encoder.model.pooler.dense.weight)
    assert pooler.dense.weight.requires_grad


def test_bert_pooler_random_encoder_not_copied():
    encoder = build_shre_tiny_text()
    pooler = BertPooler(128, encoder)
    assert not pooler.initialised_from_encoder
    assert not torch.equal(pooler.dense.weight, encoder.model.pooler.dense.weight)


def test_bert_pooler_uses_cls_token():
    pooler = BertPooler(8, dropout=0.0).eval()
    hidden = torch.randn(3, 5, 8)
    changed = hidden.clone()
    changed[:, 1:] = 0.0
    assert torch.equal(pooler(hidden), pooler(changed))
    assert torch.allclose(pooler(hidden), torch.tanh(pooler.dense(hidden[:, 0])))


def test_roberta_head_shapes():
    head = RobertaHead(16, 3)
    assert head(torch.randn(4, 16)).shape == (4, 3)


def test_roberta_head_regression_shape():
    head = RobertaHead(16, 1)
    assert head(torch.randn(4, 16)).shape == (4, 1)


def test_linear_head_available():
    head = shre.get_registry().resolve("head", "linear").build(width=16, num_outputs=2, dropout=0.1)
    assert head(torch.randn(4, 16)).shape == (4, 2)


def test_task_model_composition(build):
    task, model = build("stsb")
    assert isinstance(model.pooler, BertPooler)
    assert isinstance(model.head, RobertaHead)
    assert model.head.proj.out_features == 1
    assert model.pooler.dropout.p == 0.1


def test_linear_head_selected_by_config(build):
    _, model = build("cola", components={"head": "linear"})
    assert model.head.proj.out_features == 2
    assert not isinstance(model.head, RobertaHead)
