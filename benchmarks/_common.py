"""Helpers shared by the benchmark scripts: percentiles, targets, machine facts."""

from __future__ import annotations

import math
import os
import platform
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of some values (share 0.95 for p95)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1))]


def against(value: float | None, target: float, unit: str = "ms") -> dict[str, Any]:
    """A figure beside its upper bound: met, or missed by how much."""
    if value is None:
        return {"target": target, "value": None, "met": False, "verdict": "not measured"}
    met = value < target
    gap = round(value - target, 1)
    verdict = "met" if met else f"missed by {gap:g} {unit}"
    return {"target": target, "value": value, "met": met, "verdict": verdict}


def load_average() -> list[float]:
    """The 1-, 5- and 15-minute load averages, rounded."""
    return [round(x, 2) for x in os.getloadavg()]


def memory_mb() -> int | None:
    """Total memory of this machine in MB (Linux)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    except OSError:
        return None
    return None


def git_commit() -> str | None:
    """The commit checked out in the work tree (read only), with '+dirty' when edited."""
    try:
        head = subprocess.run(  # noqa: S603
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],  # noqa: S607
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(  # noqa: S603
            ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],  # noqa: S607
            capture_output=True, text=True, check=True, timeout=30,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty else "")


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "cpus": os.cpu_count(),
        "memory_mb": memory_mb(),
        "load_average": load_average(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "git_commit": git_commit(),
        "executable": sys.executable,
    }


def clock() -> str:
    """The time of day, for progress lines."""
    return time.strftime("%H:%M:%S")


def _last_line(log: Path) -> str:
    """The last non-empty line (or progress-bar frame) a step wrote to its log."""
    with log.open("rb") as handle:
        handle.seek(max(0, log.stat().st_size - 400))
        tail = handle.read().decode(errors="replace")
    lines = [x.strip() for x in tail.replace("\r", "\n").splitlines() if x.strip()]
    return lines[-1][:120] if lines else ""


def run_step(
    name: str, command: list[str], env: dict[str, str], log: Path, timeout: float
) -> dict[str, Any]:
    """Run one command to completion or its timeout, its output to `log`, printing progress.

    Returns the wall seconds, the exit code, whether it timed out, and the peak resident
    memory of its largest process (wait4's rusage covers the command and its reaped children).
    """
    print(f"[{clock()}] {name}: starting (timeout {timeout:.0f} s, log {log})", flush=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as output:
        proc = subprocess.Popen(  # noqa: S603 - our own scripts and CLI
            command, env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    started = time.monotonic()
    next_note, timed_out = started + 60, False
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        now = time.monotonic()
        if now - started > timeout:
            timed_out = True
            status, usage = _stop_group(proc.pid)
            break
        if now >= next_note:
            print(f"[{clock()}]   {name}: {now - started:.0f} s, {_last_line(log)}", flush=True)
            next_note += 60
        time.sleep(0.25)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = round(time.monotonic() - started, 1)
    verdict = "TIMED OUT" if timed_out else f"exit {proc.returncode}"
    print(f"[{clock()}] {name}: {verdict} after {seconds} s", flush=True)
    return {
        "seconds": seconds,
        "exit_code": proc.returncode,
        "timed_out": timed_out,
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "log": str(log),
    }


def _stop_group(pid: int) -> tuple[int, Any]:
    """SIGTERM a step's process group, SIGKILL it after 10 s; the leader's wait status, rusage."""
    with suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.2)
    with suppress(ProcessLookupError):  # the leader's children too, even once it has gone
        os.killpg(pid, signal.SIGKILL)
    if not done:
        _done, status, usage = os.wait4(pid, 0)
    return status, usage


def stop_server(proc: subprocess.Popen[Any]) -> None:
    """SIGTERM a server started in its own session (its process group), SIGKILL after 30 s."""
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def read_only_engine(url: str) -> Any:
    """An engine that cannot write: SQLite opened with mode=ro, PostgreSQL as given."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from portal.db import normalise_url

    url = normalise_url(url)
    if not url.startswith("sqlite"):
        return create_engine(url)
    path = make_url(url).database
    return create_engine(
        "sqlite://",
        creator=lambda: sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False),
    )
