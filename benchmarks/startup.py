"""Start-up time of the ``shre`` commands that must stay fast.

Runs each command N times in a fresh process and reports the median wall
time, next to ``import torch`` for scale. The results replace the section
between the markers below in ``docs/benchmarks.md`` and leave the rest of
the page alone. The section is appended when the page has none, and the
page is created when it is missing.

Usage:
    python benchmarks/startup.py [--runs 11] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "benchmarks.md"
BEGIN = "<!-- startup:begin -->"
END = "<!-- startup:end -->"

SHRE = [sys.executable, "-m", "shre_cli.main"]
COMMANDS = {
    "shre --help": [*SHRE, "--help"],
    "shre list tasks": [*SHRE, "list", "tasks"],
    "shre plugins": [*SHRE, "plugins"],
    "python -c 'import torch' (for scale)": [sys.executable, "-c", "import torch"],
}


def median_seconds(command: list[str], runs: int) -> float:
    """Return the median wall time of ``runs`` runs of ``command``, after one warm-up run."""
    environment = {**os.environ, "HF_HUB_OFFLINE": "1"}
    subprocess.run(command, capture_output=True, env=environment, check=True)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, env=environment, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def render_section(results: dict[str, float], runs: int) -> str:
    rows = "\n".join(f"| `{name}` | {seconds * 1000:.0f} |" for name, seconds in results.items())
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs"
    return (
        f"{BEGIN}\n"
        "## CLI start-up time\n\n"
        f"Median wall time of {runs} runs per command, each in a fresh process after one\n"
        f"warm-up run, measured by `benchmarks/startup.py` on {machine}, Python\n"
        f"{platform.python_version()}, with every first-party plugin installed. The listing\n"
        "commands read only the plugin registry and never import torch. Other jobs may\n"
        "share the machine, so compare numbers from one run of the script.\n\n"
        "| command | median (ms) |\n|---|---|\n"
        f"{rows}\n"
        f"{END}\n"
    )


def write_section(section: str) -> None:
    """Replace the start-up section of the benchmarks page, or append it."""
    text = PAGE.read_text(encoding="utf-8") if PAGE.exists() else "# Benchmarks\n"
    if BEGIN in text and END in text:
        before, _, rest = text.partition(BEGIN)
        _, _, after = rest.partition(END)
        text = before + section.rstrip("\n") + after
    else:
        text = text.rstrip("\n") + "\n\n" + section
    PAGE.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11, help="timed runs per command")
    parser.add_argument(
        "--no-write", action="store_true", help=f"print only; leave {PAGE.name} alone"
    )
    args = parser.parse_args()

    results = {name: median_seconds(command, args.runs) for name, command in COMMANDS.items()}
    section = render_section(results, args.runs)
    print(section)
    if not args.no_write:
        write_section(section)
        print(f"wrote {PAGE}")


if __name__ == "__main__":
    main()
