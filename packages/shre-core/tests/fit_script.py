"""Run ``shre.engine.fit`` on a saved config in a fresh process.

Used by the resume, SIGKILL and torchrun tests: each run gets its own
process, as a user's run does.

Usage: python fit_script.py CONFIG_JSON [--resume RUN_DIR] [--kill-at-step N]
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


class KillAtStep:
    """Plugin that SIGKILLs its own process after optimiser step ``step``."""

    def __init__(self, step: int) -> None:
        self.step = step

    @hookimpl
    def shre_on_step_end(self, trainer, step, metrics) -> None:
        if step == self.step:
            os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("config")
    parser.add_argument("--resume")
    parser.add_argument("--kill-at-step", type=int)
    arguments = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    shre_toy.register()
    if arguments.kill_at_step is not None:
        from shre.plugins import get_plugin_manager

        get_plugin_manager().register(KillAtStep(arguments.kill_at_step), name="kill")

    from shre import engine

    config = json.loads(Path(arguments.config).read_text())
    engine.fit(config, resume=arguments.resume)


if __name__ == "__main__":
    main()
