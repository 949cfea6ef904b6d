"""Listing commands must not import torch, transformers, timm or datasets.

Each command runs in a fresh interpreter that reports which heavy modules
are in ``sys.modules`` after the command finished.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY_MODULES = ("torch", "transformers", "timm", "datasets")

PROBE = """
import json, sys
from shre_cli.main import main
try:
    main({args!r})
except SystemExit as exit:
    code = exit.code
else:
    code = 0
print(json.dumps({{"code": code, "heavy": [name for name in {heavy!r} if name in sys.modules]}}))
"""


def run_probe(*args: str) -> dict:
    code = PROBE.format(args=list(args), heavy=HEAVY_MODULES)
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("list",),
        ("list", "tasks"),
        ("plugins",),
        ("plugins", "--json"),
        ("train", "--help"),
    ],
    ids=lambda args: " ".join(args),
)
def test_command_imports_no_heavy_module(args):
    probe = run_probe(*args)

    assert probe["code"] == 0
    assert probe["heavy"] == []


def test_dry_run_imports_no_heavy_module():
    probe = run_probe("train", "--task", "glue:cola", "--model", "shre-tiny", "--dry-run")

    assert probe["code"] == 0
    assert probe["heavy"] == []


def load_benchmark():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "benchmarks" / "startup.py"
    spec = importlib.util.spec_from_file_location("startup_benchmark", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_section_replaces_its_own_section(tmp_path, monkeypatch):
    benchmark = load_benchmark()
    page = tmp_path / "benchmarks.md"
    page.write_text(
        f"# Benchmarks\n\nother section\n\n{benchmark.BEGIN}\nold\n{benchmark.END}\n\ntail\n"
    )
    monkeypatch.setattr(benchmark, "PAGE", page)

    benchmark.write_section(benchmark.render_section({"shre --help": 0.25}, runs=3))
    text = page.read_text()

    assert "old" not in text
    assert "| `shre --help` | 250 |" in text
    assert text.count(benchmark.BEGIN) == 1
    assert "other section" in text
    assert "tail" in text


def test_benchmark_section_is_appended_once(tmp_path, monkeypatch):
    benchmark = load_benchmark()
    page = tmp_path / "benchmarks.md"
    page.write_text("# Benchmarks\n\nother section\n")
    monkeypatch.setattr(benchmark, "PAGE", page)

    benchmark.write_section(benchmark.render_section({"shre --help": 0.25}, runs=3))
    benchmark.write_section(benchmark.render_section({"shre --help": 0.5}, runs=3))
    text = page.read_text()

    assert text.count("## CLI start-up time") == 1
    assert text.startswith("# Benchmarks\n\nother section\n")
