"""Entity profiles."""

from __future__ import annotations

from flask import Blueprint, render_template

import scoring
from portal.models import KIND_SINGULAR
from portal.reports.entity import history_view
from portal.reports.entity_data import score_history
from portal.services.fields import jurisdiction_name
from portal.services.public import entity_page
from portal.wiring import get_db
from search.names import scripts

bp = Blueprint("entities", __name__, url_prefix="/entities")


@bp.get("/<slug>")
def detail(slug: str) -> str:
    """An entity's explained score, what changes next, and its public records."""
    with get_db().session() as session:
        page = entity_page(session, slug)
        history = score_history(session, page.view.entity, page.score.as_of)
    entity = page.view.entity
    rulebook = scoring.default_rulebooks().select(entity.jurisdiction_code, page.score.as_of)
    chart, history_years = history_view(entity.name, history, rulebook)
    states = {c.record: c.state for c in page.score.contributions}
    by_ref = {r.ref: r for r in page.records}
    also = {}
    for c in page.score.contributions:
        if c.counted_under and c.record in by_ref:
            also.setdefault(c.counted_under, []).append(by_ref[c.record])
    return render_template(
        "entities/detail.html",
        page=page,
        entity=entity,
        kind_label=KIND_SINGULAR[entity.kind],
        alphabets=[a.capitalize() for a in scripts(entity.name)],
        jurisdiction=jurisdiction_name(entity.jurisdiction_code) or entity.jurisdiction_code,
        titles={r.ref: r.title for r in page.records},
        also_enforced=also,
        sanction_agencies={
            s.record: page.agency_names.get(by_ref[s.record].agency_id, "")
            for s in page.score.sanctions
            if s.record in by_ref
        },
        history_chart=chart,
        history_years=history_years,
        groups=[
            ("Counting", [r for r in page.records if states.get(r.ref) == "counting"]),
            ("Under appeal", [r for r in page.records if states.get(r.ref) == "under_appeal"]),
            ("No longer counting", [r for r in page.records if states.get(r.ref) == "expired"]),
        ],
    )
