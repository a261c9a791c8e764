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


# -- the search layer (issue #15) ---------------------------------------------------------
#
# Each engine library is imported by its own package only; everything else in `search/`
# is engine-free and asks for an engine through `search.ENGINES`.
ENGINE_HOMES = {"whoosh": "search/engines/whoosh/", "tantivy": "search/engines/tantivy/"}
# Tests and benchmarks may open an engine's files themselves, to check or measure it.
ENGINE_USERS_ALLOWED = ("tests/", "benchmarks/")
MAX_SEARCH_LINES = 450


def engine_violations(source: str, path: str) -> list[str]:
    """Imports of an engine library by a module outside that engine's package."""
    module = ".".join(Path(path).with_suffix("").parts)
    return [
        f"line {line}: imports {name} outside {ENGINE_HOMES[name.split('.')[0]]}"
        for line, name in imported_modules(ast.parse(source), module)
        if name.split(".")[0] in ENGINE_HOMES
        and not path.startswith(ENGINE_HOMES[name.split(".")[0]])
    ]


def too_long(source: str) -> list[str]:
    """A complaint when a search module is over MAX_SEARCH_LINES lines."""
    lines = len(source.splitlines())
    return [f"{lines} lines (at most {MAX_SEARCH_LINES})"] if lines > MAX_SEARCH_LINES else []


def test_only_each_engines_package_imports_it():
    problems = {
        _relative(p): found
        for p in _python_files()
        if not _relative(p).startswith(ENGINE_USERS_ALLOWED)
        and (found := engine_violations(p.read_text(), _relative(p)))
    }
    assert not problems


def test_no_search_module_is_over_450_lines():
    problems = {
        _relative(p): found for p in _python_files("search") if (found := too_long(p.read_text()))
    }
    assert not problems


@pytest.mark.parametrize(
    ("source", "path"),
    [
        ("import whoosh", "search/query.py"),
        ("from whoosh.query import Term", "search/plan.py"),
        ("def f():\n    import tantivy\n", "search/lifecycle.py"),
        ("from tantivy import Query", "search/engines/whoosh/view.py"),
        ("import whoosh.index", "search/engines/tantivy/run.py"),
        ("import importlib\nimportlib.import_module('tantivy')", "portal/services/search/index.py"),
        ("from whoosh import highlight", "search/engines/whoosh_extra.py"),
    ],
)
def test_the_engine_rule_fails_on_a_planted_violation(source, path):
    assert engine_violations(source, path)


def test_the_engine_rule_passes_an_engines_own_imports():
    assert engine_violations("from whoosh import query", "search/engines/whoosh/view.py") == []
    assert engine_violations("import tantivy", "search/engines/tantivy/schema.py") == []
    assert engine_violations("from search import ENGINES", "portal/services/search/index.py") == []


def test_the_length_rule_fails_on_a_planted_long_module():
    assert too_long("x = 1\n" * (MAX_SEARCH_LINES + 1))
    assert too_long("x = 1\n" * MAX_SEARCH_LINES) == []


# -- the portal's layers (issue #15) -------------------------------------------------------
#
# Each rule is a function over a module's source, so that a planted violation can show it
# fails; the tests below run each rule over the real tree and over planted bad sources.

# Services know nothing of requests: no web framework, and none of the modules that wire it.
NOT_IN_SERVICES = (
    "flask",
    "flask_login",
    "flask_limiter",
    "flask_wtf",
    "htmx_flask",
    "werkzeug",
    "portal.app",
    "portal.auth",
    "portal.http",
    "portal.views",
    "portal.wiring",
)
# Views ask services: no queries of their own, no engine, no app module.
NOT_IN_VIEWS = ("sqlalchemy", "sqlmodel", "search.engines", "whoosh", "tantivy", "portal.app")
# Where database writes may be written: services, and what sets up or checks a database.
WRITERS = (
    "portal/services/",
    "migrations/",
    "tests/",
    "benchmarks/",
)
_WRITE_STATEMENTS = {"insert", "update", "delete"}


def module_name(path: Path) -> str:
    """A file's dotted name under ROOT ("portal.views.__init__" for a package's own file)."""
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def imported_modules(tree: ast.AST, module: str) -> list[tuple[int, str]]:
    """(line, dotted name) of every module imported anywhere in the tree, functions included.

    `from a import b` counts both `a` and `a.b` (b may be a module); relative imports are
    resolved against `module`; `importlib.import_module("x")` and `__import__("x")` count too.
    """
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                # Relative to the file's package, one level up for each dot after the first.
                package = module.split(".")[: -node.level]
                base = ".".join([*package, *([base] if base else [])])
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
        elif (
            isinstance(node, ast.Call)
            and _called_name(node.func) in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def _called_name(func: ast.expr) -> str:
    """The last name of what is called: `f` for f(...), `g` for a.b.g(...)."""
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _is_under(name: str, prefixes: tuple[str, ...]) -> str | None:
    """The prefix that `name` is, or is a submodule of; None if none."""
    return next((p for p in prefixes if name == p or name.startswith(p + ".")), None)


def service_violations(source: str, module: str) -> list[str]:
    """What a service module imports that services must not (anywhere in the module)."""
    return [
        f"line {line}: imports {name}"
        for line, name in imported_modules(ast.parse(source), module)
        if _is_under(name, NOT_IN_SERVICES)
    ]


def view_violations(source: str, module: str) -> list[str]:
    """Imports of another view, a query library, an engine or the app; writing transactions."""
    tree = ast.parse(source)
    problems = []
    for line, name in imported_modules(tree, module):
        if _is_under(name, NOT_IN_VIEWS):
            problems.append(f"line {line}: imports {name}")
        elif name.startswith("portal.views.") and not _is_under(name, (module,)):
            # `from portal.views import x` names the package (no view) and portal.views.x.
            problems.append(f"line {line}: imports the view module {name}")
    problems += [
        f"line {node.lineno}: opens a writing transaction"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _called_name(node.func) == "writing"
    ]
    return problems


def database_writes(source: str) -> list[str]:
    """Every place a module writes to the database itself.

    Session writes (`session.add`, `session.delete`, `add_all`, `bulk_*`), calls of
    insert/update/delete taken from sqlalchemy or sqlmodel, an executed `x.insert()`-style
    statement, and SQL text that starts with INSERT, UPDATE or DELETE.
    """
    tree = ast.parse(source)
    statements, modules = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and _is_under(
            node.module or "", ("sqlalchemy", "sqlmodel")
        ):
            statements |= {a.asname or a.name for a in node.names if a.name in _WRITE_STATEMENTS}
        elif isinstance(node, ast.Import):
            modules |= {
                a.asname or a.name
                for a in node.names
                if _is_under(a.name, ("sqlalchemy", "sqlmodel"))
            }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            found += [
                f"line {node.lineno}: {what}" for what in _write_call(node, statements, modules)
            ]
    return found


def _write_call(call: ast.Call, statements: set[str], modules: set[str]) -> list[str]:
    """What kind of database write one call is, if any."""
    func, name = call.func, _called_name(call.func)
    receiver = func.value if isinstance(func, ast.Attribute) else None
    if name in ("add", "delete", "merge") and receiver is not None and _names_session(receiver):
        return [f"session.{name}("]
    if name in ("add_all", "bulk_save_objects", "bulk_insert_mappings", "bulk_update_mappings"):
        return [f".{name}("]
    if isinstance(func, ast.Name) and func.id in statements:
        return [f"{func.id}( from sqlalchemy"]
    if (
        isinstance(func, ast.Attribute)
        and func.attr in _WRITE_STATEMENTS
        and isinstance(func.value, ast.Name)
        and func.value.id in modules
    ):
        return [f"{func.value.id}.{func.attr}("]
    if name in ("execute", "exec", "exec_driver_sql") and call.args:
        statement = _statement_root(call.args[0])
        if isinstance(statement, ast.Call) and _called_name(statement.func) in _WRITE_STATEMENTS:
            return [f"{name}( of {_called_name(statement.func)}"]
        sql = _sql_text(statement)
        if sql.startswith(("INSERT", "UPDATE", "DELETE")):
            return [f"{name}( of SQL {sql.split()[0]}"]
    return []


def _names_session(node: ast.expr) -> bool:
    """True for `session`, `self.session`, `db_session` and the like."""
    name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", "")
    return name.lower().endswith("session")


def _statement_root(node: ast.expr) -> ast.expr:
    """The call a chained statement starts from: update(T) in update(T).where(...).values(...)."""
    while (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Call)
    ):
        node = node.func.value
    return node


def _sql_text(node: ast.expr) -> str:
    """The upper-cased SQL of a string literal or text("...") call; empty for anything else."""
    if isinstance(node, ast.Call) and _called_name(node.func) == "text" and node.args:
        node = node.args[0]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.strip().upper()
    return ""


def _python_files(*under: str) -> list[Path]:
    """The project's Python files under these folders (or the whole tree)."""
    roots = [ROOT / u for u in under] or [ROOT]
    return sorted(
        p
        for root in roots
        for p in root.rglob("*.py")
        if not any(part.startswith(".") for part in p.relative_to(ROOT).parts)
    )


def _relative(path: Path) -> str:
    """A path relative to ROOT, with forward slashes."""
    return path.relative_to(ROOT).as_posix()


def test_services_import_no_web_code():
    problems = {
        _relative(p): found
        for p in _python_files("portal/services")
        if (found := service_violations(p.read_text(), module_name(p)))
    }
    assert not problems


def test_views_import_no_other_view_no_query_library_and_no_engine():
    problems = {
        _relative(p): found
        for p in _python_files("portal/views")
        if (found := view_violations(p.read_text(), module_name(p)))
    }
    assert not problems


def test_only_services_write_to_the_database():
    problems = {
        _relative(p): found
        for p in _python_files()
        if not _relative(p).startswith(WRITERS) and (found := database_writes(p.read_text()))
    }
    assert not problems


@pytest.mark.parametrize(
    "source",
    [
        "import flask",
        "from flask import current_app",
        "def f():\n    from portal.auth import limiter\n",
        "from werkzeug.exceptions import NotFound",
        "import flask_login",
        "from portal.app import create_app",
        "from portal import views",
        "from portal.views.api import add_cors",
        "from ..views import api",
        "from .. import app",
        "from portal.wiring import get_db",
        "import importlib\nimportlib.import_module('flask')",
    ],
)
def test_the_service_rule_fails_on_a_planted_violation(source):
    assert service_violations(source, "portal.services.planted")


def test_the_service_rule_passes_a_clean_service():
    source = "from sqlmodel import select\nfrom portal.db import Database\nfrom . import audit\n"
    assert service_violations(source, "portal.services.planted") == []


@pytest.mark.parametrize(
    "source",
    [
        "from portal.views.main import BAND_LABELS",
        "from portal.views import api",
        "import portal.views.api",
        "from . import api",
        "from .serialise import record_json",
        "from sqlmodel import select",
        "import sqlalchemy",
        "def f():\n    from sqlalchemy import func\n",
        "from search.engines.whoosh import open_index",
        "import whoosh.index",
        "from portal.app import get_db",
        "def f(db):\n    with db.writing() as session:\n        pass\n",
    ],
)
def test_the_view_rule_fails_on_a_planted_violation(source):
    assert view_violations(source, "portal.views.search")


def test_the_view_rule_passes_a_clean_view():
    source = (
        "from flask import Blueprint\nfrom portal.services.home import cached_counts\n"
        "from portal.wiring import get_db\nfrom search.base import SearchResults\n"
    )
    assert view_violations(source, "portal.views.search") == []


@pytest.mark.parametrize(
    "source",
    [
        "session.add(entity)",
        "self.session.add(entity)",
        "session.add_all(entities)",
        "session.delete(entity)",
        "from sqlalchemy import update\nsession.exec(update(Entity).values(score=1))",
        "from sqlalchemy import insert as ins\nconn.execute(ins(table), rows)",
        "from sqlmodel import delete\nsession.exec(delete(Record).where(Record.id == 1))",
        "import sqlalchemy as sa\nstatement = sa.delete(table)",
        "conn.execute(table.insert(), rows)",
        "session.execute(text('UPDATE entity SET score = 1'))",
        "conn.exec_driver_sql('  delete from entity')",
        "def f(session):\n    session.bulk_insert_mappings(Entity, rows)\n",
    ],
)
def test_the_write_rule_fails_on_a_planted_write(source):
    assert database_writes(source)


def test_the_write_rule_passes_reads_and_other_adds_and_updates():
    source = (
        "seen.add(slug)\nrow.update(name=name)\nresponse.headers.update({})\n"
        "session.exec(select(Entity))\ncursor.execute('PRAGMA foreign_keys=ON')\n"
        "with db.writing() as session:\n    refresh_score(session, entity_id)\n"
    )
    assert database_writes(source) == []
