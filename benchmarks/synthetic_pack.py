"""Benchmark: write and load an England-size synthetic deal pack.

Generates about 33,000 small areas in about 300 districts with
:func:`devolve.packs.synthetic.write_synthetic_pack`, loads the pack with
:func:`devolve.packs.loader.load_deal`, and writes ``benchmarks/results/synthetic_pack.json``
with the two timings, their total against the 30-second target, peak memory and the machine.

Run: ``python benchmarks/synthetic_pack.py [--districts N] [--areas N] [--seed N]``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from devolve.packs.loader import load_deal_with_report
from devolve.packs.synthetic import write_synthetic_pack
from _machine import machine, peak_rss_mib  # noqa: E402  (the benchmarks' shared helpers)

RESULTS = Path(__file__).resolve().parent / "results" / "synthetic_pack.json"
TARGET_S = 30
ENGLAND_DISTRICTS = 300
ENGLAND_AREAS = 33_000






def run(districts: int, areas: int, seed: int) -> dict:
    """Generate and load one pack in a temporary folder; return the measurements."""
    with tempfile.TemporaryDirectory(prefix="devolve-bench-") as tmp:
        pack, empty = Path(tmp) / "pack", Path(tmp) / "no-official-data"
        empty.mkdir()
        started = time.perf_counter()
        write_synthetic_pack(pack, districts=districts, total_areas=areas, seed=seed)
        generate_s = time.perf_counter() - started
        size = sum(p.stat().st_size for p in pack.iterdir())
        started = time.perf_counter()
        deal, report = load_deal_with_report(pack, data_dir=empty)
        load_s = time.perf_counter() - started
    total_s = generate_s + load_s
    return {
        "benchmark": "synthetic_pack",
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "districts": len(deal.districts), "small_areas": deal.small_areas.height,
        "partners": len(deal.partners), "population": deal.total_population,
        "population_rows": deal.population.height, "pack_bytes": size, "seed": seed,
        "generate_s": round(generate_s, 3), "load_s": round(load_s, 3), "total_s": round(total_s, 3),
        "load_stages_s": {name: round(seconds, 3) for name, seconds in report.stages},
        "peak_rss_mib": peak_rss_mib(),
        "target_s": TARGET_S, "met": total_s < TARGET_S,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--districts", type=int, default=ENGLAND_DISTRICTS)
    parser.add_argument("--areas", type=int, default=ENGLAND_AREAS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    result = run(args.districts, args.areas, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"synthetic_pack: {result['small_areas']:,} areas in {result['districts']} districts: "
          f"generate {result['generate_s']:.2f}s + load {result['load_s']:.2f}s = {result['total_s']:.2f}s "
          f"(target {TARGET_S}s, {'met' if result['met'] else 'NOT met'}), peak {result['peak_rss_mib']} MiB "
          f"-> {args.out}")
    return 0 if result["met"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
