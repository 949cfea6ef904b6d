"""The shre conformance kit (``shre.testing``) on the distill plugin."""

from __future__ import annotations

# The shared MLP returns its three layer outputs as a dict rather than
# logits (B, C), and the SHRe loss needs teacher logits besides the labels.
# Neither fits the generic head and loss contracts, so their own tests cover them.
TINY_OPTIONS = {"head:shre-mlp": None, "loss:shre": None}


def test_distill_plugin_conforms(shre_conformance):
    shre_conformance("shre_distill.plugin", name="distill", tiny_options=TINY_OPTIONS)
