"""The quality bar of issue 5 in a real browser: a phone's width, the skip link, visible
focus, and the print stylesheet."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def _pages(live_server, page):
    """Home, a search, an entity and its first record, as a visitor reaches them."""
    body = page.request.get(f"{live_server}/api/v1/entities?kind=business&per_page=1").json()
    slug = body["items"][0]["slug"]
    records = page.request.get(f"{live_server}/api/v1/entities/{slug}/records").json()
    paths = ["/", "/search?q=ltd", f"/entities/{slug}", "/methodology/", "/open-data"]
    paths += ["/jurisdictions/GB", "/open-data/api", "/search?type=record&q=failure"]
    if records["items"]:
        paths.append(f"/records/{records['items'][0]['ref']}")
    return paths


def test_no_page_scrolls_sideways_on_a_360_px_phone(live_server, page):
    page.set_viewport_size({"width": 360, "height": 740})
    for path in _pages(live_server, page):
        page.goto(live_server + path)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} is {overflow} px wider than the screen"


def test_the_skip_link_comes_first_and_moves_focus_to_the_content(live_server, page):
    page.goto(live_server + "/search?q=ltd")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    assert page.evaluate("document.activeElement.getBoundingClientRect().height") > 0  # shown
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_focus_is_visible_on_links_buttons_and_fields(live_server, page):
    page.goto(live_server + "/search?q=ltd")
    for selector in ("#q", "button[type=submit]", "#search-results .hit a"):
        element = page.locator(selector).first
        element.focus()
        style = element.evaluate(
            "e => { const s = getComputedStyle(e);"
            " return [s.outlineStyle, s.outlineWidth, s.boxShadow]; }"
        )
        outline, width, shadow = style
        assert (outline != "none" and width != "0px") or shadow != "none", (selector, style)


def test_printing_leaves_out_navigation_and_search_and_spells_out_links(live_server, page):
    paths = _pages(live_server, page)
    entity = next(p for p in paths if p.startswith("/entities/"))
    page.goto(live_server + entity)
    page.emulate_media(media="print")
    assert page.locator(".primary-nav").is_hidden()
    assert page.locator(".skip-link").is_hidden()
    assert page.locator("h1").is_visible()
    link = page.locator("main a[href^='/']").first
    after = link.evaluate("e => getComputedStyle(e, '::after').content")
    assert link.get_attribute("href") in after
