"""The ``distill`` plugin: SHRe shared MLP, loss and the ``distill:shre`` task.

Factories are import strings, so listing components imports no torch.
"""

from __future__ import annotations

import shre
from shre.specs import HeadSpec, LossSpec, TaskSpec

SHRE_API_VERSION = "1.0"

DISTILL_PRESET = {
    # The SHRe recipe: AdamW (0.9, 0.98), eps 1e-6, wd 0.01, cosine, 10% warm-up,
    # batch 256, 7 epochs. The reference trained in fp16 mixed precision;
    # the preset stays fp32 and --precision fp16 (or bf16) switches it.
    "optimizer": {"lr": 1e-4, "betas": [0.9, 0.98], "eps": 1e-6, "weight_decay": 0.01},
    "scheduler": {"name": "cosine", "warmup_ratio": 0.1},
    "train": {"batch_size": 256, "epochs": 7, "precision": "fp32"},
    "task_options": {"teacher": "timm:resnet50.a1_in1k", "retrieval_layer": "proj"},
}


@shre.hookimpl
def shre_heads() -> list[HeadSpec]:
    return [
        HeadSpec(
            name="shre-mlp",
            factory="shre_distill.shared:build_shared_mlp",
            description=(
                "SHRe shared encoder on the CLS token: D -> 4D -> GELU, LN -> D, LN -> classes"
            ),
        )
    ]


@shre.hookimpl
def shre_losses() -> list[LossSpec]:
    return [
        LossSpec(
            name="shre",
            factory="shre_distill.losses:build_shre_loss",
            description=(
                "KL(teacher || image) / 2 + KL(teacher || text) / 2 "
                "+ CLIP loss on 3 shared layers / 3"
            ),
        )
    ]


@shre.hookimpl
def shre_tasks() -> list[TaskSpec]:
    return [
        TaskSpec(
            name="shre",
            factory="shre_distill.task:build_task",
            description=(
                "SHRe distillation of an image+text student from a frozen classifier teacher"
            ),
            modality="image-text",
            loss="distill:shre",
            metrics=("proj_mean_recall", "proj_i2t_r1", "proj_t2i_r1"),
            main_metric="proj_mean_recall",
            greater_is_better=True,
            preset=DISTILL_PRESET,
        )
    ]
