"""Time and peak memory of the bulk exports against an existing register, read-only.

    .venv/bin/python benchmarks/bench_exports.py --database-url sqlite:////tmp/demo100k/portal.sqlite3

Each export runs in its own child process (so each peak is its own), through
the same generators the web views stream, into a byte counter (or files with
--output DIR). A SQLite database is opened read-only (`mode=ro`), so the
benchmark never writes to it. Target: peak memory under 300 MB whatever the
size of the register. Figures are printed and written to
benchmarks/results/exports-<date>.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import read_only_engine  # noqa: E402
from sqlmodel import Session  # noqa: E402

from portal.services import exports  # noqa: E402
from portal.services.ftm import ftm_chunks  # noqa: E402

EXPORTS = ("entities.csv", "records.csv", "entities.ftm.json", "records.jsonl")
BASE_URL = "https://register.example.org/"


def chunks_for(name: str, session: Session) -> Iterator[bytes]:
    """The byte chunks of one export, as the view streams them."""
    if name == "entities.ftm.json":
        return ftm_chunks(session, BASE_URL)
    what, fmt = name.split(".")
    rows = exports.entity_rows(session) if what == "entities" else exports.record_rows(session)
    write = exports.csv_chunks if fmt == "csv" else exports.jsonl_chunks
    return write(rows, exports.columns_for(what, "full"))


def peak_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_one(url: str, name: str, output: str | None, queue: Any) -> None:
    """Run one export in this (child) process and report its figures."""
    engine = read_only_engine(url)
    before = peak_mb()
    started = time.perf_counter()
    size = lines = 0
    sink = open(Path(output) / name, "wb") if output else None  # noqa: SIM115
    with Session(engine) as session:
        for chunk in chunks_for(name, session):
            size += len(chunk)
            lines += chunk.count(b"\n")
            if sink:
                sink.write(chunk)
    if sink:
        sink.close()
    seconds = time.perf_counter() - started
    queue.put(
        {
            "export": name,
            "seconds": round(seconds, 1),
            "bytes": size,
            "lines": lines,
            "peak_mb": round(peak_mb(), 1),
            "peak_before_export_mb": round(before, 1),
        }
    )


def main() -> None:
    """Run every export and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="e.g. sqlite:////path/portal.sqlite3")
    parser.add_argument("--only", choices=EXPORTS, action="append", help="run only these")
    parser.add_argument("--output", help="write the exports into this directory")
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    results = []
    for name in args.only or EXPORTS:
        queue = context.Queue()
        child = context.Process(target=run_one, args=(args.database_url, name, args.output, queue))
        child.start()
        child.join()
        if child.exitcode != 0:
            sys.exit(f"{name}: the export failed (exit code {child.exitcode}); see above")
        result = queue.get()
        results.append(result)
        print(
            f"{name:20} {result['seconds']:8.1f} s  {result['bytes'] / 1e6:9.1f} MB out  "
            f"{result['lines']:>9} lines  peak {result['peak_mb']:6.1f} MB "
            f"(imports alone {result['peak_before_export_mb']:.1f} MB)",
            flush=True,
        )
    out = Path(__file__).parent / "results" / f"exports-{date.today().isoformat()}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"database": args.database_url, "results": results}, indent=2))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
