"""Every way in leads to one sign-in form, and no staff PHI page opens without a second factor.

A staff member with an enrolled authenticator starts from each login route a
browser can reach (allauth's, the Wagtail admin's, Django admin's, the one
Wagtail serves for restricted pages) and from the staff pages themselves.
Each lands on allauth's form; the right password leads to the code step, and
until the code is entered every staff page sends them back to sign in.
Posting the password straight at the other login URLs signs nobody in.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.support import (
    AUTHENTICATE_PATH,
    DEMO_PASSWORD,
    check_page,
    path_of,
    sign_in_and_enrol,
    sign_out,
    submit_authenticator_code,
)

pytestmark = pytest.mark.browser

LOGIN_ROUTES = ["/accounts/login/", "/cms/login/", "/django-admin/login/", "/_util/login/"]
STAFF_PAGES = ["/px/", "/cms/", "/cms/portal-social/audit/", "/django-admin/"]


@pytest.fixture
def enrolled_clinician(browser, live_portal, fresh_clinician) -> tuple[str, str]:
    """A clinician who enrolled TOTP through the portal; returns (username, secret)."""
    context = browser.new_context(base_url=live_portal.base_url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        secret = sign_in_and_enrol(page, fresh_clinician)
        sign_out(page)
    finally:
        context.close()
    return fresh_clinician, secret


def _fill_sign_in_form(page, username: str) -> None:
    form = page.locator("main form[action='/accounts/login/']")
    form.locator("input[name=login]").fill(username)
    form.locator("input[name=password]").fill(DEMO_PASSWORD)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    check_page(page)


@pytest.mark.parametrize("route", LOGIN_ROUTES + STAFF_PAGES)
def test_every_way_in_reaches_the_one_sign_in_form(page, route):
    response = page.goto(route)
    assert response is not None and response.ok
    assert path_of(page) == "/accounts/login/", f"{route} led to {page.url}"
    expect(page.locator("main form[action='/accounts/login/']")).to_be_visible()
    check_page(page)


def test_staff_signing_in_from_any_route_must_present_the_second_factor(browser, live_portal, enrolled_clinician):
    username, secret = enrolled_clinician
    for route in LOGIN_ROUTES + STAFF_PAGES:
        context = browser.new_context(base_url=live_portal.base_url)
        context.set_default_timeout(10_000)
        page = context.new_page()
        try:
            page.goto(route)
            _fill_sign_in_form(page, username)
            assert path_of(page) == AUTHENTICATE_PATH, f"from {route}: a password alone went to {page.url}"
            for staff_page in STAFF_PAGES:
                page.goto(staff_page)
                assert path_of(page) in ("/accounts/login/", AUTHENTICATE_PATH), (
                    f"from {route}: {staff_page} opened without the second factor ({page.url})"
                )
        finally:
            context.close()

    # The control: with the code, the same clinician is signed in.
    context = browser.new_context(base_url=live_portal.base_url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto("/accounts/login/")
        _fill_sign_in_form(page, username)
        submit_authenticator_code(page, secret)
        expect(page.locator("header").get_by_role("button", name="Sign out")).to_be_visible()
    finally:
        context.close()


@pytest.mark.parametrize("route", ["/_util/login/", "/django-admin/login/", "/cms/login/"])
def test_posting_the_password_to_another_login_url_signs_nobody_in(page, enrolled_clinician, route):
    username, _ = enrolled_clinician
    page.goto("/accounts/login/")  # a CSRF cookie, as a real form post would carry
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    page.request.post(
        route,
        form={"username": username, "password": DEMO_PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": page.url},
    )
    for staff_page in STAFF_PAGES:
        page.goto(staff_page)
        assert path_of(page) == "/accounts/login/", f"after posting to {route}, {staff_page} gave {page.url}"
