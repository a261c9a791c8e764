"""Agency and jurisdiction pages."""

from __future__ import annotations

from datetime import timedelta

from portal.models import Appeal, AppealStatus, utcnow
from tests.factories import make_agency, make_entity, make_record


def test_agency_page_shows_categories_recent_findings_and_appeal_statistics(client, db):
    with db.writing() as session:
        agency = make_agency(session)
        entity = make_entity(session)
        first = make_record(session, agency, entity, title="First finding")
        second = make_record(session, agency, entity, title="Second finding")
        now = utcnow()
        session.add(
            Appeal(
                record_id=first.id,
                entity_id=entity.id,
                grounds="g",
                filed_at=now - timedelta(days=40),
                status=AppealStatus.OPEN,
            )
        )
        session.add(
            Appeal(
                record_id=second.id,
                entity_id=entity.id,
                grounds="g",
                filed_at=now - timedelta(days=10),
                decided_at=now - timedelta(days=4),
                status=AppealStatus.DISMISSED,
            )
        )
    html = client.get("/agencies/ico").get_data(as_text=True)
    assert "Information Commissioner&#39;s Office" in html
    assert "Second finding" in html and "First finding" in html
    assert "<dt>Filed</dt><dd>2</dd>" in html
    assert "1, of which 1 past the decision deadline" in html
    assert "<dt>Median days to a decision</dt><dd>6.0</dd>" in html
    assert '<th scope="row">Data protection</th><td class="num">2</td>' in html
    assert client.get("/agencies/unknown").status_code == 404


def test_jurisdiction_page_shows_what_its_regulators_publish_and_their_appeals(client, db):
    with db.writing() as session:
        ico = make_agency(session)
        cnil = make_agency(session, "cnil", name="CNIL", jurisdiction="FR",
                           categories=["data_protection"])  # fmt: skip
        acme = make_entity(session)
        make_record(session, ico, acme, title="Leaky database")
        late = make_record(session, ico, acme, title="Late notice", category="transparency")
        make_record(session, cnil, acme, title="Cookies without consent")
        filed = utcnow() - timedelta(days=3)
        appeal = Appeal(record_id=late.id, entity_id=acme.id, grounds="g", filed_at=filed)
        session.add(appeal)
    html = client.get("/jurisdictions/GB").get_data(as_text=True)
    assert "publishes findings on data protection, transparency, certification" in html
    assert '<th scope="row">Data protection</th><td class="num">1</td>' in html  # not CNIL's
    assert '<th scope="row">Transparency</th><td class="num">0</td>' not in html
    assert "Appeals against its regulators&#39; findings" in html
    assert "<dt>Filed</dt><dd>1</dd>" in html
    french = client.get("/jurisdictions/FR").get_data(as_text=True)
    assert '<th scope="row">Data protection</th><td class="num">1</td>' in french
    assert "<dt>Filed</dt><dd>0</dd>" in french


def test_jurisdiction_page_counts_its_parts(client, db):
    with db.writing() as session:
        agency = make_agency(session)
        make_record(
            session,
            agency,
            make_entity(session, name="Cardiff Widgets Ltd", jurisdiction="GB-WLS"),
            title="Welsh finding",
        )
    html = client.get("/jurisdictions/GB").get_data(as_text=True)
    assert "United Kingdom" in html
    assert 'href="/jurisdictions/GB-WLS"' in html
    assert "Welsh finding" in html
    assert 'href="/methodology/GB/2026.2"' in html
    assert client.get("/jurisdictions/gb-wls").status_code == 200
    assert client.get("/jurisdictions/ZZ").status_code == 404
