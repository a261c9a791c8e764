"""Entity profiles."""

from __future__ import annotations

from flask import Blueprint, render_template

from portal.app import get_db
from portal.models import KIND_LABELS
from portal.services.fields import jurisdiction_name
from portal.services.public import entity_page

bp = Blueprint("entities", __name__, url_prefix="/entities")


@bp.get("/<slug>")
def detail(slug: str) -> str:
    """An entity's explained score, what changes next, and its public records."""
    with get_db().session() as session:
        page = entity_page(session, slug)
    entity = page.view.entity
    states = {c.record: c.state for c in page.score.contributions}
    return render_template(
        "entities/detail.html",
        page=page,
        entity=entity,
        kind_label=KIND_LABELS[entity.kind],
        jurisdiction=jurisdiction_name(entity.jurisdiction_code) or entity.jurisdiction_code,
        titles={r.ref: r.title for r in page.records},
        groups=[
            ("Counting", [r for r in page.records if states.get(r.ref) == "counting"]),
            ("Under appeal", [r for r in page.records if states.get(r.ref) == "under_appeal"]),
            ("No longer counting", [r for r in page.records if states.get(r.ref) == "expired"]),
        ],
    )
