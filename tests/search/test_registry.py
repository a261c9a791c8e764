"""The engine registry: every engine by name, opened lazily, an unknown name refused."""

from __future__ import annotations

import subprocess
import sys

import pytest

from search import ENGINES, open_engine


def test_every_engine_is_registered():
    assert sorted(ENGINES) == ["tantivy", "whoosh"]


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_open_engine_opens_the_named_engine_empty(name):
    engine = open_engine(name, None)
    assert (engine.last_seq(), engine.count()) == (0, 0)
    engine.close()


def test_an_unknown_engine_is_refused_naming_the_setting():
    with pytest.raises(ValueError, match=r"unknown search backend 'x' \(PORTAL_SEARCH_BACKEND\)"):
        open_engine("x", None)


def test_importing_search_imports_no_engine():
    code = "import sys, search; print(sorted({'whoosh', 'tantivy'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
