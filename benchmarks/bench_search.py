"""Time the search engines against SQLite FTS5 on a register-shaped set of entities.

    .venv/bin/python benchmarks/bench_search.py --backend both --entities 100000

Builds each engine's index on disk (time, documents/s, size, first query after
opening), then runs 200 queries of each type and prints p50/p95 latencies for
the engines and FTS5 side by side; the figures are also written to
benchmarks/results/search-<engines>-<entities>-<date>.json. Targets at 100,000
entities: p95 < 30 ms for name and prefix queries, < 60 ms filtered faceted,
full rebuild < 3 minutes (tantivy: every query type < 1 ms p95).

    .venv/bin/python benchmarks/bench_search.py --database-url sqlite:///DIR/portal.sqlite3 \
        --index whoosh=DIR/whoosh/index --index tantivy=DIR/tantivy/index

On a register instead (`make bench` does this on the demo): the queries are drawn
from its entities, each engine answers from the register's whole index as
`portal search reindex` built it (entities and records; nothing is written to it),
and FTS5 is built from the same entities. The build figures are then the
reindex step's.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from search import ENGINES  # noqa: E402
from search.base import ChangeBatch, EntityDoc, SearchBackend, SearchQuery  # noqa: E402
from search.names import fold  # noqa: E402

RUNS = 200
# (jurisdictions, words of company names, legal forms) per language.
LANGUAGES: tuple[tuple[tuple[str, ...], str, tuple[str, ...]], ...] = (
    (
        ("GB", "GB-ENG", "GB-WLS", "GB-SCT"),
        "Acme Northern Albion Thames Crown Royal Oak Harbour Bridge Meridian Anchor Heath "
        "Granite Sterling Kingfisher Pennine Atlas Beacon Orchard Foundry Hollow Cotswold "
        "Summit Wessex Caledonian Severn Sapphire Lantern Willow Marlow Cheviot Solent",
        ("Ltd", "Limited", "plc", "LLP", "Holdings Ltd", "Group plc"),
    ),
    (
        ("ES", "ES-MD", "ES-CT"),
        "Telefónica Ibérica Castilla Andalucía Galicia Córdoba Logística Energía Málaga "
        "Navarra Peñalara Valencia Almería Cantábrico Distribución Servicios Tecnología "
        "Comunicación Inversiones Construcción Alimentación Hispánica Asturiana Montaña",
        ("S.A.", "S.A.U.", "S.L.", "S.L.U.", "Sociedad Anónima"),
    ),
    (
        ("FR",),
        "Société Générale Lumière Bâtiment Rhône Crédit Provençale Atlantique Océane "
        "Méditerranée Forêt Écologie Hôtellerie Électricité Château Fromagerie Vallée",
        ("SA", "SAS", "SARL", "S.A.R.L."),
    ),
    (
        ("DE", "DE-BY", "DE-BE"),
        "Müller Schäfer Großhandel Bäckerei Brückner Süddeutsche Rheinland Weiß Straßenbau "
        "Hoffmann Fränkische Nürnberger Kühne Löwen Grün Bergbau Maschinenbau Köln",
        ("GmbH", "AG", "KG", "GmbH & Co. KG"),
    ),
    (
        ("US", "US-NY", "US-CA", "US-TX"),
        "American Pacific Liberty Eagle Frontier Lone Star Golden Gate Empire Keystone "
        "Hudson Sierra Cascade Prairie Summit Patriot Coastal Evergreen Redwood Mesa",
        ("Inc", "Inc.", "LLC", "Corp", "Corporation", "Co."),
    ),
)
KINDS = ("business",) * 6 + ("social_organisation", "government_body", "official")
SECTORS = ("telecoms", "energy", "finance", "health", "retail", "transport", "food", "public")


def band(score: float) -> str:
    """The DESIGN.md band of a score."""
    for bound, letter in ((90, "A"), (75, "B"), (60, "C"), (40, "D")):
        if score >= bound:
            return letter
    return "E"


def entities(count: int) -> list[EntityDoc]:
    """Deterministic register-shaped entities (random.Random(1))."""
    rng = random.Random(1)
    docs = []
    for i in range(count):
        codes, vocabulary, forms = rng.choice(LANGUAGES)
        words = vocabulary.split()
        name = " ".join(rng.sample(words, rng.choice((1, 2, 2, 3)))) + f" {rng.choice(forms)}"
        if rng.random() < 0.3:
            name = f"{name.split()[0]} {rng.choice(words)}{i % 997} {name.split(None, 1)[1]}"
        score = round(rng.uniform(20, 115), 1)
        aliases = (f"{rng.choice(words)} {rng.choice(words)}",) if rng.random() < 0.1 else ()
        docs.append(
            EntityDoc(
                key=f"e-{i:x}",
                name=name,
                kind=rng.choice(KINDS),
                jurisdiction=rng.choice(codes),
                aliases=aliases,
                registration_id=f"{codes[0]}-{rng.randrange(10**7, 10**8)}",
                sector=rng.choice(SECTORS),
                score=score,
                band=band(score),
            )
        )
    return docs


def typo(word: str, rng: random.Random) -> str:
    """The word with two neighbouring letters swapped (after the first)."""
    if len(word) < 5:
        return word + word[-1]
    i = rng.randrange(1, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def workloads(docs: list[EntityDoc]) -> dict[str, list[dict[str, Any]]]:
    """200 queries of each type, drawn from the indexed names."""
    rng = random.Random(2)
    out: dict[str, list[dict[str, Any]]] = {}
    picks = [rng.choice(docs) for _ in range(RUNS)]
    out["name"] = [{"text": d.name} for d in picks]
    out["two_words"] = [{"text": " ".join(d.name.split()[:2])} for d in picks]
    out["prefix"] = [{"text": fold(d.name.split()[0])[:4]} for d in picks]
    out["fuzzy"] = [{"text": typo(fold(max(d.name.split(), key=len)), rng)} for d in picks]
    out["filtered_faceted"] = [
        {"text": fold(d.name.split()[0]), "filters": {"kind": ["business"], "jurisdiction": [
            d.jurisdiction.split("-")[0]]}} for d in picks
    ]  # fmt: skip
    return out


def register_entities(url: str) -> list[EntityDoc]:
    """The entities of a register, as the search index is given them."""
    from _common import read_only_engine
    from sqlmodel import Session

    from portal.services.search.documents import all_documents

    engine = read_only_engine(url)
    try:
        with Session(engine) as session:
            return [d for d in all_documents(session) if isinstance(d, EntityDoc)]
    finally:
        engine.dispose()


def open_existing(name: str, directory: Path) -> tuple[Any, dict[str, Any]]:
    """An engine on an index built elsewhere: its size, documents and a cold query."""
    started = time.perf_counter()
    backend = ENGINES[name](directory)
    backend.query(SearchQuery(text="acme"))
    figures = {
        "index": str(directory),
        "first_query_ms": round((time.perf_counter() - started) * 1000),
        "size_mb": round(directory_size(directory) / 2**20, 1),
        "count": backend.count(),
    }
    return backend, figures


def timed(fn: Callable[[dict[str, Any]], int], cases: list[dict[str, Any]]) -> dict[str, float]:
    """p50/p95 milliseconds of `fn` over the cases (after a warm-up of 10), and the share of
    cases that found anything (`fn` returns the number of hits)."""
    for case in cases[:10]:
        fn(case)
    times, found = [], 0
    for case in cases:
        start = time.perf_counter()
        found += fn(case) > 0
        times.append((time.perf_counter() - start) * 1000)
    q = statistics.quantiles(times, n=20)
    return {"p50": round(statistics.median(times), 2), "p95": round(q[18], 2),
            "found": round(found / len(cases), 2)}  # fmt: skip


def engine_runs(
    backend: SearchBackend, load: dict[str, list[dict[str, Any]]], writes: bool = True
) -> dict[str, Any]:
    """Latencies of every query type on one engine (and after writes, unless told not to)."""

    def search(case: dict[str, Any]) -> int:
        """One search with facets, the first page of 20; the total."""
        query = SearchQuery(text=case["text"], filters=case.get("filters", {}))
        return backend.query(query).total

    out = {name: timed(search, cases) for name, cases in load.items()}
    out["prefix_suggest"] = timed(lambda c: len(backend.suggest(c["text"], 8)), load["prefix"])
    if writes:
        out["after_a_write"] = after_writes(backend, load["name"][:20])
    return out


def after_writes(backend: SearchBackend, cases: list[dict[str, Any]]) -> dict[str, float]:
    """Latency of the first search after each one-entity batch (caches are rebuilt)."""
    times = []
    for seq, case in enumerate(cases, start=2):
        doc = EntityDoc(key=f"new-{seq}", name=f"Newly Registered {seq} Ltd", kind="business",
                        jurisdiction="GB")  # fmt: skip
        backend.apply(ChangeBatch(seq=seq, upserts=(doc,)))
        started = time.perf_counter()
        backend.query(SearchQuery(text=case["text"]))
        times.append((time.perf_counter() - started) * 1000)
    q = statistics.quantiles(times, n=20)
    return {"p50": round(statistics.median(times), 2), "p95": round(q[18], 2), "found": 1.0}


def fts_build(docs: list[EntityDoc], path: Path) -> sqlite3.Connection:
    """An FTS5 table of the same entities."""
    db = sqlite3.connect(path)
    db.execute(
        "CREATE VIRTUAL TABLE entity USING fts5(name, aliases, key UNINDEXED, kind UNINDEXED,"
        " jurisdiction UNINDEXED, sector UNINDEXED, band UNINDEXED,"
        " tokenize='unicode61 remove_diacritics 2')"
    )
    rows = ((d.name, " ".join(d.aliases), d.key, d.kind, d.jurisdiction, d.sector, d.band)
            for d in docs)  # fmt: skip
    db.executemany("INSERT INTO entity VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    db.commit()
    return db


def fts_match(text: str, prefix: bool = False) -> str:
    """An FTS5 MATCH expression: each word quoted, the last one as a prefix if asked."""
    words = ['"' + w.replace('"', "") + '"' for w in fold(text).split()]
    return " ".join(words) + ("*" if prefix else "")


def fts_runs(db: sqlite3.Connection, load: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The same queries on FTS5: top 20 by rank, the total, and facet counts where asked."""

    def search(case: dict[str, Any], prefix: bool = False) -> int:
        """Page, total and (for filtered queries) four facet counts, as the portal needs."""
        where, args = "entity MATCH ?", [fts_match(case["text"], prefix)]
        filters = case.get("filters")
        if filters:
            where += " AND kind = ? AND (jurisdiction = ? OR jurisdiction LIKE ?)"
            code = filters["jurisdiction"][0]
            args += [filters["kind"][0], code, code + "-%"]
        page = db.execute(
            f"SELECT key, name FROM entity WHERE {where} ORDER BY rank LIMIT 20", args
        ).fetchall()
        total = db.execute(f"SELECT count(*) FROM entity WHERE {where}", args).fetchone()
        for facet in ("kind", "jurisdiction", "sector", "band") if filters else ():
            db.execute(f"SELECT {facet}, count(*) FROM entity WHERE {where} GROUP BY 1", args)
        return int(total[0]) if page else 0

    out = {name: timed(search, cases) for name, cases in load.items()}
    out["prefix"] = timed(lambda c: search(c, prefix=True), load["prefix"])
    out["prefix_suggest"] = out["prefix"]
    return out


def directory_size(path: Path) -> int:
    """Bytes of every file under `path`."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def build_engine(name: str, docs: list[EntityDoc], workdir: Path) -> tuple[Any, dict]:
    """Build one engine's index on disk, timing it (wall and CPU); its size and a cold query."""
    opener = ENGINES[name]
    backend = opener(workdir / name)
    wall, cpu = time.perf_counter(), time.process_time()
    backend.rebuild(iter(docs), seq=1)
    figures = {"build_s": round(time.perf_counter() - wall, 1),
               "build_cpu_s": round(time.process_time() - cpu, 1)}  # fmt: skip
    backend.close()
    backend = opener(workdir / name)
    started = time.perf_counter()
    backend.query(SearchQuery(text="acme"))
    figures["first_query_ms"] = round((time.perf_counter() - started) * 1000)
    figures["size_mb"] = round(directory_size(workdir / name) / 2**20, 1)
    figures["docs_per_s"] = round(len(docs) / max(figures["build_s"], 0.1))
    figures["count"] = backend.count()
    return backend, figures


def build_fts(docs: list[EntityDoc], workdir: Path) -> tuple[sqlite3.Connection, dict]:
    """Build the FTS5 table, timing it, and its size."""
    started = time.perf_counter()
    db = fts_build(docs, workdir / "fts.sqlite3")
    seconds = time.perf_counter() - started
    figures = {"build_s": round(seconds, 1), "docs_per_s": round(len(docs) / max(seconds, 0.1)),
               "size_mb": round((workdir / "fts.sqlite3").stat().st_size / 2**20, 1)}  # fmt: skip
    return db, figures


def report(builds: dict[str, dict[str, Any]], runs: dict[str, dict[str, Any]]) -> None:
    """Print the build figures, then p50/p95 per query type, engines and FTS5 side by side."""
    for name, fig in builds.items():
        if "index" in fig:
            print(f"{name:>8}: the register's index, {fig['count']:,} documents, "
                  f"{fig['size_mb']} MB, first query {fig['first_query_ms']} ms")  # fmt: skip
            continue
        extra = f", first query {fig['first_query_ms']} ms" if "first_query_ms" in fig else ""
        print(f"{name:>8}: build {fig['build_s']} s ({fig['docs_per_s']:,} docs/s), "
              f"{fig['size_mb']} MB{extra}")  # fmt: skip
    names = list(runs)
    print(f"{'query (ms)':<18}" + "".join(f"{n + ' p50':>13}{'p95':>8}{'found':>7}" for n in names))
    for query in runs[names[0]]:
        cells = "".join(
            f"{runs[n][query]['p50']:>13}{runs[n][query]['p95']:>8}{runs[n][query]['found']:>7}"
            if query in runs[n]
            else f"{'–':>13}{'–':>8}{'':>7}"
            for n in names
        )
        print(f"{query:<18}{cells}")


def main(argv: list[str] | None = None) -> None:
    """Generate (or read a register), build or open, time and report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--backend", choices=["whoosh", "tantivy", "both"], default="both")
    parser.add_argument("--database-url", help="a register to draw the entities from")
    parser.add_argument(
        "--index", action="append", default=[], metavar="ENGINE=DIR",
        help="with --database-url: an engine's index of that register (repeatable)",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args(argv)
    indexes = {name: Path(folder) for name, _, folder in (i.partition("=") for i in args.index)}
    if set(indexes) - set(ENGINES) or (indexes and not args.database_url):
        parser.error(f"--index takes ENGINE=DIR for {', '.join(ENGINES)}, with --database-url")
    engines = list(indexes) or (list(ENGINES) if args.backend == "both" else [args.backend])
    docs = register_entities(args.database_url) if args.database_url else entities(args.entities)
    load = workloads(docs)
    builds: dict[str, dict[str, Any]] = {}
    runs: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in engines:
            if name in indexes:
                backend, builds[name] = open_existing(name, indexes[name])
            else:
                backend, builds[name] = build_engine(name, docs, Path(tmp))
            runs[name] = engine_runs(backend, load, writes=name not in indexes)
            backend.close()
        db, builds["fts5"] = build_fts(docs, Path(tmp))
        runs["fts5"] = fts_runs(db, load)
        db.close()
    report(builds, runs)
    args.out.mkdir(parents=True, exist_ok=True)
    source = "register" if args.database_url else "synthetic"
    target = args.out / (
        f"search-{source}-{'-'.join(engines)}-{len(docs)}-{date.today().isoformat()}.json"
    )
    payload = {"entities": len(docs), "source": source, "build": builds, **runs}
    target.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
