"""The search page, its htmx partial, and typeahead."""

from __future__ import annotations

import re
import threading

from flask import Blueprint, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup
from sqlmodel import select

from portal.errors import PortalError
from portal.models import KIND_LABELS, KIND_SINGULAR, Agency
from portal.services.fields import jurisdiction_name
from portal.services.search.searching import build_query, search_register, suggest_names
from portal.views.main import BAND_LABELS
from portal.wiring import get_db, get_index
from search.base import SearchResults

bp = Blueprint("search", __name__, url_prefix="/search")

FACET_TITLES = {
    "kind": "Kind",
    "jurisdiction": "Jurisdiction",
    "sector": "Sector",
    "band": "Score band",
    "agency": "Agency",
    "category": "Category",
    "year": "Year decided",
    "nature": "Nature",
    "severity": "Severity",
}


def facet_labels(results: SearchResults | None) -> dict[str, dict[str, str]]:
    """Readable labels for the facet values on the page."""
    shown = {slug for slug, _count in results.facets.get("agency", ())} if results else set()
    return {
        "kind": {str(k): v for k, v in KIND_LABELS.items()},
        "kind_one": {str(k): v for k, v in KIND_SINGULAR.items()},
        "band": {code: f"{code}: {label}" for code, label in BAND_LABELS.items()},
        "agency": agency_names(shown),
    }


_agency_lock = threading.Lock()


def agency_names(slugs: set[str]) -> dict[str, str]:
    """Agency names by slug, read from the database only for slugs this process lacks.

    Agencies are added but never renamed or removed, so a name once read stays right;
    a search page on a current index then runs no SQL at all.
    """
    known: dict[str, str] = current_app.extensions.setdefault("portal.agency_names", {})
    if not slugs <= known.keys():
        with get_db().session() as session:
            read = dict(session.exec(select(Agency.slug, Agency.name)).all())
        with _agency_lock:
            known.update(read)
    return known


_MARK = re.compile(r"</?mark>")


@bp.app_template_filter("highlight")
def highlight(value: str | None) -> Markup | None:
    """Trust an engine's highlight only if its sole markup is <mark>; else escape it all."""
    if not value:
        return None
    if "<" in _MARK.sub("", value):
        return Markup.escape(_MARK.sub("", value))
    return Markup(value)  # noqa: S704 - the engine escaped the text; only <mark> remains


@bp.get("")
def index() -> ResponseReturnValue:
    """Search entities or records; htmx requests get only the results partial."""
    args = request.args.to_dict(flat=False)
    template = "search/_results.html" if request.htmx else "search/index.html"
    try:
        query = build_query(args)
        results, current = search_register(get_index(), query)
    except PortalError as exc:
        context = {"query": None, "results": None, "error": exc.message, "args": args}
        return render_template(template, **context), (200 if request.htmx else 400)
    return render_template(
        template,
        query=query,
        results=results,
        current=current,
        error=None,
        args=args,
        labels=facet_labels(results),
        facet_titles=FACET_TITLES,
        jurisdiction_name=jurisdiction_name,
        page_url=lambda page: url_for("search.index", **{**args, "page": [page]}),
        # The corrected words with every other choice kept (filters, sort, type), page 1.
        suggestion_url=lambda text: url_for(
            "search.index", **{**{k: v for k, v in args.items() if k != "page"}, "q": [text]}
        ),
    )


@bp.get("/suggest")
def suggest() -> str:
    """Typeahead: entity names starting with the typed words, as a list of links."""
    prefix = request.args.get("q", "")
    items = suggest_names(get_index(), prefix)
    return render_template(
        "search/_suggestions.html", items=items, jurisdiction_name=jurisdiction_name
    )
