"""Task ``distill:shre``: SHRe distillation of an image+text student from a frozen teacher.

Splits: ``train`` (image-caption pairs, one random caption per image),
``validation`` and ``test`` (retrieval over all captions), ``train_eval``
(the training pairs scored like ``validation``, for
``shre evaluate --split train_eval``), and ``zeroshot`` when
``task_options.zeroshot_dir`` names a labelled npz folder. ``test`` exists
only when the data has one; ``shre_distill.data.layout`` lists where each
split comes from.

Task options (``--set task_options.KEY=VALUE``): ``teacher`` (``--teacher``),
``retrieval_layer`` (``proj``, ``logits`` or ``hidden``; a comma-separated
list scores several, the first is the main metric), ``format`` and
``val_images`` (see ``shre_distill.data.layout``), ``teacher_pretrained``
(``false`` gives a timm teacher random weights, for download-free tests), ``max_length`` (caption
tokens, 64), ``zeroshot_dir``, ``zeroshot_split`` (``test``) and
``zeroshot_templates`` (``openai``: the 80 CLIP ImageNet prompts, or ``simple``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from shre.errors import ConfigError
from shre.task import Task

if TYPE_CHECKING:
    import torch
    from shre.registry import Registry
    from torchmetrics import MetricCollection

logger = logging.getLogger(__name__)

LAYERS = ("hidden", "proj", "logits")
DEFAULT_RETRIEVAL_LAYER = "proj"
ZEROSHOT_SPLIT = "zeroshot"
TRAIN_EVAL_SPLIT = "train_eval"


class DistillTask(Task):
    """SHRe distillation: build the student and teacher, read pairs, score retrieval."""

    train_split = "train"
    predict_splits = ()

    def __init__(self, spec: Any, config: Mapping[str, Any]) -> None:
        super().__init__(spec, config)
        self.layers = parse_layers(self.option("retrieval_layer", DEFAULT_RETRIEVAL_LAYER))
        self.eval_splits = (
            ("validation", ZEROSHOT_SPLIT) if self.option("zeroshot_dir") else ("validation",)
        )
        self._teacher: tuple[Any, dict[str, Any]] | None = None
        self._model: Any = None

    @property
    def main_metric(self) -> str:
        return f"{self.layers[0]}_mean_recall"

    @property
    def greater_is_better(self) -> bool:
        return True

    def teacher_name(self) -> str:
        from shre_distill.teacher import DEFAULT_TEACHER

        return str(self.option("teacher") or DEFAULT_TEACHER)

    def load_teacher(self) -> tuple[Any, dict[str, Any]]:
        """Load the teacher once per task; later calls return the same module."""
        if self._teacher is None:
            from shre_distill.teacher import load_teacher

            pretrained = bool(self.option("teacher_pretrained", True))
            self._teacher = load_teacher(self.teacher_name(), pretrained=pretrained)
        return self._teacher

    def prepare(self) -> None:
        """Check the training data and set ``num_labels`` to the teacher's class count."""
        from shre_distill.data.layout import data_dir_of, detect_format, read_split
        from shre_distill.teacher import count_classes

        data_dir = data_dir_of(self.config)
        layout = self.option("format", "auto")
        if (detect_format(data_dir) if layout == "auto" else layout) != "webdataset":
            read_split(data_dir, self.train_split, self.config.get("task_options", {}))
        module, data_config = self.load_teacher()
        self.num_labels = count_classes(module, data_config["input_size"])

    def build_model(self, registry: Registry) -> torch.nn.Module:
        from shre_distill.build import build_student

        self._model = build_student(self, registry)
        return self._model

    def dataset(self, split: str, model: torch.nn.Module) -> Any:
        from shre_distill.build import build_dataset

        self._model = getattr(model, "module", model)
        return build_dataset(self, split, self._model)

    def collate_fn(self, split: str, model: torch.nn.Module) -> Callable[[list[Any]], Any]:
        from shre_distill.data.datasets import CaptionCollator
        from shre_distill.data.zeroshot import collate_labelled

        if split == ZEROSHOT_SPLIT:
            return collate_labelled
        model = getattr(model, "module", model)
        return CaptionCollator(model.encoders["text"].tokenizer, int(self.option("max_length", 64)))

    def build_metrics(self, split: str) -> MetricCollection:
        from torchmetrics import MetricCollection

        from shre_distill.metrics import RetrievalMetric, ZeroShotAccuracy

        if split == ZEROSHOT_SPLIT:
            return MetricCollection({"zeroshot": ZeroShotAccuracy(self.zeroshot_classifier)})
        return MetricCollection({"retrieval": RetrievalMetric(self.layers)})

    def update_metrics(
        self, metrics: MetricCollection, outputs: Mapping[str, Any], batch: Mapping[str, Any]
    ) -> None:
        if "zeroshot" in metrics:
            metrics["zeroshot"].update(outputs[f"image_{self.layers[0]}"], batch["labels"])
            return
        metrics["retrieval"].update(
            {layer: outputs[f"image_{layer}"] for layer in self.layers},
            {layer: outputs[f"text_{layer}"] for layer in self.layers},
            batch["image_ids"],
            batch["text_image_ids"],
            batch["text_caption_index"],
        )

    def zeroshot_classifier(self) -> torch.Tensor:
        """Return the ``(C, F)`` zero-shot classifier of the current weights."""
        from shre_distill.zeroshot import build_zeroshot_classifier

        if self._model is None:
            raise ConfigError("the zero-shot split needs the model; call dataset() first")
        return build_zeroshot_classifier(self._model, self, self.layers[0])


def parse_layers(value: Any) -> tuple[str, ...]:
    """Parse ``retrieval_layer`` (a name, a comma-separated string or a list)."""
    names = value.split(",") if isinstance(value, str) else list(value or ())
    layers = tuple(str(name).strip() for name in names if str(name).strip())
    unknown = [layer for layer in layers if layer not in LAYERS]
    if not layers or unknown:
        raise ConfigError(
            f"invalid task_options.retrieval_layer {value!r}; choose from {', '.join(LAYERS)} "
            "(logits: the 1000-d output the SHRe thesis names; proj: the 768-d middle output "
            "its evaluation code used)"
        )
    return layers


def build_task(spec: Any, config: Mapping[str, Any]) -> DistillTask:
    """Task factory of ``distill:shre``."""
    return DistillTask(spec, config)
