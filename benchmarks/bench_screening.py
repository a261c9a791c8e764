"""Screening and the duplicates scan on a demo register (issue 17; not a timed test).

Targets at 100,000 entities: screening 10,000 names under 30 s with peak memory
under 500 MB; one POST /api/v1/match of 100 names under 1 s at p95; the duplicates
scan under 5 minutes in bounded memory. The names: half the register's own names
written another way (one typo, no legal form, upper case), half names it does not
hold (US government bodies, from ../shared/data).

    .venv/bin/python benchmarks/bench_screening.py --data-dir DIR  (a demo register)
    .venv/bin/python benchmarks/bench_screening.py --entities 20000  (builds one)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def peak_mb() -> int:
    """This process's peak resident memory so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def names(app, count: int) -> list[str]:  # type: ignore[no-untyped-def]
    """`count` names: half the register's own, written another way; half outsiders."""
    from sqlmodel import select

    from portal.models import Entity
    from tests import screening_set as data

    rng = random.Random(11)
    with app.extensions["portal.db"].session() as session:
        own = list(session.exec(select(Entity.name).limit(200_000)).all())
    rng.shuffle(own)
    written = []
    for i, name in enumerate(own[: count // 2]):
        style = i % 3
        written.append(
            data.typo(name, i)
            if style == 0
            else name.upper()
            if style == 1
            else name.rsplit(" ", 1)[0]
        )
    outsiders = data.outsiders(count - len(written)) if data.available() else []
    return written + outsiders


def main() -> None:
    """Build or open a register, then measure screening, /match and the duplicates scan."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="an existing demo register")
    parser.add_argument("--entities", type=int, default=20000)
    parser.add_argument("--names", type=int, default=10000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    tmp = None
    if args.data_dir is None:
        tmp = Path(tempfile.mkdtemp(prefix="bench-screening-"))
        env = {**os.environ, "PORTAL_DATA_DIR": str(tmp)}
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "portal", "demo", "--entities", str(args.entities)],
                       env=env, check=True, capture_output=True)  # fmt: skip
        print(f"demo of {args.entities:,} entities in {time.perf_counter() - started:.0f} s")
        args.data_dir = tmp
    os.environ["PORTAL_DATA_DIR"] = str(args.data_dir)
    try:
        figures = measure(args)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


def measure(args: argparse.Namespace) -> dict[str, object]:
    """The three measurements on the register in PORTAL_DATA_DIR."""
    from portal import create_app
    from portal.models import utcnow
    from portal.services.access import Actor
    from portal.services.duplicates import likely_duplicates
    from portal.services.screening import ScreenQuery, screen

    app = create_app({"RATELIMIT_ENABLED": False})
    db, index = app.extensions["portal.db"], app.extensions["portal.search"]
    # A screening against an index still being rebuilt would be fast and wrong: wait.
    deadline = time.monotonic() + 1800
    while not index.refresh():
        if time.monotonic() > deadline:
            raise SystemExit("the search index did not catch up; run portal search reindex")
        time.sleep(2)
    queries = [ScreenQuery(name=n) for n in names(app, args.names)]
    before = peak_mb()
    started = time.perf_counter()
    verdicts: dict[str, int] = {}
    for start in range(0, len(queries), 200):
        with db.session() as session:
            for result in screen(session, index, queries[start : start + 200], utcnow().date()):
                verdicts[result.verdict] = verdicts.get(result.verdict, 0) + 1
    screening_s = time.perf_counter() - started
    client = app.test_client()
    batch = [{"name": q.name} for q in queries[:100]]
    times = []
    for _ in range(20):
        began = time.perf_counter()
        assert client.post("/api/v1/match", json={"queries": batch}).status_code == 200
        times.append(time.perf_counter() - began)
    began = time.perf_counter()
    with db.session() as session:
        _pairs, pairs = likely_duplicates(session, Actor.cli("bench"))
    duplicates_s = time.perf_counter() - began
    with db.session() as session:
        from sqlalchemy import func
        from sqlmodel import select

        from portal.models import Entity

        entities = session.exec(select(func.count()).select_from(Entity)).one()
    return {
        "entities": entities,
        "engine": app.config.get("SEARCH_BACKEND"),
        "names": len(queries),
        "screening_s": round(screening_s, 1),
        "screening_per_name_ms": round(1000 * screening_s / len(queries), 2),
        "verdicts": verdicts,
        "peak_mb_before_screening": before,
        "peak_mb": peak_mb(),
        "match_100_p50_ms": round(1000 * statistics.median(times)),
        "match_100_p95_ms": round(1000 * sorted(times)[int(0.95 * len(times)) - 1]),
        "duplicates_scan_s": round(duplicates_s, 1),
        "duplicate_pairs": pairs,
        "load_average": os.getloadavg(),
    }


if __name__ == "__main__":
    main()
