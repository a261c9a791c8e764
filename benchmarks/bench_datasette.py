"""Datasette over SQLite FTS5 against the portal's JSON name search, on the same entity names.

    .venv/bin/python benchmarks/bench_datasette.py --entities 100000

Loads the demo register (`portal demo`) into a scratch folder, builds each search
engine's index of it (`portal search reindex`), exports the entity names into a
SQLite file with an FTS5 table and serves that with `datasette serve`, and serves
the portal (`portal serve`, gunicorn) over the same database once per engine. The
same name queries then go to every server in turn, one request at a time, on
127.0.0.1 only. Printed, and written to benchmarks/results/datasette-<n>-<date>.json:
median and p95 latency per server, the share of queries that found anything, and
the ratio of medians portal / Datasette (at most 1.0: the portal is no slower,
while it also folds accents and legal forms and corrects typos, ranks, counts and
computes facets, which the Datasette query here does not).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

from _common import stop_server

VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
FTS_QUERY = "&_fts_table=entities_fts&_nocount=1&_nofacet=1&_nosuggest=1&_size=20"


def run(args: list[str], env: dict[str, str], log: Path) -> float:
    """Run a portal command to completion (its output to `log`); the seconds it took."""
    started = time.perf_counter()
    with log.open("a") as out:
        subprocess.run(args, env=env, stdout=out, stderr=subprocess.STDOUT, check=True)
    return round(time.perf_counter() - started, 1)


def portal_env(workdir: Path, engine: str) -> dict[str, str]:
    """The environment of a portal over the shared demo database, with its own index."""
    return {
        **os.environ,
        "PORTAL_DATA_DIR": str(workdir / engine),
        "DATABASE_URL": f"sqlite:///{workdir / 'data' / 'portal.sqlite3'}",
        "PORTAL_SECRET_KEY": os.environ.get("PORTAL_SECRET_KEY") or secrets.token_hex(32),
        "PORTAL_SEARCH_BACKEND": engine,
        "PORTAL_API_READ_LIMIT": "1000000 per minute",
    }


def prepare(workdir: Path, entities: int, engines: list[str]) -> dict[str, float]:
    """Load the demo register once, then build each engine's index; the seconds taken."""
    log = workdir / "prepare.log"
    env = {**portal_env(workdir, "data"), "PORTAL_SEARCH_BACKEND": "tantivy"}
    seconds = {"demo_s": run([str(VENV_BIN / "portal"), "demo", "--entities", str(entities)],
                             env, log)}  # fmt: skip
    for engine in engines:
        command = [str(VENV_BIN / "portal"), "search", "reindex"]
        seconds[f"{engine}_reindex_s"] = run(command, portal_env(workdir, engine), log)
    return seconds


def export_names(portal_db: Path, target: Path) -> int:
    """Copy every entity's slug, name, kind and jurisdiction into an FTS5-indexed table."""
    source = sqlite3.connect(portal_db)
    rows = source.execute("SELECT id, slug, name, kind, jurisdiction_code FROM entity").fetchall()
    source.close()
    db = sqlite3.connect(target)
    db.executescript(
        "CREATE TABLE entities (id INTEGER PRIMARY KEY, slug TEXT, name TEXT, kind TEXT,"
        " jurisdiction TEXT);"
        "CREATE VIRTUAL TABLE entities_fts USING fts5(name, content='entities',"
        " content_rowid='id', tokenize='unicode61 remove_diacritics 2');"
    )
    db.executemany("INSERT INTO entities VALUES (?, ?, ?, ?, ?)", rows)
    db.execute("INSERT INTO entities_fts(entities_fts) VALUES ('rebuild')")
    db.commit()
    db.close()
    return len(rows)


def typed(portal_db: Path, count: int) -> list[str]:
    """Name searches as people type them: one or two words of a real name, some unaccented."""
    db = sqlite3.connect(portal_db)
    names = [row[0] for row in db.execute("SELECT name FROM entity ORDER BY id")]
    db.close()
    rng = random.Random(7)
    out = []
    for name in rng.sample(names, min(count, len(names))):
        words = [w.strip(",.&") for w in name.split() if w.strip(",.&")]
        text = " ".join(words[: rng.choice((1, 2, 2))])
        if rng.random() < 0.3:
            text = "".join(c for c in unicodedata.normalize("NFKD", text) if c.isascii())
        out.append(text)
    return out


def free_port() -> int:
    """A port nothing listens on, on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def get(port: int, path: str) -> tuple[float, dict[str, Any]]:
    """One GET on 127.0.0.1: milliseconds until the whole body is read, and the JSON."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status != 200:
        raise RuntimeError(f"GET {path} on port {port}: {response.status} {body[:200]!r}")
    return elapsed, json.loads(body)


@contextmanager
def serving(
    args: list[str], env: dict[str, str], port: int, probe: str, log: Path
) -> Iterator[int]:
    """A server started in its own session, ready when `probe` answers; stopped after."""
    with log.open("a") as out:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                get(port, probe)
                break
            except (OSError, RuntimeError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{args[0]} did not start; see {log}") from None
                time.sleep(0.2)
        yield port
    finally:
        stop_server(proc)


def paths(text: str) -> dict[str, str]:
    """The request each kind of server gets for one search."""
    q = quote(text)
    return {"datasette": f"/names/entities.json?_search={q}{FTS_QUERY}",
            "portal": f"/api/v1/entities?q={q}"}  # fmt: skip


def found(kind: str, body: dict[str, Any]) -> bool:
    """Whether an answer holds at least one entity."""
    return bool(body.get("rows")) if kind == "datasette" else bool(body.get("total"))


def measure(servers: dict[str, int], texts: list[str]) -> dict[str, dict[str, float]]:
    """Every query to every server in turn (after a warm-up of 10): latency and found share."""
    times: dict[str, list[float]] = {name: [] for name in servers}
    hits: dict[str, int] = dict.fromkeys(servers, 0)
    for i, text in enumerate(texts[:10] + texts):
        for name, port in servers.items():
            kind = "datasette" if name == "datasette" else "portal"
            elapsed, body = get(port, paths(text)[kind])
            if i >= 10:
                times[name].append(elapsed)
                hits[name] += found(kind, body)
    return {
        name: {
            "p50": round(statistics.median(t), 2),
            "p95": round(statistics.quantiles(t, n=20)[18], 2),
            "found": round(hits[name] / len(t), 2),
        }  # fmt: skip
        for name, t in times.items()
    }


@contextmanager
def servers(workdir: Path, engines: list[str]) -> Iterator[dict[str, int]]:
    """Datasette and one portal per engine, all serving at once."""
    log = workdir / "servers.log"
    ports = {name: free_port() for name in ["datasette", *engines]}
    names_db = workdir / "names.sqlite3"
    settings = {"default_page_size": "20", "suggest_facets": "off", "sql_time_limit_ms": "5000"}
    datasette = [str(VENV_BIN / "datasette"), "serve", "-i", str(names_db), "--host", HOST,
                 "--port", str(ports["datasette"])]  # fmt: skip
    datasette += [arg for key, value in settings.items() for arg in ("--setting", key, value)]
    probe = paths("a")
    with (
        serving(datasette, dict(os.environ), ports["datasette"], probe["datasette"], log),
        _portals(workdir, engines, ports, probe["portal"], log),
    ):
        yield ports


@contextmanager
def _portals(
    workdir: Path, engines: list[str], ports: dict[str, int], probe: str, log: Path
) -> Iterator[None]:
    """`portal serve` (2 gunicorn workers) once per engine."""
    if not engines:
        yield
        return
    engine, rest = engines[0], engines[1:]
    args = [str(VENV_BIN / "portal"), "serve", "--host", HOST, "--port", str(ports[engine])]
    with (
        serving(args, portal_env(workdir, engine), ports[engine], probe, log),
        _portals(workdir, rest, ports, probe, log),
    ):
        yield


def report(figures: dict[str, Any]) -> None:
    """Print latencies and the ratios of medians."""
    print(f"{figures['entities']:,} entities; " + ", ".join(
        f"{k} {v} s" for k, v in figures["prepare"].items()))  # fmt: skip
    print(f"{'server':<12}{'p50 ms':>9}{'p95 ms':>9}{'found':>7}{'p50 / datasette':>17}")
    base = figures["latency"]["datasette"]["p50"]
    for name, row in figures["latency"].items():
        print(f"{name:<12}{row['p50']:>9}{row['p95']:>9}{row['found']:>7}"
              f"{row['p50'] / base:>16.2f}x")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    """Prepare the data, serve it four ways, query, report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--backend", choices=["whoosh", "tantivy", "both"], default="both")
    parser.add_argument("--workdir", type=Path, help="keep the scratch data here")
    reuse = "serve the data and indexes a previous run left in --workdir"
    parser.add_argument("--reuse", action="store_true", help=reuse)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args(argv)
    engines = ["whoosh", "tantivy"] if args.backend == "both" else [args.backend]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        portal_db = workdir / "data" / "portal.sqlite3"
        timings = workdir / "prepared.json"
        if args.reuse and timings.exists():
            prepared = json.loads(timings.read_text())
        else:
            prepared = prepare(workdir, args.entities, engines)
            export_names(portal_db, workdir / "names.sqlite3")
            timings.write_text(json.dumps(prepared))
        texts = typed(portal_db, args.queries)
        with servers(workdir, engines) as ports:
            latency = measure(ports, texts)
    ratios = {e: round(latency[e]["p50"] / latency["datasette"]["p50"], 2) for e in engines}
    figures = {"entities": args.entities, "queries": len(texts), "prepare": prepared,
               "latency": latency, "ratio_of_medians": ratios}  # fmt: skip
    report(figures)
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / f"datasette-{args.entities}-{date.today().isoformat()}.json"
    target.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
