"""Publishing and answering a finding in a real browser, as the demo's accounts."""

from __future__ import annotations

import re
from datetime import date

import pytest

pytestmark = pytest.mark.browser
PASSWORD = "demo-password-local-only"


def _sign_in(page, live_server, email):
    page.goto(f"{live_server}/workspace/sign-in")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(re.compile(r"/(workspace|admin)/"))


def _sign_out(page):
    page.click("button:has-text('Sign out')")
    page.wait_for_url(re.compile(r"/$"))


def test_four_eyes_publication_then_reply_appeal_and_decision(live_server, page):
    _sign_in(page, live_server, "representative@demo.invalid")
    slug = page.locator("h2 a[href^='/entities/']").first.get_attribute("href").split("/")[-1]
    _sign_out(page)

    title = f"Browser journey finding {date.today():%Y%m%d}"
    _sign_in(page, live_server, "regulator.one@demo.invalid")
    page.click("text=New finding")
    page.fill("#entity_slug", slug)
    page.select_option("#category", "data_protection")
    page.select_option("#severity", "serious")
    page.fill("#title", title)
    page.fill("#decided_on", date.today().isoformat())
    page.click("button:has-text('Save draft')")
    page.wait_for_url(re.compile(r"/workspace/records/R-"))
    ref = page.url.rsplit("/", 1)[1]
    page.click("button:has-text('Submit for approval')")
    assert "its author cannot" in page.content()
    _sign_out(page)

    _sign_in(page, live_server, "regulator.two@demo.invalid")
    page.goto(f"{live_server}/workspace/records/{ref}")
    page.click("button:has-text('Approve')")
    page.click("button:has-text('Publish')")
    page.goto(f"{live_server}/search?type=record&q={title.replace(' ', '+')}")
    assert page.locator(f"a[href='/records/{ref}']").count() == 1
    _sign_out(page)

    _sign_in(page, live_server, "representative@demo.invalid")
    page.fill(f"#reply-{ref}", "We have retrained every member of staff.")
    page.click(f"form[action$='/records/{ref}/reply'] button")
    page.fill(f"#appeal-{ref}", "The files were encrypted.")
    page.click(f"form[action$='/records/{ref}/appeal'] button")
    _sign_out(page)

    # The author may not decide the appeal against their finding (nor the approver).
    _sign_in(page, live_server, "regulator.one@demo.invalid")
    page.goto(f"{live_server}/workspace/records/{ref}")
    answer = page.request.post(
        f"{live_server}/workspace/records/{ref}/decide",
        form={"outcome": "dismissed", "reason": "It stands.",
              "csrf_token": page.locator("input[name=csrf_token]").first.input_value()},
    )  # fmt: skip
    assert answer.status == 403
    _sign_out(page)

    _sign_in(page, live_server, "regulator.three@demo.invalid")
    page.goto(f"{live_server}/workspace/records/{ref}")
    page.check("input[value=amended]")
    page.select_option("#amend-severity", "minor")
    page.fill("#decide-reason", "Encryption lowers the risk.")
    page.click("button:has-text('Publish the decision')")
    _sign_out(page)

    page.goto(f"{live_server}/records/{ref}")
    html = page.content()
    assert "We have retrained every member of staff." in html
    assert "(amended)" in html and "Encryption lowers the risk." in html
    assert "severity from “serious” to “minor”" in html
