"""Writing the demo: reference data through the services, the bulk in streamed batches.

The batches are generated and chained onto the change log here, and written by
`portal.services.bulk`.
"""

from __future__ import annotations

import resource
import secrets
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import click
from sqlalchemy import func
from sqlmodel import select

import scoring
from portal.db import Database
from portal.demo import reference as ref
from portal.demo.generate import Batch, DemoGenerator
from portal.errors import PortalError
from portal.models import Entity, Role, utcnow
from portal.services.access import Actor
from portal.services.accounts import create_user
from portal.services.audit import chain_head, make_event
from portal.services.bulk import insert_rows, start_counter, sync_id_sequences
from portal.services.due_process import decide_claim, register_representative
from portal.services.entities import ensure_jurisdiction
from portal.services.records import snapshot
from portal.services.register import create_agency
from portal.services.scores import compute_score

BATCH_SIZE = 2000
DEMO_PASSWORD = "demo-password-local-only"  # noqa: S105 - documented, demo registers only
DEMO_ACTOR = "demo"


@dataclass
class DemoReport:
    """What the demo loaded, how long it took and the peak memory it needed."""

    entities: int = 0
    records: int = 0
    events: int = 0
    seconds: float = 0.0
    peak_mb: float = 0.0

    def summary(self) -> str:
        """One line for the terminal."""
        return (
            f"Demo loaded: {self.entities:,} entities, {self.records:,} records, "
            f"{self.events:,} change-log events in {self.seconds:.1f} s "
            f"(peak memory {self.peak_mb:.0f} MB)."
        )


def load_demo(
    db: Database,
    data_dir: str,
    entities: int = 2000,
    seed: int = 1,
    today: date | None = None,
    progress: bool = True,
) -> DemoReport:
    """Load the demo into an empty register: same seed and day, same data."""
    started = time.perf_counter()
    today = today or utcnow().date()
    with db.session() as session:
        if session.exec(select(func.count()).select_from(Entity)).one():
            raise PortalError(
                "The register already holds entities; the demo loads only into "
                "an empty one (use a new PORTAL_DATA_DIR)."
            )
    agency_ids = _reference_data(db, today)
    loader = _BatchLoader(db, DemoGenerator(seed, today, agency_ids), today)
    with _progress(entities, progress) as bar:
        for batch_no, first in enumerate(range(1, entities + 1, BATCH_SIZE)):
            count = min(BATCH_SIZE, entities - first + 1)
            loader.load(batch_no, first, count)
            bar(count)
    loader.finish()
    _demo_accounts(db, today)
    _mark_demo_dir(Path(data_dir), seed, today)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return DemoReport(
        entities, loader.records, loader.events, time.perf_counter() - started, peak_kb / 1024
    )


@contextmanager
def _progress(total: int, enabled: bool) -> Iterator[Any]:
    """A progress bar on stderr, or a no-op."""
    if not enabled:
        yield lambda n: None
        return
    with click.progressbar(length=total, label="Demo entities", file=sys.stderr) as bar:
        yield bar.update


def _reference_data(db: Database, today: date) -> dict[str, int]:
    """Jurisdictions and agencies, created through the services so they are logged."""
    actor = Actor.cli(DEMO_ACTOR)
    # Stamped at the start of the simulated history, so that the log repeats exactly.
    start = datetime.combine(today - timedelta(days=7 * 365), datetime.min.time(), UTC)
    ids = {}
    with db.writing() as session:
        for code, _parent, _locale, _currency in ref.JURISDICTIONS:
            ensure_jurisdiction(session, actor, code, start)
        for agency in ref.AGENCIES:
            row = create_agency(
                session,
                actor,
                agency.slug,
                agency.name,
                agency.jurisdiction,
                list(agency.categories),
                agency.second_approval,
                start,
            )
            ids[agency.slug] = row.id or 0
    return ids


class _BatchLoader:
    """Inserts batches with plain multi-row INSERTs and extends the hash chain."""

    def __init__(self, db: Database, generator: DemoGenerator, today: date) -> None:
        """Start after the current head of the change log."""
        self.db, self.generator, self.today = db, generator, today
        self.actor = Actor.cli(DEMO_ACTOR)
        with db.session() as session:
            self.seq, self.prev_hash = chain_head(session)
        self.next_record_id = 1
        self.records = self.events = 0

    def load(self, batch_no: int, first: int, count: int) -> None:
        """Generate, score and write one batch in its own transaction."""
        batch = self.generator.batch(batch_no, first, count, self.next_record_id)
        self.next_record_id += len(batch.records)
        self._score(batch)
        events = self._events(batch)
        tables = {
            "entity": batch.entities,
            "entityalias": batch.aliases,
            "record": batch.records,
            "recordrevision": batch.revisions,
            "appeal": batch.appeals,
            "response": batch.responses,
            "auditevent": events,
        }
        with self.db.writing() as session:
            insert_rows(session, self.actor, tables)
        self.records += len(batch.records)
        self.events += len(events)

    def _score(self, batch: Batch) -> None:
        """Each entity's current score from its records' final states."""
        by_entity: dict[int, list[scoring.RecordFacts]] = {}
        for row in batch.records:
            by_entity.setdefault(row["entity_id"], []).append(_facts(row))
        for entity in batch.entities:
            facts = scoring.EntityFacts(
                entity["kind"], entity["jurisdiction_code"], entity["term_end"]
            )
            result = compute_score(facts, by_entity.get(entity["id"], []), self.today)
            entity.update(
                score=result.value,
                band=result.band,
                trusted=result.trusted,
                watchlist=result.watchlist,
                score_rulebook=f"{result.rulebook_id} {result.rulebook_version}",
            )

    def _events(self, batch: Batch) -> list[dict[str, Any]]:
        """The batch's change-log events, chained after the current head."""
        by_entity: dict[int, list[dict[str, Any]]] = {}
        for row in batch.records:
            by_entity.setdefault(row["entity_id"], []).append(row)
        events = []
        for entity in batch.entities:
            records = by_entity.get(entity["id"], [])
            first = min((batch.histories[r["ref"]][0][0] for r in records), default=None)
            created = (
                first
                or datetime.combine(self.today, datetime.min.time(), UTC) - timedelta(days=2000)
            ) - timedelta(days=30)
            entity["created_at"] = entity["updated_at"] = created
            events.append(
                self._event(
                    "entity.created",
                    ("entity", entity["slug"]),
                    _entity_payload(entity),
                    entity["id"],
                    created,
                )
            )
            for record in records:
                for when, action, extra, state in batch.histories[record["ref"]]:
                    payload = {"record": snapshot(SimpleNamespace(**state)), **extra}
                    events.append(
                        self._event(action, ("record", record["ref"]), payload, entity["id"], when)
                    )
        return events

    def _event(
        self,
        action: str,
        obj: tuple[str, str],
        payload: dict[str, Any],
        entity_id: int,
        when: datetime,
    ) -> dict[str, Any]:
        """One chained event as a row dict."""
        event = make_event(
            self.seq + 1, self.prev_hash, DEMO_ACTOR, action, obj, payload, entity_id, when
        )
        self.seq, self.prev_hash = event.seq, event.hash
        return event.model_dump()

    def finish(self) -> None:
        """Set the record-number counter and, on PostgreSQL, the id sequences."""
        with self.db.writing() as session:
            start_counter(session, self.actor, "record", self.next_record_id - 1)
            if not self.db.is_sqlite:
                sync_id_sequences(session, self.actor, ("entity", "record"))


def _facts(row: dict[str, Any]) -> scoring.RecordFacts:
    """A generated record as the scoring engine sees it."""
    published = row["published_at"].date() if row["published_at"] else None
    return scoring.RecordFacts(
        ref=row["ref"],
        nature=row["nature"],
        category=row["category"],
        severity=row["severity"],
        decided_on=row["decided_on"],
        status=row["status"],
        published_on=published,
        remediated_on=row["remediated_on"],
    )


def _entity_payload(entity: dict[str, Any]) -> dict[str, Any]:
    """The entity.created payload, with the keys the entity service logs."""
    keys = (
        "name",
        "kind",
        "slug",
        "sector",
        "registration_id",
        "role_title",
        "term_start",
        "term_end",
    )
    payload = {key: entity.get(key) for key in keys}
    payload.update(
        jurisdiction=entity["jurisdiction_code"],
        parent_id=entity["parent_id"],
        body_id=entity["body_id"],
    )
    return payload


def _demo_accounts(db: Database, today: date) -> None:
    """An admin, two regulators of one agency (to try four eyes) and representatives.

    Their local-only password is in the README; sign-in refuses these accounts
    unless the data directory was made by `portal demo`. Claims are shown in
    each state: verified, pending and rejected.
    """
    actor = Actor.cli(DEMO_ACTOR)
    when = datetime.combine(today, datetime.min.time(), UTC)
    with db.writing() as session:
        businesses = session.exec(
            select(Entity.slug).where(Entity.kind == "business").order_by(Entity.id).limit(3)
        ).all()
        for email, role, agency in (
            ("admin@demo.invalid", Role.ADMIN, None),
            ("regulator.one@demo.invalid", Role.REGULATOR, "ico"),
            ("regulator.two@demo.invalid", Role.REGULATOR, "ico"),
            # Whoever wrote, approved or published a finding may not decide its appeal.
            ("regulator.three@demo.invalid", Role.REGULATOR, "ico"),
        ):
            create_user(session, actor, email, DEMO_PASSWORD, role, agency, None, when)
        for (email, verdict), slug in zip(CLAIMS, businesses, strict=False):
            claim = register_representative(
                session,
                email,
                DEMO_PASSWORD,
                slug,
                "I am the company secretary; see the annual report.",
            )
            if verdict is not None:
                decide_claim(session, actor, claim, verdict, CLAIM_REASONS[verdict])


CLAIMS = (
    ("representative@demo.invalid", True),
    ("pending.claim@demo.invalid", None),
    ("rejected.claim@demo.invalid", False),
)
CLAIM_REASONS = {
    True: "Confirmed against the company's published annual report.",
    False: "The annual report names another company secretary.",
}


def _mark_demo_dir(data_dir: Path, seed: int, today: date) -> None:
    """Keep a local secret key and mark the data directory as holding demo data."""
    data_dir.mkdir(parents=True, exist_ok=True)
    key = data_dir / "secret_key"
    if not key.exists():
        key.write_text(secrets.token_hex(32))
        key.chmod(0o600)
    (data_dir / "DEMO").write_text(f"seed={seed}\ntoday={today.isoformat()}\n")
