"""The smallest documents that show each case."""

from __future__ import annotations

from datetime import date
from typing import Any

from search.base import ChangeBatch, Doc, EntityDoc, RecordDoc, SearchBackend


def entity(name: str, key: str | None = None, **fields: Any) -> EntityDoc:
    """An entity; the key defaults to a slug of the name."""
    fields.setdefault("kind", "business")
    fields.setdefault("jurisdiction", "GB")
    slug = key or "-".join("".join(c for c in name.lower() if c.isalnum() or c == " ").split())
    return EntityDoc(key=slug or "x", name=name, **fields)


def record(key: str, title: str, **fields: Any) -> RecordDoc:
    """A published record of an entity called Acme."""
    defaults: dict[str, Any] = {
        "entity_key": "acme",
        "entity_name": "Acme Ltd",
        "agency": "ico",
        "agency_name": "Information Commissioner's Office",
        "nature": "violation",
        "category": "data_protection",
        "severity": "moderate",
        "decided_on": date(2024, 1, 1),
        "jurisdiction": "GB",
    }
    return RecordDoc(key=key, title=title, **{**defaults, **fields})


def index(backend: SearchBackend, *docs: Doc, seq: int = 1) -> SearchBackend:
    """Apply documents as one batch and return the backend."""
    backend.apply(ChangeBatch(seq=seq, upserts=docs))
    return backend
