"""Image fine-tuning throughput of ``shre.engine.fit`` against a plain PyTorch loop,
and the epoch time of a cached-feature linear probe against re-encoding.

1. Fine-tune: the same ``vision:cifar10`` model (``shre-tiny`` by default),
   dataset, transforms and collate function, trained for the same number of
   steps by ``shre.engine.fit`` and by a plain loop (DataLoader, forward,
   backward, AdamW, cosine schedule). Throughput is training samples per
   second after the first ``--log-every`` steps (warm-up); for the engine it
   is read from the ``samples_per_second`` of its ``metrics.jsonl``.
2. Linear probe: ``--epochs`` epochs with ``train.freeze_encoder`` and
   ``task_options.cache_features`` false (the frozen encoder runs on every
   batch) and true (features are encoded once). Epoch time is the training
   split size divided by the median training throughput. Wall time covers
   the whole fit, with the one-time encoding and every evaluation.

Each measurement runs ``--repeats`` times, alternating the two sides and
which side goes first. The
median run of each side is reported, with the range of all runs, because a
shared machine makes single runs noisy. The results replace the section between the markers below in
``docs/benchmarks.md``.

Usage:
    python benchmarks/vision_throughput.py --data-dir DIR [--steps 60]
        [--batch-size 64] [--epochs 3] [--repeats 2] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "benchmarks.md"
BEGIN = "<!-- vision:begin -->"
END = "<!-- vision:end -->"
DEFAULT_DATA = ROOT / "plugins" / "shre-vision" / "tests" / "data" / "cifar10_slice"


def run_config(args: argparse.Namespace, output_dir: Path, *overrides: str) -> dict[str, Any]:
    from shre.config import resolve_config
    from shre.registry import get_registry

    spec = get_registry().resolve("task", "vision:cifar10").spec
    return resolve_config(
        spec.preset,
        overrides=[
            "task=vision:cifar10",
            f"model={args.model}",
            f"data.dir={args.data_dir}",
            f"output_dir={output_dir}",
            f"train.batch_size={args.batch_size}",
            f"train.log_every={args.log_every}",
            f"seed={args.seed}",
            *overrides,
        ],
    )


def engine_throughput(args: argparse.Namespace, workdir: Path) -> float:
    """Train ``args.steps`` steps with ``shre.engine.fit``; return samples/s after warm-up."""
    import shre.engine as engine

    output_dir = workdir / f"engine-{time.monotonic_ns()}"
    config = run_config(args, output_dir, f"train.max_steps={args.steps}")
    engine.fit(config)
    rates = [
        line["samples_per_second"] for line in read_metrics(output_dir) if line["split"] == "train"
    ]
    return statistics.mean(rates[1:])


def plain_throughput(args: argparse.Namespace, workdir: Path) -> float:
    """Train the same model, data and steps in a plain loop; return samples/s after warm-up."""
    import torch
    from shre.engine.setup import build_task
    from shre.registry import get_registry
    from torch.utils.data import DataLoader
    from transformers import get_scheduler

    config = run_config(args, workdir / "plain", f"train.max_steps={args.steps}")
    torch.manual_seed(args.seed)
    task = build_task(config)
    task.prepare()
    model = task.build_model(get_registry())
    dataset = task.dataset("train", model)
    loader = DataLoader(
        dataset,
        batch_size=args.batch_size,
        shuffle=True,
        drop_last=False,
        collate_fn=task.collate_fn("train", model),
    )
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01
    )
    scheduler = get_scheduler(
        "cosine",
        optimizer,
        num_warmup_steps=math.ceil(0.1 * args.steps),
        num_training_steps=args.steps,
    )

    model.train()
    step = samples = 0
    started = time.perf_counter()
    while step < args.steps:
        for batch in loader:
            loss = model(batch)["loss"]
            loss.backward()
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            if step == args.log_every:
                started, samples = time.perf_counter(), 0
            elif step > args.log_every:
                samples += len(batch["labels"])
            if step == args.steps:
                break
    return samples / (time.perf_counter() - started)


def probe_timing(
    args: argparse.Namespace, workdir: Path, cached: bool, train_size: int
) -> dict[str, float]:
    """Run a linear probe for ``args.epochs`` epochs; return epoch and wall seconds."""
    import shre.engine as engine

    output_dir = workdir / f"probe-{cached}-{time.monotonic_ns()}"
    config = run_config(
        args,
        output_dir,
        f"train.epochs={args.epochs}",
        "train.freeze_encoder=true",
        f"task_options.cache_features={str(cached).lower()}",
    )
    started = time.perf_counter()
    summary = engine.fit(config)
    wall = time.perf_counter() - started

    rates = [
        line["samples_per_second"] for line in read_metrics(output_dir) if line["split"] == "train"
    ]
    return {
        "epoch_seconds": train_size / statistics.median(rates),
        "wall_seconds": wall,
        "accuracy": summary["final_metrics"]["test"]["accuracy"],
    }


def train_size(args: argparse.Namespace, workdir: Path) -> int:
    """Return the number of training images under ``args.data_dir``."""
    from shre.engine.setup import build_task

    task = build_task(run_config(args, workdir / "size"))
    task.prepare()
    return len(task.splits["train"])


def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
    lines = (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def describe(values: list[float], digits: int = 1) -> str:
    """Return ``median (min-max)`` of ``values``."""
    low, middle, high = min(values), statistics.median(values), max(values)
    return f"{middle:.{digits}f} ({low:.{digits}f}-{high:.{digits}f})"


def compare(engine: list[float], plain: list[float]) -> str:
    """Return one sentence comparing the engine's throughput with the plain loop's."""
    ratio = statistics.median(engine) / statistics.median(plain)
    overlap = min(engine) <= max(plain) and min(plain) <= max(engine)
    spread = (
        "the ranges overlap, so the difference is within this machine's noise"
        if overlap
        else "the ranges do not overlap"
    )
    return f"The engine's median is {ratio:.2f} times the plain loop's; {spread}."


def render_section(args: argparse.Namespace, results: dict[str, Any]) -> str:
    machine = f"{platform.machine()}, {os.cpu_count()} logical CPUs, torch {results['torch']}"
    command = (
        f"python benchmarks/vision_throughput.py --data-dir {args.data_label} --model {args.model} "
        f"--steps {args.steps} --batch-size {args.batch_size} --epochs {args.epochs} "
        f"--repeats {args.repeats}"
    )
    probe = results["probe"]
    return (
        f"{BEGIN}\n"
        "## Image fine-tuning and linear-probe throughput (shre-vision)\n\n"
        f"`vision:cifar10` with `{args.model}` on {results['train_size']} training images, batch "
        f"{args.batch_size}, measured by `benchmarks/vision_throughput.py` on {machine}, "
        f"CPU only, `OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}`, median "
        f"(and range) of {args.repeats} alternating runs per side.\n\n"
        f"```bash\n{command}\n```\n\n"
        "Fine-tuning, the same model, transforms, mixup collate and number of steps "
        f"({args.steps}, the first {args.log_every} not counted):\n\n"
        "| loop | training samples/s |\n|---|---|\n"
        f"| `shre.engine.fit` | {describe(results['engine'])} |\n"
        f"| plain PyTorch loop | {describe(results['plain'])} |\n\n"
        f"{compare(results['engine'], results['plain'])}\n\n"
        f"Linear probe for {args.epochs} epochs "
        "(frozen encoder, `mean` pooler, `norm-linear` head):\n\n"
        "| features | epoch time (s) | whole fit, with evaluations (s) | test top-1 |\n"
        "|---|---|---|---|\n"
        f"| re-encoded every batch | {describe(probe[False]['epoch_seconds'], 2)} "
        f"| {describe(probe[False]['wall_seconds'])} | {probe[False]['accuracy']:.3f} |\n"
        "| cached once (`task_options.cache_features=true`) "
        f"| {describe(probe[True]['epoch_seconds'], 2)} "
        f"| {describe(probe[True]['wall_seconds'])} | {probe[True]['accuracy']:.3f} |\n\n"
        "Test top-1 is the same in every run of a side, because the runs share one seed. "
        "The two probes differ in accuracy because the cached one trains on un-augmented "
        "features without mixup, while the re-encoding one keeps the recipe's augmentation.\n"
        f"{END}"
    )


def write_section(section: str) -> None:
    """Replace the vision section of the benchmarks page, or append it."""
    text = PAGE.read_text(encoding="utf-8") if PAGE.exists() else "# Benchmarks\n"
    if BEGIN in text and END in text:
        before, rest = text.split(BEGIN, 1)
        after = rest.split(END, 1)[1]
        text = before + section + after
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    PAGE.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA,
        help="CIFAR-10 npz or image folder (default: the test slice)",
    )
    parser.add_argument("--model", default="shre-tiny")
    parser.add_argument("--steps", type=int, default=60, help="fine-tuning steps per run")
    parser.add_argument("--log-every", type=int, default=10, help="steps per throughput interval")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=3, help="linear-probe epochs")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--no-write", action="store_true", help="print without updating docs/benchmarks.md"
    )
    args = parser.parse_args()
    args.data_label = (
        "DIR" if args.data_dir != DEFAULT_DATA else str(DEFAULT_DATA.relative_to(ROOT))
    )

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=logging.WARNING)
    import torch

    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        size = train_size(args, workdir)
        engine_rates, plain_rates = [], []
        for repeat in range(args.repeats):
            # Alternate which side runs first, so a drift in machine load
            # does not always favour the same side.
            if repeat % 2 == 0:
                engine_rates.append(engine_throughput(args, workdir))
                plain_rates.append(plain_throughput(args, workdir))
            else:
                plain_rates.append(plain_throughput(args, workdir))
                engine_rates.append(engine_throughput(args, workdir))
        runs: dict[bool, list[dict[str, float]]] = {False: [], True: []}
        for _ in range(args.repeats):
            for cached in (False, True):
                runs[cached].append(probe_timing(args, workdir, cached, size))
        probe = {
            cached: {
                "epoch_seconds": [run["epoch_seconds"] for run in results],
                "wall_seconds": [run["wall_seconds"] for run in results],
                "accuracy": results[0]["accuracy"],
            }
            for cached, results in runs.items()
        }

    results = {
        "engine": engine_rates,
        "plain": plain_rates,
        "probe": probe,
        "train_size": size,
        "torch": torch.__version__,
    }
    section = render_section(args, results)
    print(section)
    if not args.no_write:
        write_section(section)


if __name__ == "__main__":
    main()
