"""R@k, median rank and random baselines on hand-made and random features."""

import math

import pytest
import torch
import torch.nn.functional as F
from shre_distill.metrics import RetrievalMetric
from shre_distill.retrieval import median_rank, random_recall_at_k, recall_at_k


def brute_force_recall(similarity, text_image_index, ks=(1, 5, 10)):
    """Rank every row fully with argsort and check hits one by one."""
    num_images, num_texts = similarity.shape
    results = {}
    for k in ks:
        hits = 0
        for image in range(num_images):
            order = similarity[image].argsort(descending=True)[:k].tolist()
            hits += any(text_image_index[text] == image for text in order)
        results[f"i2t_r{k}"] = 100.0 * hits / num_images
        hits = 0
        for text in range(num_texts):
            order = similarity[:, text].argsort(descending=True)[:k].tolist()
            hits += text_image_index[text].item() in order
        results[f"t2i_r{k}"] = 100.0 * hits / num_texts
    return results


def test_recall_on_hand_made_similarities():
    # Image j's score for a text is the text's j-th entry (image features are one-hot).
    image_features = torch.eye(3)
    text_features = torch.tensor(
        [
            [0.9, 0.2, 0.0],  # image 0: image 0's best text
            [0.1, 0.8, 0.0],  # image 0: but image 1's best text, and closest to image 1
            [0.0, 0.3, 0.7],  # image 1: closest to image 2, image 1 second
            [0.0, 0.1, 0.6],  # image 1: closest to image 2, image 1 second
            [0.0, 0.0, 0.95],  # image 2: image 2's best text
            [0.5, 0.0, 0.2],  # image 2: closest to image 0, image 2 second
        ]
    )
    index = torch.tensor([0, 0, 1, 1, 2, 2])
    results = recall_at_k(image_features, text_features, index, ks=(1, 2), chunk_size=2)
    assert results["i2t_r1"] == pytest.approx(100.0 * 2 / 3)
    assert results["t2i_r1"] == pytest.approx(100.0 * 2 / 6)
    assert results["i2t_r2"] == pytest.approx(100.0)
    assert results["t2i_r2"] == pytest.approx(100.0)


def test_recall_matches_brute_force():
    generator = torch.Generator().manual_seed(0)
    images = F.normalize(torch.randn(40, 16, generator=generator), dim=-1)
    index = torch.arange(40).repeat_interleave(5)
    texts = F.normalize(images[index] + 1.5 * torch.randn(200, 16, generator=generator), dim=-1)
    fast = recall_at_k(images, texts, index, chunk_size=7)
    slow = brute_force_recall(images @ texts.T, index)
    for key, value in slow.items():
        assert fast[key] == pytest.approx(value), key


def test_recall_mean_is_average_of_six():
    images = F.normalize(torch.randn(10, 4), dim=-1)
    texts = F.normalize(torch.randn(20, 4), dim=-1)
    results = recall_at_k(images, texts, torch.arange(10).repeat_interleave(2))
    six = [results[f"{d}_r{k}"] for d in ("i2t", "t2i") for k in (1, 5, 10)]
    assert results["mean_recall"] == pytest.approx(sum(six) / 6)


def test_random_t2i_baseline_is_k_over_n():
    baseline = random_recall_at_k(1000, 5)
    assert baseline["t2i_r5"] == pytest.approx(0.5)


def test_random_baseline_image_to_text_is_hypergeometric():
    baseline = random_recall_at_k(10, 2, ks=(1,))
    # one of 2 captions among 20 texts is the random top 1 with probability 2/20.
    assert baseline["i2t_r1"] == pytest.approx(10.0)
    assert random_recall_at_k(10, 2, ks=(3,))["i2t_r3"] == pytest.approx(
        100 * (1 - math.comb(18, 3) / math.comb(20, 3))
    )


def test_median_rank_is_one_for_perfect_pairs():
    images = torch.eye(8)
    ranks = median_rank(images, [images[i : i + 1] for i in range(8)], chunk_images=4)
    assert ranks["median_rank_i2t"] == 1.0
    assert ranks["median_rank_t2i"] == 1.0
    assert ranks["median_rank_chunks"] == 2.0


def test_median_rank_counts_one_based_ranks():
    # Caption i of image i is the reversed order's i-th: image 0's true caption ranks last.
    images = torch.eye(3)
    captions = [
        torch.tensor([[0.0, 0.0, 1.0]]),
        torch.tensor([[0.0, 1.0, 0.0]]),
        torch.tensor([[1.0, 0.0, 0.0]]),
    ]
    # Image 0 vs caption 0 scores 0 and image 0 vs caption 2 scores 1: rank 2 (one better).
    ranks = median_rank(images, captions, chunk_images=3)
    # i2t ranks: image 0 -> 2, image 1 -> 1, image 2 -> 2; median 2.
    assert ranks["median_rank_i2t"] == 2.0


def test_median_rank_averages_repetitions_over_captions():
    images = torch.eye(2)
    # Repetition 0 uses perfect captions (ranks 1, 1); repetition 1 swaps them (ranks 2, 2).
    captions = [torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([[0.0, 1.0], [1.0, 0.0]])]
    ranks = median_rank(images, captions, chunk_images=2)
    assert ranks["median_rank_i2t"] == pytest.approx(1.5)


def test_median_rank_random_near_half_chunk():
    generator = torch.Generator().manual_seed(0)
    images = F.normalize(torch.randn(1000, 32, generator=generator), dim=-1)
    captions = [F.normalize(torch.randn(2, 32, generator=generator), dim=-1) for _ in range(1000)]
    ranks = median_rank(images, captions)
    assert 400 < ranks["median_rank_i2t"] < 600


def test_median_rank_drops_partial_chunk():
    images = torch.eye(5)
    ranks = median_rank(images, [images[i : i + 1] for i in range(5)], chunk_images=2)
    assert ranks["median_rank_chunks"] == 2.0


def test_retrieval_metric_drops_repeated_images():
    generator = torch.Generator().manual_seed(1)
    images = torch.randn(6, 8, generator=generator)
    texts = images.repeat_interleave(2, dim=0) + 0.1 * torch.randn(12, 8, generator=generator)
    ids = torch.arange(6) * 10
    text_ids = ids.repeat_interleave(2)
    caption_index = torch.tensor([0, 1] * 6)

    once = RetrievalMetric(layers=("proj",))
    once.update({"proj": images}, {"proj": texts}, ids, text_ids, caption_index)
    twice = RetrievalMetric(layers=("proj",))
    twice.update({"proj": images}, {"proj": texts}, ids, text_ids, caption_index)
    twice.update(
        {"proj": images[:2]}, {"proj": texts[:4]}, ids[:2], text_ids[:4], caption_index[:4]
    )

    first, second = once.compute(), twice.compute()
    assert second["num_images"] == 6.0
    assert second["num_texts"] == 12.0
    assert second["proj_mean_recall"] == pytest.approx(first["proj_mean_recall"])


def test_retrieval_metric_names_layer_and_baseline():
    metric = RetrievalMetric(layers=("proj", "logits"))
    features = torch.eye(4)
    metric.update(
        {"proj": features, "logits": features},
        {"proj": features, "logits": features},
        torch.arange(4),
        torch.arange(4),
        torch.zeros(4, dtype=torch.long),
    )
    results = metric.compute()
    assert results["proj_i2t_r1"] == 100.0
    assert results["logits_t2i_r1"] == 100.0
    assert results["random_t2i_r1"] == pytest.approx(25.0)
    assert results["proj_median_rank_i2t"] == 1.0
