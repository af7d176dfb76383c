"""The random streams: reproducible, independent per replication, right distributions."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from devolve.engines.flow.streams import STREAMS, exponential, gamma, replication_states, standard_normal, uniform


@numba.njit
def _draws(state, kind, n, shape):
    out = np.empty(n)
    for i in range(n):
        if kind == 0:
            out[i] = uniform(state)
        elif kind == 1:
            out[i] = standard_normal(state)
        elif kind == 2:
            out[i] = exponential(state)
        else:
            out[i] = gamma(state, shape, 2.0)
    return out


def test_states_come_from_the_seed_and_the_replication_index():
    a = replication_states(3, 5)
    assert a.shape == (5, STREAMS, 4)
    assert np.array_equal(a, replication_states(3, 5))
    assert np.array_equal(a[2:], replication_states(3, 3, first=2))
    assert not np.array_equal(a, replication_states(4, 5))
    assert len({tuple(row) for row in a.reshape(-1, 4)}) == 5 * STREAMS   # every stream its own state


def test_draws_advance_the_state_and_repeat_from_a_copy():
    state = replication_states(1, 1)[0, 0]
    first = _draws(state.copy(), 0, 5, 1.0)
    assert np.array_equal(first, _draws(state.copy(), 0, 5, 1.0))
    moved = state.copy()
    _draws(moved, 0, 5, 1.0)
    assert not np.array_equal(moved, state)


def test_uniforms_are_strictly_inside_zero_and_one_and_flat():
    x = _draws(replication_states(2, 1)[0, 0].copy(), 0, 200_000, 1.0)
    assert x.min() > 0.0 and x.max() < 1.0
    counts, _ = np.histogram(x, bins=10, range=(0, 1))
    assert np.all(np.abs(counts - 20_000) < 5 * np.sqrt(20_000))


def test_normal_draws_have_the_moments_and_tails_of_the_standard_normal():
    x = _draws(replication_states(5, 1)[0, 1].copy(), 1, 400_000, 1.0)
    assert abs(x.mean()) < 0.01
    assert x.std() == pytest.approx(1.0, abs=0.01)
    assert (x ** 4).mean() == pytest.approx(3.0, abs=0.06)
    assert (x > 3.0).mean() == pytest.approx(0.0013499, abs=0.0003)   # the ziggurat's tail


def test_exponential_draws_have_mean_and_variance_one():
    x = _draws(replication_states(6, 1)[0, 2].copy(), 2, 200_000, 1.0)
    assert x.mean() == pytest.approx(1.0, abs=0.01)
    assert x.var() == pytest.approx(1.0, abs=0.03)


@pytest.mark.parametrize("shape", [0.4, 1.0, 4.0, 25.0])
def test_gamma_draws_have_the_mean_and_variance_of_their_shape(shape):
    x = _draws(replication_states(7, 1)[0, 3].copy(), 3, 200_000, shape)
    assert x.mean() == pytest.approx(2.0 * shape, rel=0.01)
    assert x.var() == pytest.approx(4.0 * shape, rel=0.03)
    assert x.min() > 0.0
