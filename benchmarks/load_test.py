"""Load held: 50 readers search and open pages while a regulator imports 10,000 records.

    .venv/bin/python benchmarks/load_test.py --engine sqlite --data-dir /tmp/lt/sqlite
    .venv/bin/python benchmarks/load_test.py --engine postgres --data-dir /tmp/lt/pg-new

Against `portal serve` (gunicorn, sync workers) on 127.0.0.1 only, with a demo
register of about 20,000 entities in a scratch data directory (built with
`portal demo --entities 20000` when the directory has none). With `--engine
postgres` and no `--database-url`, a throwaway PostgreSQL 15 cluster is started
on port 5440 as PITFALLS.md describes (as root, through `runuser -u postgres`),
filled, and stopped and removed at the end; its data directory must be new.

While `portal import records FILE --agency SLUG` runs (one all-or-nothing
transaction), the readers loop without pause over searches, entity pages,
entity JSON and record searches. Afterwards the script checks: zero 5xx and
failed connections, never 5 s without any response, the import's 10,000
records each present exactly once (refs and source ids), and every one of them
found by the search page. It prints the figures as JSON and as a Markdown table
row for docs/load-test.md, and exits 1 on any failure. Bounded in time
(--max-seconds, besides building the demo); it asserts no latency target.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import random
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _common import stop_server  # noqa: E402
from _pg import run, throwaway_postgres  # noqa: E402
from _wrk import available as wrk_available  # noqa: E402
from _wrk import finish_wrk, run_wrk, start_wrk  # noqa: E402

PORTAL = [sys.executable, "-m", "portal"]
REF = re.compile(r'href="/records/(R-\d{4}-\d+)"')
TOTAL = re.compile(r"([\d,]+) results? for")
# Longer than this without a single response means every worker was stuck at once.
MAX_STALL_S = 5.0


# -- the register under test ---------------------------------------------------------------


def portal_env(data_dir: Path, database_url: str | None, read_limit: str) -> dict[str, str]:
    """The environment of every `portal` command of this run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.pop("DATABASE_URL", None)
    env.update(
        {
            "PORTAL_DATA_DIR": str(data_dir),
            "PORTAL_SECRET_KEY": secrets.token_hex(32),
            # Every reader comes from 127.0.0.1: one address, one API rate limit.
            "PORTAL_API_READ_LIMIT": read_limit,
            "PYTHONPATH": str(ROOT),
        }
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def ensure_demo(env: dict[str, str], entities: int) -> None:
    """Load the demo register unless the data directory already holds one."""
    if (Path(env["PORTAL_DATA_DIR"]) / "DEMO").exists():
        return
    print(f"building a demo register of {entities:,} entities...", flush=True)
    run([*PORTAL, "demo", "--entities", str(entities)], env=env, cwd=ROOT)


def database_of(env: dict[str, str]) -> Any:
    """The register's database, opened as the portal opens it."""
    from portal.config import load_config
    from portal.db import Database

    saved = dict(os.environ)
    os.environ.update(env)
    try:
        config = load_config()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return Database(config["DATABASE_URL"])


@dataclass
class Plan:
    """What the run imports and what the readers ask for."""

    agency: str
    marker: str
    source_ids: list[str]
    slugs: list[str]
    words: list[str]
    file: Path


def make_plan(db: Any, records: int, workdir: Path, seed: int) -> Plan:
    """Pick an agency and entities, and write the import file of `records` rows."""
    from sqlmodel import select

    from portal.models import Agency, Entity, EntityKind

    rng = random.Random(seed)
    with db.session() as session:
        agency = session.exec(select(Agency).where(Agency.slug == "environment-agency")).one()
        businesses = session.exec(
            select(Entity.slug, Entity.name).where(
                Entity.kind == EntityKind.BUSINESS,
                Entity.merged_into_id.is_(None),  # type: ignore[union-attr]
            )
        ).all()
    marker = "lt" + secrets.token_hex(4)
    targets = rng.sample(businesses, min(len(businesses), 2000))
    path = workdir / f"records-{marker}.csv"
    source_ids = [f"{marker}-{i:05d}" for i in range(records)]
    today = date.today()
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["entity_slug", "category", "severity", "title", "decided_on",
                         "source_id", "summary"])  # fmt: skip
        for i, source_id in enumerate(source_ids):
            slug, _name = targets[i % len(targets)]
            decided = today - timedelta(days=rng.randint(1, 700))
            writer.writerow([
                slug, "environment", rng.choice(["minor", "moderate", "serious"]),
                f"Load test {marker} finding {i:05d} river discharge", decided.isoformat(),
                source_id, f"Permit breach found on inspection {i} ({marker}).",
            ])  # fmt: skip
    words = sorted({name.split()[0] for _slug, name in targets if name.split()})
    return Plan(agency.slug, marker, source_ids, [s for s, _n in targets], words, path)


# -- serving -------------------------------------------------------------------------------


@contextmanager
def serving(env: dict[str, str], port: int, workers: int, log: Path) -> Any:
    """`portal serve` on 127.0.0.1:port until the block ends; each worker warmed up."""
    with log.open("w") as output:
        proc = subprocess.Popen(  # noqa: S603 - our own CLI
            [*PORTAL, "serve", "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(workers)],
            env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    raise SystemExit(f"portal serve exited:\n{log.read_text()[-2000:]}")
                with suppress(OSError):
                    if get(port, "/")[0] == 200:
                        break
                time.sleep(0.5)
            for _ in range(4 * workers):  # open each worker's index before measuring
                get(port, "/search?q=acme", timeout=120)
            yield proc
        finally:
            stop_server(proc)


def get(port: int, path: str, timeout: float = 60) -> tuple[int, bytes]:
    """One GET on a new connection (gunicorn's sync workers close after each response)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# -- readers -------------------------------------------------------------------------------


@dataclass
class Tally:
    """What the readers saw, by phase."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[str, Counter] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    marker_totals: Counter = field(default_factory=Counter)
    finished_at: list[float] = field(default_factory=list)
    slowest: list[tuple[float, str, str, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(
        self, phase: str, seconds: float, status: int | None, error: str | None, path: str
    ) -> None:
        """Record one request."""
        with self.lock:
            self.finished_at.append(time.monotonic())
            entry = (seconds, phase, path, time.monotonic() - seconds)
            self.slowest = sorted([*self.slowest, entry], reverse=True)[:8]
            self.latencies.setdefault(phase, []).append(seconds)
            self.statuses.setdefault(phase, Counter())[status or 0] += 1
            if error:
                self.errors.setdefault(phase, []).append(error)


def reader_path(plan: Plan, rng: random.Random) -> str:
    """One request as a reader would make it: searches, entity pages and JSON, the marker."""
    roll = rng.random()
    if roll < 0.35:
        return f"/search?q={quote(rng.choice(plan.words))}"
    if roll < 0.65:
        return f"/entities/{rng.choice(plan.slugs)}"
    if roll < 0.8:
        return f"/api/v1/entities/{rng.choice(plan.slugs)}"
    if roll < 0.9:
        return f"/api/v1/entities?q={quote(rng.choice(plan.words))}&per_page=20"
    return f"/search?type=record&q={plan.marker}"


class Readers:
    """N threads asking for searches and pages in a closed loop."""

    def __init__(self, port: int, plan: Plan, count: int, seed: int) -> None:
        """Prepare the threads (not started)."""
        self.port, self.plan, self.count, self.seed = port, plan, count, seed
        self.tally = Tally()
        self.phase = "before import"
        self.stop = threading.Event()
        self.stopped_at = float("inf")
        self.threads = [
            threading.Thread(target=self._loop, args=(i,), daemon=True) for i in range(count)
        ]

    def _paths(self, rng: random.Random) -> str:
        """One request as a reader would make it."""
        return reader_path(self.plan, rng)

    def _loop(self, number: int) -> None:
        """Ask, time, tally; until told to stop."""
        rng = random.Random(self.seed * 1000 + number)
        while not self.stop.is_set():
            path = self._paths(rng)
            phase = self.phase
            started = time.perf_counter()
            status, error, body = None, None, b""
            try:
                status, body = get(self.port, path)
                if status >= 500:
                    error = f"{status} {path}"
            except (OSError, http.client.HTTPException) as exc:
                error = f"{type(exc).__name__}: {exc} {path}"
            self.tally.add(phase, time.perf_counter() - started, status, error, path)
            if status == 200 and self.plan.marker in path:
                found = TOTAL.search(body.decode(errors="replace"))
                if found:
                    self.tally.marker_totals[int(found.group(1).replace(",", ""))] += 1

    def start(self) -> None:
        """Start every reader."""
        for thread in self.threads:
            thread.start()

    def finish(self) -> None:
        """Stop every reader and wait for them."""
        self.stopped_at = time.monotonic()
        self.stop.set()
        for thread in self.threads:
            thread.join(120)


def summary(latencies: list[float], statuses: Counter, seconds: float) -> dict[str, Any]:
    """Requests/s, p50/p95/p99 in ms, statuses, 5xx and failed connections."""
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        """The p-th percentile in milliseconds."""
        return round(1000 * ordered[min(len(ordered) - 1, int(p * len(ordered)))], 1)

    return {
        "requests": len(ordered),
        "seconds": round(seconds, 1),
        "requests_per_s": round(len(ordered) / seconds, 1) if seconds else 0,
        "p50_ms": pct(0.50) if ordered else None,
        "p95_ms": pct(0.95) if ordered else None,
        "p99_ms": pct(0.99) if ordered else None,
        "mean_ms": round(1000 * statistics.fmean(ordered), 1) if ordered else None,
        "max_ms": round(1000 * ordered[-1], 1) if ordered else None,
        "over_5s": sum(1 for x in ordered if x > 5),
        "status": {str(k): v for k, v in sorted(statuses.items())},
        "5xx": sum(v for k, v in statuses.items() if k >= 500),
        "429": statuses.get(429, 0),
        "connection_errors": statuses.get(0, 0),
    }


# -- checks ---------------------------------------------------------------------------------


def check_database(db: Any, plan: Plan) -> dict[str, Any]:
    """The imported records: each source id once, unique refs, all published."""
    from sqlmodel import col, select

    from portal.models import Agency, Record

    with db.session() as session:
        agency_id = session.exec(select(Agency.id).where(Agency.slug == plan.agency)).one()
        rows = session.exec(
            select(Record.ref, Record.source_id, Record.status).where(
                Record.agency_id == agency_id, col(Record.source_id).startswith(plan.marker + "-")
            )
        ).all()
    source_ids = Counter(source_id for _ref, source_id, _status in rows)
    expected = set(plan.source_ids)
    return {
        "rows": len(rows),
        "distinct_source_ids": len(source_ids),
        "duplicated": sum(1 for n in source_ids.values() if n > 1),
        "lost": len(expected - set(source_ids)),
        "unexpected": len(set(source_ids) - expected),
        "distinct_refs": len({ref for ref, _s, _st in rows}),
        "not_published": sum(1 for _r, _s, status in rows if status != "published"),
        "refs": sorted(ref for ref, _s, _st in rows),
    }


def check_search(
    port: int, plan: Plan, refs: list[str], deadline: float, since: float
) -> dict[str, Any]:
    """Page through the record search for the run's marker until it holds every ref."""
    found: set[str] = set()
    searchable_after = None
    total = None
    while time.monotonic() < deadline:
        found.clear()
        status, body = get(port, f"/search?type=record&q={plan.marker}&per_page=100", 300)
        match = TOTAL.search(body.decode(errors="replace")) if status == 200 else None
        total = int(match.group(1).replace(",", "")) if match else None
        if total == len(refs):
            searchable_after = round(time.monotonic() - since, 1)
            for page in range(1, (total + 99) // 100 + 1):
                path = f"/search?type=record&q={plan.marker}&per_page=100&page={page}"
                status, body = get(port, path, 300)
                found.update(REF.findall(body.decode(errors="replace")))
            break
        time.sleep(2)
    missing = sorted(set(refs) - found)
    return {"search_total": total, "found": len(found), "missing": len(missing),
            "missing_sample": missing[:5],
            "all_searchable_s_after_import": searchable_after}  # fmt: skip


# -- the run --------------------------------------------------------------------------------


def run_import(
    args: argparse.Namespace, env: dict[str, str], plan: Plan
) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """`portal import records` of the plan's file: its outcome, start and end (monotonic)."""
    started = time.monotonic()
    done = run(
        [*PORTAL, "import", "records", str(plan.file), "--agency", plan.agency],
        check=False, env=env, cwd=ROOT, timeout=args.max_seconds,
    )  # fmt: skip
    return done, started, time.monotonic()


def run_figures(
    args: argparse.Namespace,
    load_before: tuple[float, float, float],
    done: subprocess.CompletedProcess[str],
    import_seconds: float,
) -> dict[str, Any]:
    """What every run reports whatever the client: the set-up, the load, the import."""
    return {
        "engine": args.engine,
        # Other work on the machine skews every figure: the 1-minute load, before and after.
        "load_average": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "cpus": os.cpu_count(),
        "readers": args.readers,
        "workers": args.workers,
        "import": {
            "records": args.records,
            "exit_code": done.returncode,
            "seconds": round(import_seconds, 1),
            "output": done.stdout.strip().splitlines()[-1:] + done.stderr.strip().splitlines()[-3:],
        },
    }


def run_load(args: argparse.Namespace, database_url: str | None) -> dict[str, Any]:
    """Serve, read, import, verify; return the figures."""
    data_dir = Path(args.data_dir).resolve()
    env = portal_env(data_dir, database_url, args.api_read_limit)
    ensure_demo(env, args.entities)
    db = database_of(env)
    if not db.is_sqlite:  # planner statistics, as a register in service would have them
        from sqlalchemy import text

        with db.engine.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text("ANALYZE"))
    workdir = Path(tempfile.mkdtemp(prefix="portal-load-"))
    plan = make_plan(db, args.records, workdir, args.seed)
    load_before = os.getloadavg()
    started = time.monotonic()
    deadline = started + args.max_seconds
    if args.client == "wrk":
        return run_load_wrk(args, env, db, plan, workdir, load_before)
    with serving(env, args.port, args.workers, workdir / "gunicorn.log"):
        readers = Readers(args.port, plan, args.readers, args.seed)
        readers.start()
        time.sleep(args.warm_seconds)
        readers.phase = "during import"
        done, import_started, import_ended = run_import(args, env, plan)
        import_seconds = import_ended - import_started
        readers.phase = "after import"
        time.sleep(args.warm_seconds)
        readers.finish()
        reading_seconds = time.monotonic() - started
        database = check_database(db, plan)
        refs = database.pop("refs")
        search = check_search(args.port, plan, refs, deadline, import_ended)
    db.dispose()
    tally = readers.tally
    phases = {
        phase: summary(
            tally.latencies[phase],
            tally.statuses[phase],
            import_seconds if phase == "during import" else args.warm_seconds,
        )
        for phase in tally.latencies
    }
    everything = summary(
        [x for values in tally.latencies.values() for x in values],
        sum(tally.statuses.values(), Counter()),
        reading_seconds,
    )
    # Between responses while every reader was still asking (not while they wind down).
    done_at = sorted(t for t in tally.finished_at if t <= readers.stopped_at)
    stall = max((b - a for a, b in zip(done_at, done_at[1:], strict=False)), default=0.0)
    return {
        **run_figures(args, load_before, done, import_seconds),
        "longest_gap_without_a_response_s": round(stall, 2),
        "reads": everything,
        "phases": phases,
        "record_search_totals_seen": dict(sorted(tally.marker_totals.items())),
        "errors_sample": [e for errs in tally.errors.values() for e in errs][:10],
        "slowest": [
            {
                "seconds": round(seconds, 2),
                "phase": phase,
                "path": path,
                "started_s_after_import_began": round(start - import_started, 1),
            }
            for seconds, phase, path, start in tally.slowest
        ],
        "database": database,
        "search": search,
        "workdir": str(workdir),
    }


def from_wrk(figures: dict[str, Any]) -> dict[str, Any]:
    """wrk's figures of one phase in the shape of `summary`."""
    statuses = {int(k): v for k, v in figures["status"].items()}
    return {
        "requests": figures["requests"],
        "seconds": figures["seconds"],
        "requests_per_s": figures["per_second"],
        "p50_ms": figures["p50_ms"],
        "p95_ms": figures["p95_ms"],
        "p99_ms": figures["p99_ms"],
        "max_ms": figures["max_ms"],
        "over_5s": figures["timeouts"],
        "status": figures["status"],
        "5xx": figures["5xx"],
        "429": statuses.get(429, 0),
        "connection_errors": figures["failed_connections"],
    }


def run_load_wrk(
    args: argparse.Namespace,
    env: dict[str, str],
    db: Any,
    plan: Plan,
    workdir: Path,
    load_before: tuple[float, float, float],
) -> dict[str, Any]:
    """The same run with Debian's wrk as the readers: one wrk per phase, the one during the
    import interrupted when the import ends. wrk gives percentiles per phase, not overall;
    the longest silence is bounded by the slowest response (50 connections always ask)."""
    rng = random.Random(args.seed)
    paths = [reader_path(plan, rng) for _ in range(10_000)]
    base = f"http://127.0.0.1:{args.port}"
    deadline = time.monotonic() + args.max_seconds
    with serving(env, args.port, args.workers, workdir / "gunicorn.log"):

        def read(seconds: float) -> dict[str, Any]:
            """One phase of reading, to its end."""
            return run_wrk(base, paths, args.readers, seconds, 60, plan.marker)

        before = read(args.warm_seconds)
        proc, folder = start_wrk(base, paths, args.readers, args.max_seconds, 60, plan.marker)
        done, import_started, import_ended = run_import(args, env, plan)
        during = finish_wrk(proc, folder, stop=True)
        after = read(args.warm_seconds)
        database = check_database(db, plan)
        refs = database.pop("refs")
        search = check_search(args.port, plan, refs, deadline, import_ended)
    db.dispose()
    phases = {
        "before import": from_wrk(before),
        "during import": from_wrk(during),
        "after import": from_wrk(after),
    }
    seconds = sum(p["seconds"] for p in phases.values())
    requests = sum(p["requests"] for p in phases.values())
    statuses: Counter = Counter()
    seen: Counter = Counter()
    for figures in (before, during, after):
        statuses.update({int(k): v for k, v in figures["status"].items()})
        seen.update(figures.get("marked", {}))
    reads = {
        "requests": requests,
        "seconds": round(seconds, 1),
        "requests_per_s": round(requests / seconds, 1) if seconds else 0,
        # wrk gives no overall percentiles: the worst phase's, as a bound.
        "p50_ms": max(p["p50_ms"] for p in phases.values()),
        "p95_ms": max(p["p95_ms"] for p in phases.values()),
        "max_ms": max(p["max_ms"] for p in phases.values()),
        "status": {str(k): v for k, v in sorted(statuses.items())},
        "5xx": sum(p["5xx"] for p in phases.values()),
        "connection_errors": sum(p["connection_errors"] for p in phases.values()),
    }
    return {
        **run_figures(args, load_before, done, import_ended - import_started),
        "client": "wrk",
        "longest_gap_without_a_response_s": round(reads["max_ms"] / 1000, 2),
        "reads": reads,
        "phases": phases,
        "record_search_totals_seen": dict(sorted(seen.items())),
        "database": database,
        "search": search,
        "workdir": str(workdir),
    }


def verdict(result: dict[str, Any]) -> list[str]:
    """Every failed promise: 5xx, failed connections, a failed import, lost or doubled records."""
    problems = []
    if result["reads"]["5xx"]:
        problems.append(f"{result['reads']['5xx']} responses were 5xx")
    if result["reads"]["connection_errors"]:
        problems.append(f"{result['reads']['connection_errors']} requests failed to connect")
    if result["import"]["exit_code"] != 0:
        problems.append(f"the import failed: {result['import']['output']}")
    db = result["database"]
    if db["lost"] or db["duplicated"] or db["unexpected"] or db["not_published"]:
        problems.append(f"records lost or duplicated: {db}")
    if db["distinct_refs"] != db["rows"]:
        problems.append("two records share a ref")
    if result["longest_gap_without_a_response_s"] > MAX_STALL_S:
        stall = result["longest_gap_without_a_response_s"]
        problems.append(f"no response at all for {stall} s: both workers were busy")
    if result["search"]["missing"]:
        problems.append(f"{result['search']['missing']} imported records are not searchable")
    return problems


def markdown_row(result: dict[str, Any]) -> str:
    """One row of the results table in docs/load-test.md."""
    reads, during, db = (
        result["reads"],
        result["phases"].get("during import", {}),
        result["database"],
    )
    return (
        f"| {result['engine']} | {reads['requests']:,} | {reads['requests_per_s']} | "
        f"{reads['p50_ms']} | {reads['p95_ms']} | {during.get('requests_per_s')} | "
        f"{during.get('p50_ms')} | {during.get('p95_ms')} | {reads['max_ms']} | "
        f"{result['longest_gap_without_a_response_s']} | {reads['5xx']} | "
        f"{reads['connection_errors']} | {result['import']['seconds']} | "
        f"{db['lost']} | {db['duplicated']} | {result['search']['missing']} |"
    )


def main() -> None:
    """Parse the options, run once, print the figures, exit 1 on any failed promise."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=["sqlite", "postgres"], required=True)
    parser.add_argument("--data-dir", required=True, help="scratch data directory (demo)")
    parser.add_argument("--database-url", default=None, help="an existing PostgreSQL database")
    parser.add_argument("--entities", type=int, default=20_000)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--readers", type=int, default=50)
    parser.add_argument(
        "--client", choices=["wrk", "threads"], default="wrk" if wrk_available() else "threads",
        help="Debian's wrk (the default when installed) or Python reader threads",
    )  # fmt: skip
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--pg-port", type=int, default=5440)
    parser.add_argument("--warm-seconds", type=float, default=20.0,
                        help="reading before and after the import")  # fmt: skip
    parser.add_argument("--max-seconds", type=float, default=1800.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--api-read-limit",
        default="1000000 per minute",
        help="PORTAL_API_READ_LIMIT for the run (the default 300/minute is per address)",
    )
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()
    if args.engine == "postgres" and not args.database_url:
        data_dir = Path(args.data_dir)
        if data_dir.exists() and any(data_dir.iterdir()):
            parser.error("with a throwaway cluster, --data-dir must be new or empty")
        with throwaway_postgres(args.pg_port) as url:
            result = run_load(args, url)
    else:
        url = args.database_url if args.engine == "postgres" else None
        result = run_load(args, url)
    problems = verdict(result)
    result["problems"] = problems
    text = json.dumps(result, indent=2)
    print(text)
    print(markdown_row(result))
    if args.json:
        Path(args.json).write_text(text)
    if problems:
        print("FAILED: " + "; ".join(problems), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
