"""A throwaway PostgreSQL 15 cluster for benchmarks and load tests (see PITFALLS.md).

initdb refuses to run as root, so the cluster lives in a temporary directory owned
by `postgres` and every server command runs through `runuser -u postgres`. It
listens on 127.0.0.1 only and is stopped and removed when the block ends.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def run(command: list[str], check: bool = True, **kwargs: Any) -> subprocess.CompletedProcess:
    """Run a command, its output captured; raise with that output when it fails."""
    done = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)  # noqa: S603
    if check and done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])} failed:\n{done.stdout}\n{done.stderr}")
    return done


def free_port() -> int:
    """A TCP port nothing listens on at the moment, on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def throwaway_postgres(port: int | None = None, database: str = "portal_load") -> Iterator[str]:
    """A PostgreSQL 15 cluster in a temporary directory; yields the URL of a new database."""
    port = port or free_port()
    root = Path(tempfile.mkdtemp(prefix="portal-pg-"))
    shutil.chown(root, "postgres", "postgres")
    data, log = root / "data", root / "log"
    as_pg = ["runuser", "-u", "postgres", "--"]
    run([*as_pg, str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"])
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=100"
    ctl = [*as_pg, str(PG_BIN / "pg_ctl"), "-D", str(data)]
    run([*ctl, "-o", options, "-l", str(log), "-w", "start"])
    try:
        url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        run(["psql", url, "-c", f"CREATE DATABASE {database}"])
        yield f"postgresql://postgres@127.0.0.1:{port}/{database}"
    finally:
        run([*ctl, "-m", "fast", "stop"], check=False)
        shutil.rmtree(root, ignore_errors=True)
