"""Building blocks of a run: the task, the accelerator, the RNG seed."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from shre.errors import ConfigError

if TYPE_CHECKING:
    from accelerate import Accelerator

    from shre.task import Task

logger = logging.getLogger(__name__)

# train.precision to accelerate's mixed_precision.
MIXED_PRECISION = {"fp32": "no", "bf16": "bf16", "fp16": "fp16"}
# Entry-point name of shre-core's plugin that serves the ``loggers`` key.
LOGGERS_PLUGIN = "loggers"


def build_task(config: Mapping[str, Any]) -> Task:
    """Resolve ``config["task"]`` and build the runtime task from its spec."""
    from shre.registry import get_registry
    from shre.task import Task

    if not config.get("task"):
        raise ConfigError("no task given; pass --task NAME (see 'shre list tasks')")
    spec = get_registry().resolve("task", config["task"]).spec
    task = spec.load()(spec, config)
    if not isinstance(task, Task):
        raise ConfigError(
            f"the factory of task {spec.qualified_name!r} returned {type(task).__name__}, "
            "not a shre.Task"
        )
    return task


def check_loggers_loaded(config: Mapping[str, Any]) -> None:
    """Check that the plugin serving ``config["loggers"]`` is loaded.

    Without this check, a logger listed while ``SHRE_LOAD_PLUGINS`` leaves
    out the ``loggers`` plugin would be silently ignored.

    Raises:
        ConfigError: ``loggers`` names a logger other than the engine's own
            and the ``loggers`` plugin is not loaded.
    """
    from shre.loggers import ENGINE_LOGGERS
    from shre.plugins import LOAD_PLUGINS_VARIABLE, get_plugin_manager

    names = config.get("loggers") or []
    if isinstance(names, str) or not isinstance(names, (list, tuple)):
        return  # the loggers plugin reports the invalid value when it is loaded
    needed = [name for name in names if name not in ENGINE_LOGGERS]
    manager = get_plugin_manager()
    if not needed or LOGGERS_PLUGIN in manager.infos:
        return

    failed = [error.message for error in manager.load_errors if error.name == LOGGERS_PLUGIN]
    if failed:
        reason = f"it failed to load: {failed[0]}"
    else:
        reason = (
            f"it is not loaded; add {LOGGERS_PLUGIN} to {LOAD_PLUGINS_VARIABLE} "
            f"(e.g. {LOAD_PLUGINS_VARIABLE}=glue,{LOGGERS_PLUGIN}) or unset the variable"
        )
    raise ConfigError(
        f"loggers {', '.join(needed)} need the {LOGGERS_PLUGIN!r} plugin of shre-core, "
        f"but {reason}"
    )


def create_accelerator(
    precision: str = "fp32", *, cpu: bool = False, find_unused_parameters: bool = True
) -> Accelerator:
    """Create the accelerator for one run.

    The engine accumulates gradients itself (see ``shre.engine.loop``), so
    accelerate's own accumulation stays at 1.

    Args:
        precision: ``train.precision``.
        cpu: run on the CPU even where an accelerator is available.
        find_unused_parameters: ``train.find_unused_parameters``, passed to
            DDP. True allows parameters that get no gradient in a step (an
            unused transformers pooler, say) at the cost of one extra graph
            traversal per step, as transformers' ``Trainer`` does by default.
            False is faster; DDP then raises if such parameters exist.
    """
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState
    from accelerate.utils import DistributedDataParallelKwargs

    if precision not in MIXED_PRECISION:
        raise ConfigError(
            f"invalid train.precision {precision!r}; choose one of {', '.join(MIXED_PRECISION)}"
        )

    # accelerate sets up multi-process CPU training (gloo) only when given
    # cpu=True. Without it, torchrun on a machine without an accelerator
    # would give every process a world of its own.
    cpu = cpu or not _has_accelerator()

    # AcceleratorState is a process-wide singleton that rejects a second
    # precision setting. Resetting it, while keeping the process group, lets
    # one process run several fits, as tests and notebooks do.
    AcceleratorState._reset_state(reset_partial_state=False)
    ddp = DistributedDataParallelKwargs(find_unused_parameters=find_unused_parameters)
    try:
        accelerator = Accelerator(
            mixed_precision=MIXED_PRECISION[precision], cpu=cpu, kwargs_handlers=[ddp]
        )
    except ValueError as error:
        raise ConfigError(
            f"train.precision {precision!r} is not available here: {error}"
        ) from error

    if effective_precision(precision, accelerator) != precision:
        logger.warning(
            "train.precision fp16 has no effect on the CPU, so the run uses fp32 and "
            "records train.precision fp32; use train.precision=bf16 for mixed precision "
            "on a CPU"
        )
    return accelerator


def effective_precision(precision: str, accelerator: Accelerator) -> str:
    """Return the precision that ``accelerator`` actually trains in.

    accelerate 1.16 accepts fp16 on a CPU but then runs without autocast,
    that is in fp32.
    """
    if precision == "fp16" and accelerator.device.type == "cpu":
        return "fp32"
    return precision


def _has_accelerator() -> bool:
    import torch

    if hasattr(torch, "accelerator"):
        return bool(torch.accelerator.is_available())
    return bool(torch.cuda.is_available())
