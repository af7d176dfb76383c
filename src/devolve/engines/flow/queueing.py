"""Queueing theory for a pathway in steady state: Erlang C and the Allen–Cunneen approximation.

Used to check the simulation (an M/M/c pathway must match Erlang C) and, in results, as a
back-of-envelope figure beside each pathway's simulated wait. A pathway with c places, referrals
arriving at rate λ a day (a Poisson stream: admissions are Poisson and acute stays independent,
so the referrals are too) and a mean stay of 1/μ days has offered load a = λ/μ.

>>> round(erlang_c(2, 1.0), 6)          # two places, offered load 1: P(wait) = 1/3
0.333333
>>> round(mmc_wait(arrival_rate=1.0, mean_service=1.0, servers=2), 6)
0.333333
"""

from __future__ import annotations

import math


def erlang_c(servers: int, load: float) -> float:
    """Probability that an arrival waits in an M/M/c queue with ``servers`` and offered ``load``
    (Erlangs). 1.0 when load ≥ servers (no steady state: everyone waits eventually).

    Computed with the Erlang B recursion B(k) = a B(k-1) / (k + a B(k-1)), stable for large c,
    then C = c B / (c − a (1 − B)).
    """
    if servers < 0 or load < 0:
        raise ValueError("servers and load must be non-negative")
    if servers == 0 or load >= servers:
        return 1.0
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = load * blocking / (k + load * blocking)
    return servers * blocking / (servers - load * (1.0 - blocking))


def mmc_wait(*, arrival_rate: float, mean_service: float, servers: int) -> float:
    """Mean wait in queue (days) of an M/M/c queue: C(c, a) / (c μ − λ); infinity if unstable."""
    load = arrival_rate * mean_service
    if servers <= load:
        return math.inf
    return erlang_c(servers, load) / (servers / mean_service - arrival_rate)


def allen_cunneen_wait(*, arrival_rate: float, mean_service: float, service_cv: float, servers: int,
                       arrival_cv: float = 1.0) -> float:
    """Approximate mean wait of a G/G/c queue: the M/M/c wait × (cv_a² + cv_s²) / 2."""
    return mmc_wait(arrival_rate=arrival_rate, mean_service=mean_service, servers=servers) \
        * (arrival_cv ** 2 + service_cv ** 2) / 2.0
