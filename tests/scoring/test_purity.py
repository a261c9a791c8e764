"""scoring/ stays pure: standard library only, no web, database or search imports."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import scoring

FORBIDDEN = {
    "flask",
    "sqlalchemy",
    "sqlmodel",
    "whoosh",
    "werkzeug",
    "pydantic",
    "portal",
    "search",
}
PACKAGE = Path(scoring.__file__).parent
MODULES = sorted(PACKAGE.glob("*.py"))

IMPORT_ALL = """
import importlib, json, pkgutil, sys
import scoring
for module in pkgutil.iter_modules(scoring.__path__):
    importlib.import_module("scoring." + module.name)
print(json.dumps(sorted(sys.modules)))
"""


def imported_names(path: Path) -> set[str]:
    """Return the top-level names of every module imported by one source file."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_importing_scoring_loads_no_web_or_database_code() -> None:
    output = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL],
        capture_output=True,
        text=True,
        check=True,
        cwd=PACKAGE.parent,
    ).stdout
    loaded = {name.split(".")[0] for name in json.loads(output)}
    assert "scoring.engine" in json.loads(output)
    assert loaded & FORBIDDEN == set()


def test_scoring_imports_only_the_standard_library() -> None:
    assert len(MODULES) >= 5
    for path in MODULES:
        foreign = imported_names(path) - set(sys.stdlib_module_names) - {"scoring"}
        assert foreign == set(), f"{path.name} imports {sorted(foreign)}"


def test_every_function_has_a_docstring() -> None:
    for path in MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                assert ast.get_docstring(node), f"{path.name}:{node.lineno} {node.name}"
