"""Errors and noise during training: what is saved, what the messages and logs contain."""

from __future__ import annotations

import logging

import pytest
from shre import engine
from shre.checkpoint import list_checkpoints
from shre.engine import loop
from shre.errors import ConfigError, DataError


def failing_evaluation(calls: list[int], fail_on: int):
    """Return an ``evaluate_split`` stand-in that raises a DataError on call ``fail_on``."""
    real = loop.evaluate_split

    def evaluate_split(*args, **kwargs):
        calls.append(1)
        if len(calls) == fail_on:
            raise DataError("cannot decode image validation/17.jpg.")
        return real(*args, **kwargs)

    return evaluate_split


def test_eval_data_error_saves_current_step(tmp_path, make_config, monkeypatch):
    monkeypatch.setattr(loop, "evaluate_split", failing_evaluation([], fail_on=2))
    config = make_config(tmp_path, "train.max_steps=6", "train.eval_every=2")

    with pytest.raises(DataError) as raised:
        engine.fit(config)

    assert [path.name for path in list_checkpoints(tmp_path)] == ["step-2", "step-4"]
    assert f"Step 4 is saved in {tmp_path / 'checkpoints' / 'step-4'}" in str(raised.value)
    assert f"shre train --resume {tmp_path}" in str(raised.value)
    assert ".." not in str(raised.value)


def test_eval_data_error_resume_finishes(tmp_path, make_config, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(loop, "evaluate_split", failing_evaluation([], fail_on=1))
        with pytest.raises(DataError):
            engine.fit(make_config(tmp_path, "train.max_steps=4", "train.eval_every=2"))

    summary = engine.fit(make_config(tmp_path, "train.max_steps=4"), resume=tmp_path)

    assert summary["steps"] == 4
    assert summary["resumed_from"] == str(tmp_path / "checkpoints" / "step-2")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["train.max_steps=2"], "step 4, past train.max_steps 2; raise --max-steps"),
        # 16 examples in batches of 8: one epoch is 2 steps.
        (
            ["train.max_steps=null", "task_options.train_size=16"],
            "step 4, past the 2 steps of train.epochs 1; raise --epochs",
        ),
    ],
)
def test_resume_past_step_budget_raises(tmp_path, make_config, overrides, message):
    engine.fit(make_config(tmp_path, "train.max_steps=4"))
    saved_config = (tmp_path / "config.yaml").read_text()

    with pytest.raises(ConfigError, match=message):
        engine.fit(make_config(tmp_path, *overrides), resume=tmp_path)

    assert (tmp_path / "config.yaml").read_text() == saved_config


def test_resume_at_last_step_warns(tmp_path, make_config, caplog):
    engine.fit(make_config(tmp_path, "train.max_steps=2"))

    summary = engine.fit(make_config(tmp_path, "train.max_steps=2"), resume=tmp_path)

    assert summary["steps"] == 2
    assert "already at its last step 2" in caplog.text


def test_fit_without_terminal_logs_instead_of_bars(tmp_path, make_config, caplog, capsys):
    # pytest captures stderr, so it is not a terminal here.
    caplog.set_level(logging.INFO, logger="shre.engine.loop")

    engine.fit(make_config(tmp_path, "train.max_steps=2", "train.log_every=1"))

    assert "step 2/2: loss" in caplog.text
    assert "train:" not in capsys.readouterr().err
