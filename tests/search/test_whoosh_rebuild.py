"""The whoosh engine's bulk rebuild: the same index whether built by one process or several."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from whoosh.filedb.filestore import FileStorage

from search.base import Doc, SearchQuery
from search.engines.whoosh import bulk
from search.engines.whoosh.backend import WhooshBackend
from search.engines.whoosh.schema import SCHEMA
from search.engines.whoosh.view import SegmentCache, View
from tests.search.factories import entity, record

NAMES = ("Acme", "Zeta Max", "Société Générale", "Müller Bäckerei", "Northern Rail", "Ibérica")


def _docs() -> list[Doc]:
    """A few hundred entities and records with repeated titles, names and facets."""
    docs: list[Doc] = [
        entity(
            f"{NAMES[i % len(NAMES)]} {i} Ltd",
            key=f"e{i}",
            sector=("energy", "retail", None)[i % 3],
            aliases=(f"{NAMES[(i + 1) % len(NAMES)]} Holdings",) if i % 4 == 0 else (),
            score=float(i % 7),
        )
        for i in range(120)
    ]
    docs += [
        record(
            f"R-{i}",
            ("Unlawful processing", "Late reply to a data request", "Fine for spam")[i % 3],
            entity_key=f"e{i % 120}",
            entity_name=f"{NAMES[i % len(NAMES)]} {i % 120} Ltd",
            summary=f"The company failed {i} times to answer requests about personal data.",
            severity=("minor", "serious")[i % 2],
        )
        for i in range(280)
    ]
    return docs


def _postings(reader: Any) -> Iterator[tuple[Any, ...]]:
    """Every posting of every term: field, term, document, weight and value."""
    for field, term in reader.all_terms():
        matcher = reader.postings(field, term)
        while matcher.is_active():
            yield field, term, matcher.id(), matcher.weight(), matcher.value()
            matcher.next()


def _contents(folder: Path) -> dict[str, Any]:
    """What a reader of the index sees: postings, stored fields, columns and field lengths."""
    ix = FileStorage(str(folder)).open_index()
    view = View(ix, SegmentCache())
    with ix.reader() as reader:
        docnums = range(reader.doc_count_all())
        scorable = reader.schema.scorable_names()
        contents = {
            "postings": list(_postings(reader)),
            "stored": [reader.stored_fields(d) for d in docnums],
            "field_lengths": {f: reader.field_length(f) for f in scorable},
            "doc_lengths": {
                f: [reader.doc_field_length(d, f) or 0 for d in docnums] for f in scorable
            },
            "columns": {f: view.column(f) for f in ix.schema.names() if ix.schema[f].column_type},
        }
    view.searcher.close()
    return contents


def _build(folder: Path, docs: list[Doc], **kwargs: Any) -> None:
    """Fill a new index in `folder` the way a rebuild does."""
    folder.mkdir()
    bulk.fill_index(FileStorage(str(folder)).create_index(SCHEMA), docs, 5, **kwargs)


def test_bulk_writer_writes_what_whooshs_writer_writes(tmp_path):
    docs = _docs()
    plain = tmp_path / "plain"
    plain.mkdir()
    with FileStorage(str(plain)).create_index(SCHEMA).writer() as writer:
        for fields in bulk.index_fields(docs, 5):
            writer.add_document(**fields)
    _build(tmp_path / "bulk", docs)
    assert _contents(tmp_path / "bulk") == _contents(plain)


def test_worker_processes_keep_the_documents_in_order(tmp_path, monkeypatch):
    monkeypatch.setattr(bulk, "BATCH_DOCS", 50)
    docs = _docs()
    _build(tmp_path / "one", docs)
    _build(tmp_path / "two", docs, workers=2)
    segments = FileStorage(str(tmp_path / "two")).open_index()._segments()
    assert len(segments) == 2
    assert _contents(tmp_path / "two") == _contents(tmp_path / "one")


@pytest.mark.parametrize(
    "q",
    [
        SearchQuery("acme"),
        SearchQuery("zet"),
        SearchQuery("müller ltd", filters={"sector": ["energy"]}),
        SearchQuery("societe generale", filters={"jurisdiction": ["GB"]}),
        SearchQuery("muler"),
        SearchQuery("personal data", doc_type="record"),
        SearchQuery("", doc_type="record", sort="date"),
        SearchQuery("fine", doc_type="record", sort="score", filters={"severity": ["serious"]}),
    ],
)
def test_a_rebuild_in_two_segments_answers_as_one_does(tmp_path, monkeypatch, q):
    monkeypatch.setattr(bulk, "BATCH_DOCS", 50)
    docs = _docs()
    answers = []
    for name, workers in (("one", 1), ("two", 2)):
        monkeypatch.setattr(bulk, "rebuild_workers", lambda expected, n=workers: n)
        backend = WhooshBackend(tmp_path / name)
        backend.rebuild(iter(docs), 5)
        answers.append((backend.query(q), backend.suggest(q.text), backend.count()))
        backend.close()
    assert answers[0] == answers[1]
    assert answers[0][0].total > 0 or not q.text


def test_a_failed_worker_fails_the_rebuild_and_leaves_the_live_index(tmp_path, monkeypatch):
    backend = WhooshBackend(tmp_path / "index")
    backend.rebuild(iter(_docs()), 5)
    before = backend.query(SearchQuery("acme"))
    monkeypatch.setattr(bulk, "rebuild_workers", lambda expected: 2)
    broken = [*_docs(), entity("Bad", key="bad", sector=5)]  # whoosh refuses a number here
    with pytest.raises(RuntimeError, match="worker failed"):
        backend.rebuild(iter(broken), 6)
    assert backend.query(SearchQuery("acme")) == before
    assert backend.last_seq() == 5
    assert len(list((tmp_path / "index").glob("gen-*"))) == 1
    backend.close()
