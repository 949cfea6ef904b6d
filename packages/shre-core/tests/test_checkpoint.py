"""Checkpoints: atomic writes, safe and strict loading, ``--init`` weights."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from shre import checkpoint as ckpt
from shre.components import ClsPooler, CrossEntropyLoss, LinearHead
from shre.compose import TaskModel
from shre.config import dump_config
from shre.errors import CheckpointError
from shre_toy.components import build_encoder


def toy_model(hidden_size: int = 32, seed: int = 0) -> TaskModel:
    torch.manual_seed(seed)
    encoder = build_encoder(hidden_size=hidden_size)
    return TaskModel(
        encoder, ClsPooler(hidden_size), LinearHead(hidden_size, 2), CrossEntropyLoss()
    )


def save(
    run_dir: Path, step: int, model: TaskModel, config: dict, best_step: int | None = None
) -> Path:
    state = {"step": step, "rng": torch.get_rng_state(), "python": (3, (1, 2), None)}
    meta = {"step": step, "best_step": best_step, "num_labels": 2}
    return ckpt.save_checkpoint(
        run_dir / "checkpoints", step, model, state, meta, dump_config(config)
    )


def weights_equal(first: TaskModel, second: TaskModel) -> bool:
    second_state = second.state_dict()
    return all(torch.equal(value, second_state[key]) for key, value in first.state_dict().items())


def test_save_checkpoint_writes_all_files(tmp_path, make_config):
    path = save(tmp_path, 3, toy_model(), make_config(tmp_path))

    assert path == tmp_path / "checkpoints" / "step-3"
    assert sorted(p.name for p in path.iterdir()) == [
        "config.yaml",
        "meta.json",
        "model.safetensors",
        "trainer_state.pt",
    ]


def test_trainer_state_loads_with_weights_only(tmp_path, make_config):
    path = save(tmp_path, 3, toy_model(), make_config(tmp_path))

    state = ckpt.load_trainer_state(path)

    assert state["step"] == 3
    assert state["python"] == (3, (1, 2), None)


def test_failed_write_keeps_previous_checkpoint(tmp_path, make_config, monkeypatch):
    config = make_config(tmp_path)
    model = toy_model()
    previous = save(tmp_path, 2, model, config)

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", disk_full)
    with pytest.raises(CheckpointError, match="No space left on device"):
        save(tmp_path, 4, toy_model(seed=1), config)
    monkeypatch.undo()

    assert ckpt.list_checkpoints(tmp_path) == [previous]
    assert not list((tmp_path / "checkpoints").glob(".step-*"))
    reloaded = toy_model(seed=5)
    ckpt.load_model_weights(reloaded, previous)
    assert weights_equal(reloaded, model)


def test_failed_rewrite_of_same_step_keeps_old_copy(tmp_path, make_config, monkeypatch):
    config = make_config(tmp_path)
    model = toy_model()
    path = save(tmp_path, 2, model, config)

    monkeypatch.setattr(torch, "save", lambda *a, **k: (_ for _ in ()).throw(OSError("io error")))
    with pytest.raises(CheckpointError):
        save(tmp_path, 2, toy_model(seed=1), config)
    monkeypatch.undo()

    reloaded = toy_model(seed=5)
    ckpt.load_model_weights(reloaded, path)
    assert weights_equal(reloaded, model)


def test_resave_same_step_replaces_checkpoint(tmp_path, make_config):
    config = make_config(tmp_path)
    save(tmp_path, 2, toy_model(seed=0), config)
    newer = toy_model(seed=1)
    path = save(tmp_path, 2, newer, config)

    reloaded = toy_model(seed=5)
    ckpt.load_model_weights(reloaded, path)
    assert weights_equal(reloaded, newer)


def test_truncated_weights_raise_with_path(tmp_path, make_config):
    path = save(tmp_path, 1, toy_model(), make_config(tmp_path))
    weights = path / ckpt.WEIGHTS_NAME
    weights.write_bytes(weights.read_bytes()[:1000])

    with pytest.raises(CheckpointError, match=str(weights)):
        ckpt.load_model_weights(toy_model(), path)


def test_corrupt_weights_raise(tmp_path, make_config):
    path = save(tmp_path, 1, toy_model(), make_config(tmp_path))
    (path / ckpt.WEIGHTS_NAME).write_bytes(b"\xff" * 64)

    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        ckpt.load_model_weights(toy_model(), path)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[:200], id="truncated"),
        # `echo junk > trainer_state.pt`: the unpickler raises a KeyError.
        pytest.param(lambda data: b"junk\n", id="junk"),
        pytest.param(lambda data: b"", id="empty"),
        pytest.param(lambda data: b"\x80\x02" + data[2:], id="pickle-header"),
    ],
)
def test_damaged_trainer_state_raises_with_path(tmp_path, make_config, damage):
    path = save(tmp_path, 1, toy_model(), make_config(tmp_path))
    state = path / ckpt.TRAINER_STATE_NAME
    state.write_bytes(damage(state.read_bytes()))

    with pytest.raises(CheckpointError, match=str(state)):
        ckpt.load_trainer_state(path)


@pytest.mark.parametrize("content", [b"junk\n", b"", b"\x08" + b"\x00" * 7 + b"{}"])
def test_damaged_weights_raise_with_path(tmp_path, make_config, content):
    path = save(tmp_path, 1, toy_model(), make_config(tmp_path))
    weights = path / ckpt.WEIGHTS_NAME
    weights.write_bytes(content)

    with pytest.raises(CheckpointError, match=str(weights)):
        ckpt.load_model_weights(toy_model(), path)


class Payload:
    """An object whose unpickling would run code."""

    def __reduce__(self):
        return (print, ("code ran",))


def test_trainer_state_with_pickled_object_rejected(tmp_path, make_config):
    path = save(tmp_path, 1, toy_model(), make_config(tmp_path))
    torch.save({"step": 1, "payload": Payload()}, path / ckpt.TRAINER_STATE_NAME)

    with pytest.raises(CheckpointError, match="other than tensors"):
        ckpt.load_trainer_state(path)


def test_pickled_weights_rejected_by_default(tmp_path):
    model = toy_model()
    torch.save(model.state_dict(), tmp_path / "pytorch_model.bin")

    with pytest.raises(CheckpointError, match="--allow-pickle") as raised:
        ckpt.load_model_weights(toy_model(seed=1), tmp_path)

    assert "save_file" in str(raised.value)


def test_pickled_weights_load_with_allow_pickle(tmp_path):
    model = toy_model()
    torch.save(model.state_dict(), tmp_path / "pytorch_model.bin")

    reloaded = toy_model(seed=1)
    ckpt.load_model_weights(reloaded, tmp_path, allow_pickle=True)

    assert weights_equal(reloaded, model)


def test_load_model_weights_other_size_names_keys(tmp_path, make_config):
    path = save(tmp_path, 1, toy_model(hidden_size=16), make_config(tmp_path))

    with pytest.raises(CheckpointError, match="shape mismatches: encoders.text"):
        ckpt.load_model_weights(toy_model(), path)


def test_resolve_checkpoint_run_dir_prefers_best(tmp_path, make_config):
    config = make_config(tmp_path)
    best = save(tmp_path, 2, toy_model(), config, best_step=2)
    last = save(tmp_path, 4, toy_model(), config, best_step=2)

    assert ckpt.resolve_checkpoint(tmp_path) == best
    assert ckpt.resolve_checkpoint(tmp_path, which="last") == last


def test_resolve_checkpoint_without_best_uses_last(tmp_path, make_config):
    config = make_config(tmp_path)
    save(tmp_path, 2, toy_model(), config)
    last = save(tmp_path, 10, toy_model(), config)

    assert ckpt.resolve_checkpoint(tmp_path) == last


def test_resolve_checkpoint_empty_directory_raises(tmp_path):
    with pytest.raises(CheckpointError, match="neither a checkpoint directory"):
        ckpt.resolve_checkpoint(tmp_path)


def test_resolve_checkpoint_missing_path_raises(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        ckpt.resolve_checkpoint(tmp_path / "nope")


def test_prune_keeps_last_and_best(tmp_path, make_config):
    config = make_config(tmp_path)
    for step in (1, 2, 3, 4):
        save(tmp_path, step, toy_model(), config)

    ckpt.prune_checkpoints(tmp_path, keep_last=1, best_step=2)

    assert [path.name for path in ckpt.list_checkpoints(tmp_path)] == ["step-2", "step-4"]


def test_load_trained_model_rebuilds_from_run_dir(tmp_path, make_config):
    model = toy_model(seed=3)
    save(tmp_path, 5, model, make_config(tmp_path))

    loaded, task, config = ckpt.load_trained_model(tmp_path)

    assert task.name == "toy:parity"
    assert weights_equal(loaded, model)
    assert not loaded.training


def test_load_init_weights_copies_encoder_only(tmp_path, make_config):
    source = toy_model(seed=1)
    path = save(tmp_path, 1, source, make_config(tmp_path))
    target = toy_model(seed=2)
    head_before = target.head.proj.weight.clone()

    keys = ckpt.load_init_weights(target, path)

    assert keys
    assert all(key.startswith("encoders.text.") for key in keys)
    assert torch.equal(
        target.encoders["text"].model.embeddings.word_embeddings.weight,
        source.encoders["text"].model.embeddings.word_embeddings.weight,
    )
    assert torch.equal(target.head.proj.weight, head_before)


def test_load_init_weights_from_safetensors_file(tmp_path):
    source = toy_model(seed=1)
    file = tmp_path / "encoder.safetensors"
    save_file({key: value.contiguous() for key, value in source.state_dict().items()}, str(file))
    target = toy_model(seed=2)

    ckpt.load_init_weights(target, file)

    assert torch.equal(
        target.encoders["text"].model.encoder.layer[1].output.dense.weight,
        source.encoders["text"].model.encoder.layer[1].output.dense.weight,
    )


def test_load_init_weights_other_architecture_names_keys(tmp_path):
    file = tmp_path / "other.safetensors"
    save_file({"encoders.text.blocks.0.weight": torch.zeros(2, 2)}, str(file))

    with pytest.raises(CheckpointError, match="missing keys: encoders.text.model"):
        ckpt.load_init_weights(toy_model(), file)


def test_load_init_weights_other_width_names_shapes(tmp_path, make_config):
    path = save(tmp_path, 1, toy_model(hidden_size=16), make_config(tmp_path))

    with pytest.raises(
        CheckpointError, match=r"shape mismatches: .*\(100, 16\) vs model \(100, 32\)"
    ):
        ckpt.load_init_weights(toy_model(), path)


def test_load_init_weights_without_shared_modality_raises(tmp_path):
    file = tmp_path / "image.safetensors"
    save_file({"encoders.image.patch.weight": torch.zeros(2, 2)}, str(file))

    with pytest.raises(CheckpointError, match="no encoder weights for this model"):
        ckpt.load_init_weights(toy_model(), file)


def test_meta_json_is_readable(tmp_path, make_config):
    path = save(tmp_path, 7, toy_model(), make_config(tmp_path), best_step=7)

    assert json.loads((path / ckpt.META_NAME).read_text())["best_step"] == 7


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_checkpoint_files_follow_umask(tmp_path, make_config, umask):
    import os

    previous = os.umask(umask)
    try:
        path = save(tmp_path, 1, toy_model(), make_config(tmp_path))
    finally:
        os.umask(previous)

    modes = {file.name: file.stat().st_mode & 0o777 for file in path.iterdir()}
    assert modes == dict.fromkeys(modes, 0o666 & ~umask)
