"""The targets of issue 11 checked against a run_all.py result, and its Markdown section."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from _common import against

END = "<!-- /bench -->"
HOW_TO = """\
`make bench` (or `make bench ENTITIES=2000 BENCH_ARGS="--reuse"`) runs
`benchmarks/run_all.py`: in a scratch directory (`/tmp/portal-bench-<entities>`,
`--workdir`) it builds the demo register, rescores it, builds both search indexes,
then runs `bench_search.py`, `bench_pages.py` (once per engine), `bench_pdf.py`,
`bench_exports.py` and `bench_datasette.py`, each bounded in time, and writes
`benchmarks/results/<date>-<entities>[-postgres].json` and this section.
`--reuse` keeps the register and indexes of the previous run in that directory;
`--postgres` (a throwaway PostgreSQL 15 cluster) or `--database-url` runs the
same suite on PostgreSQL, without the SQLite-only comparisons. It is not part of
`make test`. Targets marked "1M" were set for 1,000,000 entities (a smaller
register that misses one will miss it at 1M too); "100k" ones for 100,000."""


def _get(data: Any, *keys: str) -> Any:
    """A nested value, or None when any level is missing."""
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Every figure of the run that has a target: met, or missed by how much."""
    rows: list[dict[str, Any]] = []

    def add(figure: str, value: Any, target: float, unit: str, scale: str) -> None:
        """One figure beside its target (skipped when the step did not run)."""
        if value is not None:
            rows.append(
                {"figure": figure, "scale": scale, "unit": unit, **against(value, target, unit)}
            )

    small = results["entities"] <= 100_000
    search = results.get("search") or {}
    for engine in ("whoosh", "tantivy"):
        for query in ("name", "prefix"):
            p95 = _get(search, engine, query, "p95")
            add(f"search p95, {query} ({engine})", p95, 100, "ms", "1M")
            if small and engine == "whoosh":
                add(f"search p95, {query} ({engine})", p95, 30, "ms", "100k")
        if small and engine == "whoosh":
            p95 = _get(search, engine, "filtered_faceted", "p95")
            add("search p95, filtered + facets (whoosh)", p95, 60, "ms", "100k")
    for backend, pages in (results.get("pages") or {}).items():
        for page, bound in (("entity page", 50), ("search page", 150)):
            add(f"{page} p95 ({backend})", _get(pages, "pages", page, "p95_ms"), bound, "ms", "1M")
    recompute = _get(results, "build", "recompute")
    if recompute and not recompute.get("timed_out"):
        seconds = recompute.get("reported_s", recompute["seconds"])
        add("portal scores recompute", seconds, 120, "s", "1M")
    for export in _get(results, "exports", "results") or []:
        add(f"export {export['export']} peak memory", export["peak_mb"], 300, "MB", "any")
    if small:
        rebuild = _get(results, "build", "reindex-whoosh", "index", "rebuild_s")
        add("whoosh full rebuild (portal search reindex)", rebuild, 180, "s", "100k")
        add(
            "whoosh entity index build (bench_search)",
            _get(search, "build", "whoosh", "build_s"),
            180,
            "s",
            "100k",
        )
    pdf = results.get("pdf") or {}
    add("PDF cold / weasyprint alone (wall)", pdf.get("cold_over_alone_wall"), 1.3, "", "any")
    add("PDF cached", pdf.get("cached_ms"), 20, "ms", "any")
    return rows


def _ms(value: Any) -> str:
    """A figure for a table cell."""
    return "–" if value is None else f"{value:,}" if isinstance(value, int) else f"{value:g}"


def _build_rows(results: dict[str, Any]) -> list[str]:
    """Rows of the build table: demo, scores, each index."""
    build = results.get("build", {})
    rows = ["| step | time | throughput | peak RSS | notes |", "|---|---|---|---|---|"]
    demo = build.get("demo")
    if demo:
        note = (
            f"{_ms(demo.get('entities'))} entities, {_ms(demo.get('records'))} records, "
            f"{_ms(demo.get('change_log_events'))} change-log events (rows); the load "
            f"itself peaked at {_ms(demo.get('load_peak_mb'))} MB; the whole command took "
            f"{_ms(demo['seconds'])} s, and its peak RSS includes building the tantivy index"
        )
        rows.append(
            f"| `portal demo` | {_ms(demo.get('load_s'))} s | "
            f"{_ms(demo.get('rows_per_s'))} rows/s | {_ms(demo['peak_rss_mb'])} MB | "
            f"{note}{reused(demo)} |"
        )
    rec = build.get("recompute")
    if rec:
        rows.append(
            f"| `portal scores recompute` | {_ms(rec.get('reported_s'))} s | "
            f"{_ms(rec.get('rescored'))} entities | {_ms(rec['peak_rss_mb'])} MB | "
            f"{_ms(rec.get('changed'))} scores changed{reused(rec)} |"
        )
    for name, step in (("tantivy", demo), ("whoosh", build.get("reindex-whoosh"))):
        index = (step or {}).get("index")
        if index:
            how = "built by `portal demo`" if name == "tantivy" else "`portal search reindex`"
            peak = "(in the demo's)" if name == "tantivy" else f"{_ms(step['peak_rss_mb'])} MB"
            rows.append(
                f"| {name} index ({how}) | {_ms(index['rebuild_s'])} s | "
                f"{_ms(index['docs_per_s'])} docs/s | {peak} | "
                f"{_ms(index['documents'])} documents, {_ms(index['index_mb'])} MB "
                f"on disk{reused(step)} |"
            )
    return rows


def reused(step: dict[str, Any]) -> str:
    """A note for a figure taken over from an earlier run."""
    return " (from an earlier run, --reuse)" if step.get("reused") else ""


def _search_rows(search: dict[str, Any]) -> list[str]:
    """Rows of the engine comparison: p50/p95 per query type and engine."""
    engines = [e for e in ("whoosh", "tantivy", "fts5") if e in search]
    head = "| query | " + " | ".join(f"{e} p50 | {e} p95" for e in engines) + " |"
    rows = [head, "|---|" + "---|---|" * len(engines)]
    for query in ("name", "two_words", "prefix", "prefix_suggest", "fuzzy", "filtered_faceted"):
        cells = " | ".join(
            f"{_ms(_get(search, e, query, 'p50'))} ms | {_ms(_get(search, e, query, 'p95'))} ms"
            for e in engines
        )
        rows.append(f"| {query.replace('_', ' ')} | {cells} |")
    if search.get("source") == "register":
        sizes = ", ".join(
            f"{e} {_ms(_get(search, 'build', e, 'count'))} documents, "
            f"{_ms(_get(search, 'build', e, 'size_mb'))} MB, first query "
            f"{_ms(_get(search, 'build', e, 'first_query_ms'))} ms"
            for e in engines
            if e != "fts5"
        )
        fts = f"{_ms(_get(search, 'build', 'fts5', 'build_s'))} s"
        note = (
            f"Queries drawn from the register's {_ms(search.get('entities'))} entities, "
            f"answered from its whole index ({sizes}); FTS5 of the same entities built "
            f"in {fts}. FTS5 finds a typo only when the misspelt word happens to exist."
        )
        return [*rows, "", note]
    builds = ", ".join(
        f"{e} {_ms(_get(search, 'build', e, 'build_s'))} s "
        f"({_ms(_get(search, 'build', e, 'size_mb'))} MB)"
        for e in engines
    )
    return [*rows, "", f"Index builds of the synthetic names: {builds}."]


def _pages_note(pages: dict[str, Any]) -> str:
    """How the pages were measured."""
    run = next((r for r in pages.values() if "clients" in r), None)
    if run is None:
        return "The page benchmark failed; see its log."
    load = (
        f"wrk (Debian's) with {run['clients']} connections for "
        f"{run['max_seconds_per_page']:g} s per page"
        if run.get("client") == "wrk"
        else f"{run['clients']} concurrent clients (Python threads), up to "
        f"{run['max_requests_per_page']:,} requests or {run['max_seconds_per_page']:g} s per page"
    )
    return (
        f"`portal serve` with {run['workers']} sync workers on 127.0.0.1, "
        f"{load}, after a warm-up. "
        "Searches mix one word of a real name, two words, a 3-5 letter prefix, a "
        "one-letter typo, and a word filtered by kind and jurisdiction."
    )


def _page_rows(pages: dict[str, Any]) -> list[str]:
    """Rows of the pages table: one per engine and page."""
    rows = [
        "| engine | page | p50 | p95 | requests/s | requests | 5xx | target (1M) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for backend, run in pages.items():
        for page, row in (run.get("pages") or {}).items():
            verdict = _get(row, "target_1m", "verdict")
            target = f"p95 < {row['target_1m']['target']:g} ms: {verdict}" if verdict else ""
            rows.append(
                f"| {backend} | {page} | {_ms(row['p50_ms'])} ms | "
                f"{_ms(row['p95_ms'])} ms | {_ms(row['per_second'])} | "
                f"{row['requests']} | {row['5xx']} | {target} |"
            )
    return rows


def _other_rows(results: dict[str, Any]) -> list[str]:
    """Datasette, PDF and export lines."""
    lines = []
    ds = results.get("datasette") or {}
    if ds.get("latency"):
        cells = "; ".join(
            f"{name} p50 {_ms(row['p50'])} ms, p95 {_ms(row['p95'])} ms"
            for name, row in ds["latency"].items()
        )
        ratios = ", ".join(f"{k} {v}" for k, v in ds.get("ratio_of_medians", {}).items())
        lines.append(
            f"- Datasette over FTS5 against the portal's JSON search ({ds['queries']} "
            f"name queries, one at a time): {cells}. Ratio of medians portal / "
            f"Datasette: {ratios}."
        )
    pdf = results.get("pdf") or {}
    if pdf.get("cold_ms") is not None:
        lines.append(
            f"- PDF report (60 records): cold {_ms(pdf['cold_ms'])} ms against "
            f"weasyprint alone {_ms(pdf.get('weasyprint_alone_ms'))} ms (ratio "
            f"{_ms(pdf.get('cold_over_alone_wall'))}), cached "
            f"{_ms(pdf.get('cached_ms'))} ms; render child peak "
            f"{_ms(pdf.get('render_child_peak_mb'))} MB."
        )
    for export in _get(results, "exports", "results") or []:
        lines.append(
            f"- Export {export['export']}: {_ms(export['seconds'])} s, "
            f"{export['bytes'] / 1e6:,.0f} MB, peak {_ms(export['peak_mb'])} MB."
        )
    for name, reason in results.get("skipped", {}).items():
        lines.append(f"- {name}: not run ({reason}).")
    return lines


def _with_unit(value: Any, unit: str) -> str:
    """A figure and its unit, if it has one."""
    return f"{_ms(value)} {unit}".strip()


def _busy(results: dict[str, Any]) -> str:
    """A warning when other work shared the cores during the run."""
    loads = results["load_average"]["start"][:1] + results["load_average"]["end"][:1]
    if max(loads) <= (results["machine"]["cpus"] or 1):
        return ""
    return (
        " Other jobs shared the cores (1-minute load above the core count), so the "
        "latencies and times are upper bounds."
    )


def section(results: dict[str, Any]) -> str:
    """The generated Markdown of one run, between its markers."""
    n, engine, m = results["entities"], results["engine"], results["machine"]
    load = results["load_average"]
    suffix = "" if engine == "sqlite" else "-postgres"
    parts = [
        f"<!-- bench:{n}:{engine} -->",
        f"## `make bench` at {n:,} entities ({'SQLite' if engine == 'sqlite' else 'PostgreSQL'})",
        "",
        HOW_TO,
        "",
        f"Run on {results['started']} at commit {m['git_commit']}: {m['cpus']} cores, "
        f"{m['memory_mb']:,} MB, Python {m['python']}, SQLite {m['sqlite']}; load average "
        f"{load['start']} at the start, {load['end']} at the end; the whole run took "
        f"{results['wall_s'] / 60:.1f} minutes. Raw figures: "
        f"`benchmarks/results/{results['date']}-{n}{suffix}.json`.{_busy(results)}",
        "",
        "### Building",
        "",
        *_build_rows(results),
    ]
    if results.get("search", {}).get("build"):
        parts += [
            "",
            "### Search engines (`bench_search.py`) beside SQLite FTS5",
            "",
            *_search_rows(results["search"]),
        ]
    if results.get("pages"):
        parts += [
            "",
            "### Pages under gunicorn (`bench_pages.py`)",
            "",
            _pages_note(results["pages"]),
            "",
            *_page_rows(results["pages"]),
        ]
    parts += ["", "### Datasette, PDF, exports", "", *_other_rows(results)]
    parts += [
        "",
        "### Targets",
        "",
        "| figure | set for | value | target | verdict |",
        "|---|---|---|---|---|",
    ]
    parts += [
        f"| {t['figure']} | {t['scale']} | {_with_unit(t['value'], t['unit'])} | "
        f"< {_with_unit(t['target'], t['unit'])} | {t['verdict']} |"
        for t in results["targets"]
    ]
    if results.get("problems"):
        parts += ["", "Problems in this run:", *(f"- {p}" for p in results["problems"])]
    return "\n".join([*parts, END])


def update_doc(path: Path, results: dict[str, Any]) -> None:
    """Replace this size and engine's section of the doc, or append it."""
    text = path.read_text()
    start = f"<!-- bench:{results['entities']}:{results['engine']} -->"
    new = section(results)
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(END), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _m: new, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + new + "\n"
    path.write_text(text)
