"""Build the SHRe student model and the datasets of ``distill:shre`` splits."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from shre.errors import CheckpointError, ConfigError, ShreError

from shre_distill.model import SHReModel

if TYPE_CHECKING:
    from shre.registry import Registry

    from shre_distill.task import DistillTask

logger = logging.getLogger(__name__)

DEFAULT_SHARED = "distill:shre-mlp"


def build_student(task: DistillTask, registry: Registry) -> SHReModel:
    """Build both encoders of the run's model, the shared MLP, the loss and the teacher.

    The teacher's class count sets the shared MLP's output width. When the
    teacher cannot be loaded but the class count is known (a saved
    checkpoint's metadata), the model is built without a teacher: it encodes
    and scores retrieval, and reports no KD loss.

    Raises:
        ConfigError: no model, a model without an image or text branch, or
            encoders of different widths.
    """
    from shre_distill.losses import SHReLoss

    config = task.config
    if not config.get("model"):
        raise ConfigError("no model given; pass --model NAME, for example shre or shre-tiny")
    model_spec = registry.resolve_model(config["model"])
    encoders = {}
    for modality in ("image", "text"):
        resolved = registry.encoder_for(model_spec, modality)
        options = {
            **model_spec.encoder_options.get(modality, {}),
            **config.get("encoder_options", {}),
        }
        encoders[modality] = resolved.build(**options)

    width = int(encoders["image"].width)
    if int(encoders["text"].width) != width:
        raise ConfigError(
            f"model {config['model']!r}: image width {width} and text width "
            f"{encoders['text'].width} differ; the shared MLP needs one width D"
        )

    teacher = _load_teacher_adapter(task, encoders["image"])
    num_classes = teacher.num_classes if teacher is not None else task.require_num_labels()
    _record_num_classes(task, num_classes)
    task.num_labels = num_classes
    shared = registry.resolve("head", model_spec.shared or DEFAULT_SHARED).build(
        width=width, num_outputs=num_classes
    )
    loss = SHReLoss(**config.get("loss_options", {}))
    logger.info(
        "built SHRe student %s: width %d, %d classes, teacher %s",
        config["model"],
        width,
        num_classes,
        teacher.name if teacher else "none",
    )
    return SHReModel(encoders["image"], encoders["text"], shared, loss, teacher)


def _record_num_classes(task: DistillTask, num_classes: int) -> None:
    """Store the teacher's class count in the run config, or check it against the stored one.

    The engine saves the config after the model is built, so a resumed run
    (whose config comes from its ``config.yaml``) carries the count its
    checkpoints were trained with.
    """
    options = task.config.setdefault("task_options", {})
    recorded = options.get("teacher_num_classes")
    if recorded is not None and int(recorded) != num_classes:
        raise CheckpointError(
            f"teacher {task.teacher_name()!r} has {num_classes} classes, but this run was "
            f"trained with a {recorded}-class teacher (task_options.teacher_num_classes in its "
            "config.yaml); resume with the teacher the run started with, or start a new run"
        )
    options["teacher_num_classes"] = num_classes


def _load_teacher_adapter(task: DistillTask, image_encoder: Any) -> Any:
    from shre_distill.teacher import TeacherAdapter

    try:
        module, data_config = task.load_teacher()
    except (ShreError, OSError) as error:
        if task.num_labels is None:
            raise
        logger.warning(
            "failed to load teacher %r (%s); the model is built without it and reports no KD loss",
            task.teacher_name(),
            error,
        )
        return None
    return TeacherAdapter(
        module, data_config, image_encoder.mean, image_encoder.std, name=task.teacher_name()
    )


def build_dataset(task: DistillTask, split: str, model: SHReModel) -> Any:
    """Return the dataset of ``split``, preprocessed for ``model``'s encoders."""
    from shre_distill.data import layout
    from shre_distill.data.datasets import (
        CaptionEvalDataset,
        CaptionTrainDataset,
        eval_transform,
        train_transform,
    )
    from shre_distill.task import TRAIN_EVAL_SPLIT, ZEROSHOT_SPLIT

    image_encoder = model.encoders["image"]
    size, mean, std = int(image_encoder.image_size), image_encoder.mean, image_encoder.std
    options = task.config.get("task_options", {})

    if split == ZEROSHOT_SPLIT:
        from shre_distill.data.zeroshot import LabelledImages, read_class_names

        folder = options["zeroshot_dir"]
        classes = read_class_names(folder)
        zeroshot_split = options.get("zeroshot_split", "test")
        return LabelledImages(folder, zeroshot_split, eval_transform(size, mean, std), len(classes))

    data_dir = layout.data_dir_of(task.config)
    layout_name = options.get("format", "auto")
    if layout_name == "auto":
        layout_name = layout.detect_format(data_dir)
    if split == task.train_split and layout_name == "webdataset":
        from shre_distill.data.webdataset import IndexedShards

        # The engine samples indices, so training reads shards by index;
        # WebDatasetPairs streams the same shards for loaders without one.
        return IndexedShards(layout.shard_paths(data_dir), train_transform(size, mean, std))

    if split == TRAIN_EVAL_SPLIT:
        # The training pairs scored like an evaluation split: all captions, no augmentation.
        records = layout.read_split(data_dir, task.train_split, options)
        return CaptionEvalDataset(records, eval_transform(size, mean, std))

    records = layout.read_split(data_dir, split, options)
    if split == task.train_split:
        return CaptionTrainDataset(records, train_transform(size, mean, std))
    return CaptionEvalDataset(records, eval_transform(size, mean, std))
