"""The search page, its htmx partial, and typeahead."""

from __future__ import annotations

import re

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from portal.errors import PortalError
from portal.services.fields import jurisdiction_name
from portal.services.search.labels import facet_labels
from portal.services.search.searching import (
    build_query,
    find_record,
    find_record_ref,
    search_everything,
    search_kind,
    search_register,
    suggest_names,
)
from portal.wiring import get_db, get_index

bp = Blueprint("search", __name__, url_prefix="/search")

FACET_TITLES = {
    "kind": "Kind",
    "jurisdiction": "Jurisdiction",
    "sector": "Sector",
    "band": "Score band",
    "sanction": "Sanctions",
    "agency": "Agency",
    "category": "Category",
    "year": "Year decided",
    "nature": "Nature",
    "severity": "Severity",
}


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
    everything = None
    try:
        kind = search_kind(args)
        text = (args.get("q") or [""])[0]
        # A record reference typed and submitted goes straight to the record (with htmx,
        # only a submit of the form does, not each key typed).
        submitted = not request.htmx or request.headers.get("HX-Trigger") == "search-form"
        ref = find_record_ref(get_index(), text) if kind == "all" and submitted else None
        if ref:
            target = url_for("records.detail", ref=ref)
            if request.htmx:
                return "", 200, {"HX-Redirect": target}
            return redirect(target)
        if kind == "all":
            everything, current = search_everything(get_index(), args)
            query, results = everything.query, everything.main
        else:
            query = build_query(args)
            results, current = search_register(get_index(), query)
    except PortalError as exc:
        context = {"query": None, "results": None, "error": exc.message, "args": args}
        return render_template(template, **context), (200 if request.htmx else 400)
    known_agencies = current_app.extensions.setdefault("portal.agency_names", {})
    return render_template(
        template,
        query=query,
        results=results,
        kind=kind,
        everything=everything,
        kind_url=lambda what: url_for(
            "search.index", q=query.text, type=what, **_shared_filters(args)
        ),
        current=current,
        error=None,
        args=args,
        labels=facet_labels(get_db(), known_agencies, results),
        facet_titles=FACET_TITLES,
        jurisdiction_name=jurisdiction_name,
        page_url=lambda page: url_for("search.index", **{**args, "page": [page]}),
        # The corrected words with every other choice kept (filters, sort, type), page 1.
        suggestion_url=lambda text: url_for(
            "search.index", **{**{k: v for k, v in args.items() if k != "page"}, "q": [text]}
        ),
    )


def _shared_filters(args: dict[str, list[str]]) -> dict[str, list[str]]:
    """The filters a link to another kind keeps (they mean the same for both kinds)."""
    return {k: v for k, v in args.items() if k == "jurisdiction"}


@bp.get("/suggest")
def suggest() -> str:
    """Typeahead: entity names starting with the typed words, as a list of links."""
    prefix = request.args.get("q", "")
    items = suggest_names(get_index(), prefix)
    try:
        record = find_record(get_index(), prefix)
    except PortalError:
        record = None
    return render_template(
        "search/_suggestions.html",
        items=items,
        record=record,
        jurisdiction_name=jurisdiction_name,
    )
