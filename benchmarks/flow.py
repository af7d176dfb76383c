"""Benchmark: the discharge-flow engine against its SimPy reference, GM districts, the capacity sweep.

Writes ``benchmarks/results/flow.json`` with the machine, and:

1. **Throughput** on the same model (a GM district, a year after the warm-up): replications per
   second of the SimPy reference (``benchmarks/flow_simpy_reference.py``, one process) and of the
   compiled engine on one thread and on every CPU. Target: at least 20× SimPy's throughput.
2. **Equivalence**: (a) SimPy fed the engine's own drawn patients must give the same outputs;
   (b) with independent random streams and samplers, means must be statistically equivalent:
   for each headline metric, the 95% intervals of both and the Welch interval of the difference —
   SimPy end to end (a few dozen replications: SimPy is slow), and the SimPy reference's sampler
   through the (identical) compiled loop at 1,000 replications.
3. **Scale**: each of the ten GM districts, a year × 1,000 replications, timed. Target: well
   under a minute.
4. **Capacity sweep** for one district: the least-cost mix that halves delayed days.

Run: ``python benchmarks/flow.py [--replications 1000] [--simpy-replications 40] [--quick]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from statistics import NormalDist

import numpy as np

from devolve.engines.flow import kernel, model_from_deal, simulate
from devolve.engines.flow.estimates import estimate, welch_difference
from devolve.engines.flow.plan import plan_capacity
from devolve.engines.flow.simulate import default_threads, kernel_inputs, run_replications
from devolve.engines.flow.streams import replication_states
from devolve.packs.loader import load_deal

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "flow.json"
GM = "greater-manchester-2016"
MODEL_DISTRICT = "E08000002"       # Bury: the throughput and equivalence model
TARGET_SPEEDUP = 20.0
TARGET_DISTRICT_S = 60.0


def _reference():
    spec = importlib.util.spec_from_file_location("flow_simpy_reference", HERE / "flow_simpy_reference.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def machine() -> dict:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (None, None, None)
    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "threads_used": default_threads(), "python": platform.python_version(),
            "implementation": platform.python_implementation(), "load_average_at_start": load,
            "shared": bool(load[0] is not None and load[0] > 0.5 * (os.cpu_count() or 1))}


def _engine_metrics(run) -> dict[str, np.ndarray]:
    table = run.per_replication
    metrics = {name: table[name].to_numpy() for name in ("delayed_days", "occupancy_mean", "los_mean", "admitted",
                                                           "delayed_patients")}
    for p in run.model.pathways:
        metrics[f"wait_mean_{p.name}"] = table[f"wait_mean_{p.name}"].to_numpy()
        metrics[f"utilisation_{p.name}"] = table[f"utilisation_{p.name}"].to_numpy()
    return metrics


def throughput(model, reference, simpy_replications: int, replications: int) -> dict:
    """Replications per second: SimPy (with its own sampling) vs the engine on 1 thread and on all."""
    simulate(model, replications=2, seed=0, threads=1)        # compiled and cached before timing
    started, cpu = time.perf_counter(), time.process_time()
    simpy_table = reference.run(model, simpy_replications, seed=1)
    simpy_s, simpy_cpu = time.perf_counter() - started, time.process_time() - cpu
    started, cpu = time.perf_counter(), time.process_time()
    one = simulate(model, replications=replications, seed=2, threads=1)
    one_s, one_cpu = time.perf_counter() - started, time.process_time() - cpu
    started = time.perf_counter()
    simulate(model, replications=replications, seed=2)
    all_s = time.perf_counter() - started
    simpy_rate, one_rate, all_rate = simpy_replications / simpy_s, replications / one_s, replications / all_s
    return {
        "model": model.label, "days": model.days, "warm_up_days": model.warm_up_days,
        "admissions_per_year": round(model.admissions_per_year),
        "patients_per_replication": float(one.per_replication["arrivals_total"].mean()),
        "simpy": {"replications": simpy_replications, "seconds": round(simpy_s, 3), "cpu_seconds": round(simpy_cpu, 3),
                  "replications_per_s": round(simpy_rate, 4)},
        "engine_one_thread": {"replications": replications, "seconds": round(one_s, 3),
                              "cpu_seconds": round(one_cpu, 3), "replications_per_s": round(one_rate, 2)},
        "engine_all_threads": {"replications": replications, "threads": default_threads(),
                               "seconds": round(all_s, 3), "replications_per_s": round(all_rate, 2)},
        "speedup_one_thread": round(one_rate / simpy_rate, 1),
        "speedup_one_thread_cpu": round((simpy_cpu / simpy_replications) / (one_cpu / replications), 1),
        "speedup_all_threads": round(all_rate / simpy_rate, 1),
        "target_speedup": TARGET_SPEEDUP,
        "met": one_rate / simpy_rate >= TARGET_SPEEDUP,
    }, simpy_table


def same_inputs(model, reference, replications: int) -> dict:
    """SimPy run on the engine's drawn patients: the largest difference in any output."""
    inputs = kernel_inputs(model)
    states = replication_states(3, replications)
    worst = 0.0
    for r in range(replications):
        arrival, los, _g, pathway, duration, residual = kernel.draw_replication(
            states[r].copy(), inputs["cumulative"], inputs["group_cum"], inputs["los_mu"], inputs["los_sigma"],
            inputs["pathway_cum"], inputs["duration_shape"], inputs["duration_scale"], inputs["primed"])
        out = np.zeros(kernel.OUTPUTS)
        daily = np.zeros((model.days, kernel.DAILY_LEVELS))
        kernel.run_replication(arrival, los, pathway, duration, residual, inputs["primed"], inputs["capacity"],
                               inputs["beds"], inputs["policy"], inputs["warm"], inputs["horizon"], out, daily)
        patients = reference.Patients(arrival, los, pathway, duration,
                                      [np.zeros(0)] + [residual[k, :inputs["primed"][k]] for k in (1, 2, 3)])
        expected, expected_daily = reference.simulate_replication(model, patients)
        for j, name in enumerate(kernel.OUT_NAMES):
            worst = max(worst, abs(out[j] - expected[name]) / max(1.0, abs(expected[name])))
        worst = max(worst, float(np.max(np.abs(daily - expected_daily))))
    return {"replications": replications, "max_relative_difference": worst, "identical": worst <= 1e-9}


def independent_streams(model, reference, simpy_table: np.ndarray, replications: int) -> dict:
    """Engine and SimPy, each with its own random streams and sampler: are the means the same?"""
    engine = _engine_metrics(simulate(model, replications=replications, seed=101))
    rows = _compare(engine, reference.summary(model, simpy_table))
    k = len(rows)
    return {"engine_replications": replications, "simpy_replications": int(simpy_table.shape[0]),
            "other": "SimPy reference, its own NumPy streams (seed 1)", "metrics": rows,
            "all_differences_contain_zero": all(r["difference_ci_contains_zero"] for r in rows),
            "all_means_within_each_others_ci": all(r["engine_mean_in_other_ci"] and r["other_mean_in_engine_ci"]
                                                   for r in rows), "family": _family(rows),
            "note": f"{k} metrics each at 95%: about {100 * (1 - 0.95 ** k):.0f}% of runs of two identical models "
                    "would show at least one interval of the difference missing 0 by chance"}


def _family(rows: list[dict]) -> dict:
    """Across k metrics: the largest |difference| / its standard error, against the two-sided
    Bonferroni critical value at a family-wise 5% (one metric in k at 5% each misses by chance)."""
    critical = NormalDist().inv_cdf(1 - 0.025 / len(rows))
    largest = max(abs(r["difference"]) / r["difference_se"] if r["difference_se"] > 0 else 0.0 for r in rows)
    return {"metrics": len(rows), "largest_standardised_difference": round(largest, 2),
            "bonferroni_critical": round(critical, 2), "equivalent_family_wise": largest <= critical}


def _compare(engine: dict[str, np.ndarray], other: dict[str, np.ndarray]) -> list[dict]:
    rows = []
    for name in other:
        x, y = engine[name][np.isfinite(engine[name])], other[name][np.isfinite(other[name])]
        a, b, diff = estimate(x), estimate(y), welch_difference(x, y)
        se = float(np.sqrt(x.var(ddof=1) / x.size + y.var(ddof=1) / y.size))
        rows.append({"metric": name, "engine_mean": a.mean, "engine_ci": list(a.ci), "other_mean": b.mean,
                     "other_ci": list(b.ci), "engine_mean_in_other_ci": b.contains(a.mean),
                     "other_mean_in_engine_ci": a.contains(b.mean), "difference": diff.mean,
                     "difference_se": se, "difference_ci": list(diff.ci),
                     "difference_ci_contains_zero": diff.contains(0.0)})
    return rows


def sampler_equivalence(model, reference, replications: int) -> dict:
    """The SimPy reference's own NumPy sampler against the engine's streams, at many replications.

    The event loops are identical on the same inputs (see ``equivalence_same_inputs``), so the
    reference's patients can be run through the compiled loop: this compares the two samplers
    (and so the two implementations end to end) with a thousand replications each.
    """
    engine = _engine_metrics(simulate(model, replications=replications, seed=101))
    inputs = kernel_inputs(model)
    primed = inputs["primed"]
    rows = []
    for child in np.random.SeedSequence(1).spawn(replications):
        patients = reference.draw_patients(model, np.random.Generator(np.random.PCG64(child)))
        residual = np.zeros((4, max(1, int(primed.max()))))
        for k in (1, 2, 3):
            residual[k, :primed[k]] = patients.residual[k]
        out = np.zeros(kernel.OUTPUTS)
        daily = np.zeros((model.days, kernel.DAILY_LEVELS))
        kernel.run_replication(patients.arrival, patients.los, patients.pathway, patients.duration, residual, primed,
                               inputs["capacity"], inputs["beds"], inputs["policy"], inputs["warm"], inputs["horizon"],
                               out, daily)
        rows.append([out[kernel.OUT_NAMES.index(name)] for name in reference.OUTPUT_NAMES])
    metrics = _compare(engine, reference.summary(model, np.array(rows)))
    return {"replications": replications, "metrics": metrics,
            "all_differences_contain_zero": all(m["difference_ci_contains_zero"] for m in metrics),
            "all_means_within_each_others_ci": all(m["engine_mean_in_other_ci"] and m["other_mean_in_engine_ci"]
                                                   for m in metrics), "family": _family(metrics)}


def districts(deal, replications: int) -> dict:
    rows = []
    for d in deal.districts:
        model = model_from_deal(deal, district=d.code)
        started, cpu = time.perf_counter(), time.process_time()
        run_replications(model, replications, 0)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        rows.append({"district": d.code, "name": d.name, "admissions_per_year": round(model.admissions_per_year),
                     "seconds": round(seconds, 3), "cpu_seconds": round(cpu, 3)})
    worst = max(r["seconds"] for r in rows)
    return {"replications": replications, "days": 365, "districts": rows, "slowest_district_s": worst,
            "all_ten_districts_s": round(sum(r["seconds"] for r in rows), 3),
            "all_ten_districts_cpu_s": round(sum(r["cpu_seconds"] for r in rows), 3),
            "target_s_per_district": TARGET_DISTRICT_S,
            "met": worst < TARGET_DISTRICT_S}


def sweep(model, replications: int) -> dict:
    started = time.perf_counter()
    plan = plan_capacity(model, target_fraction=0.5, replications=replications, seed=0)
    seconds = time.perf_counter() - started
    best = plan.best
    return {"model": model.label, "replications": replications, "seconds": round(seconds, 2),
            "today": {p.name: p.capacity for p in model.pathways},
            "baseline_delayed_days": round(plan.baseline.summary.delayed_days.mean, 1),
            "target_delayed_days": round(plan.target_delayed_days, 1),
            "least_cost_mix": None if best is None else {
                "capacities": best.capacities, "delayed_days": round(best.delayed_days.mean, 1),
                "delayed_days_ci": [round(x, 1) for x in best.delayed_days.ci],
                "total_cost_gbp": round(best.total_cost.mean), "baseline_total_cost_gbp":
                    round(plan.baseline.summary.cost["total"].mean)},
            "candidates_verified": len(plan.candidates), "sweep_points": plan.sweep.height}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=1000)
    parser.add_argument("--simpy-replications", type=int, default=40)
    parser.add_argument("--sweep-replications", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="small numbers, to check the script runs")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.quick:
        args.replications, args.simpy_replications, args.sweep_replications = 40, 4, 10
    reference = _reference()
    deal = load_deal(GM, data_dir=tempfile.mkdtemp(prefix="devolve-no-data-"))
    model = model_from_deal(deal, district=MODEL_DISTRICT)
    result = {"benchmark": "flow", "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "machine": machine(), "deal": GM, "data": "synthetic small areas (no official files)"}
    result["throughput"], simpy_table = throughput(model, reference, args.simpy_replications,
                                                   min(args.replications, 400))
    result["equivalence_same_inputs"] = same_inputs(model, reference, 3 if not args.quick else 1)
    result["equivalence_independent_streams"] = independent_streams(model, reference, simpy_table,
                                                                   max(args.simpy_replications, 40))
    result["equivalence_samplers"] = sampler_equivalence(model, reference, args.replications)
    result["gm_districts"] = districts(deal, args.replications)
    result["capacity_sweep"] = sweep(model, args.sweep_replications)
    result["machine"]["load_average_at_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    result["met"] = bool(result["throughput"]["met"] and result["gm_districts"]["met"]
                         and result["equivalence_same_inputs"]["identical"]
                         and result["equivalence_samplers"]["family"]["equivalent_family_wise"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    temporary = args.out.with_name(args.out.name + ".part")
    temporary.write_text(json.dumps(result, indent=2, default=float) + "\n", encoding="utf-8")
    os.replace(temporary, args.out)
    print(json.dumps({k: result[k] for k in ("throughput", "gm_districts")}, indent=2, default=float))
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
