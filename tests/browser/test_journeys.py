"""The main public journeys in a real browser, with and without JavaScript."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser


def _first_business(live_server, page):
    """A demo business name that search can find, read from the API."""
    body = page.request.get(f"{live_server}/api/v1/entities?kind=business&per_page=1").json()
    return body["items"][0]


def test_typing_updates_results_without_a_page_load(live_server, page):
    entity = _first_business(live_server, page)
    page.goto(f"{live_server}/search")
    page.evaluate("window.__sameDocument = true")
    word = entity["name"].split()[0]
    page.locator("#q").press_sequentially(word[:5], delay=50)
    page.wait_for_url(re.compile(rf"q={re.escape(word[:5])}"), timeout=10_000)
    page.wait_for_function(
        "(w) => document.querySelector('.results-summary').innerText.includes(w)", arg=word[:5]
    )
    assert page.evaluate("window.__sameDocument") is True  # no page load happened
    assert word.lower() in page.locator("#search-results .hit").first.inner_text().lower()


def test_a_facet_narrows_and_an_entity_opens_and_back_restores(live_server, page):
    page.goto(f"{live_server}/search?q=ltd")
    total_before = page.locator(".results-summary").inner_text()
    page.locator("fieldset.facet input[name=jurisdiction]").first.check()
    page.wait_for_function(
        "(before) => document.querySelector('.results-summary').innerText !== before",
        arg=total_before,
    )
    assert "jurisdiction=" in page.url
    link = page.locator("#search-results .hit h3 a").first
    name = link.inner_text()
    link.click()
    page.wait_for_url(re.compile(r"/entities/"))
    assert page.locator("h1").inner_text() == name
    page.go_back()
    page.wait_for_url(re.compile(r"/search\?"))
    assert page.locator("#q").input_value() == "ltd"
    assert "jurisdiction=" in page.url


def test_the_same_journey_without_javascript(live_server, no_js_page):
    page = no_js_page
    page.goto(f"{live_server}/search")
    page.fill("#q", "ltd")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"q=ltd"))
    assert page.locator(".hit").count() > 0
    page.locator("fieldset.facet input[name=kind]").first.check()
    page.click("text=Apply filters")
    page.wait_for_url(re.compile(r"kind="))
    page.locator(".hit h3 a").first.click()
    page.wait_for_url(re.compile(r"/entities/"))
    assert page.locator(".score-card").count() == 1


def test_the_report_link_returns_a_pdf(live_server, page):
    entity = _first_business(live_server, page)
    page.goto(f"{live_server}/entities/{entity['slug']}")
    href = page.get_attribute("a:has-text('Download the report (PDF)')", "href")
    response = page.request.get(live_server + href)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body()[:5] == b"%PDF-"


def test_the_home_search_box_suggests_names_reachable_by_keyboard(live_server, page):
    entity = _first_business(live_server, page)
    page.goto(live_server)
    typed = entity["name"][:6]
    page.locator("#q").press_sequentially(typed, delay=50)
    first = page.locator("#q-suggestions .suggestions a").first
    first.wait_for(timeout=10_000)
    assert "match" in page.locator("#suggestions-status").inner_text()
    page.keyboard.press("Tab")  # past the Search button
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('.suggestions') !== null")
    name = page.evaluate("document.activeElement.innerText")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/entities/"))
    assert page.locator("h1").inner_text() == name
