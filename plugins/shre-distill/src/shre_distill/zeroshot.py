"""CLIP-style zero-shot classifier from class names and prompt templates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from shre.errors import ConfigError
from torch.nn import functional as F

from shre_distill.templates import TEMPLATE_SETS


@torch.no_grad()
def encode_class_prompts(
    model: Any,
    tokenizer: Any,
    class_names: Sequence[str],
    templates: Sequence[str],
    layer: str,
    max_length: int = 64,
) -> torch.Tensor:
    """Return the ``(C, F)`` classifier: per class, the mean of its L2-normalised
    prompt embeddings, L2-normalised again.

    Args:
        model: a model with ``encode_text(batch)`` (an ``SHReModel``).
        tokenizer: the text encoder's tokenizer.
        class_names: C names; prompt i of class c is ``templates[i].format(name)``.
        templates: prompt templates with one ``{}``.
        layer: shared output to use (``proj``, ``logits`` or ``hidden``).
    """
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    rows = []
    for name in class_names:
        prompts = [template.format(name) for template in templates]
        tokens = tokenizer(
            prompts,
            padding="max_length",
            truncation=True,
            max_length=max_length,
            return_tensors="pt",
        )
        features = model.encode_text({key: value.to(device) for key, value in tokens.items()})[
            layer
        ]
        mean = F.normalize(features.float(), dim=-1).mean(dim=0)
        rows.append(F.normalize(mean, dim=-1))
    model.train(was_training)
    return torch.stack(rows)


def build_zeroshot_classifier(model: Any, task: Any, layer: str) -> torch.Tensor:
    """Build the classifier of ``task_options.zeroshot_dir``'s classes with the chosen templates."""
    from shre_distill.data.zeroshot import read_class_names

    choice = task.option("zeroshot_templates", "openai")
    if choice not in TEMPLATE_SETS:
        raise ConfigError(
            f"invalid task_options.zeroshot_templates {choice!r}; "
            f"choose one of {', '.join(TEMPLATE_SETS)}"
        )
    class_names = [name.replace("_", " ") for name in read_class_names(task.option("zeroshot_dir"))]
    return encode_class_prompts(
        model,
        model.encoders["text"].tokenizer,
        class_names,
        TEMPLATE_SETS[choice],
        layer,
        int(task.option("max_length", 64)),
    )
