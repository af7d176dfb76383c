"""Benchmark: fair shares for all of England at small-area level.

Builds an England-size deal — every English district, all 32,844 small areas from the real IoD2019
files when they are in the data folder, else a synthetic deal of the same size
(:func:`devolve.packs.synthetic.generate_deal`) — then times only the allocate engine
(:func:`devolve.engines.allocate.allocate` at ``level="area"``: ≈32,800 areas × 16 age-sex bands ×
8 components, five years of targets and pace of change, integer pence at every step), not the
loading. Writes ``benchmarks/results/allocate.json`` with the median of several runs against the
0.5-second target, and the machine.

Run: ``python benchmarks/allocate.py [--runs N] [--synthetic] [--shared]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path

from devolve.data import readers
from devolve.data.location import resolve_data_dir
from devolve.engines.allocate import allocate
from devolve.packs.builder import write_new_pack
from devolve.packs.loader import load_deal
from devolve.packs.synthetic import generate_deal
from _machine import load_average, machine  # noqa: E402  (the benchmarks' shared helpers)

RESULTS = Path(__file__).resolve().parent / "results" / "allocate.json"
TARGET_S = 0.5
ENGLAND_AREAS = 32_844






def england_deal(synthetic: bool):
    """All of England: real small areas when the official files are present, else synthetic."""
    folder, _ = resolve_data_dir(None)
    population = readers.locate("imd2019-population", folder)
    if not synthetic and population is not None:
        codes = readers.read_lsoa_population(population)["district"].unique().sort().to_list()
        with tempfile.TemporaryDirectory(prefix="devolve-bench-") as tmp:
            pack = write_new_pack("england-2016", "England (benchmark)", codes, date(2016, 4, 1),
                                  Path(tmp) / "england", folder)
            return load_deal(pack, data_dir=folder), "real IoD2019 small areas (all English LSOAs)"
    return (generate_deal(districts=300, total_areas=ENGLAND_AREAS, seed=0),
            "synthetic deal of England's size (devolve.packs.synthetic)")


def run(runs: int, synthetic: bool) -> dict:
    started = time.perf_counter()
    deal, source = england_deal(synthetic)
    build_s = time.perf_counter() - started
    allocate(deal, level="area")  # warm-up (imports, caches)
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        result = allocate(deal, level="area")
        timings.append(time.perf_counter() - started)
    median = statistics.median(timings)
    return {
        "benchmark": "allocate",
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "load_average_before": None,
        "input": source, "small_areas": deal.small_areas.height, "districts": len(deal.districts),
        "population_rows": deal.population.height, "age_sex_bands": 2 * len(deal.age_bands),
        "components": int(result.components.height), "years": len(deal.financial_years),
        "units": result.table.height, "exact_to_the_penny": result.total_allocated_pence == result.pool_pence,
        "deal_build_and_load_s": round(build_s, 3), "runs": runs,
        "engine_s": {"median": round(median, 4), "min": round(min(timings), 4), "max": round(max(timings), 4)},
        "target_s": TARGET_S, "met": median < TARGET_S,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--synthetic", action="store_true", help="use a synthetic England-size deal")
    parser.add_argument("--shared", action="store_true",
                        help="note that other work shared the machine during the run")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    before = load_average()
    result = run(args.runs, args.synthetic)
    result["load_average_before"] = before
    result["shared_machine"] = bool(args.shared or (before is not None and before[0] > 0.5 * (os.cpu_count() or 1)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"allocate: {result['small_areas']:,} small areas ({result['input']}): engine median "
          f"{result['engine_s']['median']:.3f}s (target {TARGET_S}s, {'met' if result['met'] else 'NOT met'}); "
          f"shared machine: {result['shared_machine']} -> {args.out}")
    return 0 if result["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
