"""The change log: appended in the same transaction, chained, and checked."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import text
from sqlmodel import select

from portal.cli import cli
from portal.models import AuditEvent
from portal.services.audit import GENESIS_HASH, canonical_json, event_hash, verify_chain
from tests.factories import make_agency, make_entity, make_record


def _seed(db):
    """An agency, an entity and a published record: a handful of events."""
    with db.writing() as session:
        agency = make_agency(session)
        entity = make_entity(session)
        make_record(session, agency, entity)


def test_each_change_appends_a_chained_event(db):
    _seed(db)
    with db.session() as session:
        events = session.exec(select(AuditEvent).order_by(AuditEvent.seq)).all()
    actions = [e.action for e in events]
    assert actions[0] == "jurisdiction.created"
    assert "entity.created" in actions and "record.published" in actions
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == GENESIS_HASH
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.hash


def test_hash_is_sha256_of_previous_hash_and_canonical_event(db):
    _seed(db)
    with db.session() as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.seq == 2)).one()
    doc = {
        "seq": event.seq,
        "occurred_at": event.occurred_at.isoformat(),
        "actor": event.actor,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "entity_id": event.entity_id,
        "payload": json.loads(event.payload),
    }
    assert event.hash == event_hash(event.prev_hash, doc)
    assert event.payload == canonical_json(json.loads(event.payload))


def test_verify_passes_on_an_intact_chain(db):
    _seed(db)
    with db.session() as session:
        report = verify_chain(session)
    assert report.ok and report.events == report.head_seq > 3


def test_a_failed_service_call_leaves_no_event(db):
    with db.writing() as session:
        make_agency(session)
    with db.session() as session:
        before = verify_chain(session)
    try:
        with db.writing() as session:
            make_entity(session, name="Half Written Ltd")
            raise RuntimeError("crash after the change")
    except RuntimeError:
        pass
    with db.session() as session:
        after = verify_chain(session)
    assert (after.head_seq, after.head_hash) == (before.head_seq, before.head_hash)


def _tamper(db, sql):
    """Edit the log behind the application's back, as someone with the file could."""
    with db.engine.begin() as conn:
        conn.execute(text(sql))


def test_an_edited_payload_is_caught_with_its_seq(db):
    _seed(db)
    _tamper(
        db,
        "UPDATE auditevent SET payload = replace(payload, 'Acme', 'Acne') "
        "WHERE action = 'entity.created'",
    )
    with db.session() as session:
        report = verify_chain(session)
    assert not report.ok
    assert report.bad_seq == 3
    assert "hash" in report.reason  # seq 1 jurisdiction, 2 agency, 3 entity


def test_a_deleted_event_is_caught(db):
    _seed(db)
    _tamper(db, "DELETE FROM auditevent WHERE seq = 2")
    with db.session() as session:
        report = verify_chain(session)
    assert (report.ok, report.bad_seq) == (False, 3)
    assert "missing" in report.reason


def test_a_rewritten_actor_is_caught_even_with_a_recomputed_link(db):
    _seed(db)
    _tamper(db, "UPDATE auditevent SET actor = 'someone-else' WHERE seq = 1")
    with db.session() as session:
        report = verify_chain(session)
    assert report.bad_seq == 1


def test_cli_verify_exits_1_naming_the_seq(app, db):
    _seed(db)
    runner = CliRunner()
    env = {"PORTAL_DATA_DIR": app.config["DATA_DIR"], "DATABASE_URL": app.config["DATABASE_URL"]}
    ok = runner.invoke(cli, ["audit", "verify"], env=env)
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("OK:")
    _tamper(db, "UPDATE auditevent SET object_id = 'x' WHERE seq = 4")
    bad = runner.invoke(cli, ["audit", "verify"], env=env)
    assert bad.exit_code == 1
    assert "seq 4" in bad.output


def test_cli_verify_against_an_earlier_head(app, db):
    _seed(db)
    with db.session() as session:
        head = verify_chain(session).head_hash
    with db.writing() as session:
        make_entity(session, name="Later Ltd")
    env = {"PORTAL_DATA_DIR": app.config["DATA_DIR"], "DATABASE_URL": app.config["DATABASE_URL"]}
    runner = CliRunner()
    assert runner.invoke(cli, ["audit", "verify", "--against", head], env=env).exit_code == 0
    other = runner.invoke(cli, ["audit", "verify", "--against", "f" * 64], env=env)
    assert other.exit_code == 1
    assert "does not extend" in other.output


def test_a_rolled_back_savepoint_leaves_the_chain_continuous(db):
    from portal.services.access import Actor
    from portal.services.audit import append_event

    actor = Actor.cli()
    with db.writing() as session:
        append_event(session, actor, "test.kept", ("test", "1"), {})
        try:
            with session.begin_nested():
                append_event(session, actor, "test.undone", ("test", "2"), {})
                raise ValueError("a bad row")
        except ValueError:
            pass
        with session.begin_nested():
            append_event(session, actor, "test.kept", ("test", "3"), {})
        append_event(session, actor, "test.kept", ("test", "4"), {})
    with db.session() as session:
        report = verify_chain(session)
        actions = session.exec(select(AuditEvent.object_id).order_by(AuditEvent.seq)).all()
    assert report.ok and actions == ["1", "3", "4"]


def test_the_open_data_page_gives_the_licence_and_a_head_that_verify_accepts(client, app, db):
    """A reader copies the head from the page; later `audit verify --against` proves growth."""
    import re

    _seed(db)
    html = client.get("/open-data").get_data(as_text=True)
    assert "Creative Commons Attribution 4.0" in html
    assert 'href="https://creativecommons.org/licenses/by/4.0/"' in html
    seq = re.search(r"<dt>Sequence number</dt><dd class=\"mono\">(\d+)</dd>", html)
    sha = re.search(r"<dt>SHA-256</dt><dd class=\"mono\">([0-9a-f]{64})</dd>", html)
    assert seq and sha
    with db.session() as session:
        report = verify_chain(session)
    assert (int(seq.group(1)), sha.group(1)) == (report.head_seq, report.head_hash)
    assert f"portal audit verify --against {sha.group(1)}" in html
    with db.writing() as session:
        make_entity(session, name="Later Ltd")
    env = {"PORTAL_DATA_DIR": app.config["DATA_DIR"], "DATABASE_URL": app.config["DATABASE_URL"]}
    verified = CliRunner().invoke(cli, ["audit", "verify", "--against", sha.group(1)], env=env)
    assert verified.exit_code == 0, verified.output
    assert client.get("/open-data").get_data(as_text=True).count(sha.group(1)) == 0
