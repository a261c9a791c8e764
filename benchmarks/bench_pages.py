"""Latency of the entity, search and API pages under gunicorn, with concurrent clients.

    python benchmarks/bench_pages.py --data-dir /tmp/demo1m --requests 2000 --clients 8
    python benchmarks/bench_pages.py --data-dir /tmp/demo1m --backend tantivy --duration 60
    python benchmarks/bench_pages.py --data-dir /tmp/pg-index \
        --database-url postgresql://postgres@127.0.0.1:5439/portal

Starts `portal serve` (2 sync workers) on 127.0.0.1 over the register in
--data-dir (or --database-url, with the index in --data-dir) and the search
engine --backend, warms every worker, then loads each page in turn with --clients
concurrent connections: with wrk (Debian's `wrk`, the default when installed) for
--duration seconds, or with Python threads (--client threads) until --requests
have been made or --duration seconds have passed, also giving figures per query kind:
the entity page, the search page (a mix of one word of a real name, two words, a
3-5 letter prefix, a one-letter typo, and a word filtered by kind and
jurisdiction), the API entity and the API search with the same mix (--no-search
skips both searches). The API read limit is raised for the run. Prints p50/p95,
requests/s and 5xx per page, with the targets at 1,000,000 entities (entity page
p95 < 50 ms, search page p95 < 150 ms), and writes
benchmarks/results/pages-<entities>-<backend>-<engine>-<date>.json. Only
loopback; bounded in count and time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import secrets
import statistics
import string
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import (  # noqa: E402
    RESULTS,
    against,
    load_average,
    percentile,
    read_only_engine,
    stop_server,
)
from _wrk import available as wrk_available  # noqa: E402
from _wrk import run_wrk  # noqa: E402
from sqlalchemy import func  # noqa: E402

from portal.db import normalise_url  # noqa: E402

HOST = "127.0.0.1"
# p95 targets at 1,000,000 entities (issue 11).
TARGETS_MS = {"entity page": 50.0, "search page": 150.0}
QUERY_KINDS = ("word", "two_words", "prefix", "typo", "filtered")
# Requests per worker and page made before measuring (not counted).
WARM_UP = 5


# One request made: query kind, seconds, status, whether a search found anything.
Done = tuple[str, float, int, bool | None]
RESULTS_TOTAL = re.compile(r"([\d,]+) results? for")


@dataclass(frozen=True)
class Sample:
    """One entity of the register, as the requests need it."""

    slug: str
    name: str
    kind: str
    jurisdiction: str


def sample_entities(database_url: str, count: int, seed: int = 7) -> tuple[int, list[Sample]]:
    """How many entities the register holds, and up to `count` random ones with a public page.

    Merged entities (a redirect) and officials whose records have left public view (a 404
    by design) are left out, so that every entity request measures a whole page.
    """
    from sqlmodel import Session, col, select

    from portal.models import Entity
    from portal.services.public import records_in_view

    engine = read_only_engine(database_url)
    try:
        with Session(engine) as session:
            total, high = session.exec(select(func.count(), func.max(Entity.id))).one()
            rng = random.Random(seed)
            ids = rng.sample(range(1, high + 1), min(count, high)) if high else []
            found = session.exec(
                select(Entity).where(col(Entity.id).in_(ids), col(Entity.merged_into_id).is_(None))
            ).all()
            samples = [
                Sample(e.slug, e.name, str(e.kind), e.jurisdiction_code)
                for e in found
                if records_in_view(e)
            ]
    finally:
        engine.dispose()
    random.Random(seed).shuffle(samples)
    return int(total), samples


def words_of(name: str) -> list[str]:
    """The words of a name worth typing (three letters or more)."""
    words = [w.strip(",.&()'\"") for w in name.split()]
    return [w for w in words if len(w) >= 3 and w.isalpha()] or [name.split()[0]]


def typo(word: str, rng: random.Random) -> str:
    """The word with one letter (not the first) replaced by another."""
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word))
    letters = [c for c in string.ascii_lowercase if c != word[i].lower()]
    return word[:i] + rng.choice(letters) + word[i + 1 :]


def query_params(kind: str, sample: Sample, rng: random.Random) -> dict[str, str]:
    """The search parameters of one query of the given kind, from a real name."""
    words = words_of(sample.name)
    if kind == "word":
        return {"q": rng.choice(words)}
    if kind == "two_words":
        return {"q": " ".join(sample.name.split()[:2])}
    if kind == "prefix":
        return {"q": words[0][: rng.randint(3, 5)]}
    if kind == "typo":
        return {"q": typo(max(words, key=len), rng)}
    return {
        "q": rng.choice(words),
        "kind": sample.kind,
        "jurisdiction": sample.jurisdiction.split("-")[0],
    }


def page_requests(
    samples: list[Sample], count: int, search: bool, seed: int = 11
) -> dict[str, list[tuple[str, str]]]:
    """For each page, `count` (query kind, path) requests in the order they are made."""
    rng = random.Random(seed)
    samples = [samples[i % len(samples)] for i in range(count)]
    pages: dict[str, list[tuple[str, str]]] = {
        "entity page": [("entity", f"/entities/{s.slug}") for s in samples],
        "api entity": [("entity", f"/api/v1/entities/{s.slug}") for s in samples],
    }
    if search:
        mix = [(QUERY_KINDS[i % len(QUERY_KINDS)], s) for i, s in enumerate(samples)]
        params = [(kind, urlencode(query_params(kind, s, rng))) for kind, s in mix]
        pages["search page"] = [(kind, f"/search?{p}") for kind, p in params]
        pages["api search"] = [(kind, f"/api/v1/entities?{p}") for kind, p in params]
    order = ("entity page", "search page", "api entity", "api search")
    return {name: pages[name] for name in order if name in pages}


def get(port: int, path: str, timeout: float = 30) -> tuple[int, bytes]:
    """One GET on a new connection: its status (0 when it failed) and body."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException):
        return 0, b""
    finally:
        conn.close()


def found_any(path: str, body: bytes) -> bool | None:
    """Whether a search answered with at least one hit (None for other pages)."""
    if path.startswith("/search"):
        total = RESULTS_TOTAL.search(body.decode(errors="replace"))
        return bool(total and total.group(1) != "0")
    if path.startswith("/api/v1/entities?"):
        with suppress(ValueError):
            return bool(json.loads(body).get("total"))
        return False
    return None


def hammer(
    port: int, requests: list[tuple[str, str]], clients: int, seconds: float, timeout: float = 30
) -> list[Done]:
    """Make the requests with `clients` threads until all are done or `seconds` have passed."""
    done: list[Done] = []
    lock = threading.Lock()
    queue = list(reversed(requests))
    deadline = time.monotonic() + seconds

    def worker() -> None:
        """Take the next request, time it, note it."""
        while time.monotonic() < deadline:
            with lock:
                if not queue:
                    return
                kind, path = queue.pop()
            started = time.perf_counter()
            status, body = get(port, path, timeout)
            seconds = time.perf_counter() - started
            with lock:
                done.append((kind, seconds, status, found_any(path, body)))

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + timeout + 5)
    return done


def summary(done: list[Done], seconds: float) -> dict[str, Any]:
    """Requests, p50/p95 in ms, requests/s and status counts of one page."""
    latencies = [d[1] for d in done]
    statuses = Counter(d[2] for d in done)
    searches = [d[3] for d in done if d[3] is not None]
    if not latencies:
        return {"requests": 0, "p50_ms": None, "p95_ms": None, "per_second": 0, "5xx": 0}
    return {
        "requests": len(latencies),
        "seconds": round(seconds, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
        "per_second": round(len(latencies) / seconds, 1),
        "5xx": sum(n for status, n in statuses.items() if status >= 500),
        "failed_connections": statuses.get(0, 0),
        "status": {str(k): v for k, v in sorted(statuses.items())},
        **({"found": round(sum(searches) / len(searches), 2)} if searches else {}),
    }


def measure_page(
    port: int, name: str, requests: list[tuple[str, str]], args: argparse.Namespace
) -> dict[str, Any]:
    """One page's figures, by query kind for the searches, with its target if it has one."""
    if args.client == "wrk":
        paths = [path for _kind, path in requests]
        result = run_wrk(f"http://{HOST}:{port}", paths, args.clients, args.duration)
        if "search" not in name:
            result.pop("found", None)  # an entity's JSON has totals too; only searches count
        if name in TARGETS_MS:
            result["target_1m"] = against(result["p95_ms"], TARGETS_MS[name])
        return result
    started = time.perf_counter()
    done = hammer(port, requests[: args.requests], args.clients, args.duration)
    result = summary(done, time.perf_counter() - started)
    kinds = {d[0] for d in done}
    if len(kinds) > 1:
        result["by_query"] = {
            kind: {
                k: v
                for k, v in summary([d for d in done if d[0] == kind], 1.0).items()
                if k in ("requests", "p50_ms", "p95_ms", "5xx", "found")
            }
            for kind in QUERY_KINDS
            if kind in kinds
        }
    if name in TARGETS_MS:
        result["target_1m"] = against(result["p95_ms"], TARGETS_MS[name])
    return result


def server_env(args: argparse.Namespace) -> dict[str, str]:
    """The environment of `portal serve` for this run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.pop("DATABASE_URL", None)
    env.update(
        {
            "PORTAL_DATA_DIR": str(args.data_dir),
            "PORTAL_SEARCH_BACKEND": args.backend,
            "PORTAL_SESSION_COOKIE_SECURE": "false",
            # Every client comes from 127.0.0.1: one address, one API rate limit.
            "PORTAL_API_READ_LIMIT": args.api_read_limit,
            "PORTAL_SECRET_KEY": os.environ.get("PORTAL_SECRET_KEY") or secrets.token_hex(32),
        }
    )
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    return env


@contextmanager
def serving(args: argparse.Namespace, log: Path) -> Iterator[int]:
    """`portal serve` on 127.0.0.1 until the block ends, every worker's index opened."""
    command = [sys.executable, "-m", "portal", "serve", "--host", HOST,
               "--port", str(args.port), "--workers", str(args.workers)]  # fmt: skip
    with log.open("w") as output:
        server = subprocess.Popen(  # noqa: S603 - our own CLI
            command, env=server_env(args), stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + args.start_timeout
        while get(args.port, "/", timeout=5)[0] != 200:
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield args.port
    finally:
        stop_server(server)


def warm_up(port: int, pages: dict[str, list[tuple[str, str]]], workers: int) -> float:
    """Open each worker's index and caches before measuring; the seconds it took."""
    started = time.perf_counter()
    for requests in pages.values():
        # Concurrent requests reach every sync worker; the first search opens its index.
        hammer(port, requests[-WARM_UP * workers :], 2 * workers, seconds=300, timeout=300)
    return round(time.perf_counter() - started, 1)


def report(results: dict[str, Any]) -> None:
    """Print one line per page (and per query kind), with the targets."""
    load = results["load_average"]
    print(f"{results['entities']:,} entities, {results['backend']}, {results['engine']}; "
          f"load {load['before']} -> {load['after']}")  # fmt: skip
    for name, page in results["pages"].items():
        target = page.get("target_1m")
        extra = f"  target p95 < {target['target']:g} ms: {target['verdict']}" if target else ""
        print(f"{name:<12} p50 {page['p50_ms']} ms  p95 {page['p95_ms']} ms  "
              f"{page['per_second']}/s  {page['requests']} requests  "
              f"5xx {page['5xx']}{extra}")  # fmt: skip
        for kind, row in page.get("by_query", {}).items():
            print(f"  {kind:<10} p50 {row['p50_ms']} ms  p95 {row['p95_ms']} ms  "
                  f"found {row.get('found')}")  # fmt: skip


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="the data directory (index)")
    parser.add_argument("--database-url", help="default: the SQLite file in --data-dir")
    parser.add_argument("--backend", choices=["whoosh", "tantivy"],
                        default=os.environ.get("PORTAL_SEARCH_BACKEND", "whoosh"))  # fmt: skip
    parser.add_argument("--requests", type=int, default=2000, help="at most, per page")
    parser.add_argument("--duration", type=float, default=60.0, help="at most, seconds per page")
    parser.add_argument("--clients", type=int, default=8, help="concurrent connections")
    parser.add_argument(
        "--client", choices=["wrk", "threads"], default="wrk" if wrk_available() else "threads",
        help="wrk (Debian's, the default when installed: every page for --duration seconds) "
        "or Python threads (up to --requests per page, with figures per query kind)",
    )  # fmt: skip
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=5077)
    parser.add_argument("--no-search", action="store_true", help="entity pages only")
    parser.add_argument("--api-read-limit", default="1000000 per minute")
    parser.add_argument("--start-timeout", type=float, default=120.0)
    parser.add_argument("--json", type=Path, help="write the figures here instead")
    args = parser.parse_args(argv)
    args.data_dir = args.data_dir.resolve()
    return args


def main(argv: list[str] | None = None) -> None:
    """Sample, serve, warm up, measure, report."""
    args = parse_args(argv)
    url = args.database_url or f"sqlite:///{args.data_dir / 'portal.sqlite3'}"
    entities, samples = sample_entities(url, args.requests + WARM_UP * args.workers)
    engine = "postgresql" if normalise_url(url).startswith("postgresql") else "sqlite"
    if not samples:
        raise SystemExit(f"no entities in {url}")
    pages = page_requests(samples, args.requests + WARM_UP * args.workers, not args.no_search)
    results: dict[str, Any] = {
        "date": date.today().isoformat(), "entities": entities, "backend": args.backend,
        "engine": engine, "client": args.client, "clients": args.clients, "workers": args.workers,
        "max_requests_per_page": args.requests, "max_seconds_per_page": args.duration,
        "data_dir": str(args.data_dir), "load_average": {"before": load_average()},
    }  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp, serving(args, Path(tmp) / "serve.log") as port:
        results["warm_up_s"] = warm_up(port, pages, args.workers)
        results["pages"] = {
            name: measure_page(port, name, requests, args) for name, requests in pages.items()
        }
    results["load_average"]["after"] = load_average()
    report(results)
    name = f"pages-{entities}-{args.backend}-{engine}-{results['date']}.json"
    out = args.json or RESULTS / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
