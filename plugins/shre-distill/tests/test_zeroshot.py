"""Zero-shot classifier from prompts and the zero-shot accuracy metric."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from shre_distill.data.zeroshot import LabelledImages, read_class_names
from shre_distill.metrics import ZeroShotAccuracy
from shre_distill.templates import OPENAI_IMAGENET_TEMPLATES
from shre_distill.zeroshot import encode_class_prompts


def test_openai_templates_are_80_distinct():
    assert len(set(OPENAI_IMAGENET_TEMPLATES)) == 80


def test_classifier_is_mean_of_normalised_prompts(tiny_task_and_model):
    _, model = tiny_task_and_model
    model.eval()
    tokenizer = model.encoders["text"].tokenizer
    templates = ("a photo of a {}.", "itap of a {}.")
    classifier = encode_class_prompts(model, tokenizer, ["dog", "cat"], templates, "proj")

    tokens = tokenizer(
        ["a photo of a cat.", "itap of a cat."],
        padding="max_length",
        max_length=64,
        truncation=True,
        return_tensors="pt",
    )
    with torch.no_grad():
        prompts = F.normalize(model.encode_text(dict(tokens))["proj"], dim=-1)
    expected = F.normalize(prompts.mean(dim=0), dim=-1)
    assert classifier.shape == (2, 128)
    assert torch.allclose(classifier[1], expected, atol=1e-5)


def test_zeroshot_accuracy_counts_top1_and_top2():
    classifier = torch.eye(6)
    metric = ZeroShotAccuracy(lambda: classifier, ks=(1, 2))
    images = torch.eye(6)[[0, 1, 2, 3]]
    images[2, 5] = 0.5  # image 2 ranks class 2 first and class 5 second
    metric.update(images, torch.tensor([0, 1, 5, 3]))
    results = metric.compute()
    assert results["zeroshot_top1"] == pytest.approx(75.0)
    assert results["zeroshot_top2"] == pytest.approx(100.0)


def test_zeroshot_builds_classifier_once_per_evaluation():
    calls = []

    def build():
        calls.append(1)
        return torch.eye(2)

    metric = ZeroShotAccuracy(build)
    metric.update(torch.eye(2), torch.tensor([0, 1]))
    metric.update(torch.eye(2), torch.tensor([0, 1]))
    metric.reset()
    metric.update(torch.eye(2), torch.tensor([0, 1]))
    assert len(calls) == 2


def test_labelled_images_reads_npz(tmp_path):
    images = np.zeros((3, 8, 8, 3), dtype=np.uint8)
    np.savez(tmp_path / "test.npz", images=images, labels=np.array([0, 1, 1]))
    (tmp_path / "classes.txt").write_text("dog\ncat\n")
    dataset = LabelledImages(tmp_path, "test", lambda image: torch.zeros(3, 4, 4), 2)
    assert read_class_names(tmp_path) == ["dog", "cat"]
    assert dataset[2]["label"] == 1
    assert isinstance(Image.fromarray(images[0]), Image.Image)
