"""Staff must enrol an authenticator app before any page that can hold PHI, then use it to sign in.

The database lives for the whole browser run, so tests that enrol MFA each
take a clinician no other test has used (``fresh_clinician``); the demo
``clinician1`` is only ever signed in, never enrolled. The tests pass in any order.

allauth (65.x, ``MFA_REAUTHENTICATION_REQUIRED`` defaults to True) does not
count the sign-in itself as a recent re-authentication, so the enrolment page
first asks the clinician to confirm their password ("Confirm Access").
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Response, expect

from tests.browser.support import (
    AUTHENTICATE_PATH,
    ENROL_PATH,
    check_page,
    confirm_password_for_enrolment,
    path_of,
    sign_in,
    sign_in_and_enrol,
    sign_out,
    submit_authenticator_code,
    visit,
)

pytestmark = pytest.mark.browser


def _redirect_chain(response: Response) -> list[str]:
    """Paths of every request that led to ``response``, first to last."""
    chain, request = [], response.request
    while request is not None:
        chain.append(urlsplit(request.url).path)
        request = request.redirected_from
    return chain[::-1]


def test_demo_clinician_is_sent_to_totp_enrolment_at_sign_in_and_from_phi_pages_until_enrolled(page):
    # clinician1 from seed_demo; no test enrols it, so this holds in any order.
    sign_in(page, "clinician1")
    expect(page.locator("main .messages")).to_contain_text("two-step verification")
    confirm_password_for_enrolment(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Activate Authenticator App")
    expect(page.locator("#authenticator_secret")).not_to_have_value("")

    for phi_path in ("/px/", "/messages/", "/community/", "/"):
        response = page.goto(phi_path)
        assert response is not None and response.ok
        chain = _redirect_chain(response)
        assert chain == [phi_path, ENROL_PATH], f"{phi_path} was not sent to enrolment: {chain}"
        check_page(page)
        expect(page.locator("main .messages")).to_contain_text("two-step verification")


def test_clinician_enrols_totp_with_the_secret_shown_and_can_then_open_messages(page, fresh_clinician):
    sign_in_and_enrol(page, fresh_clinician)

    visit(page, "/messages/")
    assert path_of(page) == "/messages/"
    expect(page.locator("header").get_by_role("button", name="Sign out")).to_be_visible()
    visit(page, "/community/")
    assert path_of(page) == "/community/"


def test_enrolled_clinician_must_enter_an_authenticator_code_at_the_next_sign_in(page, fresh_clinician):
    secret = sign_in_and_enrol(page, fresh_clinician)
    sign_out(page)
    expect(page.locator("header").get_by_role("link", name="Sign in")).to_be_visible()

    sign_in(page, fresh_clinician)
    assert path_of(page) == AUTHENTICATE_PATH, "a password alone must not sign in a clinician with MFA"
    expect(page.locator("header").get_by_role("button", name="Sign out")).to_have_count(0)

    submit_authenticator_code(page, secret)
    assert path_of(page) == "/"
    expect(page.locator("header").get_by_role("button", name="Sign out")).to_be_visible()

    visit(page, "/messages/")
    assert path_of(page) == "/messages/"
