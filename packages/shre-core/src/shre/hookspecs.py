"""Hook specifications: the contract between shre and its plugins.

A plugin is a module (or object) with functions marked ``@shre.hookimpl``
whose names match the specs below, registered under the ``shre`` entry-point
group. A plugin implements only the hooks it needs. Argument names must match
the spec; pluggy rejects a hook implementation with an unknown argument when
the plugin is registered.

Component hooks (``shre_encoders`` ... ``shre_models``) are called when the
registry is first built, for example by ``shre list``. They must return specs
cheaply: the modules they live in must not import torch, transformers or timm
at import time, because the CLI lists components without those.

Lifecycle hooks are called by the training engine in every process. Hooks
that observe a run (``shre_on_*``) should do their work on the main process
only, where ``trainer.is_main_process`` is true.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click

    from shre.specs import EncoderSpec, HeadSpec, LossSpec, ModelSpec, PoolerSpec, TaskSpec

PROJECT_NAME = "shre"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def shre_encoders() -> Sequence[EncoderSpec]:
    """Return the encoders this plugin provides.

    Called once per process when the registry is built. Each encoder maps one
    modality to hidden states ``(B, T, D)``. Return an empty sequence (or do
    not implement the hook) when the plugin has none.
    """


@hookspec
def shre_poolers() -> Sequence[PoolerSpec]:
    """Return the poolers this plugin provides: ``(B, T, D)`` to ``(B, D)``.

    Called once per process when the registry is built.
    """


@hookspec
def shre_heads() -> Sequence[HeadSpec]:
    """Return the heads this plugin provides: ``(B, D)`` to ``(B, C)``.

    Called once per process when the registry is built.
    """


@hookspec
def shre_losses() -> Sequence[LossSpec]:
    """Return the losses this plugin provides.

    Called once per process when the registry is built. A built loss returns a
    scalar tensor, or a dict with the scalar under ``"loss"`` and named parts
    (for example ``kd_loss``, ``itc_loss``) that the engine logs.
    """


@hookspec
def shre_tasks() -> Sequence[TaskSpec]:
    """Return the tasks this plugin provides.

    Called once per process when the registry is built. A task names its data,
    modality, default pooler, head, loss and metrics, and carries the
    reference hyperparameters as its preset.
    """


@hookspec
def shre_models() -> Sequence[ModelSpec]:
    """Return the models this plugin provides.

    Called once per process when the registry is built. A model names the
    encoder for each modality it serves and any shared part on top of them.
    """


@hookspec
def shre_configure(config: dict[str, Any]) -> None:
    """Adjust or validate the resolved run config before anything is built.

    Called by the engine in every process, after the layers (defaults, task
    preset, config file, ``--set``) are merged and before the model and data
    are built. Modify ``config`` in place. Raise ``shre.ConfigError`` with a
    message naming the key and the fix to reject a run. The return value is
    ignored.
    """


@hookspec
def shre_on_fit_start(trainer: Any) -> None:
    """Observe the start of training.

    Called in every process after the model, optimiser and data loaders are
    prepared, before the first step. ``trainer.run_dir`` is the run directory
    and ``trainer.config`` the resolved config.
    """


@hookspec
def shre_on_step_end(trainer: Any, step: int, metrics: dict[str, float]) -> None:
    """Observe one optimiser step.

    Called in every process after each optimiser step (not each micro-batch
    when accumulating gradients) at the logging interval. ``step`` counts
    optimiser steps from 1. ``metrics`` contains the loss and the model's
    other scalar outputs (named loss parts, diagnostics) averaged over the
    interval, the learning rate and samples per second.
    """


@hookspec
def shre_on_evaluate(trainer: Any, step: int, split: str, metrics: dict[str, float]) -> None:
    """Observe the metrics of one evaluation of one split.

    Called in every process after the metrics of ``split`` are computed over
    the whole split and synchronised across processes.
    """


@hookspec
def shre_on_fit_end(trainer: Any, summary: dict[str, Any]) -> None:
    """Observe the end of training.

    Called in every process after the last step and the final evaluation, with
    the content of ``summary.json``: final and best metrics, the best step
    and the plugin versions. Not called when training stops on an error.
    """


@hookspec
def shre_cli_commands(cli: click.Group) -> None:
    """Add commands to the ``shre`` command line.

    Called once when the CLI starts, with the top-level ``click.Group``.
    Register commands with ``cli.add_command``. Keep heavy imports inside the
    command functions so that ``shre --help`` stays fast.
    """
