"""Staff must enrol an authenticator app before any page that can hold PHI, then use it to sign in.

The database lives for the whole browser run, so tests that enrol MFA each
take a clinician no other test has used (``fresh_clinician``); the demo
``clinician1`` is only ever signed in, never enrolled. The tests pass in any order.

allauth (65.x, ``MFA_REAUTHENTICATION_REQUIRED`` defaults to True) does not
count the sign-in itself as a recent re-authentication, so the enrolment page
first asks the clinician to confirm their password ("Confirm Access").
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, Response, expect

from tests.browser.support import (
    DEMO_PASSWORD,
    check_page,
    fresh_totp_code,
    path_of,
    sign_in,
    sign_out,
    visit,
    wait_for_next_totp_window,
)

pytestmark = pytest.mark.browser

ENROL_PATH = "/accounts/2fa/totp/activate/"
REAUTHENTICATE_PATH = "/accounts/reauthenticate/"
AUTHENTICATE_PATH = "/accounts/2fa/authenticate/"


def _redirect_chain(response: Response) -> list[str]:
    """Paths of every request that led to ``response``, first to last."""
    chain, request = [], response.request
    while request is not None:
        chain.append(urlsplit(request.url).path)
        request = request.redirected_from
    return chain[::-1]


def _confirm_password_for_enrolment(page: Page, password: str = DEMO_PASSWORD) -> None:
    """allauth's "Confirm Access" step in front of the enrolment page."""
    assert path_of(page) == REAUTHENTICATE_PATH, f"expected the password confirmation, got {page.url}"
    assert parse_qs(urlsplit(page.url).query).get("next") == [ENROL_PATH]
    form = page.locator("main form[action='/accounts/reauthenticate/']")
    form.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        form.get_by_role("button", name="Confirm").click()
    check_page(page)
    assert path_of(page) == ENROL_PATH


def _enrol_totp(page: Page) -> str:
    """On the enrolment page: read the secret shown, submit the current code; return the secret."""
    assert path_of(page) == ENROL_PATH
    secret = page.locator("#authenticator_secret").input_value()
    assert len(secret) >= 16, f"unexpected secret {secret!r}"
    code, _ = fresh_totp_code(secret)
    form = page.locator(f"main form[action='{ENROL_PATH}']")
    form.locator("input[name=code]").fill(code)
    with page.expect_navigation():
        form.get_by_role("button", name="Activate").click()
    check_page(page)
    assert path_of(page) != ENROL_PATH, "the code was refused: " + page.locator("main").inner_text()
    return secret


def _sign_in_and_enrol(page: Page, username: str) -> str:
    sign_in(page, username)
    _confirm_password_for_enrolment(page)
    return _enrol_totp(page)


def _submit_authenticator_code(page: Page, secret: str) -> None:
    """On allauth's second-step page: enter the current code.

    allauth refuses a code already used in its 30 s window; if that happens,
    wait (at most one window) for the next code and try once more.
    """
    for attempt in range(2):
        assert path_of(page) == AUTHENTICATE_PATH
        code, counter = fresh_totp_code(secret)
        form = page.locator(f"main form[action='{AUTHENTICATE_PATH}']").first
        form.locator("input[name=code]").fill(code)
        with page.expect_navigation():
            form.get_by_role("button", name="Sign In").click()
        check_page(page)
        if path_of(page) != AUTHENTICATE_PATH:
            return
        if attempt == 0:
            wait_for_next_totp_window(counter)
    raise AssertionError("the authenticator code was refused twice: " + page.locator("main").inner_text())


def test_demo_clinician_is_sent_to_totp_enrolment_at_sign_in_and_from_phi_pages_until_enrolled(page):
    # clinician1 from seed_demo; no test enrols it, so this holds in any order.
    sign_in(page, "clinician1")
    expect(page.locator("main .messages")).to_contain_text("two-step verification")
    _confirm_password_for_enrolment(page)
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
    _sign_in_and_enrol(page, fresh_clinician)

    visit(page, "/messages/")
    assert path_of(page) == "/messages/"
    expect(page.locator("header").get_by_role("button", name="Sign out")).to_be_visible()
    visit(page, "/community/")
    assert path_of(page) == "/community/"


def test_enrolled_clinician_must_enter_an_authenticator_code_at_the_next_sign_in(page, fresh_clinician):
    secret = _sign_in_and_enrol(page, fresh_clinician)
    sign_out(page)
    expect(page.locator("header").get_by_role("link", name="Sign in")).to_be_visible()

    sign_in(page, fresh_clinician)
    assert path_of(page) == AUTHENTICATE_PATH, "a password alone must not sign in a clinician with MFA"
    expect(page.locator("header").get_by_role("button", name="Sign out")).to_have_count(0)

    _submit_authenticator_code(page, secret)
    assert path_of(page) == "/"
    expect(page.locator("header").get_by_role("button", name="Sign out")).to_be_visible()

    visit(page, "/messages/")
    assert path_of(page) == "/messages/"
