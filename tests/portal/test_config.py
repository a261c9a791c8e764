"""Configuration: environment overrides, and no serving with a default secret."""

from __future__ import annotations

import pytest

from portal import create_app
from portal.app import require_secret_key
from portal.config import load_config
from portal.errors import ConfigError


def test_environment_overrides_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_DATA_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("PORTAL_MAX_CONTENT_LENGTH", "1024")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    config = load_config()
    assert config["DATA_DIR"] == str(tmp_path / "elsewhere")
    assert config["MAX_CONTENT_LENGTH"] == 1024
    assert config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'elsewhere' / 'portal.sqlite3'}"


def test_postgres_urls_use_psycopg3(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@localhost/x")
    from portal.db import normalise_url

    assert normalise_url(load_config()["DATABASE_URL"]).startswith("postgresql+psycopg://")


def test_serving_without_a_secret_key_is_refused(monkeypatch, tmp_path):
    monkeypatch.delenv("PORTAL_SECRET_KEY", raising=False)
    app = create_app({"DATA_DIR": str(tmp_path), "DATABASE_URL": "sqlite://"})
    with pytest.raises(ConfigError, match="PORTAL_SECRET_KEY is not set"):
        require_secret_key(app)


def test_the_local_demo_secret_is_kept_in_the_data_directory(monkeypatch, tmp_path):
    monkeypatch.delenv("PORTAL_SECRET_KEY", raising=False)
    (tmp_path / "secret_key").write_text("local-only-secret\n")
    app = create_app({"DATA_DIR": str(tmp_path), "DATABASE_URL": "sqlite://"})
    require_secret_key(app)
    assert app.config["SECRET_KEY"] == "local-only-secret"


def test_behind_a_trusted_proxy_the_forwarded_scheme_and_address_count(tmp_path):
    """PORTAL_TRUSTED_PROXIES=1: HSTS over the proxy's HTTPS; without it the header is ignored."""
    from portal import create_app

    def hsts(proxies: int) -> str | None:
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "test",
                "DATA_DIR": str(tmp_path),
                "DATABASE_URL": f"sqlite:///{tmp_path}/proxy-{proxies}.sqlite3",
                "SEARCH_INDEX": "memory",
                "TRUSTED_PROXIES": proxies,
            }
        )
        from portal.migrate import upgrade

        upgrade(app.extensions["portal.db"])
        headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
        response = app.test_client().get("/methodology/", headers=headers)
        app.extensions["portal.db"].dispose()
        return response.headers.get("Strict-Transport-Security")

    assert hsts(0) is None
    assert hsts(1) and "max-age=" in hsts(1)
