"""Documents as index fields: entity and record fields, uids, the words a hit offers.

Engine-free: every engine indexes the same field values.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from search.base import UNDER_SANCTION, Doc, EntityDoc, RecordDoc
from search.names import name_spans
from search.query import MAX_ID_LENGTH, ident_form

# Records in any other status have left public view and are kept out of the index.
PUBLIC_STATUSES = frozenset({"published", "under_appeal"})
SEVERITY_RANK = {"minor": 1, "moderate": 2, "serious": 3, "severe": 4}


def name_key_of(text: str) -> str:
    """The folded tokens of a name joined by spaces (any script kept)."""
    return " ".join(t for t, _s, _e in name_spans(text))


def jurisdiction_path(code: str) -> str:
    """A code and its ancestors, space separated: "GB-WLS" -> "GB GB-WLS"."""
    parts = code.upper().split("-")
    return " ".join("-".join(parts[: i + 1]) for i in range(len(parts)))


def entity_fields(doc: EntityDoc) -> dict[str, Any]:
    """An entity as index field values, with the stored fields a result list shows."""
    data = {
        "name": doc.name,
        "kind": doc.kind,
        "jurisdiction": doc.jurisdiction,
        "sector": doc.sector,
        "score": doc.score,
        "band": doc.band,
        "registration_id": doc.registration_id,
        "aliases": list(doc.aliases),
        "parent": doc.parent,
        "sanction": doc.sanction,
    }
    names = "\n".join(doc.aliases)
    key = name_key_of(doc.name)
    return {
        "uid": f"entity:{doc.key}",
        "doc_type": "entity",
        "key": doc.key,
        "data": data,
        "name": doc.name,
        "aliases": names,
        "name_ngram": f"{doc.name}\n{names}",
        "ident": ident_form(doc.registration_id or "")[:MAX_ID_LENGTH],
        "kind": doc.kind,
        "jurisdiction": doc.jurisdiction.upper(),
        "jurisdictions": jurisdiction_path(doc.jurisdiction),
        "sector": doc.sector or "",
        "band": doc.band or "",
        "sanction": UNDER_SANCTION if doc.sanction else "",
        "sort_name": key,
        "sort_num": -1.0 if doc.score is None else float(doc.score),
    }


def record_fields(doc: RecordDoc) -> dict[str, Any]:
    """A record as index field values, with the stored fields a result list shows."""
    data = {
        "title": doc.title,
        "summary": doc.summary,
        "entity_key": doc.entity_key,
        "entity_name": doc.entity_name,
        "agency": doc.agency,
        "agency_name": doc.agency_name,
        "category": doc.category,
        "severity": doc.severity,
        "nature": doc.nature,
        "jurisdiction": doc.jurisdiction,
        "status": doc.status,
        "decided_on": doc.decided_on.isoformat(),
        "published_at": doc.published_at.isoformat() if doc.published_at else None,
        "penalty_amount": doc.penalty_amount,
        "penalty_currency": doc.penalty_currency,
    }
    return {
        "uid": f"record:{doc.key}",
        "doc_type": "record",
        "key": doc.key,
        "data": data,
        "title": doc.title,
        "summary": doc.summary or "",
        "statute": doc.statute or "",
        "entity_name": doc.entity_name,
        "agency_name": doc.agency_name,
        "entity_key": doc.entity_key,
        "ident": ident_form(doc.key)[:MAX_ID_LENGTH],
        "agency": doc.agency,
        "category": doc.category,
        "year": str(doc.decided_on.year),
        "nature": doc.nature,
        "severity": doc.severity,
        "jurisdiction": doc.jurisdiction.upper(),
        "jurisdictions": jurisdiction_path(doc.jurisdiction),
        "sort_name": name_key_of(doc.title),
        "sort_num": float(doc.decided_on.toordinal()),
    }


def vocabulary(doc_type: str, data: Mapping[str, Any]) -> list[str]:
    """The words of a hit a "did you mean" may draw on: names, or record title and text."""
    if doc_type == "entity":
        texts = [data["name"], *data.get("aliases", [])]
    else:
        texts = [data["title"], data["entity_name"], data.get("summary") or ""]
    return [t for text in texts for t, _s, _e in name_spans(text)]


def uid_of(doc: Doc) -> str:
    """The index-wide unique id of a document: its type and key."""
    return f"{'entity' if isinstance(doc, EntityDoc) else 'record'}:{doc.key}"


def doc_fields(doc: Doc) -> dict[str, Any] | None:
    """Index fields of a document, or None when it must not be searchable."""
    if isinstance(doc, EntityDoc):
        return entity_fields(doc)
    return record_fields(doc) if doc.status in PUBLIC_STATUSES else None


def searchable_fields(docs: Iterable[Doc]) -> Iterator[dict[str, Any]]:
    """The fields of each searchable document, the first of a repeated uid only.

    A source that promises unique documents (`unique = True`, as the portal's
    `all_documents` does: slugs and refs are unique in the database) is not tracked:
    at 1,000,000 entities the set of uids alone would hold about 400 MB.
    """
    unique = bool(getattr(docs, "unique", False))
    seen: set[str] = set()
    for doc in docs:
        fields = doc_fields(doc)
        if fields is None:
            continue
        if not unique:
            if fields["uid"] in seen:
                continue
            seen.add(fields["uid"])
        yield fields
