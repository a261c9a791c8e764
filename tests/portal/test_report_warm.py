"""A serving worker renders one report before it takes requests, and issues nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import select

from portal.models import ReportIssue
from portal.reports.settings import ReportSettings
from portal.reports.warm import sample_report, warm_reports
from tests.factories import make_agency, make_entity, make_record

pytestmark = pytest.mark.db


def test_the_warm_up_renders_a_real_report_through_the_render_server_and_issues_nothing(
    app, db, tmp_path
):
    with db.writing() as session:
        agency = make_agency(session)
        make_record(session, agency, make_entity(session, "Acme Widgets Ltd"))
    html, attachments = sample_report(app, db, ReportSettings.from_config(app.config))
    assert "Acme Widgets Ltd" in html and attachments[0][0] == "score.json"
    warm_reports(app, db)
    with db.session() as session:
        assert session.exec(select(func.count()).select_from(ReportIssue)).one() == 0
    assert not list(tmp_path.rglob("*.pdf")), "the warm-up caches no report"


def test_an_empty_register_warms_up_on_a_fixed_page(app, db):
    html, attachments = sample_report(app, db, ReportSettings.from_config(app.config))
    assert "<title>warm-up</title>" in html and attachments == []
