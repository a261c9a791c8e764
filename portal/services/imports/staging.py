"""Uploaded import files kept between the preview and the commit."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from portal.errors import NotFound, PortalError

_TOKEN = re.compile(r"^[0-9a-f]{32}$")


def _folder(data_dir: str) -> Path:
    """Where staged uploads live, inside the data directory."""
    return Path(data_dir) / "uploads"


def stage(data_dir: str, data: bytes, max_bytes: int) -> str:
    """Keep an uploaded file for its commit; return the token naming it."""
    if len(data) > max_bytes:
        raise PortalError(f"The file is larger than {max_bytes // 1_000_000} MB.", None)
    folder = _folder(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    partial = folder / f"{token}.partial"
    partial.write_bytes(data)
    partial.replace(folder / token)
    return token


def staged(data_dir: str, token: str) -> bytes:
    """The bytes of a staged upload; only a well-formed token names a file."""
    if not _TOKEN.match(token or ""):
        raise NotFound("No such upload.")
    path = _folder(data_dir) / token
    if not path.is_file():
        raise NotFound("The upload has expired; upload the file again.")
    return path.read_bytes()


def discard(data_dir: str, token: str) -> None:
    """Remove a staged upload once it has been imported."""
    if _TOKEN.match(token or ""):
        (_folder(data_dir) / token).unlink(missing_ok=True)
