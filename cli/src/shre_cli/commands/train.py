"""``shre train``: resolve the layered run config and call the engine.

The engine, and with it torch, is imported inside the command function, so
that loading this module for ``shre --help`` stays cheap.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click
from shre.config import PRECISIONS
from shre.errors import ConfigError

from shre_cli.errors import UserError
from shre_cli.options import allow_pickle_option
from shre_cli.output import echo_table

RUN_CONFIG_FILE = "config.yaml"
DEFAULT_RUNS_DIR = "runs"


def _set_nested(target: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, key = dotted.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[key] = value


def _option_layer(values: Mapping[str, Any]) -> dict[str, Any]:
    """Turn ``{"train.epochs": 3, "seed": None}`` into a nested dict without the Nones."""
    layer: dict[str, Any] = {}
    for dotted, value in values.items():
        if value is not None:
            _set_nested(layer, dotted, value)
    return layer


def _read_run_config(run_dir: Path) -> dict[str, Any]:
    from shre.config import load_config_file

    path = run_dir / RUN_CONFIG_FILE
    if not path.is_file():
        raise ConfigError(
            f"cannot resume from {str(run_dir)!r}: it has no {RUN_CONFIG_FILE}; "
            "pass the run directory that 'shre train' created"
        )
    return load_config_file(path)


def _default_output_dir(task: str, model: str) -> Path:
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")
    label = f"{task}-{model}".replace(":", "-").replace("/", "-")
    return Path(DEFAULT_RUNS_DIR) / f"{label}-{stamp}"


def build_train_config(
    *,
    task: str | None,
    model: str | None,
    config_file: Path | None,
    overrides: Sequence[str],
    options: Mapping[str, Any],
    resume: Path | None = None,
) -> dict[str, Any]:
    """Resolve the run config of ``shre train`` without importing torch.

    Layers, lowest first: engine defaults, task preset, the resumed run's
    ``config.yaml`` (with ``--resume``), ``--config``, ``--set``, then the
    dedicated options. ``options`` maps dotted keys to values, and keys whose
    value is ``None`` are left out.

    Raises:
        ConfigError: no task or model, an unknown config key or a bad value.
        UnknownNameError: the task or model is not provided by any plugin.
    """
    from shre.config import deep_merge, resolve_config
    from shre.registry import get_registry

    saved: dict[str, Any] = {}
    if resume is not None:
        saved = _read_run_config(resume)
        task = task or saved.get("task")
        model = model or saved.get("model")
    if not task:
        raise ConfigError("no task given; pass --task NAME (see 'shre list tasks')")
    if not model:
        raise ConfigError("no model given; pass --model NAME (see 'shre list models')")

    registry = get_registry()
    task_spec = registry.resolve("task", task).spec
    model_spec = registry.resolve_model(model)

    preset = deep_merge(task_spec.preset, saved) if saved else task_spec.preset
    config = resolve_config(
        preset=preset,
        config_file=config_file,
        overrides=overrides,
        options=_option_layer(options),
    )
    config["task"] = task_spec.qualified_name
    config["model"] = model_spec.qualified_name if model_spec.plugin else model

    if resume is not None:
        config["output_dir"] = str(resume)
    elif not config.get("output_dir"):
        config["output_dir"] = str(_default_output_dir(config["task"], config["model"]))
    return config


def _summary_rows(summary: Mapping[str, Any], config: Mapping[str, Any]) -> list[list[Any]]:
    rows: list[list[Any]] = [["run directory", summary.get("run_dir", config["output_dir"])]]
    for key in (
        "steps",
        "main_metric",
        "best_step",
        "best_metric",
        "last_checkpoint",
        "run_seconds",
    ):
        if key in summary:
            rows.append([key.replace("_", " "), summary[key]])

    for key in ("best_metrics", "final_metrics"):
        value = summary.get(key)
        if not isinstance(value, Mapping):
            continue
        for name, metric in value.items():
            if isinstance(metric, Mapping):
                rows.extend(
                    [f"{key.replace('_', ' ')} {name}/{inner}", v] for inner, v in metric.items()
                )
            else:
                rows.append([f"{key.replace('_', ' ')} {name}", metric])
    return rows


@click.command()
@click.option(
    "--task", help="Task to train, e.g. glue:cola ('shre list tasks'). Optional with --resume."
)
@click.option(
    "--model",
    help="Model or encoder to train, e.g. shre-tiny or hf:bert-base-uncased ('shre list models').",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory of the task's local data files (sets data.dir).",
)
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help=(
        "Run directory for config, metrics and checkpoints "
        f"[default: {DEFAULT_RUNS_DIR}/<task>-<model>-<UTC time>]."
    ),
)
@click.option(
    "--max-steps",
    type=click.IntRange(min=1),
    help="Stop after this many optimiser steps (sets train.max_steps).",
)
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    help="Passes over the training split (sets train.epochs).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    help="Training examples per micro-batch in each process (sets train.batch_size).",
)
@click.option(
    "--lr",
    type=click.FloatRange(min=0, min_open=True),
    help="Peak learning rate (sets optimizer.lr).",
)
@click.option(
    "--seed", type=int, help="Random seed of initialisation, shuffling and dropout (sets seed)."
)
@click.option(
    "--precision",
    type=click.Choice(PRECISIONS),
    help="Training precision: fp32, or bf16/fp16 mixed precision (sets train.precision).",
)
@click.option(
    "--init",
    type=click.Path(exists=True, path_type=Path),
    help=(
        "Initialise the encoders from the encoders.<modality>.* weights "
        "of a run or checkpoint directory."
    ),
)
@click.option(
    "--resume",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    metavar="RUN_DIR",
    help=(
        "Continue an interrupted run from its last checkpoint. "
        "Task, model and config come from RUN_DIR/config.yaml."
    ),
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace the run files (config, metrics, checkpoints) of an existing --output-dir.",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="YAML file of config keys, applied over the task preset.",
)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override one config key, value read as YAML, e.g. --set optimizer.lr=2e-5 (repeatable).",
)
@click.option(
    "--dry-run", is_flag=True, help="Print the resolved config as YAML and exit without training."
)
@click.option(
    "--linear-probe",
    is_flag=True,
    default=None,
    help="Freeze the encoder; train only pooler and head (sets train.freeze_encoder).",
)
@click.option(
    "--eval-every",
    type=click.IntRange(min=1),
    help="Evaluate every N optimiser steps (sets train.eval_every; default: each epoch).",
)
@click.option(
    "--grad-accum",
    type=click.IntRange(min=1),
    help="Micro-batches accumulated per optimiser step (sets train.grad_accum_steps).",
)
@allow_pickle_option("--init and --resume weights")
@click.option("--teacher", help="Teacher model of a distillation task (sets task_options.teacher).")
def train(
    task: str | None,
    model: str | None,
    data_dir: Path | None,
    output_dir: Path | None,
    max_steps: int | None,
    epochs: int | None,
    batch_size: int | None,
    lr: float | None,
    seed: int | None,
    precision: str | None,
    init: Path | None,
    resume: Path | None,
    overwrite: bool,
    config_file: Path | None,
    overrides: tuple[str, ...],
    dry_run: bool,
    linear_probe: bool | None,
    eval_every: int | None,
    grad_accum: int | None,
    teacher: str | None,
    allow_pickle: bool,
) -> None:
    """Train a model on a task and write a run directory.

    The config is layered: engine defaults < task preset < --config FILE <
    --set KEY=VALUE < the dedicated options below. The resolved config is
    saved as config.yaml in the run directory; --dry-run prints it.
    """
    if resume is not None and output_dir is not None and output_dir.resolve() != resume.resolve():
        raise ConfigError(
            f"--output-dir {str(output_dir)!r} differs from --resume {str(resume)!r}; "
            "a resumed run continues in its own directory, so drop --output-dir"
        )

    options = {
        "data.dir": str(data_dir) if data_dir else None,
        "output_dir": str(output_dir) if output_dir else None,
        "train.max_steps": max_steps,
        "train.epochs": epochs,
        "train.batch_size": batch_size,
        "optimizer.lr": lr,
        "seed": seed,
        "train.precision": precision,
        "init": str(init) if init else None,
        "train.freeze_encoder": linear_probe,
        "train.eval_every": eval_every,
        "train.grad_accum_steps": grad_accum,
        "task_options.teacher": teacher,
    }
    config = build_train_config(
        task=task,
        model=model,
        config_file=config_file,
        overrides=overrides,
        options=options,
        resume=resume,
    )

    if dry_run:
        from shre.config import dump_config

        click.echo(dump_config(config), nl=False)
        return

    import shre.engine
    from shre.engine.errors import TrainingInterrupted

    try:
        summary = shre.engine.fit(
            config, resume=resume, overwrite=overwrite, allow_pickle=allow_pickle
        )
    except TrainingInterrupted as error:
        raise UserError(
            f"training interrupted by {error.signal_name} after step {error.step}; "
            f"checkpoint saved to {error.checkpoint}. "
            f"Continue with: shre train --resume {config['output_dir']}",
            error.exit_code,
        ) from None

    # Under torchrun every process returns the summary; one table is enough.
    if _is_main_process():
        echo_table(["run summary", "value"], _summary_rows(summary or {}, config))


def _is_main_process() -> bool:
    from accelerate import PartialState

    return PartialState().is_main_process
