"""Benchmark the portfolio optimiser (docs/method/optimise.md).

Target (issue "Spending the transformation fund well"): 50 candidate schemes × 1,000 runs solved to
≤ 1% optimality gap in under 30 s on this machine, for the balance objective (the hard one: one binary
per run). The 50 schemes are synthetic (``devolve.engines.optimise.synthetic``, seeded, labelled),
with the proportions of the Greater Manchester forecast's own runs. Also timed: the other objectives
on the same problem, and Greater Manchester end to end (its 7 schemes × 1,000 forecast runs, with
the efficient frontier). Each case records wall-clock seconds (what the target is about) and this
process's CPU seconds (the work, which other jobs on a shared machine do not inflate).

    python benchmarks/optimise.py            # writes benchmarks/results/optimise.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results" / "optimise.json"
TARGET_S = 30.0
TARGET_GAP = 0.01


def machine() -> dict:
    import highspy

    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__,
            "highspy": getattr(highspy, "__version__", None) or _version("highspy"),
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def _version(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None


def synthetic_case(seed: int, objective: str) -> dict:
    from devolve.engines.optimise import HighsSolver, solve
    from devolve.engines.optimise.bounds import fund_bounds
    from devolve.engines.optimise.synthetic import synthetic_problem

    problem = synthetic_problem(50, 1000, seed)
    bounds = fund_bounds(problem, limited=objective != "min-fund")
    load = round(os.getloadavg()[0], 2)
    started, cpu = time.perf_counter(), time.process_time()
    result = solve(problem, objective, HighsSolver(time_limit=TARGET_S, mip_rel_gap=TARGET_GAP))
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    # the balance objective runs a starting portfolio and two stages; the target is the whole solve
    return {"seed": seed, "objective": objective, "status": result.status,
            "optimality_gap": None if result.optimality_gap is None else round(result.optimality_gap, 5),
            "seconds": round(seconds, 3), "cpu_seconds": round(cpu_seconds, 3), "load_average_1min": load,
            "nodes": result.nodes, "probability_of_balance": result.portfolio.probability_of_balance,
            "expected_net_benefit_gbp": round(result.portfolio.expected_net_benefit_gbp, 2),
            "runs_always_balanced": int(bounds.always.sum()), "runs_never_balanced": int(bounds.never.sum()),
            "runs_with_a_binary_before_count_bounds": int(bounds.free.size),
            "met": bool(result.optimality_gap is not None and result.optimality_gap <= TARGET_GAP
                        and seconds < TARGET_S)}


def greater_manchester() -> dict:
    from devolve.services.optimise import optimise_portfolio

    with tempfile.TemporaryDirectory() as empty:
        started = time.perf_counter()
        result = optimise_portfolio("greater-manchester-2016", objective="balance", runs=1000, seed=0,
                                    data_dir=empty, time_limit=TARGET_S, mip_rel_gap=TARGET_GAP)
        seconds = time.perf_counter() - started
    j = result.to_json()
    rows = {r["portfolio"]: r for r in j["comparison"]}
    return {"schemes": len(j["candidates"]), "runs": 1000, "objective": "balance", "status": j["status"],
            "optimality_gap": j["optimality_gap"], "solve_s": j["solve_seconds"],
            "forecast_s": j["forecast_seconds"], "total_with_frontier_s": round(seconds, 3),
            "probability_of_balance": j["probability_of_balance"],
            "deal_portfolio_probability_of_balance": rows["deal's own portfolio"]["probability_of_balance"],
            "one_at_a_time_probability_of_balance": rows["one at a time"]["probability_of_balance"],
            "frontier_points": len(j["frontier"]), "synthetic_inputs": j["synthetic_inputs"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="synthetic problems to solve (seeds 0..N-1)")
    args = parser.parse_args(argv)
    before = machine()
    balance = [synthetic_case(seed, "balance") for seed in range(args.seeds)]
    others = [synthetic_case(0, objective) for objective in ("benefit", "min-fund")]
    gm = greater_manchester()
    after = [round(x, 2) for x in os.getloadavg()]
    shared = max(before["load_average"][0], after[0]) > (os.cpu_count() or 1)
    payload = {
        "benchmark": "optimise",
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": before,
        "load_average_after": after,
        "shared_machine": ("other engineers ran tests and benchmarks on this machine at the same time (load "
                           "average above the core count); wall-clock timings are then pessimistic, and "
                           "cpu_seconds (this process's own CPU time) shows the work done") if shared else
                          "no other heavy work seen (load average within the core count)",
        "target": {"schemes": 50, "runs": 1000, "objective": "balance", "max_gap": TARGET_GAP,
                   "max_seconds": TARGET_S},
        "synthetic": "the 50-scheme problems are synthetic (devolve.engines.optimise.synthetic, seeded)",
        "balance_50x1000": balance,
        "other_objectives_50x1000": others,
        "greater_manchester": gm,
        "met": all(case["met"] for case in balance),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    temporary = RESULTS.with_suffix(".json.part")
    temporary.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, RESULTS)
    json.dump(payload, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
