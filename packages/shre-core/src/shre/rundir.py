"""The run directory: resolved config, metrics log, summary and curves.

Layout of ``config["output_dir"]``::

    config.yaml        resolved config of the run
    metrics.jsonl      one JSON object per logging or evaluation event
    checkpoints/       step-<N>/ directories (see shre.checkpoint)
    summary.json       final and best metrics, best step, run time, plugins
    curves.png         training loss and the main dev metric against step
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from shre.checkpoint import CHECKPOINTS_DIR, list_checkpoints
from shre.errors import ConfigError

logger = logging.getLogger(__name__)

CONFIG_FILE = "config.yaml"
METRICS_FILE = "metrics.jsonl"
SUMMARY_FILE = "summary.json"
CURVES_FILE = "curves.png"
RUN_FILES = (CONFIG_FILE, METRICS_FILE, SUMMARY_FILE, CURVES_FILE)


def default_output_dir(task: str, model: str, now: datetime | None = None) -> Path:
    """Return ``runs/<task>-<model>-<UTC timestamp>`` with ':' and '/' replaced by '-'."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    name = f"{task}-{model}-{stamp}".replace(":", "-").replace("/", "-")
    return Path("runs") / name


def prepare_run_dir(run_dir: Path, *, overwrite: bool, resume: bool) -> None:
    """Create ``run_dir`` or check that it may be used.

    A directory that already contains files is rejected, so that one run
    never mixes into another, unless ``resume`` (continue that run) or
    ``overwrite`` is set. Overwriting deletes only shre's own files: the run
    files above and the ``checkpoints/step-*`` directories; other files stay.

    Raises:
        ConfigError: the directory is not empty and neither flag is set.
    """
    if run_dir.exists() and not run_dir.is_dir():
        raise ConfigError(f"output_dir {str(run_dir)!r} is a file; choose a directory")

    if run_dir.is_dir() and any(run_dir.iterdir()) and not resume:
        if not overwrite:
            raise ConfigError(
                f"output_dir {str(run_dir)!r} already contains files; choose a new output_dir, "
                "resume that run, or pass --overwrite (overwrite=True in Python) to replace "
                "its run files"
            )
        _delete_run_files(run_dir)

    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"cannot create output_dir {str(run_dir)!r}: {error}") from error


def _delete_run_files(run_dir: Path) -> None:
    for name in RUN_FILES:
        (run_dir / name).unlink(missing_ok=True)
    for checkpoint in list_checkpoints(run_dir):
        shutil.rmtree(checkpoint)
    checkpoints_dir = run_dir / CHECKPOINTS_DIR
    if checkpoints_dir.is_dir():
        for partial in checkpoints_dir.glob(".step-*"):
            shutil.rmtree(partial, ignore_errors=True)
    logger.info("overwriting the run files in %s", run_dir)


class MetricsLog:
    """Append-only ``metrics.jsonl``: one object per event, flushed at once."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, record: Mapping[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as stream:
            stream.write(json.dumps(dict(record)) + "\n")

    def read(self) -> list[dict[str, Any]]:
        if not self.path.is_file():
            return []
        records = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                # A process killed mid-write leaves a partial last line.
                logger.warning("skipped a malformed line in %s", self.path)
        return records

    def truncate_after(self, step: int) -> None:
        """Drop the events after ``step``: on resume they are recorded again."""
        kept = [record for record in self.read() if record.get("step", 0) <= step]
        self.path.write_text(
            "".join(json.dumps(record) + "\n" for record in kept), encoding="utf-8"
        )


def write_summary(run_dir: Path, summary: Mapping[str, Any]) -> Path:
    path = run_dir / SUMMARY_FILE
    path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return path


def plot_curves(
    run_dir: Path, records: Iterable[Mapping[str, Any]], main_metric: str, main_split: str | None
) -> Path:
    """Draw the training loss and ``main_split``'s ``main_metric`` against step into curves.png."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    records = list(records)
    train = [(r["step"], r["loss"]) for r in records if r.get("split") == "train" and "loss" in r]
    dev = [
        (r["step"], r[main_metric])
        for r in records
        if main_split is not None and r.get("split") == main_split and main_metric in r
    ]

    figure, (loss_axis, metric_axis) = plt.subplots(1, 2, figsize=(10, 4))
    if train:
        loss_axis.plot(*zip(*train, strict=True), label="train loss")
    loss_axis.set(xlabel="optimiser step", ylabel="loss", title="training loss")
    if dev:
        metric_axis.plot(*zip(*dev, strict=True), marker="o")
    metric_axis.set(
        xlabel="optimiser step", ylabel=main_metric, title=f"{main_split} {main_metric}"
    )
    figure.tight_layout()

    path = run_dir / CURVES_FILE
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
