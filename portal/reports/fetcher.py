"""The only way weasyprint reaches a resource: our own static files, nothing else.

weasyprint 70 has no default_url_fetcher; its URLFetcher opens any file://,
http:// or data: URL and follows redirects (CVE-2025-68616). This subclass
answers only file:// URLs inside the project's static/ folder, never follows a
redirect, and keeps a list of every URL it was asked for so tests can prove
that nothing from the data was fetched.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse

from portal.config import ROOT

STATIC_DIR = (ROOT / "static").resolve()


class RefusedURL(ValueError):
    """The renderer asked for something outside our static files."""


class StaticFetcher(URLFetcher):
    """Serves files under static/ by file:// URL; refuses every other request."""

    def __init__(self, static_dir: Path = STATIC_DIR) -> None:
        """Allow only the file protocol, with redirects off."""
        super().__init__(allowed_protocols=("file",), allow_redirects=False, timeout=1)
        self.static_dir = static_dir.resolve()
        self.requested: list[str] = []
        self.refused: list[str] = []

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        """Return the static file a URL names, or raise RefusedURL."""
        self.requested.append(url)
        path = self.static_path(url)
        if path is None:
            self.refused.append(url)
            raise RefusedURL(f"report rendering may not fetch {url[:200]!r}")
        mime_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        headers_out = {"Content-Type": mime_type}
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), headers_out)

    def static_path(self, url: str) -> Path | None:
        """The existing file under static/ that a file:// URL names, or None."""
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            return None
        if parts.query or parts.fragment:
            return None
        path = Path(unquote(parts.path)).resolve()
        if not path.is_relative_to(self.static_dir) or not path.is_file():
            return None
        return path
