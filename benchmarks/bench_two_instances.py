"""Two app instances, each with its own index directory, behind one PostgreSQL database.

    .venv/bin/python benchmarks/bench_two_instances.py \
        --database-url postgresql://postgres@127.0.0.1:5442/portal_two

Loads a small demo register into the (empty) database unless it holds one,
starts two `portal serve` processes on 127.0.0.1 with separate data
directories (so separate search indexes), then publishes `--records` findings
one at a time through the first instance's write API and, after each, polls
the second instance until it serves the record page and finds the record with
its search page. Prints and writes benchmarks/results/two-instances-<date>.json:
the time from the publishing response to each, as p50/p95/max. Bounded: each
record is given `--timeout` seconds.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PORTAL = [sys.executable, "-m", "portal"]
REGULATORS = ("regulator.one@demo.invalid", "regulator.two@demo.invalid")


def get(port: int, path: str) -> tuple[int, str]:
    """Status and body of one GET on 127.0.0.1."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def post_json(port: int, path: str, body: dict[str, Any], token: str) -> tuple[int, Any]:
    """Status and JSON of one POST with a bearer token."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        conn.request("POST", path, json.dumps(body), headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


@contextmanager
def serving(env: dict[str, str], port: int, log: Path) -> Iterator[None]:
    """`portal serve` (2 workers) until the block ends; waits until it answers."""
    with log.open("wb") as out:
        server = subprocess.Popen(  # noqa: S603
            [*PORTAL, "serve", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=out,
            stderr=out,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if get(port, "/methodology/")[0] == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit(f"the server on port {port} did not start; see {log}")
                time.sleep(0.3)
            yield
        finally:
            server.terminate()
            server.wait(timeout=30)


def wait_for(check: Any, timeout: float) -> float | None:
    """Seconds until check() is true, polling every 20 ms; None after the timeout."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return time.monotonic() - started
        time.sleep(0.02)
    return None


def register_is_empty(database_url: str) -> bool:
    """True when the database has no entity table yet, or an empty one."""
    from sqlalchemy import create_engine, inspect, text

    from portal.db import normalise_url

    engine = create_engine(normalise_url(database_url))
    try:
        if not inspect(engine).has_table("entity"):
            return True
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM entity")).scalar_one() == 0
    finally:
        engine.dispose()


def summary(values: list[float]) -> dict[str, float]:
    """p50, p95 and max in ms."""
    ordered = sorted(values)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def main() -> None:
    """Set up, publish, poll, report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True, help="PostgreSQL, shared by both")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/portal-two"))
    parser.add_argument("--entities", type=int, default=2000, help="demo size if empty")
    parser.add_argument("--records", type=int, default=30)
    parser.add_argument("--backend", choices=["whoosh", "tantivy"], default="whoosh")
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--ports", type=int, nargs=2, default=[5081, 5082])
    args = parser.parse_args()
    one, two = args.workdir / "one", args.workdir / "two"
    for directory in (one, two):
        directory.mkdir(parents=True, exist_ok=True)
    base = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "PORTAL_SEARCH_BACKEND": args.backend,
        "PORTAL_SESSION_COOKIE_SECURE": "false",
        "PORTAL_API_READ_LIMIT": "100000 per minute",
        # Machines behind one address share the key, so a session works on either.
        "PORTAL_SECRET_KEY": os.environ.get("PORTAL_SECRET_KEY", secrets.token_hex(32)),
    }
    env_one, env_two = {**base, "PORTAL_DATA_DIR": str(one)}, {**base, "PORTAL_DATA_DIR": str(two)}
    if register_is_empty(args.database_url):
        subprocess.run([*PORTAL, "demo", "--entities", str(args.entities)], env=env_one, check=True)  # noqa: S603
    subprocess.run([*PORTAL, "init"], env=env_two, check=True, capture_output=True)  # noqa: S603
    # The demo's regulator requires a second approval: one drafts, submits and publishes;
    # the other approves.
    author, approver = (
        subprocess.run(  # noqa: S603
            [*PORTAL, "tokens", "create", email, "--label", "two-instance benchmark"],
            env=env_one,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()[-1]
        for email in REGULATORS
    )
    marker = "twoinst" + secrets.token_hex(3)
    served: list[float] = []
    found: list[float] = []
    missed = 0
    port_one, port_two = args.ports
    with ExitStack() as stack:
        stack.enter_context(serving(env_one, port_one, args.workdir / "one.log"))
        stack.enter_context(serving(env_two, port_two, args.workdir / "two.log"))
        status, listing = get(port_two, "/api/v1/entities?per_page=100&kind=business")
        slugs = [item["slug"] for item in json.loads(listing)["items"]]
        for port in (port_one, port_two):  # each instance brings its index up to date first
            get(port, "/search?q=warm")
        for i in range(args.records):
            word = f"{marker}n{i}"
            body = {
                "entity_slug": slugs[i % len(slugs)],
                "category": "data_protection",
                "severity": "minor",
                "title": f"Published through instance one {word}",
                "decided_on": date.today().isoformat(),
            }
            status, record = post_json(port_one, "/api/v1/records", body, author)
            ref = record["ref"] if status == 201 else ""
            for action, token in (("submit", author), ("approve", approver), ("publish", author)):
                if status in (200, 201):
                    status, record = post_json(
                        port_one, f"/api/v1/records/{ref}/{action}", {}, token
                    )
            if status != 200 or record["status"] != "published":
                raise SystemExit(f"publishing failed: {status} {record}")
            page = wait_for(
                lambda ref=ref: get(port_two, f"/records/{quote(ref)}")[0] == 200, args.timeout
            )
            search = wait_for(
                lambda ref=ref, word=word: ref in get(port_two, f"/search?type=record&q={word}")[1],
                args.timeout,
            )
            if page is None or search is None:
                missed += 1
                continue
            served.append(page)
            found.append(search)
    results = {
        "date": date.today().isoformat(),
        "backend": args.backend,
        "records": args.records,
        "not_found_within_timeout": missed,
        "record page served by instance two": summary(served) if served else None,
        "found by instance two's search": summary(found) if found else None,
        "load_average": os.getloadavg()[0],
    }
    print(json.dumps(results, indent=2))
    out = (
        ROOT
        / "benchmarks"
        / "results"
        / f"two-instances-{args.backend}-{date.today().isoformat()}.json"
    )
    out.write_text(json.dumps(results, indent=2) + "\n")
    if missed:
        raise SystemExit(f"{missed} records were not found within {args.timeout} s")


if __name__ == "__main__":
    main()
