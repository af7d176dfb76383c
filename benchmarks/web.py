"""Benchmark: the web app's JSON API under load — 50 concurrent clients for 60 s on loopback.

1. Opens books with the synthetic demo year in a temporary SQLite file and starts ``devolve serve``
   on a free loopback port (a separate process, with ``--warm``: neighbourhoods and the plan's
   forecast are computed before it takes requests, as in production).
2. A load generator in another process runs 50 clients (asyncio, a keep-alive connection each), each asking
   in turn for the summary endpoints — the deals, a deal's summary, its neighbourhoods, its fair
   shares and the published accounts — with no pause between requests, for 60 seconds.
3. Records every request's latency (client side, from sending to the last byte) and every error
   (a transport failure or a status other than 200): p50, p95, p99, max, requests per second.

4. Then (``--think``, default 1 s) the same 50 clients again, each pausing between requests as a
   person reading pages does, reported beside the stress run as ``with_think_time``.

Targets: p95 < 50 ms and no errors, judged on the stress run (no pauses). On a small machine the load generator shares the CPU with the
server: with 50 clients and no think time, latency is about 50 / (requests per second), so the
result says as much about the CPU as about the app; the machine and its load are recorded.

Writes ``benchmarks/results/web.json``. Run: ``python benchmarks/web.py [--clients 50] [--seconds 60] [--think 1]``.
"""

from __future__ import annotations

import argparse
import random
import asyncio
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import cpu_calibration_s, load_average, machine  # noqa: E402  (the benchmarks' shared helpers)

from devolve.services.ledger import open_books  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "web.json"
DEAL = "greater-manchester-2016"
ENDPOINTS = ("/api/v1/deals", f"/api/v1/deals/{DEAL}", f"/api/v1/deals/{DEAL}/neighbourhoods",
             f"/api/v1/deals/{DEAL}/allocation", "/api/v1/books")
TARGET_P95_MS = 50.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db_url: str, port: int) -> subprocess.Popen:
    server = subprocess.Popen([sys.executable, "-m", "devolve.interfaces.cli.main", "serve", "--db", db_url,
                               "--port", str(port), "--warm", "--json"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while time.time() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"devolve serve exited: {server.stderr.read()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/deals", timeout=5).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.5)
    server.terminate()
    raise RuntimeError("devolve serve did not answer within 5 minutes")


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, path: str) -> int:
    """One keep-alive GET (gzip accepted, as browsers send); the status, after reading the whole body."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept-Encoding: gzip\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    length = int(next((v for k, v in headers.items() if k.lower() == "content-length"), "0"))
    await reader.readexactly(length)
    return status


async def _client(host: str, port: int, offset: int, until: float, latencies: list, errors: list,
                  think: float = 0.0) -> None:
    """A client on its own keep-alive connection: a minimal HTTP/1.1 reader (far lighter than a full
    client library, so the load generator leaves the CPU to the server)."""
    reader, writer = await asyncio.open_connection(host, port)
    pacing = random.Random(offset)
    i = offset
    try:
        while time.perf_counter() < until:
            path = ENDPOINTS[i % len(ENDPOINTS)]
            i += 1
            started = time.perf_counter()
            try:
                status = await _get(reader, writer, host, path)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                errors.append(f"{path}: {type(exc).__name__}")
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            elapsed = time.perf_counter() - started
            if status != 200:
                errors.append(f"{path}: {status}")
            else:
                latencies.append((path, elapsed))
            if think:        # uniform on (0.5, 1.5) × think: clients drift apart rather than arrive in bursts
                await asyncio.sleep(think * (0.5 + pacing.random()))
    finally:
        writer.close()


async def _load(host: str, port: int, clients: int, seconds: float, think: float = 0.0) -> dict:
    async with httpx.AsyncClient(base_url=f"http://{host}:{port}", timeout=60) as http:
        for path in ENDPOINTS:                        # every endpoint answers before the clock starts
            (await http.get(path)).raise_for_status()
    latencies: list = []
    errors: list = []
    started = time.perf_counter()
    await asyncio.gather(*(_client(host, port, k, started + seconds, latencies, errors, think)
                           for k in range(clients)))
    return {"latencies": latencies, "errors": errors, "wall_s": time.perf_counter() - started}


def run_load(port: int, clients: int, seconds: float, out, think: float = 0.0) -> None:
    out.put(asyncio.run(_load("127.0.0.1", port, clients, seconds, think)))


def generate(port: int, clients: int, seconds: float, think: float) -> dict:
    """Run the load generator in its own process (so it does not share the server's interpreter)."""
    queue = multiprocessing.get_context("spawn").Queue()
    generator = multiprocessing.get_context("spawn").Process(target=run_load,
                                                             args=(port, clients, seconds, queue, think))
    generator.start()
    outcome = queue.get()
    generator.join()
    return outcome


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def summarise(samples: list[float]) -> dict:
    ms = [s * 1000 for s in samples]
    return {"requests": len(ms), "p50_ms": round(percentile(ms, 0.5), 2), "p95_ms": round(percentile(ms, 0.95), 2),
            "p99_ms": round(percentile(ms, 0.99), 2), "max_ms": round(max(ms), 2) if ms else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--think", type=float, default=1.0,
                        help="also run the clients as people would, pausing this many seconds between "
                             "requests (0: skip that run); the target is judged on the run without pauses")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="devolve-web-bench-") as folder:
        db_url = f"sqlite:///{Path(folder) / 'books.db'}"
        print("opening the books (synthetic demo year) …", flush=True)
        open_books(db_url, DEAL, demo=True)
        port = free_port()
        print(f"starting devolve serve on 127.0.0.1:{port} (warming the caches) …", flush=True)
        clock = time.perf_counter()
        server = start_server(db_url, port)
        startup = time.perf_counter() - clock
        try:
            print(f"{args.clients} clients for {args.seconds:.0f} s …", flush=True)
            load_before = load_average()
            outcome = generate(port, args.clients, args.seconds, 0.0)
            load_after = load_average()
            paced = None
            if args.think > 0:
                print(f"{args.clients} clients pausing {args.think:g} s between requests, {args.seconds:.0f} s …",
                      flush=True)
                paced = generate(port, args.clients, args.seconds, args.think)
        finally:
            server.terminate()
            server.wait(timeout=30)
    latencies = outcome["latencies"]
    overall = summarise([s for _, s in latencies])
    by_endpoint = {path: summarise([s for p, s in latencies if p == path]) for path in ENDPOINTS}
    errors = outcome["errors"]
    result = {
        "benchmark": "web",
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "load_average_before": load_before,
        "load_average_after": load_after,
        "cpu_calibration_s": cpu_calibration_s(),
        "cpu_calibration": "median seconds for sum(range(10**7)) in this Python, measured at the end of the run",
        "setup": {"server": "devolve serve (uvicorn, one process) on 127.0.0.1, SQLite books with the demo year",
                  "load_generator": "one process on the same machine: asyncio, one keep-alive HTTP/1.1 "
                                    "connection per client, gzip accepted",
                  "clients": args.clients, "seconds": args.seconds, "think_time_s": 0,
                  "endpoints": list(ENDPOINTS), "server_startup_s": round(startup, 1)},
        "requests": overall["requests"] + len(errors),
        "requests_per_s": round((overall["requests"] + len(errors)) / outcome["wall_s"], 1),
        **{k: v for k, v in overall.items() if k != "requests"},
        "errors": len(errors),
        "error_examples": sorted(set(errors))[:10],
        "by_endpoint": by_endpoint,
        "target_p95_ms": TARGET_P95_MS,
        "target_errors": 0,
        "p95_target_met": overall["p95_ms"] < TARGET_P95_MS,
        "errors_target_met": not errors,
        "with_think_time": None if paced is None else {
            "think_time_s": args.think, "think_time": "uniform on (0.5, 1.5) × think_time_s, seeded per client",
            "clients": args.clients, "seconds": args.seconds,
            "requests": len(paced["latencies"]) + len(paced["errors"]),
            "requests_per_s": round((len(paced["latencies"]) + len(paced["errors"])) / paced["wall_s"], 1),
            **{k: v for k, v in summarise([s for _, s in paced["latencies"]]).items() if k != "requests"},
            "errors": len(paced["errors"]),
            "meaning": "the same clients pausing between requests, as people reading pages do; shown beside "
                       "the stress run, not instead of it"},
        "note": ("closed loop, no think time: mean latency ~ clients / throughput "
                 f"({args.clients} / {(overall['requests'] + len(errors)) / outcome['wall_s']:.0f} per s = "
                 f"{1000 * args.clients * outcome['wall_s'] / max(1, overall['requests'] + len(errors)):.0f} ms); "
                 "the server, the load generator and whatever else runs share the machine's "
                 f"{os.cpu_count()} CPUs (load averages above)"),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("requests", "requests_per_s", "p50_ms", "p95_ms", "p99_ms", "errors",
                                             "p95_target_met")}, indent=2))
    print(f"written {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
