"""Synthetic portfolio problems of any size, for tests and benchmarks (labelled synthetic).

The proportions follow the Greater Manchester forecast's own runs (plan scenario, 1,000 runs): the
five-year cumulative gap without schemes varies far more between runs (standard deviation about
3.5 times its mean) than any scheme's saving does; savings per pound invested range from well below
to well above one; each scheme's saving varies between runs by about half its mean, partly with the
run's prices and activity (a factor shared with the gap) and partly on its own.
"""

from __future__ import annotations

import numpy as np

from devolve.engines.optimise.problem import Candidate, PortfolioProblem

YEARS = ("2016/17", "2017/18", "2018/19", "2019/20", "2020/21")


def synthetic_problem(schemes: int = 50, runs: int = 1000, seed: int = 0, *, fund_share: float = 0.4,
                      scalable_share: float = 0.5) -> PortfolioProblem:
    """A seeded synthetic problem: ``schemes`` candidates × ``runs`` runs; the fund is ``fund_share``
    of the cost of every candidate at scale 1, spread evenly over five years; the min-fund target is
    a 70% probability of balance."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    T = len(YEARS)
    total = rng.uniform(2e6, 4e7, schemes)
    profile = rng.dirichlet(np.full(T, 2.0), schemes)
    investment = total[:, None] * profile
    ratio = rng.uniform(0.3, 2.5, schemes)                    # saving per pound invested, central
    shared = rng.standard_normal(runs)                        # prices and activity, common to the run
    own = rng.standard_normal((runs, schemes))
    saving = (total * ratio)[None, :] * (1.0 + 0.25 * shared[:, None] + 0.45 * own)
    fund = fund_share * total.sum()
    expected_saving = float((total * ratio).mean() * schemes * fund_share)
    gap = expected_saving * (0.6 + 3.5 * (0.5 * shared + np.sqrt(0.75) * rng.standard_normal(runs)))
    candidates = []
    for s in range(schemes):
        scalable = bool(rng.random() < scalable_share)
        candidates.append(Candidate(f"scheme-{s + 1:02d}", f"Synthetic scheme {s + 1}", scalable=scalable,
                                    min_scale=0.5 if scalable else 1.0, max_scale=1.5 if scalable else 1.0,
                                    source="synthetic: devolve.engines.optimise.synthetic", synthetic=True))
    return PortfolioProblem.from_arrays(saving - total[None, :], investment, gap, candidates=candidates,
                                        years=YEARS, fund_gbp=fund, cash_limits=np.full(T, fund / T),
                                        target_probability=0.7, synthetic=True)
