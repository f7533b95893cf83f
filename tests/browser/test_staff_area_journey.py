"""A patient who opens the content management area gets one page saying it is for staff.

Before, /cms/ sent a signed-in patient to the sign-in form, which sent them
straight back: the browser gave up with ERR_TOO_MANY_REDIRECTS and the next
page showed a pile of "You do not have permission" messages.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.support import check_page, path_of, sign_in, visit

pytestmark = pytest.mark.browser


def test_patient_opening_the_cms_gets_one_staff_area_page(page):
    sign_in(page, "patient1")
    redirects: list[str] = []
    page.on("response", lambda response: redirects.append(response.url) if 300 <= response.status < 400 else None)

    response = page.goto("/cms/")  # raises net::ERR_TOO_MANY_REDIRECTS on a loop

    assert response is not None
    assert response.status == 403
    assert path_of(page) == "/cms/"
    assert redirects == []
    expect(page.get_by_role("heading", level=1)).to_have_text("This area is for staff")
    expect(page.locator("main .messages")).to_have_count(0)
    check_page(page)

    # Coming back to the portal shows no queue of refusals either.
    visit(page, "/feedback/")
    expect(page.locator("main .message")).to_have_count(0)
