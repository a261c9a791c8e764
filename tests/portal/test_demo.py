"""The demo data set: deterministic for a seed, and covering what the register holds."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func
from sqlmodel import select

from portal.db import Database
from portal.demo import load_demo
from portal.models import Agency, AppealStatus, Entity, EntityKind, Record, RecordStatus
from portal.services.audit import verify_chain
from tests.conftest import ON_POSTGRES, sqlite_only

TODAY = date(2026, 11, 26)


def _fresh(tmp_path, name):
    """A new SQLite database with the schema."""
    from sqlmodel import SQLModel

    db = Database(f"sqlite:///{tmp_path / name / 'portal.sqlite3'}")
    SQLModel.metadata.create_all(db.engine)
    return db


def _fingerprint(db):
    """Everything that should repeat: every event but the accounts' (their password hashes
    are salted at random, by design), every entity and every record."""
    from portal.models import AuditEvent

    with db.session() as session:
        events = session.exec(
            select(
                AuditEvent.action, AuditEvent.object_id, AuditEvent.payload, AuditEvent.occurred_at
            )
            .where(AuditEvent.object_type.not_in(["user", "claim"]))
            .order_by(AuditEvent.seq)
        ).all()
        entities = session.exec(
            select(Entity.slug, Entity.name, Entity.score, Entity.band).order_by(Entity.id)
        ).all()
        records = session.exec(
            select(Record.ref, Record.title, Record.status, Record.decided_on).order_by(Record.id)
        ).all()
    return events, entities, records


@sqlite_only
def test_same_seed_same_data_other_seed_other_data(tmp_path):
    runs = {}
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        db = _fresh(tmp_path, name)
        load_demo(db, str(tmp_path / name), entities=300, seed=seed, today=TODAY, progress=False)
        runs[name] = _fingerprint(db)
        db.dispose()
    assert runs["a"] == runs["b"]
    assert runs["a"][0] != runs["c"][0]
    assert runs["a"][1] != runs["c"][1]


@pytest.fixture(scope="module")
def default_demo(tmp_path_factory):
    """The default-sized demo, loaded once (into SQLite) for the coverage tests."""
    if ON_POSTGRES:
        pytest.skip("loaded into SQLite; the SQLite lane runs it")
    path = tmp_path_factory.mktemp("demo")
    db = _fresh(path, "d")
    report = load_demo(db, str(path / "d"), entities=2000, seed=1, today=TODAY, progress=False)
    yield db, report, path / "d"
    db.dispose()


def test_default_demo_has_the_promised_size(default_demo):
    db, report, _ = default_demo
    assert report.entities == 2000
    assert report.records >= 8000
    with db.session() as session:
        assert session.exec(select(func.count()).select_from(Agency)).one() >= 10
        jurisdictions = session.exec(select(Entity.jurisdiction_code).distinct()).all()
        first, last = session.exec(
            select(func.min(Record.decided_on), func.max(Record.decided_on))
        ).one()
    assert len(jurisdictions) >= 6
    assert (TODAY - first).days > 5 * 365 and last <= TODAY


def test_default_demo_covers_every_kind_status_and_appeal_state(default_demo):
    db, _, _ = default_demo
    with db.session() as session:
        kinds = set(session.exec(select(Entity.kind).distinct()).all())
        statuses = set(session.exec(select(Record.status).distinct()).all())
        from portal.models import Appeal

        appeals = set(session.exec(select(Appeal.status).distinct()).all())
    assert kinds == set(EntityKind)
    assert statuses == set(RecordStatus)
    assert appeals == set(AppealStatus)


def test_default_demo_has_groups_officials_aliases_and_accents(default_demo):
    db, _, _ = default_demo
    from portal.models import EntityAlias

    with db.session() as session:
        subsidiaries = session.exec(
            select(func.count()).select_from(Entity).where(Entity.parent_id.is_not(None))
        ).one()
        officials = session.exec(select(Entity).where(Entity.kind == EntityKind.OFFICIAL)).all()
        aliases = session.exec(select(EntityAlias.name)).all()
        names = session.exec(select(Entity.name)).all()
    assert subsidiaries > 10
    assert officials and all(o.body_id and o.role_title and o.term_start for o in officials)
    assert any(o.term_end for o in officials)
    assert any(a.endswith("Limited") for a in aliases)
    assert any(n.endswith(" GmbH") for n in names) and any(n.endswith(" S.A.") for n in names)
    assert any(any(c in n for c in "éèüöñá") for n in names)


def test_default_demo_chain_verifies_and_scores_are_stored(default_demo):
    db, report, data_dir = default_demo
    with db.session() as session:
        chain = verify_chain(session)
        unscored = session.exec(
            select(func.count()).select_from(Entity).where(Entity.score.is_(None))
        ).one()
        bands = set(session.exec(select(Entity.band).distinct()).all())
    assert chain.ok and chain.events > report.events
    assert unscored == 0
    assert {"A", "E"} <= bands
    assert (data_dir / "secret_key").exists() and (data_dir / "DEMO").exists()


def test_demo_refuses_a_register_that_holds_data(default_demo):
    db, _, data_dir = default_demo
    from portal.errors import PortalError

    with pytest.raises(PortalError, match="already holds entities"):
        load_demo(db, str(data_dir), entities=10, progress=False)


def test_demo_loads_on_the_configured_engine_and_services_follow_it(db, app):
    report = load_demo(
        db, app.config["DATA_DIR"], entities=150, seed=3, today=TODAY, progress=False
    )
    from tests.factories import make_agency, make_entity, make_record

    with db.writing() as session:
        agency = make_agency(session, slug="new-agency")
        entity = make_entity(session, name="After The Demo Ltd")
        record = make_record(session, agency, entity)
    with db.session() as session:
        chain = verify_chain(session)
        count = session.exec(select(func.count()).select_from(Record)).one()
    assert chain.ok
    assert entity.id == report.entities + 1  # the id sequences continue after the bulk load
    assert count == report.records + 1
    assert int(record.ref.rsplit("-", 1)[1]) == report.records + 1
