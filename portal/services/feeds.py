"""Atom feeds of published findings, built from the change log.

Each entry is one public step in a record's life (published, corrected,
appealed, appeal decided, withdrawn), newest first. A record that has been
withdrawn or overturned keeps its entries, but none of them repeats the
allegation: they say only what happened to the record. Officials' records past
the retention period leave the feeds as they leave every other page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from feedgen.feed import FeedGenerator
from sqlalchemy import Select
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from portal.errors import NotFound
from portal.models import ENDED_STATUSES, Agency, AuditEvent, Entity, Record, RecordStatus
from portal.services.exports import in_view

FEED_SIZE = 50
FEED_ACTIONS = {
    "record.published": "Published",
    "record.corrected": "Corrected",
    "appeal.filed": "Appealed",
    "appeal.decided": "Appeal decided",
    "record.withdrawn": "Withdrawn",
    "record.lifted": "Measure lifted",
}
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class FeedScope:
    """Which findings a feed follows: the whole register, one entity or one agency."""

    kind: str
    slug: str
    title: str
    page_path: str
    feed_path: str
    entity_id: int | None = None
    agency_id: int | None = None

    @property
    def key(self) -> str:
        """A short name for the feed, for its ETag."""
        return f"{self.kind}-{self.slug}" if self.slug else self.kind


@dataclass(frozen=True)
class FeedEntry:
    """One public step of one record."""

    seq: int
    at: datetime
    action: str
    ref: str
    title: str
    text: str
    author: str


def feed_scope(session: Session, kind: str = "register", slug: str = "") -> FeedScope:
    """The scope of a feed, or NotFound for an unknown entity or agency."""
    if kind == "entity":
        entity = session.exec(select(Entity).where(Entity.slug == slug)).first()
        if entity is None:
            raise NotFound(f"No entity has the slug {slug!r}.")
        title = f"{entity.name}: findings in the Accountability Portal"
        path = f"/entities/{slug}"
        return FeedScope(kind, slug, title, path, f"{path}/feed.atom", entity_id=entity.id)
    if kind == "agency":
        agency = session.exec(select(Agency).where(Agency.slug == slug)).first()
        if agency is None:
            raise NotFound(f"No agency has the slug {slug!r}.")
        title = f"{agency.name}: findings published in the Accountability Portal"
        path = f"/agencies/{slug}"
        return FeedScope(kind, slug, title, path, f"{path}/feed.atom", agency_id=agency.id)
    title = "Accountability Portal: newest findings"
    return FeedScope("register", "", title, "/", "/feed.atom")


_EVENT_COLUMNS = (
    AuditEvent.seq,
    AuditEvent.occurred_at,
    AuditEvent.action,
    AuditEvent.payload,
    Record.ref,
    Record.title,
    Record.summary,
    Record.status,
    Record.revision,
    Record.measure,
    Record.in_force_from,
    Record.in_force_until,
    Record.decided_on,
    Entity.kind,
    Entity.jurisdiction_code,
    Entity.term_end,
)


def _events(scope: FeedScope, before: int | None, limit: int) -> Select[Any]:
    """The feed's change-log events (before seq `before`), newest first, with their record."""
    stmt = (
        core_select(
            *_EVENT_COLUMNS,
            col(Entity.name).label("entity_name"),
            col(Agency.name).label("agency_name"),
        )
        .join(Record, col(Record.ref) == AuditEvent.object_id)
        .join(Entity, col(Entity.id) == Record.entity_id)
        .join(Agency, col(Agency.id) == Record.agency_id)
        .where(col(AuditEvent.action).in_(FEED_ACTIONS))
        .order_by(col(AuditEvent.seq).desc())
        .limit(limit)
    )
    # Every feed action is logged on a record. Naming the object type lets the planner
    # use the (object_type, object_id) index, which pays only for one entity's few
    # records; for the register and an agency, walking the log backwards is faster.
    if scope.entity_id is not None:
        refs = core_select(Record.ref).where(Record.entity_id == scope.entity_id)
        stmt = stmt.where(AuditEvent.object_type == "record", col(AuditEvent.object_id).in_(refs))
    if scope.agency_id is not None:
        stmt = stmt.where(Record.agency_id == scope.agency_id)
    if before is not None:
        stmt = stmt.where(AuditEvent.seq < before)
    return stmt


def _changes(changes: dict[str, Any]) -> str:
    """A correction's changes in words."""
    parts = [
        f"{name.replace('_', ' ')} from “{change.get('from')}” to “{change.get('to')}”"
        for name, change in changes.items()
    ]
    return "; ".join(parts)


def _ended_text(row: Any, payload: dict[str, Any]) -> tuple[str, str]:
    """Title and text for a step of a withdrawn or overturned record: no allegation."""
    what = "overturned on appeal" if row.status == RecordStatus.OVERTURNED else "withdrawn"
    label = FEED_ACTIONS[row.action]
    text = (
        f"Record {row.ref} about {row.entity_name} was later {what}. "
        "It no longer counts and its content is no longer shown."
    )
    if row.action in ("record.withdrawn", "appeal.decided") and payload.get("reason"):
        text += f" Reason given: {payload['reason']}"
    return f"{label}: record {row.ref} ({row.entity_name})", text


def _live_text(row: Any, payload: dict[str, Any]) -> tuple[str, str]:
    """Title and text for a step of a record that is public."""
    title = f"{FEED_ACTIONS[row.action]}: {row.title} ({row.entity_name})"
    if row.action == "record.corrected":
        text = f"Corrected (revision {row.revision}): {_changes(payload.get('changes') or {})}."
        text += f" Reason: {payload.get('reason') or 'not given'}"
    elif row.action == "appeal.filed":
        text = "The finding was appealed; it does not count until the appeal is decided."
    elif row.action == "appeal.decided":
        text = f"The appeal was {payload.get('outcome', 'decided')}. {payload.get('reason') or ''}"
    elif row.action == "record.lifted":
        measure = (row.measure or "measure").replace("_", " ").capitalize()
        text = f"{measure} lifted by {row.agency_name} on {payload.get('on')}. "
        text += f"Reason: {payload.get('reason') or 'not given'}"
    else:
        text = f"{row.summary or row.title} Published by {row.agency_name}.{_period(row)}"
    if row.status == RecordStatus.UNDER_APPEAL and row.action != "appeal.filed":
        text += " This finding is now under appeal."
    return title, text.strip()


def _period(row: Any) -> str:
    """A measure's period in words, or nothing for a record without a measure."""
    if not row.measure:
        return ""
    measure = row.measure.replace("_", " ").capitalize()
    start = (row.in_force_from or row.decided_on).isoformat()
    until = f"until {row.in_force_until.isoformat()}" if row.in_force_until else "until lifted"
    return f" {measure} in force from {start} {until}."


def _entry(row: Any) -> FeedEntry:
    """One change-log row as a feed entry."""
    payload = json.loads(row.payload)
    make = _ended_text if row.status in ENDED_STATUSES else _live_text
    title, text = make(row, payload)
    at = row.occurred_at if row.occurred_at.tzinfo else row.occurred_at.replace(tzinfo=UTC)
    return FeedEntry(row.seq, at, row.action, row.ref, title, text, row.agency_name)


def feed_entries(session: Session, scope: FeedScope, limit: int = FEED_SIZE) -> list[FeedEntry]:
    """The newest `limit` public steps in the scope, newest first."""
    entries: list[FeedEntry] = []
    before: int | None = None
    conn = session.connection()
    while len(entries) < limit:
        rows = conn.execute(_events(scope, before, limit * 2)).all()
        for row in rows:
            if _public(row):
                entries.append(_entry(row))
        if len(rows) < limit * 2:
            break
        before = rows[-1].seq
    return entries[:limit]


def _public(row: Any) -> bool:
    """Whether the row's entity still has its records in public view today."""
    return in_view(str(row.kind), row.jurisdiction_code, row.term_end, datetime.now(UTC).date())


def render_atom(
    scope: FeedScope, entries: list[FeedEntry], head: tuple[int, str], base_url: str
) -> bytes:
    """The Atom document; the change-log head (seq and hash) is in its subtitle and a link."""
    root = base_url.rstrip("/")
    feed = FeedGenerator()
    feed.id(root + scope.feed_path)
    feed.title(scope.title)
    feed.subtitle(f"Change log head: seq {head[0]}, sha256 {head[1]}")
    feed.author({"name": "Accountability Portal", "uri": root + "/"})
    feed.link(href=root + scope.feed_path, rel="self", type="application/atom+xml")
    feed.link(href=root + scope.page_path, rel="alternate", type="text/html")
    feed.link(
        href=f"{root}/open-data#change-log",
        rel="related",
        title=f"change log head seq {head[0]} sha256 {head[1]}",
    )
    feed.rights("CC BY 4.0; imported data keeps its source's terms (see /open-data)")
    feed.language("en")
    feed.updated(entries[0].at if entries else EPOCH)
    for item in reversed(entries):  # feedgen prepends: add oldest first
        _add_entry(feed, item, root)
    return feed.atom_str(pretty=True)  # type: ignore[no-any-return]


def _add_entry(feed: FeedGenerator, item: FeedEntry, root: str) -> None:
    """One entry linking to its record."""
    entry = feed.add_entry()
    url = f"{root}/records/{item.ref}"
    entry.id(f"{url}#change-{item.seq}")
    entry.title(item.title)
    entry.link(href=url, rel="alternate", type="text/html")
    entry.updated(item.at)
    entry.published(item.at)
    entry.author({"name": item.author})
    entry.category(term=item.action, label=FEED_ACTIONS[item.action])
    entry.summary(item.text)
