"""Officials' retention, merging duplicates, and notifications by e-mail."""

from __future__ import annotations

import socket
import time
from datetime import date, timedelta

from aiosmtpd.controller import Controller
from click.testing import CliRunner
from sqlmodel import select

from portal.cli import cli
from portal.models import AuditEvent, EntityAlias, Notification, Record
from portal.services.access import Actor
from portal.services.admin import merge_entities
from portal.services.notifications import deliver_email, notify
from tests.factories import make_agency, make_entity, make_record, make_user


def _official(db, term_end):
    with db.writing() as session:
        agency = make_agency(
            session, "standards", name="Standards Commissioner", categories=["conduct_in_office"]
        )
        make_entity(session, name="Borough Council", kind="government_body")
        official = make_entity(
            session,
            name="Jane Roe",
            kind="official",
            role_title="Mayor",
            body_slug="borough-council",
            term_start="2010-01-01",
            term_end=term_end.isoformat(),
        )
        make_record(
            session,
            agency,
            official,
            category="conduct_in_office",
            decided_on=(term_end - timedelta(days=10)).isoformat(),
            title="Undeclared interest",
        )
    return official.slug


def test_an_official_leaves_public_view_five_years_after_the_term(client, db, app):
    slug = _official(db, date.today() - timedelta(days=5 * 365 + 10))
    assert client.get(f"/entities/{slug}").status_code == 404
    assert client.get(f"/api/v1/entities/{slug}").status_code == 404
    assert client.get("/api/v1/entities?q=jane roe").get_json()["total"] == 0
    env = {"PORTAL_DATA_DIR": app.config["DATA_DIR"], "DATABASE_URL": app.config["DATABASE_URL"]}
    first = CliRunner().invoke(cli, ["retention", "apply"], env=env)
    again = CliRunner().invoke(cli, ["retention", "apply"], env=env)
    assert "1 official(s) left public view;" in first.output
    assert "0 official(s)" in again.output
    with db.session() as session:
        events = session.exec(
            select(AuditEvent).where(AuditEvent.action == "entity.left_public_view")
        ).all()
    assert [e.object_id for e in events] == [slug]


def test_an_official_within_retention_stays_public(client, db):
    slug = _official(db, date.today() - timedelta(days=365))
    html = client.get(f"/entities/{slug}").get_data(as_text=True)
    assert "Undeclared interest" in html and "Mayor" in html


def test_merging_moves_records_and_names_and_redirects(client, db):
    with db.writing() as session:
        agency = make_agency(session)
        keep = make_entity(session, name="Acme Widgets Ltd")
        dup = make_entity(session, name="ACME Widgets Limited (duplicate)")
        make_record(session, agency, dup, title="Filed against the duplicate")
        merge_entities(session, Actor.cli(), dup, keep)
    with db.session() as session:
        records = session.exec(select(Record.entity_id)).all()
        aliases = session.exec(select(EntityAlias.name)).all()
    assert set(records) == {keep.id}
    assert "ACME Widgets Limited (duplicate)" in aliases
    moved = client.get(f"/entities/{dup.slug}")
    assert moved.status_code == 301 and moved.headers["Location"].endswith(f"/entities/{keep.slug}")
    page = client.get(f"/entities/{keep.slug}").get_data(as_text=True)
    assert "Filed against the duplicate" in page


class Sink:
    """A real SMTP server on a free local port that keeps what it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(envelope)
        return "250 OK"


def test_notifications_are_emailed_through_smtp_when_configured(db):
    sink = Sink()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with db.writing() as session:
            make_agency(session)
            user = make_user(session, "reg@ico.example", "regulator", agency="ico")
            notify(session, [user.id], "Appeal filed against R-2026-000001.", "/records/x")
        config = {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": controller.server.sockets[0].getsockname()[1],
        }
        assert deliver_email(db, config, "https://register.example") == 1
        assert deliver_email(db, config) == 0  # nothing is sent twice
        deadline = time.time() + 5
        while not sink.messages and time.time() < deadline:
            time.sleep(0.05)
    finally:
        controller.stop()
    (message,) = sink.messages
    assert message.rcpt_tos == ["reg@ico.example"]
    assert b"Appeal filed against R-2026-000001." in message.content
    assert b"https://register.example/records/x" in message.content
    with db.session() as session:
        assert session.exec(select(Notification)).one().emailed_at is not None


def test_without_smtp_nothing_is_sent(db):
    assert deliver_email(db, {}) == 0
