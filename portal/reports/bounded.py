"""Rendering in a child process with an address-space limit and a deadline.

weasyprint's maintainers warn that long or huge documents can run for a long
time and use much memory. Each report is rendered in a child forked from a
small render server (multiprocessing's forkserver, started once per worker,
which imports weasyprint and loads the fonts before it forks anything: see
portal/reports/zygote.py). The child caps its own address space with
RLIMIT_AS at its starting size plus `memory_mb`, and its CPU time with
RLIMIT_CPU; the parent waits at most `timeout_s` and then kills it. A runaway
report costs one child, never the web worker, and the child inherits nothing
of the worker: no database connection, no threads, no request.
"""

from __future__ import annotations

import logging
import multiprocessing
import resource
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext

from portal.errors import PortalError
from portal.reports.pdf import PdfJob, RenderResult, write_pdf

log = logging.getLogger(__name__)


class ReportTooLarge(PortalError):
    """A report could not be rendered within the time and memory allowed."""

    status = 503
    code = "report_too_large"


def _memory_now() -> tuple[int, int]:
    """This process's address space and writable data (VmSize, VmData), in bytes (Linux)."""
    sizes = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmSize", "VmData"):
                sizes[key] = int(value.split()[0]) * 1024
    return sizes["VmSize"], sizes["VmData"]


def _child(conn: Connection, job: PdfJob, memory_mb: int, cpu_s: int) -> None:
    """Limit this process, render, and send back ("ok", result) or why it failed."""
    budget = memory_mb * 1024 * 1024
    address_space, data = _memory_now()
    # RLIMIT_DATA counts new writable memory, including heap reserved earlier and only
    # now made writable; RLIMIT_AS backs it up against anything else that maps memory.
    resource.setrlimit(resource.RLIMIT_DATA, (data + budget, data + budget))
    resource.setrlimit(resource.RLIMIT_AS, (address_space + 2 * budget, address_space + 2 * budget))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
    # A C library that runs out of memory aborts; writing a core file would take seconds.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        conn.send(("ok", write_pdf(job)))
    except (MemoryError, SystemError):
        # C code that cannot allocate often surfaces as SystemError, not MemoryError.
        conn.send(("memory", None))
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises
        conn.send(("error", f"{type(exc).__name__}: {exc}"[:500]))
    finally:
        conn.close()


def render_context() -> BaseContext:
    """The forkserver context whose server has weasyprint and the fonts loaded."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["portal.reports.zygote"])
    return context


def render_in_child(job: PdfJob, timeout_s: float, memory_mb: int) -> RenderResult:
    """Render `job` in a bounded child; raise ReportTooLarge when it overruns."""
    context = render_context()
    receive, send = context.Pipe(duplex=False)
    child = context.Process(  # type: ignore[attr-defined]
        target=_child, args=(send, job, memory_mb, int(timeout_s) + 1), daemon=True
    )
    child.start()
    send.close()
    try:
        if not receive.poll(timeout_s):
            log.error("report rendering stopped after %.1f s", timeout_s)
            raise ReportTooLarge("This report took too long to produce; please try again later.")
        status, outcome = receive.recv()
    except EOFError:
        status, outcome = "died", None
    finally:
        receive.close()
        if child.is_alive():
            child.kill()
        child.join()
        child.close()
    if status == "error":
        raise RuntimeError(f"report rendering failed: {outcome}")
    if status != "ok":
        log.error("report rendering stopped (%s)", status)
        raise ReportTooLarge("This report is too large to produce within the limits of the server.")
    result: RenderResult = outcome
    return result
