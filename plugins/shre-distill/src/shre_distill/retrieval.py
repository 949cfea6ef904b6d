"""Image-text retrieval scores: R@k in both directions, SHRe median rank, random baselines.

All functions take L2-normalised features, so a dot product is the cosine
similarity. Similarities are computed in chunks of rows, so a 5k x 25k
evaluation never stores the full matrix: memory grows with
``chunk_size x num_candidates``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch


def recall_at_k(
    image_features: torch.Tensor,
    text_features: torch.Tensor,
    text_image_index: torch.Tensor,
    ks: Sequence[int] = (1, 5, 10),
    chunk_size: int = 1024,
) -> dict[str, float]:
    """Compute image->text and text->image R@k, in percent.

    Image->text counts a hit when any of the image's captions is among the
    top k texts; text->image when the caption's image is among the top k
    images. Ties are broken by ``torch.topk``.

    Args:
        image_features: ``(N, F)``, one row per unique image.
        text_features: ``(M, F)``, one row per caption.
        text_image_index: ``(M,)`` row in ``image_features`` of each caption's image.
        ks: cut-offs k.
        chunk_size: rows scored at once; peak memory is about
            ``chunk_size * max(N, M) * 4`` bytes.

    Returns:
        ``i2t_r{k}`` and ``t2i_r{k}`` for each k, and ``mean_recall`` (the
        mean of all of them).
    """
    max_k = max(ks)
    num_images, num_texts = image_features.shape[0], text_features.shape[0]
    text_image_index = text_image_index.to(image_features.device)

    i2t_hits = torch.zeros(len(ks), device=image_features.device)
    for start in range(0, num_images, chunk_size):
        scores = image_features[start : start + chunk_size] @ text_features.T
        top = scores.topk(min(max_k, num_texts), dim=1).indices
        rows = torch.arange(start, start + scores.shape[0], device=scores.device)
        is_match = text_image_index[top] == rows[:, None]
        for position, k in enumerate(ks):
            i2t_hits[position] += is_match[:, :k].any(dim=1).sum()

    t2i_hits = torch.zeros(len(ks), device=image_features.device)
    for start in range(0, num_texts, chunk_size):
        scores = text_features[start : start + chunk_size] @ image_features.T
        top = scores.topk(min(max_k, num_images), dim=1).indices
        is_match = top == text_image_index[start : start + scores.shape[0], None]
        for position, k in enumerate(ks):
            t2i_hits[position] += is_match[:, :k].any(dim=1).sum()

    results: dict[str, float] = {}
    for position, k in enumerate(ks):
        results[f"i2t_r{k}"] = 100.0 * i2t_hits[position].item() / num_images
        results[f"t2i_r{k}"] = 100.0 * t2i_hits[position].item() / num_texts
    results["mean_recall"] = sum(results.values()) / len(results)
    return results


def random_recall_at_k(
    num_images: int, captions_per_image: float, ks: Sequence[int] = (1, 5, 10)
) -> dict[str, float]:
    """Return the expected R@k of a random ranking, in percent.

    Text->image: k / N. Image->text with c captions per image among N * c
    texts: ``1 - C(Nc - c, k) / C(Nc, k)``, the chance that at least one of
    the c captions lands in a random top k (c is rounded to an integer).
    """
    captions = max(1, round(captions_per_image))
    num_texts = num_images * captions
    results: dict[str, float] = {}
    for k in ks:
        k_texts = min(k, num_texts)
        miss = math.comb(num_texts - captions, k_texts) / math.comb(num_texts, k_texts)
        results[f"i2t_r{k}"] = 100.0 * (1.0 - miss)
        results[f"t2i_r{k}"] = 100.0 * min(k, num_images) / num_images
    results["mean_recall"] = sum(results.values()) / len(results)
    return results


def median_rank(
    image_features: torch.Tensor,
    captions: Sequence[torch.Tensor],
    chunk_images: int = 1000,
) -> dict[str, float]:
    """Compute the SHRe average median rank in both directions.

    The images (in the order given, which callers sort by image id) are
    split into chunks of ``chunk_images``. Within a chunk, repetition i pairs
    every image with its i-th caption (cycling through an image's captions
    when it has fewer than the most any image has), so every caption is used
    once. Each repetition scores the chunk's image x caption matrix and finds
    the 1-based rank of the true pair in both directions; the median
    (``quantile(0.5)``, linear interpolation) is averaged over repetitions,
    then over chunks. A remainder smaller than ``chunk_images`` is dropped
    when there is at least one full chunk, so a 5k split gives exactly five
    chunks of 1000; a split smaller than one chunk is scored as one chunk.

    Args:
        image_features: ``(N, F)``.
        captions: for each image, its caption features ``(c_i, F)``.
        chunk_images: images per chunk (1000 in SHRe; random ranking then
            gives a median rank of about 500).

    Returns:
        ``median_rank_i2t``, ``median_rank_t2i`` (1 is best) and
        ``median_rank_chunks``, the number of chunks averaged.
    """
    num_images = image_features.shape[0]
    num_chunks = max(1, num_images // chunk_images)
    size = chunk_images if num_images >= chunk_images else num_images

    chunk_i2t, chunk_t2i = [], []
    for chunk in range(num_chunks):
        rows = range(chunk * size, (chunk + 1) * size)
        repetitions = max(captions[row].shape[0] for row in rows)
        medians_i2t, medians_t2i = [], []
        for repetition in range(repetitions):
            images = image_features[chunk * size : (chunk + 1) * size]
            texts = torch.stack(
                [captions[row][repetition % captions[row].shape[0]] for row in rows]
            ).to(images.device)
            scores = images @ texts.T
            true_scores = scores.diagonal()
            rank_i2t = 1 + (scores > true_scores[:, None]).sum(dim=1)
            rank_t2i = 1 + (scores > true_scores[None, :]).sum(dim=0)
            medians_i2t.append(rank_i2t.float().quantile(0.5))
            medians_t2i.append(rank_t2i.float().quantile(0.5))
        chunk_i2t.append(torch.stack(medians_i2t).mean())
        chunk_t2i.append(torch.stack(medians_t2i).mean())

    return {
        "median_rank_i2t": torch.stack(chunk_i2t).mean().item(),
        "median_rank_t2i": torch.stack(chunk_t2i).mean().item(),
        "median_rank_chunks": float(num_chunks),
    }
