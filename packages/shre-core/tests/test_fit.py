"""``fit``, ``evaluate`` and ``predict`` end to end on the toy task."""

from __future__ import annotations

import json
import os
import signal

import pytest
import torch
from shre import engine, hookimpl
from shre.checkpoint import list_checkpoints, load_trained_model, read_meta
from shre.engine import NonFiniteLossError, TrainingInterrupted
from shre.errors import CheckpointError, ConfigError
from shre.plugins import get_plugin_manager


def read_records(run_dir):
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


class Recorder:
    """Plugin that records the lifecycle hook calls."""

    def __init__(self):
        self.calls = []

    @hookimpl
    def shre_configure(self, config):
        self.calls.append(("configure", config["task"]))

    @hookimpl
    def shre_on_fit_start(self, trainer):
        self.calls.append(("fit_start", trainer.step))

    @hookimpl
    def shre_on_step_end(self, trainer, step, metrics):
        self.calls.append(("step_end", step, sorted(metrics)))

    @hookimpl
    def shre_on_evaluate(self, trainer, step, split, metrics):
        self.calls.append(("evaluate", step, split))

    @hookimpl
    def shre_on_fit_end(self, trainer, summary):
        self.calls.append(("fit_end", summary["steps"]))


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """One two-epoch run shared by the read-only tests below."""
    import shre_toy
    from shre_toy import toy_config

    shre_toy.register()
    run_dir = tmp_path_factory.mktemp("run")
    recorder = Recorder()
    get_plugin_manager().register(recorder, name="recorder")
    config = toy_config(run_dir, "train.epochs=2", "train.keep_last=1")
    summary = engine.fit(config)
    return run_dir, summary, recorder


def test_fit_writes_run_directory(trained_run):
    run_dir, _, _ = trained_run

    for name in ("config.yaml", "metrics.jsonl", "summary.json", "curves.png"):
        assert (run_dir / name).is_file(), name


def test_fit_summary_contents(trained_run):
    run_dir, summary, _ = trained_run
    saved = json.loads((run_dir / "summary.json").read_text())

    assert saved["steps"] == 12
    assert saved["task"] == "toy:parity"
    assert saved["model"] == "toy:bert-tiny"
    assert saved["plugins"]["core"]["distribution"] == "shre-core"
    assert saved["best_metric"] == saved["best_metrics"]["validation"]["accuracy"]
    assert saved["best_step"] in (6, 12)
    assert summary["final_metrics"] == saved["final_metrics"]


def test_fit_metrics_jsonl_events(trained_run):
    run_dir, _, _ = trained_run
    records = read_records(run_dir)
    train_steps = [r["step"] for r in records if r["split"] == "train"]
    eval_steps = [r["step"] for r in records if r["split"] == "validation"]

    assert train_steps == [2, 4, 6, 8, 10, 12]
    assert eval_steps == [6, 12]
    assert {"loss", "lr", "samples_per_second", "epoch"} <= set(records[0])


def test_fit_keeps_last_and_best_checkpoints(trained_run):
    run_dir, summary, _ = trained_run
    names = {path.name for path in list_checkpoints(run_dir)}

    assert names == {"step-12", f"step-{summary['best_step']}"}


def test_fit_calls_hooks_in_order(trained_run):
    _, _, recorder = trained_run
    kinds = [call[0] for call in recorder.calls]

    assert kinds[:2] == ["configure", "fit_start"]
    assert kinds[-1] == "fit_end"
    assert kinds.count("step_end") == 6
    assert ("evaluate", 6, "validation") in recorder.calls
    assert recorder.calls[2][2] == ["loss", "lr", "samples_per_second"]


def test_evaluate_matches_run_metrics(trained_run):
    run_dir, summary, _ = trained_run
    best = run_dir / "checkpoints" / f"step-{summary['best_step']}"

    results = engine.evaluate(run_dir)

    assert results["validation"]["accuracy"] == summary["best_metrics"]["validation"]["accuracy"]
    assert results["validation"]["loss"] == pytest.approx(
        read_meta(best)["metrics"]["validation"]["loss"]
    )


def test_predict_writes_one_line_per_example(trained_run, tmp_path):
    run_dir, _, _ = trained_run

    paths = engine.predict(run_dir, output_dir=tmp_path)

    assert paths == [tmp_path / "test.tsv"]
    assert len(paths[0].read_text().splitlines()) == 1 + 37


@pytest.mark.parametrize(
    ("split", "message"),
    [
        ("validation", "split 'validation' of task 'toy:parity' has no prediction format"),
        ("train", "pass --split with one of: test"),
    ],
)
def test_predict_bad_split_fails_before_inference(
    trained_run, tmp_path, monkeypatch, split, message
):
    from shre.engine import evaluation

    calls = []
    monkeypatch.setattr(evaluation, "collect_predictions", lambda *args, **kwargs: calls.append(1))
    run_dir, _, _ = trained_run

    with pytest.raises(ConfigError, match=message):
        engine.predict(run_dir, split=split, output_dir=tmp_path)

    assert calls == []


def test_predict_task_without_prediction_splits(trained_run, tmp_path, monkeypatch):
    from shre_toy.components import ParityTask

    monkeypatch.setattr(ParityTask, "predict_splits", ())
    run_dir, _, _ = trained_run

    with pytest.raises(ConfigError, match="writes no prediction files"):
        engine.predict(run_dir, output_dir=tmp_path)


def test_fit_refuses_used_output_dir(tmp_path, make_config):
    (tmp_path / "notes.txt").write_text("mine")

    with pytest.raises(ConfigError, match="already contains files"):
        engine.fit(make_config(tmp_path, "train.max_steps=1"))


def test_fit_overwrite_keeps_user_files(tmp_path, make_config):
    engine.fit(make_config(tmp_path, "train.max_steps=2"))
    (tmp_path / "notes.txt").write_text("mine")

    summary = engine.fit(make_config(tmp_path, "train.max_steps=1"), overwrite=True)

    assert summary["steps"] == 1
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert [path.name for path in list_checkpoints(tmp_path)] == ["step-1"]


def test_fit_eval_every_and_max_steps(tmp_path, make_config):
    engine.fit(
        make_config(tmp_path, "train.max_steps=5", "train.eval_every=2", "train.keep_last=5")
    )
    eval_steps = [r["step"] for r in read_records(tmp_path) if r["split"] == "validation"]

    assert eval_steps == [2, 4, 5]


def test_fit_gradient_accumulation_averages_micro_batches(tmp_path, make_config):
    common = ("train.max_steps=1", "train.log_every=1", "data.max_eval_samples=4")
    dropout_off = {"encoder_options": {"dropout": 0.0}}
    engine.fit(make_config(tmp_path / "one", *common, "train.batch_size=8", **dropout_off))
    engine.fit(
        make_config(
            tmp_path / "two",
            *common,
            "train.batch_size=4",
            "train.grad_accum_steps=2",
            **dropout_off,
        )
    )
    one = read_records(tmp_path / "one")[0]
    two = read_records(tmp_path / "two")[0]

    assert two["loss"] == pytest.approx(one["loss"], rel=1e-6)


def test_fit_init_copies_encoder(tmp_path, make_config):
    engine.fit(make_config(tmp_path / "source", "train.max_steps=2"))
    source, _, _ = load_trained_model(tmp_path / "source")
    config = make_config(
        tmp_path / "target", "train.max_steps=1", "optimizer.lr=1e-12", "scheduler.warmup_steps=0"
    )
    config["init"] = str(tmp_path / "source")

    engine.fit(config)
    target, _, _ = load_trained_model(tmp_path / "target")

    embedding = "encoders.text.model.embeddings.word_embeddings.weight"
    assert torch.allclose(target.state_dict()[embedding], source.state_dict()[embedding], atol=1e-9)


def test_fit_init_other_architecture_raises(tmp_path, make_config):
    engine.fit(make_config(tmp_path / "source", "train.max_steps=1"))
    config = make_config(
        tmp_path / "target", "train.max_steps=1", encoder_options={"hidden_size": 16}
    )
    config["init"] = str(tmp_path / "source")

    with pytest.raises(CheckpointError, match="shape mismatches"):
        engine.fit(config)


class SignalAtStep:
    def __init__(self, step, signum):
        self.step, self.signum = step, signum

    @hookimpl
    def shre_on_step_end(self, trainer, step, metrics):
        if step == self.step:
            os.kill(os.getpid(), self.signum)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_saves_loadable_checkpoint(tmp_path, make_config, signum):
    get_plugin_manager().register(SignalAtStep(3, signum), name="signal")

    with pytest.raises(TrainingInterrupted) as raised:
        engine.fit(make_config(tmp_path, "train.log_every=1"))

    assert raised.value.exit_code == 130
    assert raised.value.checkpoint == tmp_path / "checkpoints" / "step-3"
    assert str(raised.value.checkpoint) in str(raised.value)
    model, task, _ = load_trained_model(raised.value.checkpoint)
    assert task.name == "toy:parity"


def test_signal_handlers_restored_after_fit(tmp_path, make_config):
    before = signal.getsignal(signal.SIGINT)
    engine.fit(make_config(tmp_path, "train.max_steps=1"))

    assert signal.getsignal(signal.SIGINT) is before


def test_non_finite_loss_stops_and_names_step(tmp_path, make_config):
    # The loss turns NaN on its 5th training call: step 5 with one micro-batch per step.
    config = make_config(
        tmp_path,
        "train.eval_every=2",
        "train.keep_last=5",
        "components.loss=toy:nan-after",
        loss_options={"calls": 5},
    )

    with pytest.raises(NonFiniteLossError, match="step 5") as raised:
        engine.fit(config)

    assert raised.value.checkpoint == tmp_path / "checkpoints" / "step-4"
    assert [path.name for path in list_checkpoints(tmp_path)] == ["step-2", "step-4"]
    model, _, _ = load_trained_model(raised.value.checkpoint)
    assert all(torch.isfinite(value).all() for value in model.state_dict().values())


def test_fit_init_pickled_file_needs_allow_pickle(tmp_path, make_config):
    engine.fit(make_config(tmp_path / "source", "train.max_steps=1"))
    source, _, _ = load_trained_model(tmp_path / "source")
    pickled = tmp_path / "encoder.bin"
    torch.save(source.state_dict(), pickled)
    config = make_config(tmp_path / "target", "train.max_steps=1")
    config["init"] = str(pickled)

    with pytest.raises(CheckpointError, match="rejected pickled weights"):
        engine.fit(config)
    summary = engine.fit(config, overwrite=True, allow_pickle=True)

    assert summary["steps"] == 1


def test_fp16_on_cpu_warns_and_runs_fp32(caplog):
    from shre.engine.setup import create_accelerator

    accelerator = create_accelerator("fp16", cpu=True)

    assert accelerator.scaler is None
    assert "fp16 has no effect on the CPU" in caplog.text


@pytest.mark.parametrize("file", ["config.yaml", "checkpoints/step-1/config.yaml"])
def test_fp16_on_cpu_records_fp32(tmp_path, make_config, file):
    from shre.config import load_config_file

    engine.fit(make_config(tmp_path, "train.max_steps=1", "train.precision=fp16"))

    assert load_config_file(tmp_path / file)["train"]["precision"] == "fp32"


def test_resume_copied_checkpoint_needs_output_dir(tmp_path, make_config):
    import shutil

    engine.fit(make_config(tmp_path / "run", "train.max_steps=2"))
    copied = tmp_path / "copied"
    shutil.copytree(tmp_path / "run" / "checkpoints" / "step-2", copied)

    with pytest.raises(ConfigError, match="not inside a run directory"):
        engine.fit(make_config(None, "train.max_steps=3"), resume=copied)
    summary = engine.fit(make_config(tmp_path / "continued", "train.max_steps=3"), resume=copied)

    assert summary["steps"] == 3
    assert summary["resumed_from"] == str(copied)


def test_engine_modules_import_without_torch():
    import subprocess
    import sys

    code = (
        "import sys, shre.engine, shre.engine.errors, shre.checkpoint, shre.rundir; "
        "print('torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)

    assert result.stdout.strip() == "False", result.stderr
