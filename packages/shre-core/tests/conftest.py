"""Fixtures for the engine tests: the ``toy`` test plugin and its configs."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

import shre_toy  # noqa: E402
from shre.plugins import reset_plugin_manager  # noqa: E402
from shre_toy import toy_config  # noqa: E402


@pytest.fixture(autouse=True)
def toy_plugin() -> Iterator[None]:
    """Load only the built-in and ``toy`` plugins, whatever else is installed."""
    import torch

    # One thread: the machine is shared, and sums then run in a fixed order.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    shre_toy.register()
    yield
    reset_plugin_manager(None)
    torch.set_num_threads(threads)


@pytest.fixture
def make_config():
    return toy_config
