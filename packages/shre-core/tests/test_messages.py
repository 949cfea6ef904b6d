"""Error messages as the CLI shows them: one line, no doubled period, CLI spellings."""

from __future__ import annotations

import pytest
from shre.config import load_config_file, parse_override
from shre.errors import ConfigError, one_line
from shre.hf import build_hf_encoder
from shre.rundir import prepare_run_dir


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Can't load the model.\n\nCheck the name.", "Can't load the model; Check the name"),
        ("no such file", "no such file"),
        ("  indented\n  twice.  ", "indented; twice"),
    ],
)
def test_one_line_joins_and_strips(text, expected):
    assert one_line(text) == expected


def test_bad_yaml_override_is_one_line():
    with pytest.raises(ConfigError) as raised:
        parse_override("train.epochs=[1")

    assert "\n" not in str(raised.value)
    assert "at line 1, column 3" in str(raised.value)


def test_bad_yaml_config_file_names_line(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("train:\n  epochs: [1\n", encoding="utf-8")

    with pytest.raises(ConfigError) as raised:
        load_config_file(path)

    assert "\n" not in str(raised.value)
    assert "at line 3, column 1" in str(raised.value)


def test_hf_offline_error_suggests_cli_model(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    with pytest.raises(ConfigError) as raised:
        build_hf_encoder(argument=str(tmp_path / "no-such-model"))

    message = str(raised.value)
    assert ".." not in message
    assert "\n" not in message
    assert message.endswith("--model shre-tiny")


def test_used_output_dir_names_cli_flag(tmp_path):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")

    with pytest.raises(ConfigError, match=r"pass --overwrite \(overwrite=True in Python\)"):
        prepare_run_dir(tmp_path, overwrite=False, resume=False)
