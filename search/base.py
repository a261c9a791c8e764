"""The search interface every engine implements, and the documents it indexes.

Engines live one package each (`search/engines/whoosh/`, `search/engines/tantivy/`,
opened through `search.ENGINES`); nothing else imports an engine. The portal turns
database rows into these documents and keeps each machine's index current from the
change log (`catch_up`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, Protocol

DocType = Literal["entity", "record"]
SortOrder = Literal["relevance", "score", "date"]

MAX_QUERY_LENGTH = 200
MAX_TERMS = 12
ENTITY_FACETS = ("kind", "jurisdiction", "sector", "band", "sanction")
# The sanction facet's one value: a debarment, suspension or listing is in force.
UNDER_SANCTION = "under_sanction"
RECORD_FACETS = ("agency", "category", "year", "nature", "severity", "jurisdiction")


class QueryRefused(ValueError):
    """A query the engine will not run; the message is fit to show the user."""


@dataclass(frozen=True)
class EntityDoc:
    """An entity as the index sees it. `key` is its slug."""

    key: str
    name: str
    kind: str
    jurisdiction: str
    aliases: tuple[str, ...] = ()
    registration_id: str | None = None
    sector: str | None = None
    score: float | None = None
    band: str | None = None
    parent: str | None = None
    # "Debarred by World Bank until 31 May 2027" while a sanction is in force, else None.
    sanction: str | None = None


@dataclass(frozen=True)
class RecordDoc:
    """A public record as the index sees it. `key` is its ref."""

    key: str
    title: str
    entity_key: str
    entity_name: str
    agency: str
    agency_name: str
    nature: str
    category: str
    severity: str
    decided_on: date
    jurisdiction: str
    summary: str | None = None
    statute: str | None = None
    published_at: datetime | None = None
    penalty_amount: float | None = None
    penalty_currency: str | None = None
    status: str = "published"


Doc = EntityDoc | RecordDoc


@dataclass(frozen=True)
class SearchQuery:
    """What a user asked for. Filters map a facet name to the accepted values."""

    text: str = ""
    doc_type: DocType = "entity"
    filters: Mapping[str, Sequence[str]] = field(default_factory=dict)
    sort: SortOrder = "relevance"
    page: int = 1
    per_page: int = 20
    with_facets: bool = True
    # Off for callers that show no snippets (the JSON API): marking them costs time per hit.
    with_highlights: bool = True


@dataclass(frozen=True)
class Hit:
    """One result: its key, relevance, stored fields and highlighted snippets (HTML-escaped)."""

    doc_type: DocType
    key: str
    relevance: float
    fields: Mapping[str, object]
    highlights: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchResults:
    """A page of hits with the total, facet counts and a "did you mean" suggestion."""

    hits: tuple[Hit, ...]
    total: int
    page: int
    per_page: int
    facets: Mapping[str, tuple[tuple[str, int], ...]] = field(default_factory=dict)
    suggestion: str | None = None
    fuzzy: bool = False


@dataclass(frozen=True)
class Suggestion:
    """A typeahead entry."""

    key: str
    name: str
    kind: str
    jurisdiction: str
    sanction: str | None = None


@dataclass(frozen=True)
class ChangeBatch:
    """Documents to upsert and keys to remove, up to and including change-log `seq`."""

    seq: int
    upserts: tuple[Doc, ...] = ()
    removals: tuple[tuple[DocType, str], ...] = ()


class SearchBackend(Protocol):
    """What every engine provides."""

    def apply(self, batch: ChangeBatch) -> None:
        """Upsert and remove documents and remember `batch.seq`, atomically."""

    def last_seq(self) -> int:
        """The change-log seq this index reflects (0 when empty)."""

    def query(self, query: SearchQuery) -> SearchResults:
        """Run a search; raise QueryRefused for input it will not run."""

    def suggest(self, prefix: str, limit: int = 8) -> list[Suggestion]:
        """Entities whose name or alias starts with the typed words, best first."""

    def rebuild(self, docs: Iterable[Doc], seq: int) -> None:
        """Build a fresh index from all documents beside the live one, then swap it in."""

    def count(self) -> int:
        """How many documents the index holds."""

    def close(self) -> None:
        """Release files and readers."""


def catch_up(
    backend: SearchBackend,
    changes_after: Callable[[int], ChangeBatch | None],
    max_batches: int = 100,
) -> int:
    """Apply change batches after the index's seq until none are left; return the new seq."""
    seq = backend.last_seq()
    for _ in range(max_batches):
        batch = changes_after(seq)
        if batch is None or batch.seq <= seq:
            break
        backend.apply(batch)
        seq = batch.seq
    return seq
