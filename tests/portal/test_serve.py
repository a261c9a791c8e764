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


def test_a_record_published_through_one_instance_is_found_by_another_process(served, client, db):
    """Two instances, each with its own index, on one database: the second is a gunicorn
    process; the finding goes in through the first one's write API."""
    import json

    from portal.services.accounts import create_token, user_by_email
    from tests.factories import OPERATOR, make_agency, make_entity, make_user

    base, log = served
    with db.writing() as session:
        make_agency(session)
        make_entity(session)
        make_user(session, "reg@ico.example", "regulator", agency="ico")
        token = create_token(session, OPERATOR, user_by_email(session, "reg@ico.example"))

    def found() -> str:
        """What the second instance's record search shows for the word (its summary line)."""
        url = f"{base}/api/v1/entities?q=acme"
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310
            assert json.load(response)["total"] == 1
        url = f"{base}/search?type=record&q=tachograph"
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310
            return response.read().decode()

    assert "0 results" in found()  # the second instance has indexed the register as it was
    record = {
        "entity_slug": "acme-widgets-ltd",
        "category": "data_protection",
        "severity": "minor",
        "title": "Tachograph records falsified",
        "decided_on": "2024-01-10",
        "publish": True,
    }
    answer = client.post(
        "/api/v1/records", json=record, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 201, answer.get_json()
    link = f'href="/records/{answer.get_json()["ref"]}"'
    deadline = time.monotonic() + 30  # a bound on waiting, not a speed claim (benchmarks)
    while link not in found():
        assert time.monotonic() < deadline, "the second instance never found the record"
        time.sleep(0.1)
    assert (log.parent / "index").is_dir()  # the second's own index, beside its log
