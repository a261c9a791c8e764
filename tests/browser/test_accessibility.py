"""axe-core finds no serious or critical accessibility violation on the main pages."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

pytestmark = pytest.mark.browser


def _paths(live_server, page):
    """One page of each kind, with real demo data."""
    entity = page.request.get(f"{live_server}/api/v1/entities?band=C&per_page=1").json()
    slug = entity["items"][0]["slug"]
    records = page.request.get(f"{live_server}/api/v1/entities/{slug}/records").json()
    ref = records["items"][0]["ref"]
    return [
        "/",
        "/search?q=ltd",
        f"/entities/{slug}",
        f"/records/{ref}",
        "/agencies/ico",
        "/jurisdictions/GB",
        "/methodology/",
        "/screen",
        "/search?q=zzzz-no-such-organisation",
    ]


def test_no_serious_or_critical_violations(live_server, page):
    axe = Axe()
    problems = []
    for path in _paths(live_server, page):
        page.goto(live_server + path)
        results = axe.run(page)
        for violation in results.response["violations"]:
            if violation["impact"] in ("serious", "critical"):
                targets = [node["target"] for node in violation["nodes"]][:3]
                problems.append(f"{path}: {violation['id']} ({violation['impact']}) {targets}")
    assert problems == []
