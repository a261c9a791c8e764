"""Fixtures for the engine-independent search suite.

Every test runs once per engine of `search.ENGINES`: `backend` is an index in
memory, `disk_backend` one on disk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from search import ENGINES
from search.base import SearchBackend

Opener = Callable[[Path | None], SearchBackend]


@pytest.fixture(params=sorted(ENGINES))
def opener(request: pytest.FixtureRequest) -> Opener:
    """How to open one engine on a directory (or in memory)."""
    return ENGINES[request.param]


@pytest.fixture
def backend(opener: Opener) -> Iterator[SearchBackend]:
    """An empty in-memory index of one engine."""
    engine = opener(None)
    yield engine
    engine.close()


@pytest.fixture
def disk_backend(opener: Opener, tmp_path: Path) -> Iterator[SearchBackend]:
    """An empty on-disk index of one engine, in `tmp_path / "index"`."""
    engine = opener(tmp_path / "index")
    yield engine
    engine.close()
