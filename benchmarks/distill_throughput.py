"""Distillation step throughput: ``shre.engine.fit`` next to a bare PyTorch loop.

Both train the same ``distill:shre`` student (built by the task, so the same
encoders, shared MLP, teacher and loss) on the same image-caption pairs with
AdamW and a cosine schedule, loading data in the main process. Throughput is
training samples per second after the first ``--log-every`` steps (warm-up:
allocator, first batches). The engine's figure is the mean of the
``samples_per_second`` it logs in ``metrics.jsonl``; the bare loop times the
same steps with ``time.perf_counter``.

    python benchmarks/distill_throughput.py --data-dir DIR --model shre-tiny \\
        --teacher timm:test_resnet --random-teacher --batch-size 16 --steps 30
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch
from shre.config import resolve_config
from shre.registry import get_registry


def build_config(args: argparse.Namespace, output_dir: str) -> dict:
    spec = get_registry().resolve("task", "distill:shre").spec
    overrides = [
        f"task_options.teacher={args.teacher}",
        f"task_options.teacher_pretrained={'false' if args.random_teacher else 'true'}",
        f"train.batch_size={args.batch_size}",
        f"train.max_steps={args.steps}",
        f"train.log_every={args.log_every}",
        f"train.eval_every={args.steps + 1}",
        f"train.precision={args.precision}",
        f"task_options.val_images={args.val_images}",
    ]
    config = resolve_config(spec.preset, overrides=overrides)
    config.update(task="distill:shre", model=args.model, output_dir=output_dir)
    config["data"]["dir"] = args.data_dir
    return config


def engine_throughput(args: argparse.Namespace) -> float:
    from shre.engine import fit

    with tempfile.TemporaryDirectory() as output_dir:
        fit(build_config(args, output_dir))
        rates = []
        for line in (Path(output_dir) / "metrics.jsonl").read_text().splitlines():
            record = json.loads(line)
            if record.get("split") == "train" and record["step"] > args.log_every:
                rates.append(record["samples_per_second"])
    return sum(rates) / len(rates)


def bare_throughput(args: argparse.Namespace) -> float:
    from shre_distill.task import DistillTask
    from transformers import get_cosine_schedule_with_warmup

    torch.manual_seed(0)
    config = build_config(args, "")
    spec = get_registry().resolve("task", "distill:shre").spec
    task = DistillTask(spec, config)
    task.prepare()
    model = task.build_model(get_registry()).to(args.device)
    loader = torch.utils.data.DataLoader(
        task.dataset("train", model),
        batch_size=args.batch_size,
        shuffle=True,
        drop_last=True,
        collate_fn=task.collate_fn("train", model),
    )
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad],
        lr=1e-4,
        betas=(0.9, 0.98),
        eps=1e-6,
        weight_decay=0.01,
    )
    scheduler = get_cosine_schedule_with_warmup(optimizer, args.steps // 10, args.steps)
    model.train()

    step, started = 0, None
    while step < args.steps:
        for batch in loader:
            batch = {key: value.to(args.device) for key, value in batch.items()}
            with torch.autocast(
                torch.device(args.device).type, torch.bfloat16, enabled=args.precision == "bf16"
            ):
                loss = model(batch)["loss"]
            loss.backward()
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            loss_value = loss.item()  # the engine also reads the loss every step
            if step == args.log_every:
                started = time.perf_counter()
            if step == args.steps:
                break
    del loss_value
    return (args.steps - args.log_every) * args.batch_size / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir", required=True, help="image-caption folder (captions.jsonl layout)"
    )
    parser.add_argument("--model", default="shre-tiny")
    parser.add_argument("--teacher", default="timm:test_resnet")
    parser.add_argument(
        "--random-teacher", action="store_true", help="timm teacher without downloaded weights"
    )
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--log-every", type=int, default=5)
    parser.add_argument("--val-images", type=float, default=0.1)
    parser.add_argument("--precision", default="fp32", choices=("fp32", "bf16"))
    parser.add_argument(
        "--device",
        default="cuda" if torch.cuda.is_available() else "cpu",
        help="device of the bare loop; the engine picks its own through accelerate",
    )
    args = parser.parse_args()

    bare = bare_throughput(args)
    engine = engine_throughput(args)
    print(f"model {args.model}, batch {args.batch_size}, {args.steps} steps, device {args.device}")
    print(f"bare loop:   {bare:.1f} samples/s")
    print(f"shre engine: {engine:.1f} samples/s ({engine / bare:.2f}x the bare loop)")


if __name__ == "__main__":
    main()
