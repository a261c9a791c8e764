"""Search of the register: engine-free rules in `search.*`, engines in `search.engines.*`.

`ENGINES` names every engine; each entry imports its engine only when called,
so importing `search` loads neither.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from search.base import SearchBackend


def _whoosh(directory: Path | None) -> SearchBackend:
    """The whoosh engine on `directory` (None: in memory)."""
    from search.engines.whoosh.backend import open_backend

    return open_backend(directory)


def _tantivy(directory: Path | None) -> SearchBackend:
    """The tantivy engine on `directory` (None: in memory)."""
    from search.engines.tantivy.backend import open_backend

    return open_backend(directory)


# Every engine, by the name PORTAL_SEARCH_BACKEND gives it.
ENGINES: dict[str, Callable[[Path | None], SearchBackend]] = {
    "whoosh": _whoosh,
    "tantivy": _tantivy,
}


def open_engine(name: str, directory: Path | None) -> SearchBackend:
    """The engine called `name` on `directory` (None: in memory); ValueError if unknown."""
    opener = ENGINES.get(name)
    if opener is None:
        raise ValueError(f"unknown search backend {name!r} (PORTAL_SEARCH_BACKEND)")
    return opener(directory)
