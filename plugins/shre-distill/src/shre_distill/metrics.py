"""Retrieval and zero-shot metrics as torchmetrics ``Metric``s.

Both keep every feature in ``cat`` states, so torchmetrics gathers them from
all processes before ``compute`` and the scores cover the whole split. A
distributed sampler may repeat examples to even out the processes; the
retrieval metric drops repeats by image id and caption index.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torchmetrics import Metric
from torchmetrics.utilities import dim_zero_cat

from shre_distill.retrieval import median_rank, random_recall_at_k, recall_at_k


class RetrievalMetric(Metric):
    """Image-text R@1/5/10 both ways and the SHRe median rank, per shared layer.

    Args:
        layers: shared outputs to score (``hidden``, ``proj``, ``logits``).
        ks: cut-offs k.
        chunk_size: rows scored at once (see ``recall_at_k``).
        median_rank_chunk: images per chunk of the median-rank protocol.

    ``compute`` returns ``<layer>_i2t_r<k>``, ``<layer>_t2i_r<k>``,
    ``<layer>_mean_recall``, ``<layer>_median_rank_i2t``,
    ``<layer>_median_rank_t2i``, and the random-ranking baselines
    ``random_i2t_r<k>``, ``random_t2i_r<k>``, ``random_mean_recall``,
    ``num_images`` and ``num_texts``. Recalls are in percent.
    """

    full_state_update = False

    def __init__(
        self,
        layers: Sequence[str] = ("proj",),
        ks: Sequence[int] = (1, 5, 10),
        chunk_size: int = 1024,
        median_rank_chunk: int = 1000,
    ) -> None:
        super().__init__()
        self.layers = tuple(layers)
        self.ks = tuple(ks)
        self.chunk_size = chunk_size
        self.median_rank_chunk = median_rank_chunk
        self.add_state("image_ids", default=[], dist_reduce_fx="cat")
        self.add_state("text_image_ids", default=[], dist_reduce_fx="cat")
        self.add_state("text_caption_index", default=[], dist_reduce_fx="cat")
        for layer in self.layers:
            self.add_state(f"image_{layer}", default=[], dist_reduce_fx="cat")
            self.add_state(f"text_{layer}", default=[], dist_reduce_fx="cat")

    def update(
        self,
        image_features: dict[str, torch.Tensor],
        text_features: dict[str, torch.Tensor],
        image_ids: torch.Tensor,
        text_image_ids: torch.Tensor,
        text_caption_index: torch.Tensor,
    ) -> None:
        """Add one batch.

        Args:
            image_features: layer name to ``(B, F)`` features of the images.
            text_features: layer name to ``(M, F)`` features of the captions.
            image_ids: ``(B,)`` integer image ids.
            text_image_ids: ``(M,)`` image id of each caption.
            text_caption_index: ``(M,)`` position of each caption among its image's captions.
        """
        self.image_ids.append(image_ids.long())
        self.text_image_ids.append(text_image_ids.long())
        self.text_caption_index.append(text_caption_index.long())
        for layer in self.layers:
            getattr(self, f"image_{layer}").append(_normalize(image_features[layer]))
            getattr(self, f"text_{layer}").append(_normalize(text_features[layer]))

    def compute(self) -> dict[str, float]:
        image_ids = dim_zero_cat(self.image_ids)
        text_image_ids = dim_zero_cat(self.text_image_ids)
        caption_index = dim_zero_cat(self.text_caption_index)

        # Unique images sorted by id (the median-rank protocol's order), and
        # unique captions sorted by (image id, caption index).
        unique_ids, image_rows = _first_occurrence(image_ids)
        text_keys = text_image_ids * (int(caption_index.max()) + 1) + caption_index
        _, text_rows = _first_occurrence(text_keys)
        text_image_index = torch.searchsorted(unique_ids, text_image_ids[text_rows])
        num_images, num_texts = unique_ids.numel(), text_rows.numel()

        results: dict[str, float] = {"num_images": float(num_images), "num_texts": float(num_texts)}
        for layer in self.layers:
            images = dim_zero_cat(getattr(self, f"image_{layer}"))[image_rows]
            texts = dim_zero_cat(getattr(self, f"text_{layer}"))[text_rows]
            recalls = recall_at_k(images, texts, text_image_index, self.ks, self.chunk_size)
            per_image = _split_by_image(texts, text_image_index, num_images)
            ranks = median_rank(images, per_image, self.median_rank_chunk)
            for key, value in {**recalls, **ranks}.items():
                results[f"{layer}_{key}"] = value

        baseline = random_recall_at_k(num_images, num_texts / max(num_images, 1), self.ks)
        results.update({f"random_{key}": value for key, value in baseline.items()})
        return results


class ZeroShotAccuracy(Metric):
    """CLIP-style zero-shot top-1 and top-5 accuracy from class-name prompts.

    Args:
        build_classifier: returns the ``(C, F)`` classifier (one L2-normalised
            mean prompt embedding per class). It is called once, at the first
            ``update`` of an evaluation, so the weights of that moment are used.
        ks: top-k accuracies to report.

    ``compute`` returns ``zeroshot_top<k>`` in percent; logits are
    ``100 * image @ classifier.T``.
    """

    full_state_update = False

    def __init__(
        self, build_classifier: Callable[[], torch.Tensor], ks: Sequence[int] = (1, 5)
    ) -> None:
        super().__init__()
        self.build_classifier = build_classifier
        self.ks = tuple(ks)
        self.classifier: torch.Tensor | None = None
        self.add_state("correct", default=torch.zeros(len(self.ks)), dist_reduce_fx="sum")
        self.add_state("total", default=torch.zeros(()), dist_reduce_fx="sum")

    def update(self, image_features: torch.Tensor, labels: torch.Tensor) -> None:
        """Add ``(B, F)`` image features and ``(B,)`` class ids."""
        if self.classifier is None:
            self.classifier = self.build_classifier()
        classifier = self.classifier.to(image_features.device, torch.float32)
        logits = 100.0 * _normalize(image_features) @ classifier.T
        top = logits.topk(min(max(self.ks), classifier.shape[0]), dim=-1).indices
        hits = top == labels[:, None].to(top.device)
        for position, k in enumerate(self.ks):
            self.correct[position] += hits[:, :k].any(dim=1).sum()
        self.total += labels.numel()

    def compute(self) -> dict[str, float]:
        total = max(self.total.item(), 1.0)
        return {
            f"zeroshot_top{k}": 100.0 * self.correct[position].item() / total
            for position, k in enumerate(self.ks)
        }

    def reset(self) -> None:
        super().reset()
        self.classifier = None


def _normalize(features: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.normalize(features.detach().float(), dim=-1)


def _split_by_image(
    texts: torch.Tensor, text_image_index: torch.Tensor, num_images: int
) -> list[torch.Tensor]:
    """Group caption rows by image: entry i contains image i's captions in caption order."""
    order = torch.argsort(text_image_index, stable=True)
    counts = torch.bincount(text_image_index, minlength=num_images)
    return list(torch.split(texts[order], counts.tolist()))


def _first_occurrence(keys: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Return the sorted unique ``keys`` and the row of each one's first occurrence."""
    unique, inverse = torch.unique(keys, sorted=True, return_inverse=True)
    positions = torch.arange(keys.numel(), device=keys.device)
    first = torch.full((unique.numel(),), keys.numel(), dtype=torch.long, device=keys.device)
    first.scatter_reduce_(0, inverse, positions, reduce="amin")
    return unique, first
