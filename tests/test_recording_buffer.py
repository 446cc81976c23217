"""lfpk.model.recording.buffer_steps: how many time steps of currents a run buffers before each
probe mapping (exact powers of two from the budget; independent of the rank count)."""

import pytest

from lfpk.model.recording import BUFFER_BUDGET, buffer_steps


@pytest.mark.parametrize("n_segments, expected", [
    (1, 256),
    (int(BUFFER_BUDGET // (8 * 256)), 256),        # 256 steps fill the budget exactly
    (int(BUFFER_BUDGET // (8 * 256)) + 1, 128),    # one compartment more halves it
    (3_717_000, 32),                                # the microcircuit at scale 0.1 (32 steps: 0.95 GB)
    (37_170_000, 16),                               # full scale: the smallest block, over the budget
])
def test_largest_power_of_two_within_the_budget(n_segments, expected):
    steps = buffer_steps(n_segments)
    assert steps == expected
    assert steps & (steps - 1) == 0
    if steps > 16:
        assert steps * 8 * n_segments <= BUFFER_BUDGET < 2 * steps * 8 * n_segments or steps == 256


def test_bounds_and_budget_are_parameters():
    assert buffer_steps(10**9, budget=1.0, smallest=4) == 4
    assert buffer_steps(100, budget=8 * 100 * 64, largest=512) == 64
