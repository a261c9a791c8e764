"""Screening a list of names against the register, as procurement officers and banks do.

For each name: candidates from the search index (the name's words, then its
registration id), each scored in [0, 1] with rapidfuzz on folded names, with the
features that matched, its band and every measure in force. The thresholds are
in docs/search.md with the precision and recall measured on real data.

    score = name similarity (best of the name and every alias, legal forms dropped)
            x 0.9 + 0.1 when the jurisdiction given is the entity's (name alone
            when none is given); a registration id that matches lifts it to at
            least 0.98, one that differs caps it at 0.7.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rapidfuzz import fuzz
from sqlmodel import Session, col, select

from portal.errors import PortalError, ValidationFailed
from portal.models import PUBLIC_STATUSES, Agency, Entity, Record
from portal.services.measures import measure_in_force
from portal.services.search.index import SearchIndex
from portal.services.search.searching import search_register
from search.base import MAX_QUERY_LENGTH, SearchQuery
from search.names import LEGAL_FORMS, fold, name_tokens

MATCH = 0.90
POSSIBLE = 0.75
# Candidates below this are not worth a reader's time.
SHOWN = 0.60
CANDIDATES = 10
MAX_BATCH = 500
_LEGAL = frozenset(LEGAL_FORMS.values())
# What a candidate can have matched on, as the API names it.
NAME_FOLDED, LEGAL_FORM_DROPPED, ALIAS = "name folded", "legal form dropped", "alias"
SAME_JURISDICTION, REGISTRATION_ID = "jurisdiction", "registration id"
FEATURES = (NAME_FOLDED, LEGAL_FORM_DROPPED, ALIAS, SAME_JURISDICTION, REGISTRATION_ID)
FIELDS = ("name", "jurisdiction", "registration_id", "address", "kind")
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class ScreenQuery:
    """One name to screen, with what else is known about it."""

    name: str
    jurisdiction: str | None = None
    registration_id: str | None = None
    address: str | None = None
    kind: str | None = None


@dataclass(frozen=True)
class Candidate:
    """An entity that may be the one screened, with why."""

    slug: str
    name: str
    kind: str
    jurisdiction: str
    score: float
    verdict: str
    features: tuple[str, ...]
    matched_name: str
    band: str | None
    entity_score: float | None
    measures: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class ScreenResult:
    """The candidates for one query, best first; empty when nothing in the register fits."""

    query: ScreenQuery
    candidates: tuple[Candidate, ...] = field(default_factory=tuple)

    @property
    def verdict(self) -> str:
        """match or possible match (the best candidate's verdict), else no match."""
        best = self.candidates[0].verdict if self.candidates else "no match"
        return best if best in ("match", "possible match") else "no match"


def parse_queries(items: Any) -> list[ScreenQuery]:
    """Validate a JSON batch of queries; ValidationFailed names each bad one."""
    if not isinstance(items, list) or not items:
        raise ValidationFailed("queries must be a non-empty list.", {"queries": "is required"})
    if len(items) > MAX_BATCH:
        raise ValidationFailed(
            f"At most {MAX_BATCH} queries per request.", {"queries": f"has {len(items)}"}
        )
    errors: dict[str, str] = {}
    queries = []
    for number, item in enumerate(items):
        query = _query(item)
        if isinstance(query, str):
            errors[f"queries[{number}]"] = query
        else:
            queries.append(query)
    if errors:
        raise ValidationFailed("Some queries are not valid.", errors)
    return queries


def _query(item: Any) -> ScreenQuery | str:
    """One query object, or what is wrong with it."""
    if not isinstance(item, dict):
        return "must be an object with a name"
    unknown = set(item) - set(FIELDS)
    if unknown:
        return f"unknown fields: {', '.join(sorted(unknown))[:200]}"
    values = {
        k: item.get(k) for k in ("name", "jurisdiction", "registration_id", "address", "kind")
    }
    if any(v is not None and not isinstance(v, str) for v in values.values()):
        return "every field must be text"
    name = (values["name"] or "").strip()
    if not name:
        return "name is required"
    if len(name) > MAX_QUERY_LENGTH:
        return f"name is longer than {MAX_QUERY_LENGTH} characters"
    clean = {k: (v.strip() or None) if isinstance(v, str) else None for k, v in values.items()}
    clean["name"] = name
    if clean["jurisdiction"]:
        clean["jurisdiction"] = clean["jurisdiction"].upper()
    return ScreenQuery(**clean)


def _key(name: str) -> str:
    """A name compared without case, accents, punctuation or legal forms.

    Names in a script that folding to Latin letters drops (Arabic, Chinese) are
    compared by their own words instead.
    """
    tokens = name_tokens(name)
    kept = [t for t in tokens if t not in _LEGAL] or tokens
    return " ".join(kept) or " ".join(_WORD.findall(name.casefold()))


def _ident(text: str | None) -> str:
    """A registration id reduced to its folded letters and digits."""
    return "".join(_WORD.findall(fold(text or "")))


def _similarity(query: str, names: Sequence[str]) -> tuple[float, str, bool]:
    """The best similarity of the query to any of the names, that name, and if it was exact."""
    wanted = _key(query)
    best, best_name, exact = 0.0, names[0] if names else "", False
    for name in names:
        key = _key(name)
        value = fuzz.token_sort_ratio(wanted, key) / 100 if key else 0.0
        if value > best:
            best, best_name, exact = value, name, key == wanted
    return best, best_name, exact


def score_candidate(
    query: ScreenQuery, fields: dict[str, Any]
) -> tuple[float, tuple[str, ...], str]:
    """Score one entity (its stored search fields) against a query; the features that matched."""
    name = str(fields.get("name") or "")
    aliases = [str(a) for a in fields.get("aliases") or []]
    similarity, matched, exact = _similarity(query.name, [name, *aliases])
    features = []
    if exact:
        features.append(NAME_FOLDED)
        if name_tokens(query.name) != name_tokens(matched):
            features.append(LEGAL_FORM_DROPPED)
    if matched != name and similarity > 0:
        features.append(ALIAS)
    score = similarity
    if query.jurisdiction:
        same = query.jurisdiction == str(fields.get("jurisdiction") or "").upper()
        score = similarity * 0.9 + (0.1 if same else 0.0)
        if same:
            features.append(SAME_JURISDICTION)
    theirs = _ident(fields.get("registration_id"))
    if query.registration_id and theirs:
        if _ident(query.registration_id) == theirs:
            features.append(REGISTRATION_ID)
            score = max(score, 0.98)
        else:
            score = min(score, 0.70)
    return round(min(score, 1.0), 3), tuple(features), matched


def verdict_of(score: float) -> str:
    """match (>= MATCH), possible match (>= POSSIBLE), or weak."""
    if score >= MATCH:
        return "match"
    return "possible match" if score >= POSSIBLE else "weak"


def _candidates(index: SearchIndex, query: ScreenQuery) -> dict[str, dict[str, Any]]:
    """Stored fields of the entities the index finds for a name or registration id."""
    found: dict[str, dict[str, Any]] = {}
    texts = [query.name[:MAX_QUERY_LENGTH]]
    if query.registration_id:
        texts.append(query.registration_id[:MAX_QUERY_LENGTH])
    for text in texts:
        search = SearchQuery(
            text=text, doc_type="entity", per_page=CANDIDATES, with_facets=False,
            with_highlights=False,
        )  # fmt: skip
        try:
            results, _current = search_register(index, search)
        except PortalError:
            # A name the engine refuses (a lone wildcard, say) matches nothing here.
            continue
        for hit in results.hits:
            found.setdefault(hit.key, dict(hit.fields))
    return found


def screen(
    session: Session, index: SearchIndex, queries: Iterable[ScreenQuery], today: date
) -> list[ScreenResult]:
    """Screen each query; the measures in force of every candidate are read in one query."""
    scored: list[tuple[ScreenQuery, list[tuple[str, dict[str, Any], float, tuple, str]]]] = []
    for query in queries:
        rows = []
        for slug, fields in _candidates(index, query).items():
            value, features, matched = score_candidate(query, fields)
            if value >= SHOWN:
                rows.append((slug, fields, value, features, matched))
        rows.sort(key=lambda r: (-r[2], r[1].get("name") or "", r[0]))
        scored.append((query, rows[:CANDIDATES]))
    measures = measures_in_force(session, {slug for _q, rows in scored for slug, *_ in rows}, today)
    return [
        ScreenResult(
            query,
            tuple(
                Candidate(
                    slug=slug,
                    name=str(fields.get("name") or ""),
                    kind=str(fields.get("kind") or ""),
                    jurisdiction=str(fields.get("jurisdiction") or ""),
                    score=value,
                    verdict=verdict_of(value),
                    features=features,
                    matched_name=matched,
                    band=fields.get("band"),
                    entity_score=fields.get("score"),
                    measures=tuple(measures.get(slug, ())),
                )
                for slug, fields, value, features, matched in rows
            ),
        )
        for query, rows in scored
    ]


def measures_in_force(
    session: Session, slugs: set[str], today: date
) -> dict[str, list[dict[str, Any]]]:
    """Each entity's measures in force today, with the agency that imposed them."""
    if not slugs:
        return {}
    rows = session.exec(
        select(Entity.slug, Record, Agency.name)
        .join(Record, col(Record.entity_id) == Entity.id)
        .join(Agency, col(Agency.id) == Record.agency_id)
        .where(
            col(Entity.slug).in_(slugs),
            col(Record.measure).is_not(None),
            col(Record.status).in_(PUBLIC_STATUSES),
        )
    ).all()
    found: dict[str, list[dict[str, Any]]] = {}
    for slug, record, agency in rows:
        if measure_in_force(record, today):
            found.setdefault(slug, []).append(
                {
                    "record": record.ref,
                    "measure": record.measure,
                    "agency": agency,
                    "since": (record.in_force_from or record.decided_on).isoformat(),
                    "until": record.in_force_until.isoformat() if record.in_force_until else None,
                }
            )
    for items in found.values():
        items.sort(key=lambda m: (m["since"], m["record"]))
    return found
