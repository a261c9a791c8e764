"""`portal serve`: gunicorn with workers and threads, as the README's production set-up runs it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served(tmp_path, app):
    """`portal serve --workers 1 --threads 4` on a free port, on the test's database."""
    port = _free_port()
    env = {
        **os.environ,
        "PORTAL_DATA_DIR": str(tmp_path),
        "DATABASE_URL": app.config["DATABASE_URL"],
        "PORTAL_SECRET_KEY": "x" * 64,
        "PORTAL_SESSION_COOKIE_SECURE": "false",
    }
    command = [sys.executable, "-m", "portal", "serve", "--port", str(port)]
    command += ["--workers", "1", "--threads", "4"]
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(command, env=env, stdout=out, stderr=out)  # noqa: S603
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/methodology/", timeout=5)  # noqa: S310
                break
            except OSError:
                assert server.poll() is None, log.read_text()
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}", log
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_serve_answers_concurrent_requests_with_threaded_workers(served):
    base, log = served

    def fetch(path: str) -> int:
        with urllib.request.urlopen(base + path, timeout=10) as response:  # noqa: S310
            return response.status

    paths = ["/", "/search?q=acme", "/methodology/", "/api/v1/entities?q=acme"] * 5
    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(fetch, paths)) == [200] * len(paths)
    assert "Using worker: gthread" in log.read_text()


def test_serve_refuses_a_thread_count_out_of_range():
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "portal", "serve", "--threads", "0"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "--threads" in result.stderr
