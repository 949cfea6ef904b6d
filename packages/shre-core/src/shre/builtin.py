"""The built-in ``core`` plugin: the ``shre`` models and generic components.

Factories are import strings, so this module imports nothing heavy.
"""

from __future__ import annotations

from shre.hookspecs import hookimpl
from shre.specs import EncoderSpec, HeadSpec, LossSpec, ModelSpec, PoolerSpec

_COMPONENTS = "shre.components"


@hookimpl
def shre_encoders() -> list[EncoderSpec]:
    return [
        EncoderSpec(
            name="hf",
            factory="shre.hf:build_hf_encoder",
            description="any transformers encoder: hf:<hub-id-or-local-path>",
            parametric=True,
            modality="any",
        ),
    ]


@hookimpl
def shre_poolers() -> list[PoolerSpec]:
    return [
        PoolerSpec(name="cls", factory=f"{_COMPONENTS}:ClsPooler", description="first (CLS) token"),
        PoolerSpec(
            name="mean",
            factory=f"{_COMPONENTS}:MeanPooler",
            description="mean over tokens, prefix (CLS, register) and padding tokens excluded",
        ),
    ]


@hookimpl
def shre_heads() -> list[HeadSpec]:
    return [HeadSpec(name="linear", factory=f"{_COMPONENTS}:LinearHead", description="Linear(D, C)")]


@hookimpl
def shre_losses() -> list[LossSpec]:
    return [
        LossSpec(
            name="cross-entropy",
            factory=f"{_COMPONENTS}:CrossEntropyLoss",
            description="cross-entropy on class ids or soft targets",
        ),
        LossSpec(name="mse", factory=f"{_COMPONENTS}:MSELoss", description="mean squared error (regression)"),
    ]


@hookimpl
def shre_models() -> list[ModelSpec]:
    return [
        ModelSpec(
            name="shre",
            factory=None,
            description=(
                "SHRe student: ViT-B/16 first 6 blocks (image), bert-base-uncased "
                "first 6 layers (text), shared 3-layer MLP"
            ),
            encoders={"text": "glue:shre-text", "image": "vision:shre-image"},
            shared="distill:shre-mlp",
        ),
        ModelSpec(
            name="shre-tiny",
            factory=None,
            description="download-free SHRe student: 2 layers, width 128, 2 heads, random init",
            encoders={"text": "glue:shre-tiny-text", "image": "vision:shre-tiny-image"},
            shared="distill:shre-mlp",
        ),
    ]
