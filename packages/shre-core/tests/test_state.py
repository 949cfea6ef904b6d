"""RNG states saved for exact resume."""

from __future__ import annotations

import random

import numpy as np
import torch

from shre.engine.state import capture_rng_state, restore_rng_state


def test_rng_state_round_trip_restores_draws():
    state = capture_rng_state()
    expected = (random.random(), float(np.random.rand()), float(torch.rand(())))
    restore_rng_state(state)
    actual = (random.random(), float(np.random.rand()), float(torch.rand(())))

    assert actual == expected
