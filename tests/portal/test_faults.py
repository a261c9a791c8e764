"""Faults survived: a killed import, a lost index, a database away, a full disk, a race.

Each test sets up the fault for real where this machine allows it (a SIGKILLed
process, a deleted directory, a TCP proxy that is stopped, a tmpfs that fills up,
two processes racing) and checks that nothing is lost and the site keeps answering.
"""

from __future__ import annotations

import csv
import hashlib
import io
import multiprocessing
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel, select

from portal import create_app
from portal.db import Database
from portal.models import AuditEvent, Record, RecordStatus
from portal.services.accounts import create_token, user_by_email
from portal.services.audit import verify_chain
from tests.conftest import ON_POSTGRES, sqlite_only
from tests.factories import (
    OPERATOR,
    make_agency,
    make_entity,
    make_record,
    make_user,
    sign_in,
)

ROOT = Path(__file__).resolve().parents[2]
IMPORT_ROWS = 1000


# -- helpers -------------------------------------------------------------------------------


def _node(app, data_dir: Path, **config):
    """Another app on the same database with its own data directory and an on-disk index."""
    settings = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": app.config["DATABASE_URL"],
        "SEARCH_INDEX": "disk",
        "SESSION_COOKIE_SECURE": False,
        "RATELIMIT_ENABLED": False,
        **config,
    }
    return create_app(settings)


def _close(node) -> None:
    """Release an extra app's index and connections."""
    node.extensions["portal.search"].close()
    node.extensions["portal.db"].dispose()


def _row_counts(db: Database) -> dict[str, int]:
    """How many rows every table holds."""
    with db.engine.connect() as conn:
        return {
            name: conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one()
            for name in SQLModel.metadata.tables
        }


def _chain_ok(db: Database) -> bool:
    """True when the whole change log verifies."""
    with db.session() as session:
        return verify_chain(session).ok


def _entities_csv(path: Path, rows: int) -> Path:
    """A bulk entity import file of `rows` distinct businesses."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "kind", "jurisdiction", "sector", "aliases"])
        for i in range(rows):
            writer.writerow([f"Bulk Import {i:05d} Trading Ltd", "business", "GB", "retail", ""])
    return path


def _cli_env(app) -> dict[str, str]:
    """The environment a `python -m portal` subprocess needs to use this test's database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update(
        {
            "PORTAL_DATA_DIR": app.config["DATA_DIR"],
            "DATABASE_URL": app.config["DATABASE_URL"],
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def _import_is_writing(db: Database) -> bool:
    """True once an importer holds the database's write lock (its rows are going in)."""
    if db.is_sqlite:
        path = make_url(db.url).database or ""
        conn = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            conn.close()
    # Every change-log append takes this transaction-level advisory lock (services/audit.py).
    with db.engine.connect() as conn:
        held = conn.execute(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 727274 "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
        ).scalar_one()
    return bool(held)


# -- 1. a bulk import killed half-way ------------------------------------------------------


def test_an_import_killed_mid_write_leaves_nothing_and_can_be_rerun(app, db, tmp_path):
    """SIGKILL during a one-transaction import: every table as before, then a clean rerun."""
    with db.writing() as session:
        make_entity(session, name="Already There Ltd")
    before = _row_counts(db)
    big = _entities_csv(tmp_path / "entities.csv", IMPORT_ROWS)
    command = [sys.executable, "-m", "portal", "import", "entities", str(big)]
    log = tmp_path / "killed-import.log"
    with log.open("wb") as output:
        proc = subprocess.Popen(  # noqa: S603 - our own CLI
            command, cwd=ROOT, env=_cli_env(app), stdout=output, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 60
            while not _import_is_writing(db):
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the import never started writing"
                time.sleep(0.02)
            time.sleep(0.5)  # a few hundred rows into the transaction
            assert proc.poll() is None, f"the import ended before the kill: {log.read_text()}"
            proc.send_signal(signal.SIGKILL)
        finally:
            with suppress(ProcessLookupError):
                proc.kill()
            proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert _row_counts(db) == before
    if db.is_sqlite:
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
    assert _chain_ok(db)
    rerun = subprocess.run(  # noqa: S603 - our own CLI
        command, cwd=ROOT, env=_cli_env(app), capture_output=True, text=True, timeout=300
    )
    assert rerun.returncode == 0, rerun.stderr
    assert f"imported {IMPORT_ROWS} entities" in rerun.stdout
    after = _row_counts(db)
    assert after["entity"] == before["entity"] + IMPORT_ROWS
    assert _chain_ok(db)


# -- 2. the search index deleted or damaged ------------------------------------------------


def _damage(index_dir: Path, how: str, in_place: bool = False) -> None:
    """Delete the index directory, point CURRENT at garbage, or replace its files by garbage.

    Files are replaced (a new inode), not truncated in place: whoosh memory-maps segment
    files, and truncating a mapped file kills the reading process with SIGBUS (see
    docs/security.md); in-place damage is tested only while no process has the index open.
    """
    if how == "deleted":
        shutil.rmtree(index_dir)
        return
    if how == "current pointer garbage":
        (index_dir / "CURRENT").write_text("../../etc\n")
        return
    live = index_dir / (index_dir / "CURRENT").read_text().strip()
    for path in live.iterdir():
        if path.is_file():
            spare = path if in_place else path.with_name(path.name + ".garbage")
            spare.write_bytes(b"\x00garbage" * 16)
            os.replace(spare, path)


def _text(response) -> str:
    """A page's HTML without the <mark> tags of search highlights."""
    return re.sub(r"</?mark>", "", response.get_data(as_text=True))


def _answers(client, query: str, expected: str) -> None:
    """The search page and the API answer 200 and both find `expected`."""
    page = client.get(f"/search?q={query}")
    assert page.status_code == 200
    assert expected in _text(page)
    api = client.get(f"/api/v1/entities?q={query}")
    assert api.status_code == 200
    assert expected in [item["name"] for item in api.get_json()["items"]]


@pytest.mark.parametrize("how", ["deleted", "files replaced by garbage", "current pointer garbage"])
def test_a_lost_index_is_rebuilt_while_the_app_runs_and_on_start(app, db, tmp_path, how):
    """Searches keep answering and finding data after the index goes, and after a restart."""
    with db.writing() as session:
        agency = make_agency(session)
        entity = make_entity(session, name="Northwind Traders Ltd")
        make_record(session, agency, entity, title="Cookies set without consent")
    node = _node(app, tmp_path / "node")
    try:
        client = node.test_client()
        _answers(client, "northwind", "Northwind Traders Ltd")
        _damage(tmp_path / "node" / "index", how)
        _answers(client, "northwind", "Northwind Traders Ltd")
        records = client.get("/search?type=record&q=cookies")
        assert "Cookies set without consent" in _text(records)
    finally:
        _close(node)
    _damage(tmp_path / "node" / "index", how, in_place=True)  # no process has it open
    restarted = _node(app, tmp_path / "node")
    try:
        _answers(restarted.test_client(), "northwind", "Northwind Traders Ltd")
    finally:
        _close(restarted)


def test_a_long_rebuild_runs_in_the_background_while_pages_answer(app, db, tmp_path, monkeypatch):
    """Far behind the log, the index rebuilds in a thread; searches answer meanwhile."""
    import portal.services.search.index as search_index

    with db.writing() as session:
        make_entity(session, name="Contoso Pharmaceuticals Ltd")
    release = threading.Event()
    real_documents = search_index.all_documents

    def slow_documents(session):
        """The real documents, once the test lets the rebuild go on."""
        release.wait(30)
        yield from real_documents(session)

    monkeypatch.setattr(search_index, "REBUILD_GAP", 0)
    monkeypatch.setattr(search_index, "all_documents", slow_documents)
    node = _node(app, tmp_path / "node")
    try:
        client = node.test_client()
        page = client.get("/search?q=contoso")
        assert page.status_code == 200
        assert "being brought up to date" in page.get_data(as_text=True)
        assert client.get("/api/v1/entities?q=contoso").status_code == 200
        assert client.get("/entities/contoso-pharmaceuticals-ltd").status_code == 200
        index = node.extensions["portal.search"]
        assert index.rebuilding
        release.set()
        index._rebuilding.join(30)
        monkeypatch.setattr(search_index, "REBUILD_GAP", 50_000)
        _answers(client, "contoso", "Contoso Pharmaceuticals Ltd")
    finally:
        release.set()
        _close(node)


def test_a_background_rebuild_with_worker_processes_finds_everything(
    app, db, tmp_path, monkeypatch
):
    """A lost whoosh index rebuilt in a request's background thread by spawned workers.

    Large registers (50,000+ documents) are indexed by worker processes; here two
    workers are asked for, so a small register takes the same path from the web app.
    """
    import portal.services.search.index as search_index
    import search.engines.whoosh.bulk as whoosh_bulk

    with db.writing() as session:
        agency = make_agency(session)
        for name in ("Fourth Coffee Ltd", "Tailspin Toys Ltd", "Wingtip Toys Ltd"):
            entity = make_entity(session, name=name)
            make_record(session, agency, entity, title=f"Allergens unlabelled at {name}")
    monkeypatch.setattr(search_index, "REBUILD_GAP", 0)
    monkeypatch.setattr(whoosh_bulk, "rebuild_workers", lambda _expected: 2)
    workers_used = []
    real_fill = whoosh_bulk._fill_in_workers

    def counted(ix, fields, expected, workers):
        workers_used.append(workers)
        return real_fill(ix, fields, expected, workers)

    monkeypatch.setattr(whoosh_bulk, "_fill_in_workers", counted)
    node = _node(app, tmp_path / "node", SEARCH_BACKEND="whoosh")
    try:
        client = node.test_client()
        assert client.get("/search?q=toys").status_code == 200
        index = node.extensions["portal.search"]
        if index._rebuilding is not None:
            index._rebuilding.join(120)
        monkeypatch.setattr(search_index, "REBUILD_GAP", 50_000)
        assert workers_used == [2]
        found = client.get("/api/v1/entities?q=toys").get_json()
        assert sorted(item["name"] for item in found["items"]) == [
            "Tailspin Toys Ltd",
            "Wingtip Toys Ltd",
        ]
        assert "Fourth Coffee" in _text(client.get("/search?type=record&q=allergens"))
    finally:
        _close(node)


def test_a_bulk_import_is_indexed_in_the_background_while_searches_answer(
    app, db, tmp_path, monkeypatch
):
    """Many new events (a bulk import): searches answer at once, the index catches up aside.

    The load test found both gunicorn workers replaying 30,000 events inside requests
    after a 10,000-record import: no response at all for 23 s.
    """
    import portal.services.search.index as search_index

    with db.writing() as session:
        make_entity(session, name="Woodgrove Bank Ltd")
    release = threading.Event()
    node = _node(app, tmp_path / "node")
    try:
        client = node.test_client()
        _answers(client, "woodgrove", "Woodgrove Bank Ltd")
        with db.writing() as session:
            for i in range(3):
                make_entity(session, name=f"Litware {i} Ltd")
        real_changes = search_index.changes_after

        def slow_changes(session, seq, *args):
            """The real changes, once the test lets the catch-up go on."""
            release.wait(30)
            return real_changes(session, seq, *args)

        monkeypatch.setattr(search_index, "CATCH_UP_INLINE", 2, raising=False)
        monkeypatch.setattr(search_index, "changes_after", slow_changes)
        started = time.monotonic()
        page = client.get("/search?q=litware")
        assert time.monotonic() - started < 10
        assert page.status_code == 200
        assert "being brought up to date" in page.get_data(as_text=True)
        _answers(client, "woodgrove", "Woodgrove Bank Ltd")
        index = node.extensions["portal.search"]
        assert index.rebuilding
        release.set()
        index._rebuilding.join(30)
        found = client.get("/api/v1/entities?q=litware").get_json()
        assert found["total"] == 3
    finally:
        release.set()
        _close(node)


def test_a_bulk_import_committing_mid_request_is_not_replayed_inside_it(
    app, db, tmp_path, monkeypatch
):
    """The head read just before a bulk import commits: the request applies one short batch
    and leaves the rest to the background (the load test saw a 37 s search here)."""
    import portal.services.search.index as search_index

    with db.writing() as session:
        make_entity(session, name="Proseware Ltd")
    release = threading.Event()
    node = _node(app, tmp_path / "node")
    try:
        client = node.test_client()
        _answers(client, "proseware", "Proseware Ltd")
        index = node.extensions["portal.search"]
        stale_head = index.backend.last_seq() + 1  # what the request saw before the commit
        with db.writing() as session:
            for i in range(6):
                make_entity(session, name=f"Fabrikam {i} Ltd")
        real_head, real_changes = search_index.head_seq, search_index.changes_after
        heads = iter([stale_head])
        inline: list[int] = []

        def head_before_the_commit(session):
            """The head as it was a moment before the commit, once; then the real one."""
            return next(heads, None) or real_head(session)

        def changes(session, seq, limit=5000):
            """The real changes; the background thread waits for the test."""
            if threading.current_thread() is threading.main_thread():
                inline.append(limit)
            else:
                release.wait(30)
            return real_changes(session, seq, limit)

        monkeypatch.setattr(search_index, "CATCH_UP_INLINE", 2, raising=False)
        monkeypatch.setattr(search_index, "head_seq", head_before_the_commit)
        monkeypatch.setattr(search_index, "changes_after", changes)
        page = client.get("/search?q=fabrikam")
        assert page.status_code == 200
        assert inline == [2]  # one batch of at most CATCH_UP_INLINE events, no more
        assert index.rebuilding
        release.set()
        index._rebuilding.join(30)
        assert client.get("/api/v1/entities?q=fabrikam").get_json()["total"] == 6
    finally:
        release.set()
        _close(node)


# -- 3. the database unavailable -----------------------------------------------------------


class TcpProxy:
    """A tiny threaded TCP proxy to a server that the test can stop and start again."""

    def __init__(self, target: tuple[str, int]) -> None:
        """Proxy to `target` from a free port on 127.0.0.1 (not listening yet)."""
        self.target = target
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._listener: socket.socket | None = None
        self._links: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        """Listen and forward every connection (again, after a stop)."""
        if self._listener is not None:
            return
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        """Stop listening and cut every open connection, as a network failure would."""
        if self._listener is not None:
            with suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            links, self._links = self._links, []
        for sock in links:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        """Accept clients until the listener closes."""
        while True:
            try:
                client, _addr = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._links += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        """Copy bytes one way until either side closes."""
        with suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


def _seed_with_token(db: Database) -> dict[str, str]:
    """An agency, an entity, a regulator, and that regulator's bearer token header."""
    with db.writing() as session:
        make_agency(session)
        make_entity(session)
        make_user(session, "reg@ico.example", "regulator", agency="ico")
        token = create_token(session, OPERATOR, user_by_email(session, "reg@ico.example"))
    return {"Authorization": f"Bearer {token}"}


NEW_RECORD = {
    "entity_slug": "acme-widgets-ltd",
    "category": "data_protection",
    "severity": "minor",
    "title": "Published after the outage",
    "decided_on": "2024-01-10",
}


def _hold_sqlite(path: str, exclusive: bool) -> subprocess.Popen:
    """Another process holding the SQLite database's write (or every) lock until stdin closes."""
    pragma = "c.execute('PRAGMA locking_mode=EXCLUSIVE'); " if exclusive else ""
    begin = "EXCLUSIVE" if exclusive else "IMMEDIATE"
    code = (
        "import sqlite3, sys; "
        f"c = sqlite3.connect({path!r}, isolation_level=None, timeout=10); {pragma}"
        f"c.execute('BEGIN {begin}'); c.execute('SELECT count(*) FROM entity').fetchone(); "
        "print('held', flush=True); sys.stdin.read()"
    )
    proc = subprocess.Popen(  # noqa: S603 - a fixed snippet
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def _release(proc: subprocess.Popen) -> None:
    """Let a lock-holding process finish."""
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.close()
    proc.wait(timeout=10)
    proc.stdout.close()


class Outage:
    """An app whose database the test takes away and brings back, on either engine.

    PostgreSQL: the app connects through a TcpProxy that is stopped (every connection
    cut, new ones refused) and started again. SQLite: another process holds the file
    with an exclusive lock, so no new connection can open it; that lock needs the app's
    pooled connections closed first (as after a worker restart or a recycled pool).
    """

    def __init__(self, app, db: Database, data_dir: Path) -> None:
        """Seed the register and build the app (behind a proxy on PostgreSQL)."""
        self.db, self.headers = db, _seed_with_token(db)
        self.proxy: TcpProxy | None = None
        self._holder: subprocess.Popen | None = None
        self.node = _node(app, data_dir, SEARCH_INDEX="memory", SQLITE_BUSY_TIMEOUT_MS=200)
        if ON_POSTGRES:
            url = make_url(app.config["DATABASE_URL"])
            self.proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
            self.proxy.start()
            proxied = url.set(host="127.0.0.1", port=self.proxy.port)
            self.node.extensions["portal.db"].dispose()
            self.node.extensions["portal.db"] = Database(proxied.render_as_string(False))
            self.node.extensions["portal.search"].db = self.node.extensions["portal.db"]

    def down(self) -> None:
        """Take the database away."""
        if self.proxy is not None:
            self.proxy.stop()
            return
        self.node.extensions["portal.db"].dispose()
        self.db.dispose()
        self._holder = _hold_sqlite(make_url(self.db.url).database or "", exclusive=True)

    def up(self) -> None:
        """Bring the database back."""
        if self.proxy is not None:
            self.proxy.start()
        elif self._holder is not None:
            _release(self._holder)
            self._holder = None

    def close(self) -> None:
        """Bring everything back and release the app."""
        self.up()
        if self.proxy is not None:
            self.proxy.stop()
        _close(self.node)


@pytest.fixture
def outage(app, db, tmp_path) -> Iterator[Outage]:
    """An app whose database can be taken away (see Outage)."""
    made = Outage(app, db, tmp_path / "node")
    try:
        yield made
    finally:
        made.close()


def test_the_database_away_gives_503_and_the_app_recovers_without_restart(outage, monkeypatch):
    """503 page for people and 503 JSON for the API while away; 200 again once it is back.

    A JSON search within HEAD_CHECK_S of a check that found the index current needs no
    database and may answer from the index; with the window at 0 every search asks.
    """
    monkeypatch.setattr("portal.services.search.index.HEAD_CHECK_S", 0.0)
    client = outage.node.test_client()
    assert client.get("/entities/acme-widgets-ltd").status_code == 200
    assert client.get("/api/v1/entities?q=acme").get_json()["total"] == 1
    outage.down()  # a blip while nobody asks: the pooled connections died meanwhile
    outage.up()
    assert client.get("/entities/acme-widgets-ltd").status_code == 200
    outage.down()
    page = client.get("/entities/acme-widgets-ltd")
    assert page.status_code == 503
    assert "text/html" in page.content_type
    assert "database is unavailable" in page.get_data(as_text=True)
    assert client.get("/search?q=acme").status_code == 503
    for path in ("/api/v1/entities/acme-widgets-ltd", "/api/v1/entities?q=acme"):
        api = client.get(path)
        assert api.status_code == 503
        assert api.get_json()["error"]["code"] == "unavailable"
    write = client.post("/api/v1/records", json=NEW_RECORD, headers=outage.headers)
    assert write.status_code == 503
    assert write.get_json()["error"]["code"] == "unavailable"
    outage.up()
    assert client.get("/entities/acme-widgets-ltd").status_code == 200
    assert client.get("/api/v1/entities?q=acme").get_json()["total"] == 1
    write = client.post("/api/v1/records", json=NEW_RECORD, headers=outage.headers)
    assert write.status_code == 201


def test_a_signed_in_visitor_gets_the_503_page_too(outage):
    """With a session cookie the outage is still a 503 page, and the session survives it."""
    browser = outage.node.test_client()
    assert sign_in(browser, "reg@ico.example").status_code == 302
    outage.down()
    assert browser.get("/entities/acme-widgets-ltd").status_code == 503
    outage.up()
    assert browser.get("/workspace/agency").status_code == 200


@sqlite_only
def test_sqlite_writes_locked_past_the_busy_timeout_get_503_and_recover(app, db, tmp_path):
    """Another process holding the write lock: writes get 503 after the busy timeout while
    reads go on (WAL); once it lets go, the same app writes again."""
    headers = _seed_with_token(db)
    node = _node(app, tmp_path / "node", SEARCH_INDEX="memory", SQLITE_BUSY_TIMEOUT_MS=200)
    try:
        client = node.test_client()
        writer = _hold_sqlite(make_url(db.url).database or "", exclusive=False)
        try:
            assert client.get("/entities/acme-widgets-ltd").status_code == 200
            assert client.get("/api/v1/entities?q=acme").status_code == 200
            write = client.post("/api/v1/records", json=NEW_RECORD, headers=headers)
            assert write.status_code == 503
            assert write.get_json()["error"]["code"] == "unavailable"
        finally:
            _release(writer)
        assert client.post("/api/v1/records", json=NEW_RECORD, headers=headers).status_code == 201
    finally:
        _close(node)


# -- 4. a full disk ------------------------------------------------------------------------


class SmallDisk:
    """A tmpfs of a few MB that the test fills and frees."""

    def __init__(self, root: Path) -> None:
        """Use the mounted directory `root`."""
        self.root = root
        self.ballast = root / "ballast"

    def fill(self, leave: int = 0) -> None:
        """Write ballast until the disk is full, then give back `leave` bytes."""
        with self.ballast.open("ab") as handle:
            try:
                while True:
                    handle.write(b"\0" * 65536)
                    handle.flush()
            except OSError:
                pass
        size = self.ballast.stat().st_size
        os.truncate(self.ballast, max(0, size - leave))

    def free(self) -> None:
        """Remove the ballast."""
        self.ballast.unlink(missing_ok=True)


@pytest.fixture
def small_disk(tmp_path) -> Iterator[SmallDisk]:
    """A 6 MB tmpfs (root only; skipped with the reason elsewhere)."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    done = subprocess.run(  # noqa: S603, S607 - fixed arguments
        ["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"a full disk is tested on a tmpfs, which needs root: {done.stderr.strip()}")
    try:
        yield SmallDisk(mount)
    finally:
        unmounted = subprocess.run(["umount", str(mount)], capture_output=True, check=False)  # noqa: S603, S607
        if unmounted.returncode != 0:
            subprocess.run(["umount", "-l", str(mount)], check=False)  # noqa: S603, S607


def test_a_full_disk_during_an_index_write_keeps_search_answering(
    app, db, small_disk, caplog, monkeypatch
):
    """ENOSPC while indexing: searches answer from the last good index, then catch up."""
    import portal.services.search.index as search_index

    monkeypatch.setattr(search_index, "STALE_RETRY_S", 0.0, raising=False)
    with db.writing() as session:
        make_entity(session, name="Fabrikam Holdings Ltd")
    node = _node(app, small_disk.root / "data")
    try:
        client = node.test_client()
        _answers(client, "fabrikam", "Fabrikam Holdings Ltd")
        small_disk.fill()
        with db.writing() as session:
            make_entity(session, name="Tailspin Toys Ltd")
        page = client.get("/search?q=tailspin")
        assert page.status_code == 200
        assert "being brought up to date" in page.get_data(as_text=True)
        assert client.get("/api/v1/entities?q=tailspin").get_json()["total"] == 0
        _answers(client, "fabrikam", "Fabrikam Holdings Ltd")
        assert "No space left on device" in caplog.text
        assert "could not be updated" in caplog.text
        small_disk.free()
        _answers(client, "tailspin", "Tailspin Toys Ltd")
        _answers(client, "fabrikam", "Fabrikam Holdings Ltd")
    finally:
        _close(node)


def _cached_files(root: Path) -> list[Path]:
    """Every file under the report cache."""
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _pdf_ok(data: bytes) -> bool:
    """True when `data` is a whole PDF that pypdf can read."""
    return (
        data.startswith(b"%PDF-")
        and data.rstrip().endswith(b"%%EOF")
        and bool(PdfReader(io.BytesIO(data)).pages)
    )


def test_a_full_disk_during_a_pdf_write_serves_a_whole_report_and_caches_no_half(
    app, db, small_disk, caplog
):
    """ENOSPC mid-write: the report is still sent whole, no partial file is kept or served."""
    with db.writing() as session:
        agency = make_agency(session)
        entity = make_entity(session)
        for i in range(3):
            make_record(session, agency, entity, title=f"Finding {i}")
    node = _node(app, small_disk.root / "data", PUBLIC_URL="https://register.example")
    cache = small_disk.root / "data" / "reports"
    try:
        client = node.test_client()
        small_disk.fill(leave=12 * 1024)  # less than a report: the write stops half-way
        first = client.get("/entities/acme-widgets-ltd/report.pdf")
        assert first.status_code == 200
        assert _pdf_ok(first.data)
        assert hashlib.sha256(first.data).hexdigest() == first.headers["ETag"].strip('"')
        assert "could not cache report" in caplog.text and "No space left" in caplog.text
        assert _cached_files(cache) == []  # no partial PDF, no pointer, no temporary file
        small_disk.free()
        second = client.get("/entities/acme-widgets-ltd/report.pdf")
        assert second.status_code == 200 and _pdf_ok(second.data)
        files = {p.suffix: p for p in _cached_files(cache)}
        assert sorted(files) == [".json", ".pdf"]
        assert files[".pdf"].read_bytes() == second.data
        third = client.get("/entities/acme-widgets-ltd/report.pdf")
        assert third.headers["X-Report-Id"] == second.headers["X-Report-Id"]
        assert third.data == second.data
    finally:
        _close(node)


def test_a_full_disk_under_portal_report_is_one_clear_error_and_no_file(app, db, small_disk):
    """`portal report -o` onto a full disk exits 1 with one line and leaves no file behind."""
    with db.writing() as session:
        agency = make_agency(session)
        make_record(session, agency, make_entity(session))
    small_disk.fill(leave=8 * 1024)
    target = small_disk.root / "acme.pdf"
    command = [sys.executable, "-m", "portal", "report", "acme-widgets-ltd", "-o", str(target)]
    command += ["--base-url", "https://register.example"]
    done = subprocess.run(  # noqa: S603 - our own CLI
        command, cwd=ROOT, env=_cli_env(app), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "No space left on device" in lines[0], done.stderr
    assert "Traceback" not in done.stderr
    assert sorted(p.name for p in small_disk.root.iterdir()) == ["ballast"]


# -- 5. two processes publishing at once ---------------------------------------------------

EACH = 12


def _publisher(url: str, worker: int, start: object, errors: object) -> None:
    """Create drafts, wait for the other process, then publish them one transaction each."""
    from portal.db import Database
    from portal.models import Agency, Entity
    from portal.services.records import publish_record, record_by_ref

    db = Database(url)
    try:
        refs = []
        with db.writing() as session:
            agency = session.exec(select(Agency)).one()
            entity = session.exec(select(Entity)).one()
            for i in range(EACH):
                title = f"Worker {worker} finding {i}"
                refs.append(make_record(session, agency, entity, publish=False, title=title).ref)
        start.wait(60)  # type: ignore[attr-defined]
        for ref in refs:
            with db.writing() as session:
                publish_record(session, OPERATOR, record_by_ref(session, ref))
    except Exception as exc:
        errors.put(f"worker {worker}: {type(exc).__name__}: {exc}")  # type: ignore[attr-defined]
        raise
    finally:
        db.dispose()


def test_two_processes_publishing_at_once_keep_one_valid_chain(app, db):
    """Both publishers succeed; refs are unique and the hash chain has no gap or fork."""
    with db.writing() as session:
        make_record(session, make_agency(session), make_entity(session))
    context = multiprocessing.get_context("spawn")
    start, errors = context.Barrier(2), context.Queue()
    url = app.config["DATABASE_URL"]
    workers = [context.Process(target=_publisher, args=(url, w, start, errors)) for w in range(2)]
    for proc in workers:
        proc.start()
    for proc in workers:
        proc.join(120)
    problems = []
    while not errors.empty():
        problems.append(errors.get())
    assert [p.exitcode for p in workers] == [0, 0], problems
    with db.session() as session:
        records = session.exec(select(Record.ref, Record.status)).all()
        published_events = session.exec(
            select(func.count()).where(AuditEvent.action == "record.published")
        ).one()
        report = verify_chain(session)
    assert len(records) == 1 + 2 * EACH
    assert len({ref for ref, _status in records}) == len(records)
    assert {status for _ref, status in records} == {RecordStatus.PUBLISHED}
    assert published_events == 1 + 2 * EACH
    assert report.ok, report.reason
    assert report.events == report.head_seq
