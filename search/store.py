"""The index directory: file locks, the single writer, generations swapped by `CURRENT`.

Engine-free: both engines keep their generations on disk the same way.
"""

from __future__ import annotations

import fcntl
import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

LOCK_TIMEOUT = 120.0
_GEN_NAME = re.compile(r"gen-[0-9a-f]+-[0-9a-f]+")


@contextmanager
def file_lock(path: Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold an exclusive flock on `path`, waiting up to `timeout` seconds."""
    with open(path, "a+b") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"search index busy: {path} held > {timeout}s") from None
                time.sleep(0.02)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class SingleWriter:
    """Be the only writer of an index: a thread lock and, on disk, `.write.lock`.

    Re-entrant: `with writing():` inside another takes neither lock again. Take it
    before an engine's reading lock, never after.
    """

    def __init__(self, root: Path | None) -> None:
        """Guard the index whose generations live in `root` (None: in memory)."""
        self._root = root
        self._lock = threading.RLock()
        self._depth = 0

    @contextmanager
    def __call__(self) -> Iterator[None]:
        """Hold the write locks for the block."""
        with self._lock:
            self._depth += 1
            try:
                if self._root is not None and self._depth == 1:
                    with file_lock(self._root / ".write.lock"):
                        yield
                else:
                    yield
            finally:
                self._depth -= 1


class Generations:
    """The folders of a directory backend: `CURRENT` names the live `gen-*` one."""

    def __init__(self, root: Path) -> None:
        """Remember (and create) the backend directory."""
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def current(self) -> str | None:
        """The live generation's folder name, or None when there is none (or garbage)."""
        with suppress(OSError, UnicodeDecodeError):
            name = (self.root / "CURRENT").read_text().strip()
            if _GEN_NAME.fullmatch(name) and (self.root / name).is_dir():
                return name
        return None

    def create(self) -> str:
        """Make an empty folder for a new generation and return its name."""
        name = f"gen-{time.time_ns():x}-{secrets.token_hex(4)}"
        (self.root / name).mkdir()
        return name

    def publish(self, name: str) -> None:
        """Point CURRENT at `name` in one atomic rename, flushed to disk."""
        tmp = self.root / f"CURRENT.{secrets.token_hex(4)}"
        with open(tmp, "w") as handle:
            handle.write(name + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.root / "CURRENT")
        fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def remove(self, keep: str, only: str | None = None) -> None:
        """Delete generation folders other than `keep` (just `only`, when given)."""
        for path in self.root.glob("gen-*"):
            if path.name != keep and only in (None, path.name):
                shutil.rmtree(path, ignore_errors=True)
