"""The dependency direction of DESIGN.md §2, enforced."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WEB_AND_DB = {"flask", "sqlalchemy", "sqlmodel", "werkzeug", "whoosh", "portal", "alembic"}


def _imports(path: Path) -> set[str]:
    """Top-level package names a module imports."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_scoring_imports_no_web_database_or_search_code():
    for path in (ROOT / "scoring").rglob("*.py"):
        assert not _imports(path) & (WEB_AND_DB | {"search"}), path


def test_search_imports_no_portal_or_web_code():
    for path in (ROOT / "search").rglob("*.py"):
        assert not _imports(path) & {"flask", "portal", "sqlmodel", "sqlalchemy"}, path


@pytest.mark.parametrize("engine", ["whoosh", "tantivy"])
def test_at_most_one_search_module_imports_each_engine(engine):
    users = [p for p in (ROOT / "search").rglob("*.py") if engine in _imports(p)]
    assert len(users) <= 1, users


def test_views_do_not_write_to_the_database():
    for path in (ROOT / "portal" / "views").rglob("*.py"):
        source = path.read_text()
        assert "session.add(" not in source and ".writing()" not in source, path
