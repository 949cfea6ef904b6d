"""Run ``shre.engine.fit`` on a saved config in a fresh process.

Used by the resume, SIGKILL and torchrun tests: each run gets its own
process, as a user's run does.

Usage: python fit_script.py CONFIG_JSON [--resume RUN_DIR] [--kill-at-step N]
                             [--sigterm-at-step N [--sigterm-rank R]]
                             [--installed-plugins] [--predictions OUT_JSON]

``--predictions`` then predicts the first eval split with the trained model
on all processes and writes the gathered predictions and labels as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import shre_toy  # noqa: E402
from shre import hookimpl  # noqa: E402


class SignalAtStep:
    """Plugin that sends ``signum`` to its own process after optimiser step ``step``.

    With ``rank`` set, only the process of that global rank signals itself.
    """

    def __init__(self, step: int, signum: int, rank: int | None = None) -> None:
        self.step = step
        self.signum = signum
        self.rank = rank

    @hookimpl
    def shre_on_step_end(self, trainer, step, metrics) -> None:
        own_rank = trainer.accelerator.process_index
        if step == self.step and self.rank in (None, own_rank):
            os.kill(os.getpid(), self.signum)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("config")
    parser.add_argument("--resume")
    parser.add_argument("--kill-at-step", type=int, help="SIGKILL after this step")
    parser.add_argument("--sigterm-at-step", type=int, help="SIGTERM after this step")
    parser.add_argument("--sigterm-rank", type=int, help="only this rank gets the SIGTERM")
    parser.add_argument("--installed-plugins", action="store_true")
    parser.add_argument("--predictions")
    arguments = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    if not arguments.installed_plugins:
        shre_toy.register()
    from shre.plugins import get_plugin_manager

    if arguments.kill_at_step is not None:
        plugin = SignalAtStep(arguments.kill_at_step, signal.SIGKILL)
        get_plugin_manager().register(plugin, name="kill")
    if arguments.sigterm_at_step is not None:
        plugin = SignalAtStep(arguments.sigterm_at_step, signal.SIGTERM, arguments.sigterm_rank)
        get_plugin_manager().register(plugin, name="sigterm")

    from shre import engine

    config = json.loads(Path(arguments.config).read_text())
    try:
        summary = engine.fit(config, resume=arguments.resume)
    except engine.TrainingInterrupted as error:
        print(f"interrupted: {error.checkpoint}", flush=True)
        sys.exit(error.exit_code)
    if arguments.predictions:
        write_predictions(Path(summary["run_dir"]), Path(arguments.predictions))


def write_predictions(run_dir: Path, output: Path) -> None:
    import torch
    from shre.checkpoint import load_trained_model
    from shre.engine.data import cap_dataset
    from shre.engine.evaluation import collect_predictions
    from shre.engine.setup import create_accelerator

    model, task, config = load_trained_model(run_dir, prepare=True)
    accelerator = create_accelerator()
    split = task.eval_splits[0]
    dataset = cap_dataset(task.dataset(split, model), config["data"]["max_eval_samples"], split)
    predictions = collect_predictions(
        model, task, dataset, task.collate_fn(split, model), accelerator, batch_size=4
    )
    if accelerator.is_main_process:
        labels = [float(torch.as_tensor(dataset[index]["labels"])) for index in range(len(dataset))]
        output.write_text(json.dumps({"predictions": predictions, "labels": labels}))


if __name__ == "__main__":
    main()
