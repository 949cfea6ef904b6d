"""SHRe loss parts against computations written out independently here."""

import math

import pytest
import torch
from shre_distill.losses import INIT_LOGIT_SCALE, SHReLoss, clip_loss, kd_loss
from shre_distill.shared import LAYER_NAMES, SharedMLP


def reference_kl(teacher_logits, student_logits):
    """KL(p_teacher || p_student) summed over classes, averaged over the batch."""
    p = torch.softmax(teacher_logits.double(), dim=-1)
    q = torch.softmax(student_logits.double(), dim=-1)
    return (p * (p.log() - q.log())).sum(dim=-1).mean()


def reference_clip(image, text, scale):
    """Symmetric CLIP loss written as explicit per-row cross-entropies."""
    image = image.double() / image.double().norm(dim=-1, keepdim=True)
    text = text.double() / text.double().norm(dim=-1, keepdim=True)
    similarity = scale * image @ text.T
    rows = -torch.stack([similarity[i].log_softmax(-1)[i] for i in range(len(image))]).mean()
    columns = -torch.stack([similarity[:, i].log_softmax(-1)[i] for i in range(len(image))]).mean()
    return (rows + columns) / 2


def make_outputs(batch_size=6, width=8, classes=5, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return {
        "hidden": torch.randn(batch_size, 4 * width, generator=generator),
        "proj": torch.randn(batch_size, width, generator=generator),
        "logits": torch.randn(batch_size, classes, generator=generator),
    }


def test_kd_loss_matches_reference_kl():
    teacher, student = torch.randn(4, 7), torch.randn(4, 7)
    assert kd_loss(student, teacher).item() == pytest.approx(
        reference_kl(teacher, student).item(), abs=1e-6
    )


def test_kd_loss_is_zero_for_equal_distributions():
    logits = torch.randn(3, 5)
    assert kd_loss(logits + 2.0, logits).item() == pytest.approx(0.0, abs=1e-6)


def test_kd_loss_runs_in_fp32_for_half_inputs():
    teacher, student = torch.randn(4, 7), torch.randn(4, 7)
    assert kd_loss(student.bfloat16(), teacher.bfloat16()).dtype == torch.float32


def test_clip_loss_matches_reference():
    image, text = torch.randn(5, 6), torch.randn(5, 6)
    loss, _, _ = clip_loss(image, text, torch.tensor(14.0))
    assert loss.item() == pytest.approx(reference_clip(image, text, 14.0).item(), abs=1e-5)


def test_clip_accuracy_is_one_for_identical_features():
    features = torch.eye(4)
    _, accuracy_i2t, accuracy_t2i = clip_loss(features, features, torch.tensor(10.0))
    assert accuracy_i2t.item() == 1.0
    assert accuracy_t2i.item() == 1.0


def test_shre_loss_weights_half_kd_and_third_itc():
    image, text = make_outputs(seed=1), make_outputs(seed=2)
    teacher = torch.randn(6, 5)
    parts = SHReLoss()(image, text, teacher)

    expected_kd = 0.5 * reference_kl(teacher, image["logits"]) + 0.5 * reference_kl(
        teacher, text["logits"]
    )
    scale = math.exp(INIT_LOGIT_SCALE)
    per_layer = [reference_clip(image[name], text[name], scale) for name in LAYER_NAMES]
    expected_itc = sum(per_layer) / 3

    assert parts["kd_loss"].item() == pytest.approx(expected_kd.item(), abs=1e-5)
    assert parts["itc_loss"].item() == pytest.approx(expected_itc.item(), abs=1e-5)
    assert parts["loss"].item() == pytest.approx((expected_kd + expected_itc).item(), abs=1e-5)
    for name, expected in zip(LAYER_NAMES, per_layer, strict=True):
        assert parts[f"itc_loss_{name}"].item() == pytest.approx(expected.item(), abs=1e-5)


def test_shre_loss_reports_every_named_part():
    parts = SHReLoss()(make_outputs(seed=1), make_outputs(seed=2), torch.randn(6, 5))
    expected = {
        "loss",
        "kd_loss",
        "kd_image_loss",
        "kd_text_loss",
        "itc_loss",
        "itc_loss_hidden",
        "itc_loss_proj",
        "itc_loss_logits",
        "itc_accuracy_i2t",
        "itc_accuracy_t2i",
        "logit_scale_hidden",
        "logit_scale_proj",
        "logit_scale_logits",
    }
    assert set(parts) == expected


def test_logit_scale_starts_at_temperature_0_07():
    loss = SHReLoss()
    assert torch.allclose(loss.logit_scale.exp(), torch.full((3,), 1 / 0.07))


def test_logit_scale_is_clamped_to_100():
    loss = SHReLoss()
    with torch.no_grad():
        loss.logit_scale.fill_(6.0)
    image, text = make_outputs(seed=3), make_outputs(seed=4)
    parts = loss(image, text, None)
    assert parts["logit_scale_proj"].item() == pytest.approx(100.0, rel=1e-5)
    expected = reference_clip(image["proj"], text["proj"], 100.0)
    assert parts["itc_loss_proj"].item() == pytest.approx(expected.item(), abs=1e-4)


def test_logit_scale_gets_gradient():
    loss = SHReLoss()
    loss(make_outputs(seed=5), make_outputs(seed=6), torch.randn(6, 5))["loss"].backward()
    assert loss.logit_scale.grad is not None
    assert loss.logit_scale.grad.abs().min().item() > 0


def test_shared_mlp_returns_three_widths():
    outputs = SharedMLP(width=16, num_outputs=10)(torch.randn(3, 16))
    assert outputs["hidden"].shape == (3, 64)
    assert outputs["proj"].shape == (3, 16)
    assert outputs["logits"].shape == (3, 10)


def test_shared_mlp_hidden_is_pre_activation():
    mlp = SharedMLP(width=8, num_outputs=4)
    tokens = torch.randn(2, 8)
    assert torch.allclose(mlp(tokens)["hidden"], mlp.fc1(tokens))


def test_shared_mlp_uses_bert_init():
    mlp = SharedMLP(width=128, num_outputs=1000)
    assert mlp.fc1.weight.std().item() == pytest.approx(0.02, rel=0.05)
    assert mlp.head.bias.abs().max().item() == 0.0
    assert mlp.norm1.eps == 1e-6
