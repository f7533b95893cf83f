"""Staff find their tools: the demo's moderator, PX and risk accounts set up their authenticator,
land on a page that continues to their tools, and find the same tools in the portal's navigation.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.support import check_page, path_of, sign_in, sign_in_and_enrol, visit

pytestmark = pytest.mark.browser

RECOVERY_CODES_PATH = "/accounts/2fa/recovery-codes/"

#: seed_demo's staff accounts and the tools their roles open.
STAFF = {
    "moderator1": {"Moderation queue": "/cms/portal-social/moderation/", "Content management": "/cms/"},
    "px1": {
        "Respond to reviews": "/cms/portal-social/reviews/respond/",
        "PX workspace": "/px/",
        "Feedback reports": "/px/reports/",
        "Content management": "/cms/",
    },
    "risk1": {
        "PX workspace": "/px/",
        "Feedback reports": "/px/reports/",
        "Audit log": "/cms/portal-social/audit/",
        "Content management": "/cms/",
    },
}


@pytest.mark.parametrize("username", list(STAFF))
def test_staff_enrol_an_authenticator_then_continue_to_each_of_their_tools(page, username):
    tools = STAFF[username]
    sign_in_and_enrol(page, username)

    # Where allauth lands them after activating the authenticator: the recovery codes, then a way on.
    assert path_of(page) == RECOVERY_CODES_PATH
    onward = page.locator("main section.continue")
    expect(onward.get_by_role("heading", name="Continue")).to_be_visible()
    links = onward.locator("a[data-tool]")
    expect(links).to_have_count(len(tools))
    for label, path in tools.items():
        link = onward.get_by_role("link", name=f"Continue to {label}")
        expect(link).to_be_visible()
        assert link.get_attribute("href") == path
    expect(onward.get_by_role("link", name="Continue to the home page")).to_be_visible()
    # The row of actions keeps its buttons apart.
    gap = onward.locator(".ps-actions").evaluate("el => getComputedStyle(el).columnGap")
    assert gap not in ("normal", "0px"), gap

    first_label, first_path = next(iter(tools.items()))
    with page.expect_navigation():
        onward.get_by_role("link", name=f"Continue to {first_label}").click()
    assert path_of(page) == first_path

    # The portal's navigation shows the same tools on every portal page, and each one opens.
    visit(page, "/")
    nav = page.get_by_role("navigation", name="Your tools")
    expect(nav).to_be_visible()
    expect(nav.get_by_role("link")).to_have_count(len(tools))
    for label, path in tools.items():
        link = nav.get_by_role("link", name=label, exact=True)
        expect(link).to_be_visible()
        assert link.get_attribute("href") == path
        response = page.goto(path)
        assert response is not None and response.status == 200, f"{username}: {label} answered {response.status}"
        if not path.startswith("/cms/"):
            check_page(page)  # the Wagtail admin's own pages are Wagtail's to check
        visit(page, "/")


def test_patients_see_no_staff_tools(page):
    sign_in(page, "patient1")
    for path in ("/", "/community/", "/clinicians/"):
        visit(page, path)
        expect(page.get_by_role("navigation", name="Your tools")).to_have_count(0)
        for label in (
            "Moderation queue",
            "Respond to reviews",
            "PX workspace",
            "Feedback reports",
            "Audit log",
            "Content management",
        ):
            expect(page.get_by_role("link", name=label, exact=True)).to_have_count(0)
