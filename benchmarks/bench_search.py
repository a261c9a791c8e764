"""Time the whoosh backend against SQLite FTS5 on a register-shaped set of entities.

    .venv/bin/python benchmarks/bench_search.py --entities 100000

Builds the index on disk (time and size), then runs 200 queries of each type
and prints p50/p95 latencies for both engines side by side; the figures are
also written to benchmarks/results/search-<date>.json. Targets at 100,000
entities: p95 < 30 ms for name and prefix queries, < 60 ms filtered faceted,
full rebuild < 3 minutes.
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

from search.base import ChangeBatch, EntityDoc, SearchQuery  # noqa: E402
from search.names import fold  # noqa: E402
from search.whoosh_backend import WhooshBackend  # noqa: E402

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


def whoosh_runs(backend: WhooshBackend, load: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Latencies of every query type on the whoosh backend."""

    def search(case: dict[str, Any]) -> int:
        """One search with facets, the first page of 20; the total."""
        query = SearchQuery(text=case["text"], filters=case.get("filters", {}))
        return backend.query(query).total

    out = {name: timed(search, cases) for name, cases in load.items()}
    out["prefix_suggest"] = timed(lambda c: len(backend.suggest(c["text"], 8)), load["prefix"])
    out["after_a_write"] = after_writes(backend, load["name"][:20])
    return out


def after_writes(backend: WhooshBackend, cases: list[dict[str, Any]]) -> dict[str, float]:
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
    out["after_a_write"] = out["name"]
    return out


def directory_size(path: Path) -> int:
    """Bytes of every file under `path`."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def build(docs: list[EntityDoc], workdir: Path) -> tuple[WhooshBackend, sqlite3.Connection, dict]:
    """Build both indexes, timing each (wall and CPU), and report sizes and a cold query."""
    backend = WhooshBackend(workdir / "index")
    wall, cpu = time.perf_counter(), time.process_time()
    backend.rebuild(iter(docs), seq=1)
    whoosh_wall, whoosh_cpu = time.perf_counter() - wall, time.process_time() - cpu
    backend.close()
    backend = WhooshBackend(workdir / "index")
    started = time.perf_counter()
    backend.query(SearchQuery(text="acme"))
    cold = time.perf_counter() - started
    started = time.perf_counter()
    db = fts_build(docs, workdir / "fts.sqlite3")
    fts_seconds = time.perf_counter() - started
    figures = {
        "whoosh_build_s": round(whoosh_wall, 1),
        "whoosh_build_cpu_s": round(whoosh_cpu, 1),
        "whoosh_size_mb": round(directory_size(workdir / "index") / 2**20, 1),
        "whoosh_first_query_ms": round(cold * 1000),
        "fts5_build_s": round(fts_seconds, 1),
        "fts5_size_mb": round((workdir / "fts.sqlite3").stat().st_size / 2**20, 1),
        "count": backend.count(),
    }
    return backend, db, figures


def report(figures: dict[str, Any], whoosh: dict[str, Any], fts: dict[str, Any]) -> None:
    """Print the table."""
    print(
        f"entities {figures['count']:,}: whoosh build {figures['whoosh_build_s']} s "
        f"({figures['whoosh_build_cpu_s']} s CPU), {figures['whoosh_size_mb']} MB, first query "
        f"{figures['whoosh_first_query_ms']} ms; FTS5 build {figures['fts5_build_s']} s, "
        f"{figures['fts5_size_mb']} MB"
    )
    print(f"{'query (ms)':<18}{'whoosh p50':>11}{'p95':>8}{'found':>7}"
          f"{'fts5 p50':>10}{'p95':>8}{'found':>7}{'p95 ratio':>11}")  # fmt: skip
    for name, row in whoosh.items():
        other = fts[name]
        ratio = row["p95"] / other["p95"] if other["p95"] else float("inf")
        print(f"{name:<18}{row['p50']:>11}{row['p95']:>8}{row['found']:>7}"
              f"{other['p50']:>10}{other['p95']:>8}{other['found']:>7}{ratio:>10.1f}x")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    """Generate, build, time and report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args(argv)
    docs = entities(args.entities)
    with tempfile.TemporaryDirectory() as tmp:
        backend, db, figures = build(docs, Path(tmp))
        load = workloads(docs)
        whoosh, fts = whoosh_runs(backend, load), fts_runs(db, load)
        backend.close()
        db.close()
    report(figures, whoosh, fts)
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / f"search-{date.today().isoformat()}.json"
    payload = {"entities": args.entities, **figures, "whoosh": whoosh, "fts5": fts}
    target.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
