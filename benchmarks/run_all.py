"""The whole performance suite at one size, in a scratch directory: `make bench`.

    .venv/bin/python benchmarks/run_all.py --entities 100000
    .venv/bin/python benchmarks/run_all.py --entities 2000 --workdir /tmp/pb2k --reuse
    .venv/bin/python benchmarks/run_all.py --entities 100000 --postgres

Builds the demo register (`portal demo`, whose own index build makes the tantivy
index), rescores it (`portal scores recompute`), builds the whoosh index
(`portal search reindex`), then runs bench_search.py (queries drawn from the
register's entities, answered from each engine's index of the whole register, beside
SQLite FTS5 of the same entities), bench_pages.py (once per engine), bench_pdf.py,
bench_exports.py and bench_datasette.py (over the data and indexes already built),
each as a subprocess bounded in time. Everything is collected, with the machine's facts,
into benchmarks/results/<date>-<entities>[-postgres].json, and the table between
`<!-- bench:<entities>:<engine> -->` and `<!-- /bench -->` in
docs/performance.md is rewritten (appended when absent). With --postgres (a
throwaway PostgreSQL 15 cluster) or --database-url, the register lives in
PostgreSQL; the PDF and Datasette comparisons, which are SQLite-only, are skipped
and say so.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import RESULTS, ROOT, clock, load_average, machine, run_step  # noqa: E402
from _measure import MEASUREMENTS, PYTHON, Measuring, number  # noqa: E402
from _pg import throwaway_postgres  # noqa: E402
from _report import targets, update_doc  # noqa: E402

PORTAL = [PYTHON, "-m", "portal"]
ENGINES = ("whoosh", "tantivy")
DEMO = re.compile(
    r"Demo loaded: ([\d,]+) entities, ([\d,]+) records, ([\d,]+) change-log "
    r"events in ([\d.]+) s(?: \(peak memory ([\d,]+) MB\))?"
)
BUILT = re.compile(r"Search index (?:built|rebuilt): ([\d,]+) documents in ([\d.]+) s")
RESCORED = re.compile(r"Rescored ([\d,]+) entities, ([\d,]+) scores changed, in ([\d.]+) s")


def timeouts(entities: int, scale: float) -> dict[str, float]:
    """Seconds each step may take: generous bounds that grow with the register."""
    n = entities
    bounds = {
        "demo": 900 + n * 0.012,
        "recompute": 300 + n * 0.002,
        "reindex": 600 + n * 0.012,
        "search": 300 + n * 0.006,
        "pages": 900,
        "pdf": 600,
        "exports": 300 + n * 0.004,
        "datasette": 600 + n * 0.002,
        "analyze": 300 + n * 0.001,
    }
    return {step: seconds * scale for step, seconds in bounds.items()}


class Suite(Measuring):
    """One run: where its files go, its environment, its figures so far."""

    def __init__(self, args: argparse.Namespace, database_url: str) -> None:
        """Remember the options; nothing runs yet."""
        self.args, self.database_url, self.workdir = args, database_url, args.workdir
        self.engine = "sqlite" if database_url.startswith("sqlite") else "postgresql"
        self.limits = timeouts(args.entities, args.timeout_scale)
        pages = (600 + 5 * args.page_duration) * args.timeout_scale
        self.limits["pages"] = max(self.limits["pages"], pages)
        self.secret = secrets.token_hex(32)
        self.state_file = self.workdir / "state.json"
        self.state: dict[str, Any] = {}
        if args.reuse and self.state_file.exists():
            self.state = json.loads(self.state_file.read_text())
        self.results: dict[str, Any] = {"build": {}, "skipped": {}, "problems": []}

    def env(self, data_dir: Path | None = None, backend: str = "tantivy") -> dict[str, str]:
        """The environment of a portal command or benchmark of this run."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
        env.update(
            {
                "PORTAL_DATA_DIR": str(data_dir or self.workdir / "data"),
                "DATABASE_URL": self.database_url,
                "PORTAL_SEARCH_BACKEND": backend,
                "PORTAL_SECRET_KEY": self.secret,
                "PORTAL_API_READ_LIMIT": "1000000 per minute",
                "PYTHONUNBUFFERED": "1",
            }
        )
        return env

    def step(self, name: str, command: list[str], limit: str, **env: Any) -> dict[str, Any]:
        """Run one step; a failure or timeout is noted as a problem, never raised."""
        log = self.workdir / "logs" / f"{name}.log"
        figures = run_step(name, command, self.env(**env), log, self.limits[limit])
        if figures["exit_code"] != 0 or figures["timed_out"]:
            tail = log.read_text(errors="replace")[-600:].strip().splitlines()[-3:]
            self.results["problems"].append(
                f"{name}: {'timed out' if figures['timed_out'] else 'failed'} ({' / '.join(tail)})"
            )
        figures["output"] = log.read_text(errors="replace")
        return figures

    def build(self, name: str, run: Any) -> dict[str, Any]:
        """A build step's figures: recorded by an earlier run (--reuse), or measured now."""
        earlier = self.state.get(name)
        if earlier and earlier.get("exit_code") == 0:
            print(f"[{clock()}] {name}: reused from {self.state_file}", flush=True)
            figures = {**earlier, "reused": True}
        else:
            figures = run()
            self.state[name] = figures
            self.state_file.write_text(json.dumps(self.state, indent=2))
        self.results["build"][name] = figures
        return figures

    # -- building ------------------------------------------------------------------------

    def demo(self) -> dict[str, Any]:
        """`portal demo`; its own index build is the tantivy index, timed from its output."""
        figures = self.step(
            "demo",
            [*PORTAL, "demo", "--entities", str(self.args.entities)],
            "demo",
            data_dir=self.workdir / "tantivy",
        )
        output = figures.pop("output")
        if (found := DEMO.search(output)) is not None:
            entities, records, events, seconds = (number(g) for g in found.groups()[:4])
            rows = entities + records + events
            figures.update(
                entities=entities,
                records=records,
                change_log_events=events,
                load_s=seconds,
                rows_per_s=round(rows / max(seconds, 0.1)),
                entities_per_s=round(entities / max(seconds, 0.1)),
                load_peak_mb=number(found.group(5)) if found.group(5) else None,
            )
        if (built := BUILT.search(output)) is not None:
            documents, seconds = (number(g) for g in built.groups())
            figures["index"] = self.index_figures("tantivy", documents, seconds)
        return figures

    def index_figures(self, backend: str, documents: float, seconds: float) -> dict[str, Any]:
        """Documents, seconds, documents/s and size on disk of one engine's index."""
        index = self.workdir / backend / "index"
        size = sum(p.stat().st_size for p in index.rglob("*") if p.is_file())
        return {
            "backend": backend,
            "documents": documents,
            "rebuild_s": seconds,
            "docs_per_s": round(documents / max(seconds, 0.1)),
            "index_mb": round(size / 2**20, 1),
        }

    def recompute(self) -> dict[str, Any]:
        """`portal scores recompute` over the whole register."""
        figures = self.step("recompute", [*PORTAL, "scores", "recompute"], "recompute")
        if (found := RESCORED.search(figures.pop("output"))) is not None:
            seen, changed, seconds = (number(g) for g in found.groups())
            figures.update(rescored=seen, changed=changed, reported_s=seconds)
        return figures

    def reindex(self, backend: str) -> dict[str, Any]:
        """`portal search reindex` of one engine into its own data directory."""
        command = [*PORTAL, "search", "reindex"]
        figures = self.step(
            f"reindex-{backend}",
            command,
            "reindex",
            data_dir=self.workdir / backend,
            backend=backend,
        )
        if (found := BUILT.search(figures.pop("output"))) is not None:
            documents, seconds = (number(g) for g in found.groups())
            figures["index"] = self.index_figures(backend, documents, seconds)
        return figures

    def analyze(self) -> dict[str, Any]:
        """PostgreSQL planner statistics, as a register in service would have them."""
        code = (
            "import os, sqlalchemy as sa; from portal.db import normalise_url; "
            "e = sa.create_engine(normalise_url(os.environ['DATABASE_URL']), "
            "isolation_level='AUTOCOMMIT'); e.connect().execute(sa.text('ANALYZE'))"
        )
        figures = self.step("analyze", [PYTHON, "-c", code], "analyze")
        figures.pop("output")
        return figures

    def build_all(self) -> bool:
        """Demo, scores, indexes; False when the register could not be built."""
        demo = self.build("demo", self.demo)
        if demo["exit_code"] != 0 or demo.get("timed_out"):
            return False
        self.build("recompute", self.recompute)
        if self.engine == "postgresql":
            self.build("analyze", self.analyze)
        for backend in self.args.backends:
            if backend != "tantivy":
                self.build(f"reindex-{backend}", lambda b=backend: self.reindex(b))
        return True


def prepare_workdir(args: argparse.Namespace) -> None:
    """A fresh scratch directory, or the previous run's one with --reuse."""
    workdir = args.workdir
    if workdir.exists() and any(workdir.iterdir()) and not args.reuse:
        if not (workdir / "state.json").exists():
            raise SystemExit(f"{workdir} holds files this suite did not make; choose another")
        print(f"[{clock()}] removing the previous run's {workdir} (use --reuse to keep it)")
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True, exist_ok=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, help="default /tmp/portal-bench-<entities>")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the register and indexes a previous run built in --workdir",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL cluster")
    where.add_argument("--database-url", help="an existing, empty PostgreSQL database")
    parser.add_argument("--backends", default="whoosh,tantivy", help="comma-separated engines")
    parser.add_argument("--skip", default="", help=f"comma-separated, of {', '.join(MEASUREMENTS)}")
    parser.add_argument("--page-requests", type=int, default=1000, help="at most, per page")
    parser.add_argument("--page-duration", type=float, default=20.0, help="at most, per page")
    parser.add_argument("--page-clients", type=int, default=4)
    parser.add_argument("--pdf-runs", type=int, default=3)
    parser.add_argument("--datasette-queries", type=int, default=300)
    parser.add_argument("--timeout-scale", type=float, default=1.0, help="multiplies every bound")
    parser.add_argument("--no-docs", action="store_true", help="leave docs/performance.md alone")
    args = parser.parse_args(argv)
    args.backends = [b for b in args.backends.split(",") if b]
    args.skip = {s for s in args.skip.split(",") if s}
    if set(args.backends) - set(ENGINES) or args.skip - set(MEASUREMENTS):
        parser.error(f"engines are {ENGINES}; steps to skip are {MEASUREMENTS}")
    if args.postgres and args.reuse:
        parser.error("a throwaway cluster is new every run: --reuse needs --database-url")
    suffix = "-postgres" if args.postgres or args.database_url else ""
    args.workdir = (args.workdir or Path(f"/tmp/portal-bench-{args.entities}{suffix}")).resolve()
    return args


def run(args: argparse.Namespace, database_url: str) -> dict[str, Any]:
    """Build, measure, and gather the figures of one run."""
    suite = Suite(args, database_url)
    started = time.monotonic()
    results = {
        "entities": args.entities,
        "engine": suite.engine,
        "date": date.today().isoformat(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": machine(),
        "workdir": str(args.workdir),
        "command": sys.argv[1:],
    }
    print(
        f"[{clock()}] {args.entities:,} entities on {suite.engine} in {args.workdir}; "
        f"load average {load_average()}",
        flush=True,
    )
    if suite.build_all():
        suite.measure_all()
    else:
        suite.results["problems"].append("the demo register was not built; nothing measured")
    results.update(suite.results)
    results["wall_s"] = round(time.monotonic() - started, 1)
    results["load_average"] = {"start": results["machine"]["load_average"], "end": load_average()}
    results["targets"] = targets(results)
    return results


def main(argv: list[str] | None = None) -> None:
    """Run the suite, write the results and the docs table, print where they went."""
    args = parse_args(argv)
    prepare_workdir(args)
    if args.postgres:
        with throwaway_postgres(database="portal_bench") as url:
            results = run(args, url)
    else:
        results = run(
            args, args.database_url or f"sqlite:///{args.workdir / 'data/portal.sqlite3'}"
        )
    suffix = "" if results["engine"] == "sqlite" else "-postgres"
    out = RESULTS / f"{results['date']}-{args.entities}{suffix}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    if not args.no_docs:
        update_doc(ROOT / "docs" / "performance.md", results)
    missed = [t for t in results["targets"] if not t["met"]]
    print(
        f"[{clock()}] done in {results['wall_s']} s; wrote {out}; "
        f"{len(results['targets']) - len(missed)} targets met, {len(missed)} missed"
    )
    for target in missed:
        print(f"  missed: {target['figure']}: {target['verdict']}")
    for problem in results["problems"]:
        print(f"  problem: {problem}")
    sys.exit(1 if results["problems"] else 0)


if __name__ == "__main__":
    main()
