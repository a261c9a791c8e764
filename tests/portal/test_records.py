"""The record services: each step logged, scored, and refused to the wrong user."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from portal.errors import Conflict, PermissionDenied, ValidationFailed
from portal.models import AuditEvent, Entity, Record, RecordRevision, RecordStatus, Role
from portal.services.access import Actor
from portal.services.entities import update_entity
from portal.services.records import (
    correct_record,
    publish_record,
    remediate_record,
    withdraw_record,
)
from tests.factories import make_agency, make_entity, make_record

RECENTLY = date.today() - timedelta(days=10)


@pytest.fixture
def world(db):
    """Two agencies, an entity, and one published record of the first agency."""
    with db.writing() as session:
        ico = make_agency(session)
        other = make_agency(session, "cnil", name="CNIL", jurisdiction="FR")
        entity = make_entity(session)
        record = make_record(session, ico, entity)
    return {"ico": ico.id, "cnil": other.id, "entity": entity.id, "ref": record.ref}


def _record(session, ref):
    return session.exec(select(Record).where(Record.ref == ref)).one()


def test_refs_are_public_numbers_of_the_year(db, world):
    assert world["ref"].startswith(f"R-{date.today().year}-")
    assert world["ref"].endswith("000001")


def test_publishing_scores_the_entity(db, world):
    with db.session() as session:
        entity = session.get(Entity, world["entity"])
    # GB rulebook: a moderate violation (5 points) x data_protection weight 1.2, full weight.
    assert entity.score == 94.0
    assert entity.band == "A"


def test_correction_is_a_new_revision_and_keeps_the_old(db, world):
    with db.writing() as session:
        record = _record(session, world["ref"])
        correct_record(session, Actor.cli(), record, {"severity": "serious"}, "Misclassified.")
    with db.session() as session:
        record = _record(session, world["ref"])
        revisions = session.exec(
            select(RecordRevision)
            .where(RecordRevision.record_id == record.id)
            .order_by(RecordRevision.revision)
        ).all()
        event = session.exec(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        entity = session.get(Entity, world["entity"])
    assert record.revision == 2 and record.severity == "serious"
    assert [r.fields["severity"] for r in revisions] == ["moderate", "serious"]
    assert revisions[1].reason == "Misclassified."
    assert event.action == "record.corrected"
    assert '"changes":{"severity":{"from":"moderate","to":"serious"}}' in event.payload
    assert entity.score == 85.6  # serious: 12 x 1.2


def test_correction_needs_a_reason_and_a_change(db, world):
    with db.writing() as session:
        record = _record(session, world["ref"])
        with pytest.raises(ValidationFailed):
            correct_record(session, Actor.cli(), record, {"severity": "serious"}, " ")
        with pytest.raises(ValidationFailed):
            correct_record(session, Actor.cli(), record, {"severity": "moderate"}, "Same")


def test_withdrawal_stops_the_record_counting(db, world):
    with db.writing() as session:
        withdraw_record(session, Actor.cli(), _record(session, world["ref"]), "Issued in error.")
    with db.session() as session:
        assert _record(session, world["ref"]).status == RecordStatus.WITHDRAWN
        assert session.get(Entity, world["entity"]).score == 100.0
    with db.writing() as session, pytest.raises(Conflict):
        publish_record(session, Actor.cli(), _record(session, world["ref"]))


def test_remediation_halves_the_deduction(db, world):
    with db.writing() as session:
        remediate_record(session, Actor.cli(), _record(session, world["ref"]), RECENTLY)
    with db.session() as session:
        assert session.get(Entity, world["entity"]).score == 97.0  # 6 points x 0.5


def _actors(world):
    """Every kind of actor, by name."""
    return {
        "anonymous": Actor.anonymous(),
        "representative": Actor("user:1", Role.REPRESENTATIVE, 1, entity_id=world["entity"]),
        "other agency's regulator": Actor("user:2", Role.REGULATOR, 2, agency_id=world["cnil"]),
        "admin": Actor("user:3", Role.ADMIN, 3),
        "right regulator": Actor("user:4", Role.REGULATOR, 4, agency_id=world["ico"]),
    }


ACTIONS = {
    "publish": lambda s, a, r: publish_record(s, a, r),
    "correct": lambda s, a, r: correct_record(s, a, r, {"title": "New"}, "Reason"),
    "withdraw": lambda s, a, r: withdraw_record(s, a, r, "Reason"),
    "remediate": lambda s, a, r: remediate_record(s, a, r, RECENTLY),
    "update entity": lambda s, a, r: update_entity(s, a, s.get(Entity, r.entity_id), {"name": "X"}),
}
ALLOWED = {
    "right regulator": {"correct", "withdraw", "remediate"},
    "admin": {"update entity"},
}


@pytest.mark.parametrize(
    "who", ["anonymous", "representative", "other agency's regulator", "admin", "right regulator"]
)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_access_table(db, world, who, action):
    actor = _actors(world)[who]
    with db.session() as session:
        events_before = session.exec(select(func.count()).select_from(AuditEvent)).one()
    allowed = action in ALLOWED.get(who, set())
    try:
        with db.writing() as session:
            ACTIONS[action](session, actor, _record(session, world["ref"]))
        refused = False
    except PermissionDenied:
        refused = True
    except Conflict:
        refused = False  # allowed through the access check; publish of a published record
    with db.session() as session:
        events_after = session.exec(select(func.count()).select_from(AuditEvent)).one()
    if allowed or action == "publish" and who == "right regulator":
        assert not refused
    else:
        assert refused, f"{who} must not {action}"
        assert events_after == events_before
