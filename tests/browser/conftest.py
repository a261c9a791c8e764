"""Browser tests: Debian's Chromium driven by Playwright against a live server.

They skip, with the reason, where /usr/bin/chromium is missing; `.ci/run`
installs it, so CI always runs them.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import SQLModel
from werkzeug.serving import make_server

from portal import create_app
from portal.db import Database
from portal.demo import load_demo

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The portal with a small demo register, served on a free local port."""
    data_dir = tmp_path_factory.mktemp("browser-data")
    url = f"sqlite:///{data_dir / 'portal.sqlite3'}"
    db = Database(url)
    SQLModel.metadata.create_all(db.engine)
    load_demo(db, str(data_dir), entities=300, seed=21, progress=False)
    db.dispose()
    app = create_app(
        {
            "DATA_DIR": str(data_dir),
            "DATABASE_URL": url,
            "SECRET_KEY": "browser",
            "SESSION_COOKIE_SECURE": False,
        }
    )
    app.extensions["portal.search"].rebuild()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    app.extensions["portal.search"].close()
    app.extensions["portal.db"].dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """A headless Chromium, or a skip naming what is missing."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium; .ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    """A fresh page (its own context: no cookies shared between tests)."""
    context = browser.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def no_js_page(browser: object) -> Iterator[object]:
    """A page with JavaScript switched off."""
    context = browser.new_context(java_script_enabled=False)  # type: ignore[attr-defined]
    page = context.new_page()
    yield page
    context.close()
