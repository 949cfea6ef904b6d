"""The SHRe student built by distill:shre: weights, teacher input, outputs, errors."""

import pytest
import torch
from shre.errors import CheckpointError, ConfigError
from shre_distill.task import parse_layers
from shre_distill.teacher import TeacherAdapter
from torch import nn


class RecordingTeacher(nn.Module):
    """A linear classifier that keeps the last input it saw."""

    def __init__(self, num_classes=3):
        super().__init__()
        self.num_classes = num_classes
        self.proj = nn.Linear(3, num_classes)

    def forward(self, pixels):
        self.seen = pixels
        return self.proj(pixels.mean(dim=(2, 3)))


def test_teacher_sees_crop_in_its_own_normalisation():
    teacher = RecordingTeacher()
    config = {"input_size": (3, 8, 8), "mean": (0.5, 0.4, 0.3), "std": (0.2, 0.25, 0.3)}
    adapter = TeacherAdapter(
        teacher, config, student_mean=(0.1, 0.2, 0.3), student_std=(0.9, 0.8, 0.7)
    )
    raw = torch.rand(2, 3, 8, 8)
    student = (raw - torch.tensor([0.1, 0.2, 0.3]).view(1, 3, 1, 1)) / torch.tensor(
        [0.9, 0.8, 0.7]
    ).view(1, 3, 1, 1)
    adapter(student)
    expected = (raw - torch.tensor([0.5, 0.4, 0.3]).view(1, 3, 1, 1)) / torch.tensor(
        [0.2, 0.25, 0.3]
    ).view(1, 3, 1, 1)
    assert torch.allclose(teacher.seen, expected, atol=1e-5)


def test_teacher_input_is_resized_to_its_size():
    teacher = RecordingTeacher()
    config = {"input_size": (3, 16, 16), "mean": (0.5,) * 3, "std": (0.5,) * 3}
    adapter = TeacherAdapter(teacher, config, (0.5,) * 3, (0.5,) * 3)
    adapter(torch.rand(2, 3, 8, 8))
    assert teacher.seen.shape == (2, 3, 16, 16)


def test_teacher_is_frozen_without_grad():
    teacher = RecordingTeacher()
    adapter = TeacherAdapter(
        teacher, {"input_size": (3, 4, 4), "mean": (0,) * 3, "std": (1,) * 3}, (0,) * 3, (1,) * 3
    )
    logits = adapter(torch.rand(1, 3, 4, 4, requires_grad=True))
    assert not logits.requires_grad
    assert not any(parameter.requires_grad for parameter in teacher.parameters())


def test_student_state_dict_keeps_encoders_not_teacher(tiny_task_and_model):
    _, model = tiny_task_and_model
    keys = list(model.state_dict())
    assert any(key.startswith("encoders.image.") for key in keys)
    assert any(key.startswith("encoders.text.") for key in keys)
    assert not any("teacher" in key for key in keys)


def test_shared_head_width_is_teacher_class_count(tiny_task_and_model):
    task, model = tiny_task_and_model
    assert model.shared.head.out_features == 1000
    assert task.num_labels == 1000


def test_shared_widths_follow_encoder_width(tiny_task_and_model):
    _, model = tiny_task_and_model
    assert model.shared.fc1.in_features == 128
    assert model.shared.fc1.out_features == 512


def test_train_batch_returns_loss_parts(tiny_task_and_model):
    task, model = tiny_task_and_model
    dataset = task.dataset("train", model)
    batch = task.collate_fn("train", model)([dataset[index] for index in range(4)])
    model.train()
    outputs = model(batch)
    assert batch["input_ids"].shape == (4, 64)
    assert outputs["logits"].shape == (4, 1000)
    assert outputs["loss"].item() == pytest.approx(
        (outputs["kd_loss"] + outputs["itc_loss"]).item(), rel=1e-5
    )


def test_eval_batch_scores_all_captions(tiny_task_and_model):
    task, model = tiny_task_and_model
    dataset = task.dataset("validation", model)
    batch = task.collate_fn("validation", model)([dataset[index] for index in range(3)])
    model.eval()
    with torch.no_grad():
        outputs = model(batch)
    assert outputs["image_proj"].shape == (3, 128)
    assert outputs["text_proj"].shape == (15, 128)
    assert batch["text_image_ids"].tolist()[:6] == [48, 48, 48, 48, 48, 49]


def test_loading_other_class_count_names_teacher(tiny_task_and_model):
    _, model = tiny_task_and_model
    state = model.state_dict()
    state["shared.head.weight"] = torch.zeros(10, 128)
    state["shared.head.bias"] = torch.zeros(10)
    with pytest.raises(
        CheckpointError, match="10 classes, but teacher 'timm:test_resnet' has 1000"
    ):
        model.load_state_dict(state)


def test_retrieval_layer_rejects_unknown_name():
    with pytest.raises(ConfigError, match="retrieval_layer 'cls'"):
        parse_layers("cls")


def test_retrieval_layer_parses_list():
    assert parse_layers("proj, logits") == ("proj", "logits")


def test_resume_with_other_teacher_is_rejected(make_tiny_config):
    from shre.registry import get_registry
    from shre_distill.task import DistillTask

    spec = get_registry().resolve("task", "distill:shre").spec
    task = DistillTask(spec, make_tiny_config(None, "task_options.teacher_num_classes=10"))
    with pytest.raises(
        CheckpointError, match="has 1000 classes, but this run was trained with a 10-class"
    ):
        task.build_model(get_registry())


def test_build_records_teacher_class_count(tiny_task_and_model):
    task, _ = tiny_task_and_model
    assert task.config["task_options"]["teacher_num_classes"] == 1000


@pytest.mark.parametrize("name", ["runs/nonexist", "./teacher-run", "~/no-such-teacher-run"])
def test_load_teacher_rejects_missing_path(name):
    from shre_distill.teacher import load_teacher

    with pytest.raises(ConfigError, match="neither an existing run directory nor a timm model"):
        load_teacher(name, pretrained=False)


def test_load_teacher_accepts_bare_timm_name():
    from shre_distill.teacher import load_teacher

    module, data_config = load_teacher("test_resnet", pretrained=False)
    assert data_config["input_size"][0] == 3
