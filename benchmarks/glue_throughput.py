"""GLUE fine-tuning throughput: ``shre.engine.fit`` vs ``transformers.Trainer`` vs a bare loop.

All three train the same model on the same data:

- model: ``shre-tiny``'s text encoder with the ``glue:cola`` pooler and
  head, built with the same seed;
- data: the tokenised CoLA training split from ``--data-dir``, padded per
  batch by the same collator;
- optimiser: AdamW with the CoLA preset (lr 1e-5, betas 0.9/0.98, eps 1e-6,
  weight decay 0.1), linear schedule with 10% warm-up. shre and the bare
  loop exempt biases, norm weights and embeddings from weight decay;
  Trainer exempts biases and norm weights only;
- the same batch size and number of steps.

Throughput is timed inside each training loop, from the end of step
``--warmup`` to the end of the last step, so set-up, the first (slow)
steps, evaluation and checkpointing are outside the window:

- shre: the ``shre_on_step_end`` hook, called every ``--warmup`` steps
  (``train.log_every``);
- Trainer: a ``TrainerCallback.on_step_end``;
- bare loop: the clock after each ``optimizer.step()``.

Runs are interleaved (shre, Trainer, bare, shre, ...) ``--repeats`` times and
the median is reported, which evens out load from other processes.

All three use the fused AdamW kernel: shre by default
(``optimizer.fused``), ``Trainer`` in transformers 5 through its default
``optim="adamw_torch_fused"``, and the bare loop explicitly, so the
remaining difference is the training loop itself.

Usage:
    python benchmarks/glue_throughput.py --data-dir examples/glue --steps 100
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import shre
import shre.engine
import torch
from shre.config import resolve_config
from shre.engine.optim import uses_weight_decay
from shre.plugins import get_plugin_manager
from torch import nn

TASK = "glue:cola"
MODEL = "shre-tiny"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", required=True, help="folder holding CoLA/train.tsv")
    parser.add_argument("--steps", type=int, default=100, help="optimiser steps per run")
    parser.add_argument("--warmup", type=int, default=10, help="steps before the timed window")
    parser.add_argument("--batch-size", type=int, default=32, help="examples per step")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each method")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads (default: torch's)"
    )
    parser.add_argument("--output", default="glue_throughput.json", help="JSON file of the results")
    return parser.parse_args()


def make_config(args: argparse.Namespace, output_dir: str) -> dict[str, Any]:
    spec = shre.get_registry().resolve("task", TASK).spec
    return resolve_config(
        spec.preset,
        options={
            "task": TASK,
            "model": MODEL,
            "output_dir": output_dir,
            "data": {"dir": args.data_dir},
            "train": {
                "max_steps": args.steps,
                "batch_size": args.batch_size,
                "log_every": args.warmup,
            },
        },
    )


def build(args: argparse.Namespace) -> tuple[Any, nn.Module, Any, Any]:
    """Build the task, a freshly seeded model, the tokenised train split and its collator."""
    config = make_config(args, tempfile.mkdtemp())
    spec = shre.get_registry().resolve("task", TASK).spec
    task = spec.build(spec, config)
    task.prepare()
    torch.manual_seed(config["seed"])
    model = task.build_model(shre.get_registry())
    return task, model, task.dataset("train", model), task.collate_fn("train", model)


def throughput(times: dict[int, float], args: argparse.Namespace) -> float:
    """Compute samples per second from the end of step ``warmup`` to the end of the last step."""
    window = times[args.steps] - times[args.warmup]
    return (args.steps - args.warmup) * args.batch_size / window


class _StepClock:
    """A shre plugin that records the time of each ``shre_on_step_end`` call."""

    def __init__(self) -> None:
        self.times: dict[int, float] = {}

    @shre.hookimpl
    def shre_on_step_end(self, trainer: Any, step: int, metrics: dict[str, float]) -> None:
        self.times[step] = time.perf_counter()


def run_shre(args: argparse.Namespace) -> float:
    clock = _StepClock()
    manager = get_plugin_manager()
    manager.register(clock, name="benchmark-clock")
    try:
        with tempfile.TemporaryDirectory() as run_dir:
            shre.engine.fit(make_config(args, str(Path(run_dir) / "run")))
    finally:
        manager.unregister(clock)
    return throughput(clock.times, args)


def _optimizer_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    decay, no_decay = [], []
    for name, parameter in model.named_parameters():
        if parameter.requires_grad:
            (decay if uses_weight_decay(name, parameter) else no_decay).append(parameter)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def run_bare(args: argparse.Namespace) -> float:
    from transformers import get_linear_schedule_with_warmup

    task, model, dataset, collate = build(args)
    optimizer_config = task.config["optimizer"]
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model.to(device).train()
    optimizer = torch.optim.AdamW(
        _optimizer_groups(model, optimizer_config["weight_decay"]),
        lr=optimizer_config["lr"],
        betas=tuple(optimizer_config["betas"]),
        eps=optimizer_config["eps"],
        fused=True,
    )
    scheduler = get_linear_schedule_with_warmup(optimizer, int(0.1 * args.steps), args.steps)
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=args.batch_size, shuffle=True, collate_fn=collate, drop_last=True
    )

    times: dict[int, float] = {}
    step = 0
    while step < args.steps:
        for batch in loader:
            batch = {key: value.to(device) for key, value in batch.items()}
            model(batch)["loss"].backward()
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            times[step] = time.perf_counter()
            if step == args.steps:
                break
    return throughput(times, args)


class _KeywordModel(nn.Module):
    """Trainer calls ``model(**batch)``; shre models take the batch dict."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, **batch: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.model(batch)


def run_trainer(args: argparse.Namespace) -> float:
    from transformers import Trainer, TrainerCallback, TrainingArguments

    task, model, dataset, collate = build(args)
    optimizer_config = task.config["optimizer"]
    times: dict[int, float] = {}

    class Clock(TrainerCallback):
        def on_step_end(self, arguments: Any, state: Any, control: Any, **kwargs: Any) -> None:
            times[state.global_step] = time.perf_counter()

    with tempfile.TemporaryDirectory() as output_dir:
        training_args = TrainingArguments(
            output_dir=output_dir,
            max_steps=args.steps,
            per_device_train_batch_size=args.batch_size,
            learning_rate=optimizer_config["lr"],
            adam_beta1=optimizer_config["betas"][0],
            adam_beta2=optimizer_config["betas"][1],
            adam_epsilon=optimizer_config["eps"],
            weight_decay=optimizer_config["weight_decay"],
            lr_scheduler_type="linear",
            warmup_steps=int(0.1 * args.steps),
            logging_steps=args.steps,
            save_strategy="no",
            eval_strategy="no",
            report_to="none",
            remove_unused_columns=False,
            dataloader_num_workers=0,
            disable_tqdm=True,
            seed=task.config["seed"],
            use_cpu=not torch.cuda.is_available(),
        )
        trainer = Trainer(
            model=_KeywordModel(model),
            args=training_args,
            train_dataset=dataset,
            data_collator=collate,
            callbacks=[Clock()],
        )
        trainer.train()
    return throughput(times, args)


def main() -> None:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    runners = {
        "shre.engine.fit": run_shre,
        "transformers.Trainer": run_trainer,
        "bare PyTorch loop": run_bare,
    }
    results: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(args.repeats):
        for name, runner in runners.items():
            results[name].append(runner(args))

    medians = {name: statistics.median(values) for name, values in results.items()}
    print(f"\n{'method':<22} {'samples/s (median)':>19}  runs")
    for name, values in results.items():
        runs = ", ".join(f"{value:.1f}" for value in values)
        print(f"{name:<22} {medians[name]:>19.1f}  {runs}")

    record = {
        "task": TASK,
        "model": MODEL,
        "data_dir": args.data_dir,
        "steps": args.steps,
        "warmup": args.warmup,
        "batch_size": args.batch_size,
        "repeats": args.repeats,
        "device": "cuda" if torch.cuda.is_available() else "cpu",
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "machine": platform.platform(),
        "samples_per_second": results,
        "median": medians,
    }
    Path(args.output).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
