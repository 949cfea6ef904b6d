"""Layered configuration: order of layers, overrides and validation."""

from __future__ import annotations

import pytest

from shre.config import DEFAULTS, parse_override, resolve_config
from shre.errors import ConfigError

PRESET = {"optimizer": {"lr": 2e-5}, "train": {"batch_size": 16}}


def test_defaults_when_no_layers():
    config = resolve_config()
    assert config["optimizer"]["lr"] == DEFAULTS["optimizer"]["lr"]


def test_preset_overrides_defaults():
    assert resolve_config(preset=PRESET)["optimizer"]["lr"] == 2e-5


def test_config_file_overrides_preset(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("optimizer:\n  lr: 3.0e-5\n")
    assert resolve_config(preset=PRESET, config_file=path)["optimizer"]["lr"] == 3e-5


def test_set_overrides_config_file(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("optimizer:\n  lr: 3.0e-5\n")
    config = resolve_config(preset=PRESET, config_file=path, overrides=["optimizer.lr=4e-5"])
    assert config["optimizer"]["lr"] == 4e-5


def test_options_override_set():
    config = resolve_config(overrides=["optimizer.lr=4e-5"], options={"optimizer": {"lr": 5e-5}})
    assert config["optimizer"]["lr"] == 5e-5


def test_override_value_is_typed():
    assert parse_override("optimizer.betas=[0.9, 0.98]") == {"optimizer": {"betas": [0.9, 0.98]}}


def test_scientific_notation_is_float(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("optimizer:\n  lr: 2e-5\n")
    assert resolve_config(config_file=path)["optimizer"]["lr"] == 2e-5


def test_quoted_text_stays_text():
    assert parse_override("task_options.name=abc") == {"task_options": {"name": "abc"}}


def test_override_without_equals_is_rejected():
    with pytest.raises(ConfigError, match="malformed override 'optimizer.lr'"):
        parse_override("optimizer.lr")


def test_unknown_key_suggests_closest():
    with pytest.raises(ConfigError, match="did you mean 'optimizer.lr'"):
        resolve_config(overrides=["optimizer.lrr=1e-3"])


def test_free_form_section_accepts_new_keys():
    config = resolve_config(overrides=["task_options.max_length=128"])
    assert config["task_options"]["max_length"] == 128


def test_preset_may_add_keys():
    config = resolve_config(preset={"train": {"extra": 1}}, overrides=["train.extra=2"])
    assert config["train"]["extra"] == 2


def test_config_file_not_mapping(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="must contain a mapping"):
        resolve_config(config_file=path)


def test_config_file_invalid_yaml(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("optimizer: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        resolve_config(config_file=path)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        resolve_config(config_file=tmp_path / "absent.yaml")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train.precision=fp8", "invalid train.precision 'fp8'"),
        ("train.batch_size=0", "invalid train.batch_size 0"),
        ("optimizer.lr=-1", "invalid optimizer.lr -1"),
        ("optimizer.lr=fast", "invalid optimizer.lr 'fast'"),
        ("scheduler.name=step", "invalid scheduler.name 'step'"),
        ("scheduler.warmup_ratio=1.5", "invalid scheduler.warmup_ratio 1.5"),
        ("optimizer.layer_decay=2", "invalid optimizer.layer_decay 2"),
        ("seed=abc", "invalid seed 'abc'"),
    ],
)
def test_invalid_values_name_key_and_value(override, message):
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        resolve_config(overrides=[override])


def test_mapping_section_rejects_scalar():
    with pytest.raises(ConfigError, match="'optimizer' in override 'optimizer=3' must be a mapping"):
        resolve_config(overrides=["optimizer=3"])
