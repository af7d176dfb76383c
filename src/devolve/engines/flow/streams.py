"""Random streams for the discharge simulation: one seed, independent streams per replication.

Each replication owns :data:`STREAMS` independent generators (xoshiro256**, Blackman & Vigna
2018), whose 256-bit states are derived from one seed with :class:`numpy.random.SeedSequence`:
``SeedSequence(seed).spawn(replications)[r]`` gives replication ``r`` its states. A replication's
draws therefore depend only on the seed and its index — never on how many threads ran it or on
the scenario — which is what makes scenario comparisons paired (common random numbers).

The draw functions are Numba-compiled and take a stream's state (a ``uint64[4]`` view) which they
advance in place.

>>> states = replication_states(seed=7, replications=2)
>>> states.shape, states.dtype
((2, 8, 4), dtype('uint64'))
>>> bool((states == replication_states(7, 2)).all())
True
>>> 0.0 < uniform(states[0, 0].copy()) < 1.0
True
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

#: Streams per replication, by use. Capacity never changes what any stream draws.
ARRIVALS, ATTRIBUTES = 0, 1
DURATION = (-1, 2, 3, 4)   # DURATION[k]: time in pathway k's service, for the patients on pathway k
PRIMING = (-1, 5, 6, 7)    # PRIMING[k]: residual times of pathway k's places busy at the start
STREAMS = 8

_TWO_TO_MINUS_53 = 1.0 / 9007199254740992.0


def replication_states(seed: int, replications: int, *, first: int = 0) -> np.ndarray:
    """The generator states of replications ``first … first + replications - 1`` of ``seed``.

    Returns a ``uint64`` array of shape (replications, STREAMS, 4). Replication ``r`` gets the
    same states whether it is asked for alone or in a batch.
    """
    if replications < 0 or first < 0:
        raise ValueError("replications and first must be non-negative")
    children = np.random.SeedSequence(int(seed)).spawn(first + replications)[first:]
    states = np.empty((replications, STREAMS, 4), dtype=np.uint64)
    for r, child in enumerate(children):
        block = child.generate_state(STREAMS * 4, dtype=np.uint64).reshape(STREAMS, 4)
        for s in range(STREAMS):
            if not block[s].any():  # xoshiro must not start from all zeros
                block[s, 0] = 1
        states[r] = block
    return states


@nb.njit(cache=True, inline="always")
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@nb.njit(cache=True)
def next_u64(s):
    """The next 64 random bits of stream ``s`` (xoshiro256**)."""
    result = _rotl(s[1] * np.uint64(5), 7) * np.uint64(9)
    t = s[1] << np.uint64(17)
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = _rotl(s[3], 45)
    return result


@nb.njit(cache=True)
def uniform(s):
    """A uniform draw on the open interval (0, 1): never exactly 0 or 1."""
    return (float(next_u64(s) >> np.uint64(11)) + 0.5) * _TWO_TO_MINUS_53


def _ziggurat_tables(layers: int = 128, edge: float = 3.442619855899,
                     volume: float = 9.91256303526217e-3) -> tuple[np.ndarray, np.ndarray]:
    """The layer edges and ratios of Doornik's (2005) ziggurat for the standard normal."""
    x = np.zeros(layers + 1)
    f = math.exp(-0.5 * edge * edge)
    x[0] = volume / f
    x[1] = edge
    for i in range(2, layers):
        x[i] = math.sqrt(-2.0 * math.log(volume / x[i - 1] + f))
        f = math.exp(-0.5 * x[i] * x[i])
    ratio = x[1:] / x[:-1]
    return x, ratio


_ZIG_X, _ZIG_RATIO = _ziggurat_tables()
_ZIG_EDGE = 3.442619855899


@nb.njit(cache=True)
def standard_normal(s):
    """A standard normal draw: Doornik's ziggurat (exact; one 64-bit draw in about 98% of calls).

    The layer comes from the low 7 bits of the draw and the position from the high 53 bits.
    """
    while True:
        bits = next_u64(s)
        u = 2.0 * ((float(bits >> np.uint64(11)) + 0.5) * _TWO_TO_MINUS_53) - 1.0
        i = int(bits & np.uint64(127))
        if abs(u) < _ZIG_RATIO[i]:
            return u * _ZIG_X[i]
        if i == 0:  # the base layer: a draw from the tail beyond the edge
            while True:
                x = math.log(uniform(s)) / _ZIG_EDGE
                y = math.log(uniform(s))
                if -2.0 * y >= x * x:
                    return x - _ZIG_EDGE if u < 0.0 else _ZIG_EDGE - x
        x = u * _ZIG_X[i]
        f0 = math.exp(-0.5 * (_ZIG_X[i] * _ZIG_X[i] - x * x))
        f1 = math.exp(-0.5 * (_ZIG_X[i + 1] * _ZIG_X[i + 1] - x * x))
        if f1 + uniform(s) * (f0 - f1) < 1.0:
            return x


@nb.njit(cache=True)
def exponential(s):
    """An exponential draw with mean 1."""
    return -math.log(uniform(s))


@nb.njit(cache=True)
def gamma(s, shape, scale):
    """A gamma draw with ``shape`` and ``scale`` (mean shape × scale); Marsaglia & Tsang (2000).

    Shape 1 is the exponential distribution. Shapes below 1 use the boost
    gamma(shape) = gamma(shape + 1) × U^(1/shape).
    """
    boost = 1.0
    if shape < 1.0:
        boost = uniform(s) ** (1.0 / shape)
        shape = shape + 1.0
    d = shape - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        x = standard_normal(s)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        u = uniform(s)
        if u < 1.0 - 0.0331 * x * x * x * x:
            return d * v * scale * boost
        if math.log(u) < 0.5 * x * x + d * (1.0 - v + math.log(v)):
            return d * v * scale * boost
