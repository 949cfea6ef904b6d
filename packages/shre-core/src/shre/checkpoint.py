"""Checkpoints: atomic saving, safe loading, and weights for ``--init``.

A checkpoint is a directory ``checkpoints/step-<N>/`` in a run directory:

- ``model.safetensors``: the model weights (unwrapped, shared tensors stored once);
- ``trainer_state.pt``: optimiser, scheduler, gradient scaler, the RNG states
  of every process and the position in the data order, saved with plain
  types and tensors only so ``torch.load(weights_only=True)`` reads it;
- ``meta.json``: step, epoch, metrics, the best step so far, task and model;
- ``config.yaml``: the resolved run config, so the directory is self-contained.

Weights load only from safetensors. A pickled ``.pt``/``.bin`` weights file
can execute code when loaded, so it is rejected unless the caller passes
``allow_pickle=True``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shre.errors import CheckpointError, one_line

if TYPE_CHECKING:
    from torch import nn

    from shre.task import Task

logger = logging.getLogger(__name__)

WEIGHTS_NAME = "model.safetensors"
TRAINER_STATE_NAME = "trainer_state.pt"
META_NAME = "meta.json"
CONFIG_NAME = "config.yaml"
CHECKPOINTS_DIR = "checkpoints"
PICKLED_WEIGHTS_NAMES = ("pytorch_model.bin", "model.bin", "model.pt", "pytorch_model.pt")

_STEP_DIR = re.compile(r"^step-(\d+)$")


def save_checkpoint(
    checkpoints_dir: Path,
    step: int,
    model: nn.Module,
    trainer_state: Mapping[str, Any],
    meta: Mapping[str, Any],
    config_text: str,
) -> Path:
    """Write ``checkpoints_dir/step-<step>`` atomically and return its path.

    The files go into a hidden temporary directory, are flushed to disk, and
    the directory is renamed into place, so a reader sees either the complete
    new checkpoint or none. An older checkpoint of the same step is replaced
    only after the new one is complete.

    Raises:
        CheckpointError: a write failed (disk full, permissions); the partial
            directory is removed and every earlier checkpoint is untouched.
    """
    import torch
    from safetensors.torch import save_model

    final = checkpoints_dir / f"step-{step}"
    partial = checkpoints_dir / f".step-{step}.partial"
    try:
        checkpoints_dir.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()

        save_model(model, str(partial / WEIGHTS_NAME), metadata={"format": "pt"})
        torch.save(dict(trainer_state), partial / TRAINER_STATE_NAME)
        (partial / META_NAME).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        (partial / CONFIG_NAME).write_text(config_text, encoding="utf-8")
        # safetensors creates its file with mode 0600 whatever the umask. Give the
        # weights the mode that plain writes such as meta.json get from the umask.
        mode = (partial / META_NAME).stat().st_mode & 0o777
        for name in (WEIGHTS_NAME, TRAINER_STATE_NAME):
            os.chmod(partial / name, mode)
        for name in (WEIGHTS_NAME, TRAINER_STATE_NAME, META_NAME, CONFIG_NAME):
            _fsync(partial / name)
        _fsync(partial)

        _replace_directory(partial, final)
        _fsync(checkpoints_dir)
    except (OSError, RuntimeError) as error:
        shutil.rmtree(partial, ignore_errors=True)
        raise CheckpointError(
            f"cannot write checkpoint {final}: {one_line(error)}. Earlier checkpoints are intact; "
            "free disk space or choose another output_dir, then resume"
        ) from error

    logger.info("saved checkpoint %s", final)
    return final


def _replace_directory(source: Path, target: Path) -> None:
    if not target.exists():
        os.replace(source, target)
        return
    # A directory cannot be renamed over a non-empty one: move the old one
    # aside first, so a crash between the renames still leaves one complete copy.
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    os.replace(target, old)
    os.replace(source, target)
    shutil.rmtree(old, ignore_errors=True)


def _fsync(path: Path) -> None:
    # Directories need O_RDONLY; fsync on a directory persists its entries.
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def list_checkpoints(run_dir: str | Path) -> list[Path]:
    """Return the complete checkpoints of a run directory, oldest step first."""
    checkpoints_dir = Path(run_dir) / CHECKPOINTS_DIR
    if not checkpoints_dir.is_dir():
        return []
    found = []
    for entry in checkpoints_dir.iterdir():
        match = _STEP_DIR.match(entry.name)
        if match and entry.is_dir():
            found.append((int(match.group(1)), entry))
    return [path for _, path in sorted(found)]


def prune_checkpoints(run_dir: Path, keep_last: int, best_step: int | None) -> list[Path]:
    """Delete all but the last ``keep_last`` checkpoints and the best one; return the deleted."""
    checkpoints = list_checkpoints(run_dir)
    keep = set(checkpoints[-keep_last:])
    if best_step is not None:
        keep.add(run_dir / CHECKPOINTS_DIR / f"step-{best_step}")
    deleted = [path for path in checkpoints if path not in keep]
    for path in deleted:
        shutil.rmtree(path)
        logger.debug("deleted old checkpoint %s", path)
    return deleted


def resolve_checkpoint(path: str | Path, *, which: str = "best") -> Path:
    """Return the checkpoint directory that ``path`` names.

    Args:
        path: a checkpoint directory (it contains ``model.safetensors``) or a
            run directory (it contains ``checkpoints/``).
        which: for a run directory, ``"best"`` (the best checkpoint by the
            task's main metric, else the last) or ``"last"``.

    Raises:
        CheckpointError: the path does not exist or contains no checkpoint.
    """
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"checkpoint path {str(path)!r} does not exist")
    if _weights_file(path) is not None:
        return path

    checkpoints = list_checkpoints(path)
    if not checkpoints:
        raise CheckpointError(
            f"{str(path)!r} is neither a checkpoint directory (with {WEIGHTS_NAME}) nor a run "
            f"directory with saved checkpoints under {CHECKPOINTS_DIR}/"
        )
    last = checkpoints[-1]
    if which == "last":
        return last

    best_step = read_meta(last).get("best_step")
    best = path / CHECKPOINTS_DIR / f"step-{best_step}"
    return best if best_step is not None and best.is_dir() else last


def _weights_file(directory: Path) -> Path | None:
    for name in (WEIGHTS_NAME, *PICKLED_WEIGHTS_NAMES):
        if (directory / name).is_file():
            return directory / name
    return None


def read_meta(checkpoint: Path) -> dict[str, Any]:
    """Read ``meta.json`` of a checkpoint directory; an empty dict when it has none."""
    path = checkpoint / META_NAME
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CheckpointError(f"cannot read checkpoint metadata {path}: {error}") from error


def read_weights(path: str | Path, *, allow_pickle: bool = False) -> dict[str, Any]:
    """Read a state dict from a weights file, a checkpoint directory or a run directory.

    Raises:
        CheckpointError: missing, truncated or corrupt file, or a pickled file
            without ``allow_pickle=True``.
    """
    path = Path(path)
    file = path if path.is_file() else _weights_file(resolve_checkpoint(path))
    assert file is not None

    if file.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(str(file))
        # Any failure of a user's file, whatever the library raises, is a bad input.
        except Exception as error:
            raise CheckpointError(
                f"corrupt or truncated weights file {file}: {one_line(error)}"
            ) from error

    if not allow_pickle:
        raise CheckpointError(
            f"rejected pickled weights {file}: unpickling can run arbitrary code. "
            "Pass --allow-pickle (allow_pickle=True in Python) only if you trust its source, "
            "or convert it once with: python -c \"import torch, safetensors.torch as s; "
            f"s.save_file(torch.load('{file}'), '{file.with_name(WEIGHTS_NAME)}')\""
        )
    return _torch_load(file, weights_only=False)


def load_trainer_state(checkpoint: Path) -> dict[str, Any]:
    """Read ``trainer_state.pt`` with ``weights_only=True``, so it cannot run code."""
    path = checkpoint / TRAINER_STATE_NAME
    if not path.is_file():
        raise CheckpointError(
            f"checkpoint {checkpoint} has no {TRAINER_STATE_NAME}; it cannot resume"
        )
    return _torch_load(path, weights_only=True)


def _torch_load(path: Path, *, weights_only: bool) -> Any:
    import pickle

    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=weights_only)
    except pickle.UnpicklingError as error:
        raise CheckpointError(
            f"{path} contains objects other than tensors and plain Python types; "
            "it was not written by shre or was tampered with"
        ) from error
    # The unpickler of a corrupt file raises almost anything (KeyError,
    # IndexError, ...); every failure to read a user's file is a bad input.
    except Exception as error:
        raise CheckpointError(
            f"corrupt or truncated file {path}: {type(error).__name__}: {one_line(error)}; "
            f"restore it, or delete {path.parent} to use an earlier checkpoint"
        ) from error


def load_model_weights(model: nn.Module, checkpoint: Path, *, allow_pickle: bool = False) -> None:
    """Load all weights of ``checkpoint`` into ``model``; every key must match.

    Raises:
        CheckpointError: unreadable file, or keys or shapes that differ.
    """
    state = read_weights(checkpoint, allow_pickle=allow_pickle)
    expected = model.state_dict()

    # save_model stores tensors that share memory (tied weights) once; the
    # aliases it dropped are filled in by loading their partner.
    aliases = _shared_aliases(expected)
    missing = sorted(key for key in expected if key not in state and key not in aliases)
    unexpected = sorted(key for key in state if key not in expected)
    mismatched = _shape_mismatches(expected, state)
    if missing or unexpected or mismatched:
        raise CheckpointError(
            f"checkpoint {checkpoint} does not fit the model: "
            + _describe_differences(missing, unexpected, mismatched)
        )
    model.load_state_dict(state, strict=False)


def load_trained_model(
    path: str | Path,
    *,
    allow_pickle: bool = False,
    config_overrides: Mapping[str, Any] | None = None,
    prepare: bool = False,
) -> tuple[nn.Module, Task, dict[str, Any]]:
    """Rebuild a trained model from a run directory or a checkpoint directory.

    A run directory resolves to its best checkpoint, else its last. The task
    and model are rebuilt from the checkpoint's saved config, and the weights
    are loaded from safetensors.

    Args:
        path: run directory or checkpoint directory.
        allow_pickle: accept a pickled weights file (runs code from the file).
        config_overrides: merged over the saved config, e.g. ``{"data": {"dir": ...}}``.
        prepare: call ``task.prepare()`` (reads the data); otherwise
            ``num_labels`` comes from the checkpoint metadata.

    Returns:
        ``(model, task, config)`` with the model in eval mode on the CPU.

    Raises:
        CheckpointError: no checkpoint, unreadable files, or weights that do
            not fit the rebuilt model.
    """
    from shre.config import deep_merge, load_config_file
    from shre.engine.setup import build_task

    checkpoint = resolve_checkpoint(path)
    config_path = checkpoint / CONFIG_NAME
    if not config_path.is_file():
        config_path = checkpoint.parent.parent / CONFIG_NAME
    if not config_path.is_file():
        raise CheckpointError(
            f"checkpoint {checkpoint} has no {CONFIG_NAME}; cannot rebuild its model"
        )
    config = deep_merge(load_config_file(config_path), config_overrides or {})

    from shre.registry import get_registry

    task = build_task(config)
    if prepare:
        task.prepare()
    else:
        task.num_labels = read_meta(checkpoint).get("num_labels", task.num_labels)
    model = task.build_model(get_registry())
    load_model_weights(model, checkpoint, allow_pickle=allow_pickle)
    model.eval()
    logger.info("loaded %s from %s", task.name, checkpoint)
    return model, task, config


def load_init_weights(
    model: nn.Module, path: str | Path, *, allow_pickle: bool = False
) -> list[str]:
    """Copy the ``encoders.<modality>.*`` weights of a checkpoint into ``model``.

    Every modality that both the model and the checkpoint have is copied
    whole; heads, poolers and the encoders of other modalities are left as
    built. This is how ``--init`` starts a GLUE model from a distilled
    checkpoint's text encoder.

    Args:
        model: a composed model with ``model.encoders``.
        path: a safetensors file, a checkpoint directory or a run directory.
        allow_pickle: accept a pickled weights file (runs code from the file).

    Returns:
        The copied keys, sorted.

    Raises:
        CheckpointError: no encoder weights in common, or, for a shared
            modality, keys missing from the checkpoint or of another shape.
    """
    state = read_weights(path, allow_pickle=allow_pickle)
    expected = model.state_dict()
    model_modalities = sorted(
        {key.split(".")[1] for key in expected if key.startswith("encoders.")}
    )
    checkpoint_modalities = sorted(
        {key.split(".")[1] for key in state if key.startswith("encoders.")}
    )
    shared = [modality for modality in model_modalities if modality in checkpoint_modalities]
    if not shared:
        raise CheckpointError(
            f"{path} has no encoder weights for this model: the model has encoders "
            f"{model_modalities or 'none'}, the checkpoint has {checkpoint_modalities or 'none'} "
            "(keys encoders.<modality>.*)"
        )

    aliases = _shared_aliases(expected)
    prefixes = tuple(f"encoders.{modality}." for modality in shared)
    expected_encoder = {key: value for key, value in expected.items() if key.startswith(prefixes)}
    selected = {key: value for key, value in state.items() if key.startswith(prefixes)}
    missing = sorted(key for key in expected_encoder if key not in selected and key not in aliases)
    unexpected = sorted(key for key in selected if key not in expected_encoder)
    mismatched = _shape_mismatches(expected_encoder, selected)
    if missing or unexpected or mismatched:
        raise CheckpointError(
            f"encoder weights in {path} do not fit the model (another architecture or "
            "size?): " + _describe_differences(missing, unexpected, mismatched)
        )

    model.load_state_dict(selected, strict=False)
    for modality in model_modalities:
        if modality not in shared:
            logger.warning(
                "--init %s has no %s encoder; it keeps its initial weights", path, modality
            )
    logger.info(
        "initialised encoders %s from %s (%d tensors)", ", ".join(shared), path, len(selected)
    )
    return sorted(selected)


def _shared_aliases(state: Mapping[str, Any]) -> set[str]:
    """Return the keys whose tensor shares memory with an earlier key."""
    seen: dict[tuple[int, int], str] = {}
    aliases = set()
    for key, tensor in state.items():
        identity = (tensor.data_ptr(), tensor.numel())
        if tensor.numel() and identity in seen:
            aliases.add(key)
        else:
            seen[identity] = key
    return aliases


def _shape_mismatches(expected: Mapping[str, Any], found: Mapping[str, Any]) -> list[str]:
    return [
        f"{key} {tuple(found[key].shape)} vs model {tuple(tensor.shape)}"
        for key, tensor in sorted(expected.items())
        if key in found and tuple(found[key].shape) != tuple(tensor.shape)
    ]


def _describe_differences(missing: list[str], unexpected: list[str], mismatched: list[str]) -> str:
    parts = []
    for label, keys in (
        ("missing keys", missing),
        ("unexpected keys", unexpected),
        ("shape mismatches", mismatched),
    ):
        if keys:
            shown = ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
            parts.append(f"{label}: {shown}")
    return "; ".join(parts)
