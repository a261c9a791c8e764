"""Settings: defaults here, overridden by PORTAL_* environment variables or a dict in tests."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, Any] = {
    "DATA_DIR": "instance",
    "DATABASE_URL": None,
    "SECRET_KEY": None,
    "SEARCH_BACKEND": "whoosh",
    "SEARCH_INDEX": "disk",
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,
    "SQLITE_BUSY_TIMEOUT_MS": 5000,
    "PUBLIC_URL": None,
    "REPORT_TIMEOUT_S": 60,
    "REPORT_MEMORY_MB": 1024,
    "REPORT_MAX_RECORDS": 1000,
    "REPORT_UPLOAD_MAX_BYTES": 8 * 1024 * 1024,
    "RATELIMIT_STORAGE": None,
    "API_READ_LIMIT": "300 per minute",
    "API_WRITE_LIMIT": "120 per minute",
    # Screening batches (POST /api/v1/match, up to 500 names each) per address.
    "API_MATCH_LIMIT": "30 per minute",
    # Lists uploaded to /screen (up to 10,000 names each) per address.
    "SCREEN_LIMIT": "20 per hour",
    "EXPORT_LIMIT": "60 per minute",
    "SMTP_HOST": None,
    "SMTP_PORT": 25,
    "SMTP_FROM": "register@localhost",
    # Reverse proxies in front that set X-Forwarded-For/-Proto/-Host (0: none, trust nothing).
    "TRUSTED_PROXIES": 0,
}

# Environment values arrive as strings; these keys are converted.
_INT_KEYS = {
    "MAX_CONTENT_LENGTH",
    "PERMANENT_SESSION_LIFETIME",
    "SQLITE_BUSY_TIMEOUT_MS",
    "SMTP_PORT",
    "TRUSTED_PROXIES",
}
_BOOL_KEYS = {"SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY"}


def _convert(key: str, value: str) -> Any:
    """Turn one environment string into the type its setting expects."""
    if key in _INT_KEYS:
        return int(value)
    if key in _BOOL_KEYS:
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return value


def load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Merge defaults, PORTAL_* environment variables, DATABASE_URL and overrides."""
    config = dict(DEFAULTS)
    for key in DEFAULTS:
        env_value = os.environ.get(f"PORTAL_{key}")
        if env_value is not None:
            config[key] = _convert(key, env_value)
    if os.environ.get("DATABASE_URL"):
        config["DATABASE_URL"] = os.environ["DATABASE_URL"]
    config.update(overrides or {})
    data_dir = Path(config["DATA_DIR"])
    if not data_dir.is_absolute():
        data_dir = Path.cwd() / data_dir
    config["DATA_DIR"] = str(data_dir)
    if not config["DATABASE_URL"]:
        config["DATABASE_URL"] = f"sqlite:///{data_dir / 'portal.sqlite3'}"
    return config


def local_secret_key(data_dir: str) -> str | None:
    """Return the secret kept in the data directory by `portal demo`, if any."""
    path = Path(data_dir) / "secret_key"
    return path.read_text().strip() if path.exists() else None
