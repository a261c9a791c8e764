"""Readable labels for search facets: kinds, score bands (from the rulebook) and agency names."""

from __future__ import annotations

import threading
from datetime import date

from sqlmodel import select

import scoring
from portal.db import Database
from portal.models import KIND_LABELS, KIND_SINGULAR, Agency, utcnow
from search.base import UNDER_SANCTION, SearchResults

_agency_lock = threading.Lock()


def band_labels(on: date | None = None) -> dict[str, str]:
    """Each band's code and label in the default rulebook in force (today), best band first."""
    rulebook = scoring.default_rulebooks().select("default", on or utcnow().date())
    return {band.code: band.label for band in reversed(rulebook.bands)}


def agency_names(db: Database, known: dict[str, str], slugs: set[str]) -> dict[str, str]:
    """Agency names by slug, kept in `known`, read from the database only for slugs it lacks.

    Agencies are added but never renamed or removed, so a name once read stays right;
    a search page on a current index then runs no SQL at all.
    """
    if not slugs <= known.keys():
        with db.session() as session:
            read = dict(session.exec(select(Agency.slug, Agency.name)).all())
        with _agency_lock:
            known.update(read)
    return known


def facet_labels(
    db: Database, known_agencies: dict[str, str], results: SearchResults | None
) -> dict[str, dict[str, str]]:
    """Readable labels for the facet values on the page (agency names kept in `known_agencies`)."""
    shown = {slug for slug, _count in results.facets.get("agency", ())} if results else set()
    return {
        "kind": {str(k): v for k, v in KIND_LABELS.items()},
        "kind_one": {str(k): v for k, v in KIND_SINGULAR.items()},
        "band": {code: f"{code}: {label}" for code, label in band_labels().items()},
        "agency": agency_names(db, known_agencies, shown),
        "sanction": {UNDER_SANCTION: "Under sanction now"},
    }
