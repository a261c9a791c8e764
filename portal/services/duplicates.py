"""Likely duplicate entities, with their evidence, and the decisions taken about them.

Two real debarment lists spell one firm two ways ("Sego Ventures Nigera/Nigeria",
"M/S Gul Construction Co./MS Gul Construction Co.") or under two nationalities, and
an import makes two entities of it. The scan proposes pairs an administrator should
look at; "merge" is the register's merge, "not the same" is remembered and the pair
is never proposed again. Evidence, strongest first:

- the same registration id (folded: case, spaces and punctuation do not matter);
- the same name key (search.names.name_key) in another jurisdiction;
- the same address (folded), or names at least FUZZY_MIN similar (rapidfuzz) among
  entities that share a distinctive word of their name.

The scan reads the register in columns, one pass, and compares only within blocks
of entities sharing a word (a block larger than BLOCK_MAX is a common word and is
skipped), so its time and memory grow with the register, not with its square.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from rapidfuzz import fuzz
from sqlmodel import Session, col, select

from portal.db import Database
from portal.errors import Conflict, ValidationFailed
from portal.models import DuplicateDecision, Entity, utcnow
from portal.services.access import Actor, may_manage_register, require
from portal.services.admin import merge_entities
from portal.services.audit import append_event
from search.names import LEGAL_FORMS, fold, name_tokens

FUZZY_MIN = 90
BLOCK_MAX = 60
_LEGAL = frozenset(LEGAL_FORMS.values())
_WORD = re.compile(r"[^\W_]+")
# Words too common in organisation names to say two names are alike.
COMMON = frozenset(
    [
        "and",
        "the",
        "of",
        "for",
        "de",
        "la",
        "le",
        "du",
        "des",
        "der",
        "die",
        "und",
        "group",
        "international",
        "company",
        "services",
        "holding",
        "holdings",
        "trading",
        "construction",
        "general",
        "national",
        "association",
        "bank",
        "city",
        "county",
        "council",
        "limited",
    ]
)
EVIDENCE = (
    "same registration id",
    "same name, another jurisdiction",
    "same address",
    "similar names",
)


@dataclass(frozen=True)
class Row:
    """The columns of an entity the scan compares."""

    id: int
    slug: str
    name: str
    jurisdiction: str
    name_key: str
    registration_id: str | None
    address: str | None


@dataclass(frozen=True)
class Pair:
    """Two entities that may be one, with why; `low` is the lower id."""

    low: Row
    high: Row
    evidence: tuple[str, ...]
    similarity: int

    @property
    def key(self) -> tuple[int, int]:
        """The pair's identity, as decisions store it."""
        return (self.low.id, self.high.id)


def _folded(text: str | None) -> str:
    """Letters and digits only, folded."""
    return "".join(_WORD.findall(fold(text or "")))


def _distinctive(row: Row) -> set[str]:
    """The words of a name that may tell it apart (no legal form, no common word)."""
    return {t for t in name_tokens(row.name) if len(t) > 2 and t not in _LEGAL | COMMON}


def _short(name: str) -> str:
    """A name's key without legal forms, for the similarity."""
    return " ".join(t for t in name_tokens(name) if t not in _LEGAL)


def _groups(rows: list[Row]) -> Iterator[tuple[str, list[Row]]]:
    """Rows that share a registration id, a name key or an address, with the evidence."""
    by: dict[str, dict[str, list[Row]]] = {e: defaultdict(list) for e in EVIDENCE[:3]}
    for row in rows:
        if _folded(row.registration_id):
            by[EVIDENCE[0]][_folded(row.registration_id)].append(row)
        by[EVIDENCE[1]][row.name_key].append(row)
        if len(_folded(row.address)) >= 12:
            by[EVIDENCE[2]][_folded(row.address)].append(row)
    for evidence, groups in by.items():
        for members in groups.values():
            if 1 < len(members) <= BLOCK_MAX:
                yield evidence, members


def scan(rows: Iterable[Row], decided: set[tuple[int, int]]) -> list[Pair]:
    """Every likely duplicate pair not decided already, strongest evidence first."""
    rows = list(rows)
    found: dict[tuple[int, int], dict[str, object]] = {}

    def note(a: Row, b: Row, evidence: str, similarity: int) -> None:
        """Keep one piece of evidence about a pair."""
        low, high = (a, b) if a.id < b.id else (b, a)
        if (low.id, high.id) in decided:
            return
        entry = found.setdefault((low.id, high.id), {"rows": (low, high), "why": [], "sim": 0})
        if evidence not in entry["why"]:  # type: ignore[operator]
            entry["why"].append(evidence)  # type: ignore[union-attr]
        entry["sim"] = max(int(entry["sim"]), similarity)  # type: ignore[call-overload]

    for evidence, members in _groups(rows):
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                same_key = a.name_key == b.name_key
                if evidence == EVIDENCE[1] and a.jurisdiction == b.jurisdiction:
                    continue  # one jurisdiction, one name: an import would have joined them
                score = (
                    100 if same_key else int(fuzz.token_sort_ratio(_short(a.name), _short(b.name)))
                )
                note(a, b, evidence, score)
    for a, b, score in _similar(rows):
        note(a, b, EVIDENCE[3], score)
    pairs = [
        Pair(entry["rows"][0], entry["rows"][1], tuple(entry["why"]), int(entry["sim"]))  # type: ignore[index,arg-type,call-overload]
        for entry in found.values()
    ]
    pairs.sort(key=lambda p: (min(EVIDENCE.index(e) for e in p.evidence), -p.similarity, p.key))
    return pairs


def _similar(rows: list[Row]) -> Iterator[tuple[Row, Row, int]]:
    """Pairs with names at least FUZZY_MIN alike among rows sharing a distinctive word."""
    blocks: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        for word in _distinctive(row):
            blocks[word].append(row)
    seen: set[tuple[int, int]] = set()
    for members in blocks.values():
        if not 1 < len(members) <= BLOCK_MAX:
            continue
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                key = (min(a.id, b.id), max(a.id, b.id))
                if key in seen or a.name_key == b.name_key:
                    continue
                seen.add(key)
                score = int(fuzz.token_sort_ratio(_short(a.name), _short(b.name)))
                if score >= FUZZY_MIN:
                    yield a, b, score


def register_rows(session: Session) -> list[Row]:
    """Every entity not merged away, as the scan's columns (one query)."""
    stmt = select(
        Entity.id,
        Entity.slug,
        Entity.name,
        Entity.jurisdiction_code,
        Entity.name_key,
        Entity.registration_id,
        Entity.address,
    ).where(col(Entity.merged_into_id).is_(None))
    return [Row(*values) for values in session.exec(stmt).all()]


def decided_pairs(session: Session) -> set[tuple[int, int]]:
    """The pairs someone has already said are not the same."""
    stmt = select(DuplicateDecision.low_id, DuplicateDecision.high_id)
    return {(low, high) for low, high in session.exec(stmt).all()}


def likely_duplicates(session: Session, actor: Actor, limit: int = 200) -> tuple[list[Pair], int]:
    """The first `limit` likely duplicate pairs for an administrator, and how many there are."""
    require(may_manage_register(actor), "review duplicate entities")
    pairs = scan(register_rows(session), decided_pairs(session))
    return pairs[:limit], len(pairs)


def mark_distinct(session: Session, actor: Actor, low: Entity, high: Entity, reason: str) -> None:
    """Record that two entities are not the same; the pair is never proposed again."""
    require(may_manage_register(actor), "decide about duplicate entities")
    if low.id == high.id:
        raise ValidationFailed("Pick two different entities.", {"entities": "are the same"})
    a, b = sorted((low.id or 0, high.id or 0))
    exists = session.exec(
        select(DuplicateDecision.id).where(
            DuplicateDecision.low_id == a, DuplicateDecision.high_id == b
        )
    ).first()
    if exists:
        raise Conflict("That pair was already decided.")
    text = (reason or "").strip()[:500] or None
    session.add(
        DuplicateDecision(
            low_id=a, high_id=b, decided_by=actor.label, reason=text, created_at=utcnow()
        )
    )
    payload = {"other": high.slug if a == low.id else low.slug, "reason": text}
    first = low if a == low.id else high
    append_event(session, actor, "entity.not_duplicate", ("entity", first.slug), payload, first.id)


def _two(session: Session, first: str, second: str) -> tuple[Entity, Entity]:
    """The two entities a decision names, by slug."""
    found = {
        e.slug: e for e in session.exec(select(Entity).where(col(Entity.slug).in_([first, second])))
    }
    missing = [s for s in (first, second) if s not in found]
    if missing:
        raise ValidationFailed("Unknown entity.", {"entities": f"no entity {missing[0]!r}"})
    return found[first], found[second]


def decide_pair(db: Database, actor: Actor, form: Mapping[str, str]) -> str:
    """Merge a proposed pair (keeping the one chosen) or mark it not the same; a message."""
    pair = (form.get("pair") or "").split()
    keep = form.get("keep") or (pair[0] if pair else "")
    if len(pair) != 2 or keep not in pair:
        raise ValidationFailed("Choose one of the two entities of the pair.", {"keep": keep[:120]})
    other = pair[1] if keep == pair[0] else pair[0]
    with db.writing() as session:
        target, source = _two(session, keep, other)
        if form.get("decision") == "merge":
            merge_entities(session, actor, source, target)
            return f"Merged {source.name} into {target.name}."
        if form.get("decision") == "distinct":
            mark_distinct(session, actor, target, source, form.get("reason", ""))
            return f"{target.name} and {source.name} will not be proposed again."
    raise ValidationFailed("Choose merge or not the same.", {"decision": "is required"})


def resembling(session: Session, new: Iterable[tuple[str, str]], limit: int = 3) -> list[list[Row]]:
    """For each (name, jurisdiction) an import would create, the existing entities it
    resembles: the same name key in another jurisdiction, or a name at least FUZZY_MIN
    alike sharing a distinctive word. One read of the register's names and keys."""
    wanted = list(new)
    if not wanted:
        return []
    words = {w for name, _j in wanted for w in _distinctive(Row(0, "", name, "", "", None, None))}
    keys = {" ".join(name_tokens(name)) for name, _j in wanted}
    by_key: dict[str, list[Row]] = defaultdict(list)
    by_word: dict[str, list[Row]] = defaultdict(list)
    for row in register_rows(session):
        if row.name_key in keys:
            by_key[row.name_key].append(row)
        for word in set(row.name_key.split()) & words:
            by_word[word].append(row)
    found = []
    for name, jurisdiction in wanted:
        key = " ".join(name_tokens(name))
        probe = Row(0, "", name, jurisdiction, key, None, None)
        alike = [r for r in by_key.get(key, []) if r.jurisdiction != jurisdiction]
        for word in _distinctive(probe):
            block = by_word.get(word, [])
            if len(block) > BLOCK_MAX:
                continue
            short = _short(name)
            alike += [
                r
                for r in block
                if r.name_key != key and fuzz.token_sort_ratio(short, _short(r.name)) >= FUZZY_MIN
            ]
        found.append(list({r.id: r for r in alike}.values())[:limit])
    return found
