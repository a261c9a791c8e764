"""Latency of the entity page and the search page under gunicorn, with concurrent clients.

    python benchmarks/bench_pages.py --data-dir /tmp/demo1m --requests 2000 --clients 8

Starts `portal serve` (2 sync workers) on 127.0.0.1, warms it up, then lets
`--clients` threads request random entity pages (and search pages, unless
--no-search) until `--requests` have been made; prints p50/p95 per page and
writes benchmarks/results/pages-<date>.json. Only loopback; bounded in count.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sample_slugs(database: Path, count: int) -> list[str]:
    """Random entity slugs, read straight from the SQLite file."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        (high,) = conn.execute("SELECT max(id) FROM entity").fetchone()
        rng = random.Random(7)
        ids = [rng.randint(1, high) for _ in range(count)]
        marks = ",".join("?" * len(ids))
        return [r[0] for r in conn.execute(f"SELECT slug FROM entity WHERE id IN ({marks})", ids)]  # noqa: S608


def start_server(data_dir: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    """gunicorn via `portal serve`, waited for until it answers."""
    env = {**os.environ, "PORTAL_DATA_DIR": str(data_dir), "PORTAL_SESSION_COOKIE_SECURE": "false"}
    command = [
        sys.executable,
        "-m",
        "portal",
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )  # noqa: S603
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/methodology/", timeout=2)  # noqa: S310
            return server
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise SystemExit("the server did not start")


def timed(url: str) -> tuple[float, int]:
    """Seconds and status of one GET."""
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310
            response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    return time.perf_counter() - started, status


def hammer(urls: list[str], clients: int) -> tuple[list[float], int]:
    """Fetch every URL with `clients` threads; return latencies and the count of 5xx."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    queue = list(urls)

    def worker() -> None:
        nonlocal errors
        while True:
            with lock:
                if not queue:
                    return
                url = queue.pop()
            seconds, status = timed(url)
            with lock:
                latencies.append(seconds)
                errors += status >= 500

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors


def summary(latencies: list[float], seconds: float) -> dict[str, float]:
    """p50, p95 in ms and throughput."""
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 1),
        "per_second": round(len(ordered) / seconds, 1),
    }


def main() -> None:
    """Measure and report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=5077)
    parser.add_argument("--no-search", action="store_true")
    args = parser.parse_args()
    slugs = sample_slugs(args.data_dir / "portal.sqlite3", args.requests)
    base = f"http://127.0.0.1:{args.port}"
    server = start_server(args.data_dir, args.port, args.workers)
    results: dict[str, object] = {
        "date": date.today().isoformat(),
        "clients": args.clients,
        "workers": args.workers,
        "data_dir": str(args.data_dir),
    }
    try:
        hammer([f"{base}/entities/{s}" for s in slugs[:50]], args.clients)  # warm-up
        pages = {"entity page": [f"{base}/entities/{s}" for s in slugs]}
        if not args.no_search:
            words = [s.split("-")[0] for s in slugs]
            pages["search page"] = [f"{base}/search?q={w}" for w in words]
        for name, urls in pages.items():
            started = time.perf_counter()
            latencies, errors = hammer(urls, args.clients)
            results[name] = {**summary(latencies, time.perf_counter() - started), "5xx": errors}
            print(name, results[name])
    finally:
        server.terminate()
        server.wait(timeout=30)
    out = ROOT / "benchmarks" / "results" / f"pages-{date.today().isoformat()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
