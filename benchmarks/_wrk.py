"""Load from wrk (Debian's `wrk`): many connections from one C thread, bounded in time.

`run_wrk` sends a list of paths round-robin over keep-alive connections for a
number of seconds (or until stopped) and returns latency percentiles, requests/s,
status counts, connection errors and, for searches, the share that found something.
The percentiles are wrk's own (microsecond histogram over every request).
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Any

# Paths are read from a file, one per line; each request takes the next one. `response`
# counts statuses and whether a search answered with a hit; `done` adds up the threads'
# counts and prints one JSON line.
SCRIPT = r"""
local paths, i, threads = {}, 0, {}
for line in io.lines(os.getenv("WRK_PATHS")) do paths[#paths + 1] = line end
-- Counted in the thread's own Lua state (globals, read back with thread:get in done).
-- `marked`: totals answered to searches for WRK_MARKER (a word the test planted).
statuses, searches, found, marked = {}, 0, 0, {}
local marker = os.getenv("WRK_MARKER")
setup = function(thread) threads[#threads + 1] = thread end
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if body then
    local total = body:match('"total":%s*(%d+)')
    total = total or body:match('results%-summary[^>]*>%s*([%d,]+) results?')
    if total then
      searches = searches + 1
      if total ~= "0" then found = found + 1 end
      if marker and body:find('value="' .. marker .. '"', 1, true) then
        total = total:gsub(",", "")
        marked[total] = (marked[total] or 0) + 1
      end
    end
  end
end
done = function(summary, latency, requests)
  local all, n_searches, n_found, totals = {}, 0, 0, {}
  for _, thread in ipairs(threads) do
    for code, n in pairs(thread:get("statuses")) do all[code] = (all[code] or 0) + n end
    for total, n in pairs(thread:get("marked")) do totals[total] = (totals[total] or 0) + n end
    n_searches = n_searches + thread:get("searches")
    n_found = n_found + thread:get("found")
  end
  local codes = {}
  for code, n in pairs(all) do codes[#codes + 1] = string.format('"%d": %d', code, n) end
  local seen = {}
  for total, n in pairs(totals) do seen[#seen + 1] = string.format('"%s": %d', total, n) end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, '
    .. '"max_us": %d, "status": {%s}, "searches": %d, "found": %d, "errors": {"connect": %d, '
    .. '"read": %d, "write": %d, "timeout": %d, "status": %d}, "marked": {%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, table.concat(codes, ", "), n_searches, n_found,
    e.connect, e.read, e.write, e.timeout, e.status, table.concat(seen, ", ")))
end
"""


def available() -> bool:
    """True when Debian's wrk is installed."""
    return shutil.which("wrk") is not None


def start_wrk(
    base_url: str,
    paths: list[str],
    connections: int,
    seconds: float,
    timeout: float = 30,
    marker: str | None = None,
) -> tuple[subprocess.Popen[str], Path]:
    """Start wrk against `base_url` with the paths; stop it early with `finish_wrk`.

    With `marker`, the totals of searches for that word are counted ("marked")."""
    folder = Path(tempfile.mkdtemp(prefix="wrk-"))
    (folder / "paths.txt").write_text("\n".join(paths) + "\n")
    (folder / "script.lua").write_text(SCRIPT)
    command = [
        "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s",
        f"--timeout={round(timeout)}s", "-s", str(folder / "script.lua"), base_url,
    ]  # fmt: skip
    env = {"WRK_PATHS": str(folder / "paths.txt"), "PATH": "/usr/bin:/bin"}
    if marker:
        env["WRK_MARKER"] = marker
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)  # noqa: S603
    return proc, folder


def finish_wrk(proc: subprocess.Popen[str], folder: Path, stop: bool = False) -> dict[str, Any]:
    """Wait for wrk (interrupting it first if `stop`) and read its figures."""
    if stop and proc.poll() is None:
        proc.send_signal(signal.SIGINT)  # wrk stops, then reports what it measured
    output, _ = proc.communicate(timeout=120)
    shutil.rmtree(folder, ignore_errors=True)
    line = next((x for x in output.splitlines() if x.startswith("WRK_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no figures:\n{output[-2000:]}")
    raw = json.loads(line.removeprefix("WRK_JSON "))
    seconds = raw["duration_us"] / 1e6
    statuses = {int(k): v for k, v in raw["status"].items()}
    errors = raw["errors"]
    result: dict[str, Any] = {
        "requests": raw["requests"],
        "seconds": round(seconds, 1),
        "p50_ms": round(raw["p50_us"] / 1000, 1),
        "p95_ms": round(raw["p95_us"] / 1000, 1),
        "p99_ms": round(raw["p99_us"] / 1000, 1),
        "max_ms": round(raw["max_us"] / 1000, 1),
        "per_second": round(raw["requests"] / seconds, 1) if seconds else 0,
        "5xx": sum(n for status, n in statuses.items() if status >= 500),
        "failed_connections": errors["connect"] + errors["read"] + errors["write"],
        "timeouts": errors["timeout"],
        "status": {str(k): v for k, v in sorted(statuses.items())},
        "client": "wrk",
    }
    if raw["marked"]:
        result["marked"] = {int(k): v for k, v in raw["marked"].items()}
    if raw["searches"]:
        result["found"] = round(raw["found"] / raw["searches"], 2)
    return result


def run_wrk(
    base_url: str,
    paths: list[str],
    connections: int,
    seconds: float,
    timeout: float = 30,
    marker: str | None = None,
) -> dict[str, Any]:
    """wrk for `seconds`; its figures."""
    proc, folder = start_wrk(base_url, paths, connections, seconds, timeout, marker)
    return finish_wrk(proc, folder)
