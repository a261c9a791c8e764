"""Precision and recall of screening (POST /api/v1/match) on a labelled set of real names.

The register: every organisation of the DFAT sanctions list (its aka and original-
script names as aliases) and every GDPR controller (one per name key, its other
spellings as aliases). The queries: each name as listed, without accents, with one
typo, by an alias and in its other script; and names of US government bodies that
the register does not hold. Writes the figures for docs/search.md.

    .venv/bin/python benchmarks/eval_screening.py [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def build(tmp: Path):  # type: ignore[no-untyped-def]
    """A fresh register of the labelled parties; the app and slug -> party reference."""
    from sqlmodel import SQLModel

    import portal.models  # noqa: F401
    from portal import create_app
    from portal.db import make_engine
    from portal.services.access import Actor
    from portal.services.entities import create_entity, parse_entity
    from tests import screening_set as data

    url = f"sqlite:///{tmp / 'portal.sqlite3'}"
    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)
    engine.dispose()
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "eval", "DATA_DIR": str(tmp), "DATABASE_URL": url,
         "SEARCH_INDEX": "memory", "RATELIMIT_ENABLED": False}
    )  # fmt: skip
    parties = data.dfat_parties() + data.gdpr_controllers() + data.charity_parties()
    slugs = {}
    with app.extensions["portal.db"].writing() as session:
        for party in parties:
            row = {
                "name": party.name,
                "kind": "business",
                "jurisdiction": party.jurisdiction,
                "aliases": "|".join(dict.fromkeys((*party.aliases, *party.scripts, *party.former))),
            }
            slugs[create_entity(session, Actor.cli("eval"), parse_entity(row)).slug] = (
                party.reference
            )
    return app, parties, slugs


def main() -> None:
    """Screen the labelled set and print precision and recall at both thresholds."""
    from portal.services.screening import MATCH, POSSIBLE
    from tests import screening_set as data

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="eval-screening-"))
    try:
        app, parties, slugs = build(tmp)
        client = app.test_client()
        # More entities than a request applies inline: wait for the index to catch up.
        while not app.extensions["portal.search"].refresh():
            time.sleep(0.5)
        cases = [(q, ref, how) for q, ref, how in data.labelled(parties)]
        cases += [(name, None, "not in the register") for name in data.outsiders(1000)]
        started = time.perf_counter()
        tops = []
        for start in range(0, len(cases), 500):
            batch = cases[start : start + 500]
            body = {"queries": [{"name": q} for q, _r, _h in batch]}
            results = client.post("/api/v1/match", json=body).get_json()["results"]
            tops += [r["candidates"][0] if r["candidates"] else None for r in results]
        seconds = time.perf_counter() - started
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    figures = {"register": len(parties), "queries": len(cases), "seconds": round(seconds, 1)}
    for name, threshold in (("possible", POSSIBLE), ("match", MATCH)):
        per_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        called = correct = 0
        for (_q, ref, how), top in zip(cases, tops, strict=True):
            hit = top is not None and top["score"] >= threshold
            right = hit and ref is not None and slugs[top["slug"]] == ref
            called += hit
            correct += right
            per_kind[how][0] += right if ref else hit
            per_kind[how][1] += 1
        positives = sum(1 for _q, ref, _h in cases if ref)
        figures[name] = {
            "threshold": threshold,
            "precision": round(correct / called, 3) if called else None,
            "recall": round(correct / positives, 3),
            "by_kind": {k: f"{v[0]} of {v[1]}" for k, v in sorted(per_kind.items())},
        }
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
