"""Record pages: every public field, the history from the change log, ended records hidden."""

from __future__ import annotations

from portal.services.access import Actor
from portal.services.records import correct_record, record_by_ref, withdraw_record
from tests.factories import make_agency, make_entity, make_record


def _published(db, **kwargs):
    with db.writing() as session:
        agency = make_agency(session)
        entity = make_entity(session)
        return make_record(session, agency, entity, **kwargs).ref


def test_a_record_page_shows_its_fields_and_history(client, db):
    ref = _published(
        db,
        title="Leaky <b>database</b>",
        statute="UK GDPR Art. 32",
        penalty_amount="1250000",
        penalty_currency="GBP",
        source_url="https://ico.org.uk/action/example",
    )
    with db.writing() as session:
        correct_record(
            session,
            Actor.cli(),
            record_by_ref(session, ref),
            {"severity": "serious"},
            "Severity misread.",
        )
    html = client.get(f"/records/{ref}").get_data(as_text=True)
    assert "Leaky &lt;b&gt;database&lt;/b&gt;" in html
    assert "UK GDPR Art. 32" in html and "1,250,000.00 GBP" in html
    assert 'href="https://ico.org.uk/action/example"' in html
    assert '</strong>: Published <span class="hint">(change log #' in html
    assert "severity from “moderate” to “serious”. Reason: Severity misread." in html
    assert "revision 2" in html


def test_a_withdrawn_record_shows_only_a_notice(client, db):
    ref = _published(db, title="An allegation that was wrong")
    with db.writing() as session:
        withdraw_record(session, Actor.cli(), record_by_ref(session, ref), "Issued in error.")
    html = client.get(f"/records/{ref}").get_data(as_text=True)
    assert "withdrawn by Information Commissioner" in html
    assert "An allegation that was wrong" not in html


def test_drafts_and_unknown_refs_are_not_found(client, db):
    ref = _published(db, publish=False)
    assert client.get(f"/records/{ref}").status_code == 404
    assert client.get("/records/R-1900-000001").status_code == 404
