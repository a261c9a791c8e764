"""The measuring half of run_all.py: each benchmark script run over the register built."""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from _common import RESULTS, ROOT, clock
from _pg import free_port

PYTHON = sys.executable
BENCH = ROOT / "benchmarks"
MEASUREMENTS = ("search", "pages", "pdf", "exports", "datasette")
SQLITE_ONLY = {
    "pdf": "renders from its own SQLite fixture; the register's database plays no part",
    "datasette": "Datasette serves SQLite FTS5 only",
}


def number(text: str) -> float:
    """A number printed with thousands separators."""
    value = float(text.replace(",", ""))
    return int(value) if value.is_integer() else value


class Measuring:
    """Benchmarks run as subprocesses over the suite's register and indexes."""

    args: argparse.Namespace
    workdir: Path
    database_url: str
    engine: str
    results: dict[str, Any]

    def step(self, name: str, command: list[str], limit: str, **env: Any) -> dict[str, Any]:
        """Run one step (see Suite.step)."""
        raise NotImplementedError

    def measure(self, name: str, command: list[str], out: Path) -> Any:
        """Run one benchmark script; its JSON output, or a note that it failed (a problem)."""
        figures = self.step(name, command, name.split("-")[0])
        if out.is_dir():
            files = sorted(out.glob("*.json"), key=lambda p: p.stat().st_mtime)
            out = files[-1] if files else out / "missing.json"
        if figures["exit_code"] != 0 or not out.exists():
            return {"failed": True, "seconds": figures["seconds"], "log": figures["log"]}
        return {**json.loads(out.read_text()), "step_s": figures["seconds"]}

    def out_dir(self, name: str) -> Path:
        """An empty folder for one benchmark's JSON."""
        folder = self.workdir / "results" / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        return folder

    def search(self) -> Any:
        """bench_search.py: the register's indexes beside SQLite FTS5 of its entities."""
        out = self.out_dir("search")
        command = [PYTHON, str(BENCH / "bench_search.py"), "--database-url", self.database_url]
        for backend in self.args.backends:
            command += ["--index", f"{backend}={self.workdir / backend / 'index'}"]
        return self.measure("search", command + ["--out", str(out)], out)

    def pages(self) -> dict[str, Any]:
        """bench_pages.py once per engine, over the indexes built above."""
        results = {}
        for backend in self.args.backends:
            out = self.out_dir(f"pages-{backend}") / "pages.json"
            command = [
                PYTHON,
                str(BENCH / "bench_pages.py"),
                "--data-dir",
                str(self.workdir / backend),
                "--database-url",
                self.database_url,
                "--backend",
                backend,
                "--port",
                str(free_port()),
                "--requests",
                str(self.args.page_requests),
                "--duration",
                str(self.args.page_duration),
                "--clients",
                str(self.args.page_clients),
                "--json",
                str(out),
            ]
            results[backend] = self.measure(f"pages-{backend}", command, out)
        return results

    def pdf(self) -> Any:
        """bench_pdf.py: a cold report against weasyprint alone, and a cached one."""
        out = self.out_dir("pdf") / "pdf.json"
        command = [PYTHON, str(BENCH / "bench_pdf.py"), "--runs", str(self.args.pdf_runs)]
        return self.measure("pdf", command + ["--json", str(out)], out)

    def exports(self) -> Any:
        """bench_exports.py against the register (it writes to benchmarks/results itself)."""
        target = RESULTS / f"exports-{date.today().isoformat()}.json"
        with keep_file(target):
            command = [PYTHON, str(BENCH / "bench_exports.py"), "--database-url", self.database_url]
            return self.measure("exports", command, target)

    def datasette(self) -> Any:
        """bench_datasette.py over the data and indexes built above (--reuse)."""
        import bench_datasette

        names = self.workdir / "names.sqlite3"
        if not names.exists() or names.stat().st_mtime < self.database_mtime():
            names.unlink(missing_ok=True)
            bench_datasette.export_names(self.workdir / "data" / "portal.sqlite3", names)
        build = self.results["build"]
        prepared = {"demo_s": build["demo"]["seconds"]}
        prepared.update({f"{b}_reindex_s": self.reindex_seconds(b) for b in self.args.backends})
        (self.workdir / "prepared.json").write_text(json.dumps(prepared))
        out = self.out_dir("datasette")
        backend = "both" if len(self.args.backends) == 2 else self.args.backends[0]
        command = [
            PYTHON,
            str(BENCH / "bench_datasette.py"),
            "--entities",
            str(self.args.entities),
            "--backend",
            backend,
            "--workdir",
            str(self.workdir),
            "--reuse",
            "--queries",
            str(self.args.datasette_queries),
            "--out",
            str(out),
        ]
        return self.measure("datasette", command, out)

    def database_mtime(self) -> float:
        """When the SQLite register last changed."""
        return (self.workdir / "data" / "portal.sqlite3").stat().st_mtime

    def reindex_seconds(self, backend: str) -> float | None:
        """Seconds of one engine's full index build."""
        step = self.results["build"].get("demo" if backend == "tantivy" else f"reindex-{backend}")
        return ((step or {}).get("index") or {}).get("rebuild_s")

    def measure_all(self) -> None:
        """Every benchmark not skipped, in order."""
        for name in MEASUREMENTS:
            if name in self.args.skip:
                reason = "skipped with --skip"
            elif self.engine != "sqlite" and name in SQLITE_ONLY:
                reason = f"SQLite only: {SQLITE_ONLY[name]}"
            elif name == "datasette" and not (Path(PYTHON).parent / "datasette").exists():
                reason = "datasette is not installed in the venv"
            else:
                self.results[name] = getattr(self, name)()
                continue
            self.results["skipped"][name] = reason
            print(f"[{clock()}] {name}: skipped ({reason})", flush=True)


@contextlib.contextmanager
def keep_file(path: Path) -> Iterator[None]:
    """Put back whatever `path` held before the block (a script that always writes there)."""
    before = path.read_bytes() if path.exists() else None
    try:
        yield
    finally:
        if before is None:
            path.unlink(missing_ok=True)
        else:
            path.write_bytes(before)
