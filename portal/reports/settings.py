"""Report settings: read from the app config once, passed to the services as a value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Measured on a busy 2-core machine (benchmarks/bench_pdf.py): an entity report
# with 60 records is 16 pages, 2-4 s and 140 MB peak in its render child; 200
# records 35 pages, 9 s, 220 MB; 1,000 records (the cap) 142 pages, 36 s, 660 MB.
# The bounds let the largest report we allow finish and stop anything far beyond.
DEFAULTS: dict[str, Any] = {
    "PUBLIC_URL": None,
    "REPORT_TIMEOUT_S": 60.0,
    "REPORT_MEMORY_MB": 1024,
    "REPORT_MAX_RECORDS": 1000,
    "REPORT_UPLOAD_MAX_BYTES": 8 * 1024 * 1024,
}

VARIANTS = {"ua": "pdf/ua-1", "pdfa": "pdf/a-3b"}


@dataclass(frozen=True)
class ReportSettings:
    """Bounds and addresses for report rendering and verification."""

    public_url: str | None = None
    timeout_s: float = DEFAULTS["REPORT_TIMEOUT_S"]
    memory_mb: int = DEFAULTS["REPORT_MEMORY_MB"]
    max_records: int = DEFAULTS["REPORT_MAX_RECORDS"]
    upload_max_bytes: int = DEFAULTS["REPORT_UPLOAD_MAX_BYTES"]
    isolate: bool = True

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ReportSettings:
        """Settings from an app config, falling back to DEFAULTS for missing keys."""

        def get(key: str) -> Any:
            """One setting, or its default."""
            value = config.get(key)
            return DEFAULTS[key] if value is None else value

        return cls(
            public_url=get("PUBLIC_URL"),
            timeout_s=float(get("REPORT_TIMEOUT_S")),
            memory_mb=int(get("REPORT_MEMORY_MB")),
            max_records=int(get("REPORT_MAX_RECORDS")),
            upload_max_bytes=int(get("REPORT_UPLOAD_MAX_BYTES")),
        )
