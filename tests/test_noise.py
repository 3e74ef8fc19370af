"""Parallel noise draws replay from the parent generator alone."""

import numpy as np
import pytest

from dynamics.noise import MIN_PARALLEL_SIZE, standard_normal


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_large_draws_replay_and_are_standard_normal(dtype):
    shape = (64, 32, 200)
    assert np.prod(shape) >= MIN_PARALLEL_SIZE  # exercises the threaded path
    first = standard_normal(np.random.default_rng(3), shape, dtype)
    again = standard_normal(np.random.default_rng(3), shape, dtype)
    assert first.dtype == dtype and first.shape == shape
    assert np.array_equal(first, again)
    n = first.size
    # mean within 4 standard errors of 0, variance within 4 standard errors (sqrt(2/n)) of 1
    assert abs(first.mean()) < 4 / np.sqrt(n)
    assert abs(first.var() - 1) < 4 * np.sqrt(2 / n)
    # the two halves come from different streams
    assert not np.allclose(first[:32], first[32:])


def test_small_draws_come_straight_from_the_parent():
    expected = np.random.default_rng(5).standard_normal((3, 4))
    assert np.array_equal(standard_normal(np.random.default_rng(5), (3, 4)), expected)


def test_rejects_legacy_random_state():
    with pytest.raises(ValueError, match="numpy.random.Generator"):
        standard_normal(np.random.RandomState(0), (3, 3))
