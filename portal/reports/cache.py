"""Generated reports kept on disk under <DATA_DIR>/reports/, written atomically.

One folder per subject, variant and verify address; in it, each entry is a PDF
named after its report id and a small JSON pointer `<day>-s<seq>.json` naming
that PDF, its hash and its report id. The PDF is written first (temporary file,
fsync, os.replace), the pointer last, so a pointer only ever names a complete
file: a full disk or a crash leaves at worst an orphaned temporary file, never a
half-written report that is served later.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

log = logging.getLogger(__name__)
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class CacheKey:
    """What a cached report depends on: its subject, the change-log seq and the day."""

    subject: str
    seq: int
    day: date
    variant: str
    base_url: str

    @property
    def folder(self) -> str:
        """The folder of this subject, variant and verify address."""
        safe = _UNSAFE.sub("_", self.subject)[:80]
        address = hashlib.sha256(self.base_url.encode()).hexdigest()[:12]
        return f"{safe}/{self.variant}-{address}"

    @property
    def stem(self) -> str:
        """The name shared by this key's files."""
        return f"{self.day.isoformat()}-s{self.seq}"


@dataclass(frozen=True)
class CachedReport:
    """A report on disk with the id and hash it was issued under."""

    path: Path
    report_id: str
    sha256: str


def write_atomically(path: Path, data: bytes) -> None:
    """Write a file so that readers see either nothing or all of it."""
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-", delete=False) as tmp:
        try:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        except BaseException:
            os.unlink(tmp.name)
            raise
    try:
        os.replace(tmp.name, path)
    except BaseException:
        os.unlink(tmp.name)
        raise


class ReportCache:
    """Reports by key in one directory tree."""

    def __init__(self, root: Path | str) -> None:
        """Use `root` (created on the first write)."""
        self.root = Path(root)

    def get(self, key: CacheKey) -> CachedReport | None:
        """The cached report for a key, or None."""
        pointer = self.root / key.folder / f"{key.stem}.json"
        try:
            meta = json.loads(pointer.read_text())
        except (OSError, ValueError):
            return None
        path = pointer.parent / meta["file"]
        return CachedReport(path, meta["report_id"], meta["sha256"]) if path.is_file() else None

    def put(self, key: CacheKey, report_id: str, pdf: bytes, sha256: str) -> CachedReport | None:
        """Store a report; on a disk error log it and return None (the caller still serves it)."""
        folder = self.root / key.folder
        name = f"{key.stem}.{report_id}.pdf"
        meta = {"file": name, "report_id": report_id, "sha256": sha256, "seq": key.seq}
        try:
            folder.mkdir(parents=True, exist_ok=True)
            write_atomically(folder / name, pdf)
            write_atomically(folder / f"{key.stem}.json", json.dumps(meta).encode())
        except OSError as exc:
            log.warning("could not cache report %s: %s", report_id, exc)
            return None
        self._prune(folder, key.stem)
        return CachedReport(folder / name, report_id, sha256)

    def _prune(self, folder: Path, keep: str) -> None:
        """Remove this folder's entries for older days or seqs."""
        for path in folder.iterdir():
            if not path.name.startswith((keep + ".", ".tmp-")):
                path.unlink(missing_ok=True)
