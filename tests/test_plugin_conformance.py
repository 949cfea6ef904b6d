"""The conformance kit finds each broken contract it promises to find."""

from __future__ import annotations

import textwrap

import pytest
import shre
import torch
from shre.specs import EncoderSpec, HeadSpec, LossSpec, PoolerSpec
from shre.testing import check_plugin
from torch import nn


class WrongShapePooler(nn.Module):
    """Returns (B, T, D) instead of (B, D)."""

    def __init__(self, width: int, encoder: nn.Module | None = None) -> None:
        super().__init__()

    def forward(self, hidden, attention_mask=None):
        return hidden


class TransposedHead(nn.Module):
    """Returns (C, B) instead of (B, C)."""

    def __init__(self, width: int, num_outputs: int) -> None:
        super().__init__()
        self.proj = nn.Linear(width, num_outputs)

    def forward(self, pooled):
        return self.proj(pooled).T


class DetachedLoss(nn.Module):
    """A scalar that no gradient flows through."""

    def forward(self, logits, labels):
        return logits.detach().mean()


class TinyTextEncoder(nn.Module):
    """A real (embedding-only) text encoder: (B, T) ids to (B, T, 8)."""

    modality = "text"
    width = 8
    num_prefix_tokens = 1

    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(100, self.width)

    def forward(self, batch):
        return self.embedding(batch["input_ids"])


class GoodPlugin:
    SHRE_API_VERSION = "1.0"

    @shre.hookimpl
    def shre_encoders(self):
        return [
            EncoderSpec(name="tiny", factory=TinyTextEncoder, modality="text", width=8),
            EncoderSpec(name="any", factory=TinyTextEncoder, parametric=True, modality="any"),
        ]

    @shre.hookimpl
    def shre_poolers(self):
        return [PoolerSpec(name="cls", factory="shre.components:ClsPooler")]


class BrokenPlugin:
    SHRE_API_VERSION = "1.0"

    @shre.hookimpl
    def shre_poolers(self):
        return [
            PoolerSpec(name="flat", factory=WrongShapePooler),
            PoolerSpec(name="flat", factory=WrongShapePooler),
        ]

    @shre.hookimpl
    def shre_heads(self):
        return [
            HeadSpec(name="transposed", factory=TransposedHead),
            PoolerSpec(name="x", factory=nn.Identity),
        ]

    @shre.hookimpl
    def shre_losses(self):
        return [LossSpec(name="detached", factory=DetachedLoss)]


def failed_checks(report) -> dict[str, str]:
    return {f"{result.component}: {result.check}": result.message for result in report.problems}


def test_good_plugin_has_no_problems():
    report = check_plugin(GoodPlugin(), name="good")

    assert report.problems == []


def test_parametric_encoder_without_options_is_skipped():
    report = check_plugin(GoodPlugin(), name="good")
    skipped = [result.component for result in report.results if result.passed is None]

    assert skipped == ["encoder good:any"]


def test_tiny_options_none_skips_component():
    report = check_plugin(GoodPlugin(), name="good", tiny_options={"encoder:tiny": None})
    skipped = {result.component for result in report.results if result.passed is None}

    assert "encoder good:tiny" in skipped


@pytest.fixture(scope="module")
def broken_report():
    return check_plugin(BrokenPlugin(), name="broken")


def test_pooler_wrong_shape_is_reported(broken_report):
    message = failed_checks(broken_report)["pooler broken:flat: meets its contract"]

    assert "expected (B, D)" in message


def test_duplicate_names_are_reported(broken_report):
    message = failed_checks(broken_report)["broken: shre_poolers names are unique"]

    assert "flat" in message


def test_wrong_spec_type_is_reported(broken_report):
    message = failed_checks(broken_report)["broken: shre_heads returns HeadSpec"]

    assert "PoolerSpec" in message


def test_head_wrong_shape_is_reported(broken_report):
    message = failed_checks(broken_report)["head broken:transposed: meets its contract"]

    assert "expected (B, C)" in message


def test_loss_without_gradient_is_reported(broken_report):
    message = failed_checks(broken_report)["loss broken:detached: meets its contract"]

    assert "no gradient flows" in message


def test_assert_ok_lists_every_problem(broken_report):
    with pytest.raises(AssertionError) as raised:
        broken_report.assert_ok()

    assert str(raised.value).count("FAILED") == len(broken_report.problems)


def test_unknown_hook_argument_is_reported():
    class MisspeltPlugin:
        SHRE_API_VERSION = "1.0"

        @shre.hookimpl
        def shre_on_step_end(self, trainer, stepp):
            pass

    report = check_plugin(MisspeltPlugin(), name="misspelt")

    assert "stepp" in failed_checks(report)["misspelt: hook implementations"]


def test_incompatible_api_version_is_reported():
    class FuturePlugin:
        SHRE_API_VERSION = "2.0"

    report = check_plugin(FuturePlugin(), name="future")

    assert "future: api version" in failed_checks(report)


@pytest.mark.slow
def test_module_importing_torch_is_reported(tmp_path, monkeypatch):
    (tmp_path / "heavy_plugin.py").write_text(
        textwrap.dedent(
            """
            import torch

            SHRE_API_VERSION = "1.0"
            """
        ),
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))

    report = check_plugin("heavy_plugin")
    message = failed_checks(report)["heavy_plugin: imports without heavy modules"]

    assert "torch" in message


def test_tiny_text_encoder_batch_runs():
    # The generated batch for an encoder without a tokenizer uses ids below 100.
    from shre.testing.shapes import encoder_batch

    batch = encoder_batch(TinyTextEncoder())

    assert int(batch["input_ids"].max()) < 100
    assert batch["input_ids"].dtype == torch.long
