"""Layered run configuration.

Layers, lowest first: engine defaults < task preset < config file
(``--config run.yaml``) < command-line overrides (``--set optimizer.lr=2e-5``
and the dedicated options such as ``--lr``). The result is a plain nested
dict; it is saved as ``config.yaml`` in every run directory.
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from shre.errors import ConfigError, one_line

# Sections whose keys are free-form: plugins and components define them.
FREE_FORM = ("task_options", "encoder_options", "pooler_options", "head_options", "loss_options")

PRECISIONS = ("fp32", "bf16", "fp16")
SCHEDULERS = ("linear", "cosine", "constant")

DEFAULTS: dict[str, Any] = {
    "task": None,
    "model": None,
    "seed": 42,
    "output_dir": None,
    "init": None,
    "loggers": [],
    "data": {
        "dir": None,
        "num_workers": 0,
        "max_train_samples": None,
        "max_eval_samples": None,
    },
    "components": {"pooler": None, "head": None, "loss": None},
    "task_options": {},
    "encoder_options": {},
    "pooler_options": {},
    "head_options": {},
    "loss_options": {},
    "optimizer": {
        "name": "adamw",
        "lr": 1e-4,
        "betas": [0.9, 0.999],
        "eps": 1e-8,
        "weight_decay": 0.01,
        "layer_decay": None,
        "fused": True,
    },
    "scheduler": {"name": "linear", "warmup_ratio": 0.1, "warmup_steps": None},
    "train": {
        "epochs": 1,
        "max_steps": None,
        "batch_size": 32,
        "eval_batch_size": None,
        "grad_accum_steps": 1,
        "precision": "fp32",
        "max_grad_norm": None,
        "eval_every": None,
        "log_every": 10,
        "keep_last": 1,
        "freeze_encoder": False,
        "find_unused_parameters": True,
    },
}


def deep_merge(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``base`` updated recursively by ``update``; neither is modified."""
    merged = copy.deepcopy(dict(base))
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _check_keys(layer: Mapping[str, Any], schema: Mapping[str, Any], source: str, path: str = "") -> None:
    for key, value in layer.items():
        dotted = f"{path}{key}"
        if key not in schema:
            close = difflib.get_close_matches(key, list(schema), n=1)
            hint = f"; did you mean '{path}{close[0]}'?" if close else ""
            raise ConfigError(f"unknown config key {dotted!r} in {source}{hint}")
        if dotted in FREE_FORM:
            if not isinstance(value, Mapping):
                raise ConfigError(f"config key {dotted!r} in {source} must be a mapping")
            continue
        if isinstance(schema[key], Mapping):
            if not isinstance(value, Mapping):
                raise ConfigError(
                    f"config key {dotted!r} in {source} must be a mapping of "
                    f"{', '.join(schema[key])}, got {value!r}"
                )
            _check_keys(value, schema[key], source, dotted + ".")


_FLOAT = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def _coerce_numbers(value: Any) -> Any:
    """Read strings such as ``2e-5`` as floats.

    PyYAML follows YAML 1.1, where a float needs a dot (``2.0e-5``), so
    ``lr: 2e-5`` would otherwise stay a string.
    """
    if isinstance(value, str) and _FLOAT.match(value.strip()):
        return float(value)
    if isinstance(value, Mapping):
        return {key: _coerce_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_coerce_numbers(item) for item in value]
    return value


def parse_override(text: str) -> dict[str, Any]:
    """Parse one ``--set key.path=value`` into a nested dict.

    The value is read as YAML, so ``2e-5``, ``true``, ``null`` and
    ``[0.9, 0.98]`` get their types; anything else stays a string.
    """
    import yaml

    key, separator, raw_value = text.partition("=")
    key = key.strip()
    if not separator or not key or any(not part for part in key.split(".")):
        raise ConfigError(
            f"malformed override {text!r}; write it as KEY=VALUE, for example optimizer.lr=2e-5"
        )
    try:
        value = _coerce_numbers(yaml.safe_load(raw_value)) if raw_value.strip() else None
    except yaml.YAMLError as error:
        raise ConfigError(
            f"override {text!r}: value is not valid YAML: {_yaml_problem(error)}"
        ) from error

    nested: dict[str, Any] = {}
    cursor = nested
    parts = key.split(".")
    for part in parts[:-1]:
        cursor = cursor.setdefault(part, {})
    cursor[parts[-1]] = value
    return nested


def _yaml_problem(error: Exception) -> str:
    """Describe a YAML error on one line, with its 1-based line and column."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None)
    if mark is None or not problem:
        return one_line(str(error))
    where = f"line {mark.line + 1}, column {mark.column + 1}"
    context = getattr(error, "context", None)
    return f"{problem} at {where}" + (f" ({context})" if context else "")


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a YAML config file into a dict.

    Raises:
        ConfigError: the file is missing, not YAML, or not a mapping.
    """
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read config file {str(path)!r}: {error.strerror}") from error
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(
            f"config file {str(path)!r} is not valid YAML: {_yaml_problem(error)}"
        ) from error
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"config file {str(path)!r} must contain a mapping of config keys, "
            f"got {type(data).__name__}"
        )
    return _coerce_numbers(dict(data))


def resolve_config(
    preset: Mapping[str, Any] | None = None,
    config_file: str | Path | None = None,
    overrides: Iterable[str] = (),
    options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Merge the layers and validate the result.

    Args:
        preset: the task's reference hyperparameters; it may add keys that
            the task understands.
        config_file: a YAML file of config keys.
        overrides: ``KEY=VALUE`` strings from ``--set``, applied in order.
        options: nested dict from the dedicated command-line options; applied
            last, so ``--lr`` wins over ``--set optimizer.lr=...``.

    Raises:
        ConfigError: an unknown key, a malformed override or an invalid value.
    """
    schema = deep_merge(DEFAULTS, preset or {})
    config = copy.deepcopy(schema)

    if config_file is not None:
        layer = load_config_file(config_file)
        _check_keys(layer, schema, f"config file {str(config_file)!r}")
        config = deep_merge(config, layer)

    for text in overrides:
        layer = parse_override(text)
        _check_keys(layer, schema, f"override {text!r}")
        config = deep_merge(config, layer)

    if options:
        config = deep_merge(config, options)

    validate_config(config)
    return config


def validate_config(config: Mapping[str, Any]) -> None:
    """Check value types and ranges that every run needs.

    Raises:
        ConfigError: naming the key, the value and the valid range.
    """
    train = config["train"]
    optimizer = config["optimizer"]

    _require_positive_int(train, "train.batch_size")
    _require_positive_int(train, "train.grad_accum_steps")
    _require_positive_int(train, "train.log_every")
    _require_positive_int(train, "train.keep_last")
    _require_positive_int(train, "train.epochs", allow_none=True)
    _require_positive_int(train, "train.max_steps", allow_none=True)
    _require_positive_int(train, "train.eval_every", allow_none=True)
    _require_positive_int(train, "train.eval_batch_size", allow_none=True)
    if train["epochs"] is None and train["max_steps"] is None:
        raise ConfigError("set train.epochs or train.max_steps; both are null")

    if train["precision"] not in PRECISIONS:
        raise ConfigError(
            f"invalid train.precision {train['precision']!r}; choose one of {', '.join(PRECISIONS)}"
        )
    if config["scheduler"]["name"] not in SCHEDULERS:
        raise ConfigError(
            f"invalid scheduler.name {config['scheduler']['name']!r}; "
            f"choose one of {', '.join(SCHEDULERS)}"
        )
    ratio = config["scheduler"]["warmup_ratio"]
    if not isinstance(ratio, (int, float)) or not 0 <= ratio < 1:
        raise ConfigError(f"invalid scheduler.warmup_ratio {ratio!r}; use a number in [0, 1)")

    lr = optimizer["lr"]
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or lr <= 0:
        raise ConfigError(f"invalid optimizer.lr {lr!r}; use a positive number such as 2e-5")
    decay = optimizer["layer_decay"]
    if decay is not None and (not isinstance(decay, (int, float)) or not 0 < decay <= 1):
        raise ConfigError(f"invalid optimizer.layer_decay {decay!r}; use a number in (0, 1] or null")
    if not isinstance(config["seed"], int) or isinstance(config["seed"], bool):
        raise ConfigError(f"invalid seed {config['seed']!r}; use an integer")


def _require_positive_int(section: Mapping[str, Any], dotted: str, allow_none: bool = False) -> None:
    value = section[dotted.split(".")[-1]]
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        allowed = "a positive integer" + (" or null" if allow_none else "")
        raise ConfigError(f"invalid {dotted} {value!r}; use {allowed}")


def dump_config(config: Mapping[str, Any]) -> str:
    """Render a config as YAML, keys in definition order."""
    import yaml

    return yaml.safe_dump(dict(config), sort_keys=False, default_flow_style=None)
