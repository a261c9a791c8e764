"""The published methodology: every rulebook in force, a worked example, older versions."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, abort, render_template

import scoring
from portal.models import utcnow

bp = Blueprint("methodology", __name__, url_prefix="/methodology")

EXAMPLE_TITLES = {
    "EXAMPLE-1": "Personal data breach not reported within 72 hours",
    "EXAMPLE-2": "Failure to answer subject access requests",
    "EXAMPLE-3": "Unpermitted waste storage, since put right",
    "EXAMPLE-4": "Data protection certification awarded",
    "EXAMPLE-5": "Debarred for collusion in a road contract",
    "EXAMPLE-6": "Cross-debarment of the same case",
    "EXAMPLE-7": "Suspension from tenders, since ended",
}


def worked_example(rulebook: scoring.Rulebook, today: date) -> scoring.Score:
    """A fictional business with four records, scored under `rulebook` today."""
    days = lambda n: today - timedelta(days=n)  # noqa: E731
    records = [
        scoring.RecordFacts(
            "EXAMPLE-1",
            "violation",
            "data_protection",
            "serious",
            days(200),
            "published",
            days(190),
        ),
        scoring.RecordFacts(
            "EXAMPLE-2",
            "violation",
            "data_protection",
            "moderate",
            days(500),
            "published",
            days(490),
        ),
        scoring.RecordFacts(
            "EXAMPLE-3",
            "violation",
            "environment",
            "minor",
            days(100),
            "published",
            days(95),
            remediated_on=days(50),
        ),
        scoring.RecordFacts(
            "EXAMPLE-4",
            "commendation",
            "certification",
            "moderate",
            days(300),
            "published",
            days(299),
        ),
    ]
    facts = scoring.EntityFacts("business", rulebook.jurisdiction)
    return scoring.score(facts, records, rulebook, today)


def sanction_example(rulebook: scoring.Rulebook, today: date) -> scoring.Score:
    """A fictional firm under a debarment in force, cross-debarred by a second agency."""
    days = lambda n: today - timedelta(days=n)  # noqa: E731
    case = "example-bank:case-17"
    debarment = {"measure": "debarment", "case": case}
    records = [
        scoring.RecordFacts(
            "EXAMPLE-5",
            "violation",
            "public_procurement",
            "serious",
            days(6 * 365),
            "published",
            days(6 * 365 - 5),
            in_force_until=today + timedelta(days=400),
            **debarment,
        ),
        scoring.RecordFacts(
            "EXAMPLE-6",
            "violation",
            "public_procurement",
            "serious",
            days(6 * 365 - 60),
            "published",
            days(6 * 365 - 65),
            **debarment,
        ),
        scoring.RecordFacts(
            "EXAMPLE-7",
            "violation",
            "public_procurement",
            "moderate",
            days(3 * 365),
            "published",
            days(3 * 365 - 3),
            measure="suspension",
            in_force_until=days(200),
        ),
    ]
    facts = scoring.EntityFacts("business", rulebook.jurisdiction)
    return scoring.score(facts, records, rulebook, today)


@bp.get("/")
def index() -> str:
    """Every rulebook in force today, with a worked example, and links to older versions."""
    today = utcnow().date()
    rulebooks = scoring.default_rulebooks()
    in_force = rulebooks.in_force(today)
    default = rulebooks.select("default", today)
    return render_template(
        "methodology/index.html",
        today=today,
        in_force=in_force,
        all_versions=rulebooks.all(),
        example=worked_example(default, today),
        sanction=sanction_example(default, today) if default.measures else None,
        example_titles=EXAMPLE_TITLES,
    )


@bp.get("/<jurisdiction>/<version>")
def version(jurisdiction: str, version: str) -> str:
    """One rulebook version, in force or not."""
    try:
        rulebook = scoring.default_rulebooks().get(jurisdiction, version)
    except KeyError:
        abort(404, description=f"There is no rulebook {jurisdiction} {version}.")
    today = utcnow().date()
    return render_template(
        "methodology/version.html",
        rulebook=rulebook,
        in_force=rulebook in scoring.default_rulebooks().in_force(today),
        all_versions=scoring.default_rulebooks().versions(jurisdiction),
    )
