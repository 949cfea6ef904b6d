"""The shre conformance kit (``shre.testing``) on the vision plugin."""

from __future__ import annotations

import pytest

# Random weights, 32 px, one block and width 64 keep every encoder tiny and
# download-free; depth and embed_dim go to timm.create_model.
TINY_VIT = {
    "pretrained": False,
    "img_size": 32,
    "depth": 1,
    "num_blocks": 1,
    "embed_dim": 64,
    "num_heads": 2,
}
TINY_OPTIONS = {
    "encoder:timm": {"argument": "vit_tiny_patch16_224", **TINY_VIT},
    "encoder:shre-image": TINY_VIT,
}


@pytest.mark.slow
def test_vision_plugin_conforms(shre_conformance):
    report = shre_conformance("shre_vision.plugin", name="vision", tiny_options=TINY_OPTIONS)

    skipped = [result.line() for result in report.results if result.passed is None]
    assert skipped == []
