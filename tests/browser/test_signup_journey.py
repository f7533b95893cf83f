"""A patient creates an account, verifies their email and signs in."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.support import check_page, path_of, plain_text, sign_in, visit, wait_for_mail

pytestmark = pytest.mark.browser

PASSWORD = "Quiet-river-7241-maple"


def _fill_signup(page, *, email: str, username: str, password1: str, password2: str) -> None:
    form = page.locator("main form[action='/accounts/signup/']")
    form.locator("input[name=email]").fill(email)
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password1]").fill(password1)
    form.locator("input[name=password2]").fill(password2)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    check_page(page)


def test_new_patient_signs_up_confirms_email_from_the_mailed_link_and_signs_in(page, live_portal):
    username = f"pat{uuid.uuid4().hex[:10]}"
    email = f"{username}@example.org"

    visit(page, "/accounts/signup/")
    _fill_signup(page, email=email, username=username, password1=PASSWORD, password2=PASSWORD)

    # Mandatory verification: no session yet, told to check the inbox.
    assert path_of(page) == "/accounts/confirm-email/"
    expect(page.get_by_role("heading", level=1)).to_contain_text("Verify Your Email Address")
    expect(page.locator("header").get_by_role("button", name="Sign out")).to_have_count(0)

    body = plain_text(wait_for_mail(live_portal.mail_dir, email))
    pattern = rf"{re.escape(live_portal.base_url)}/accounts/confirm-email/[^/\s]+/"
    links = re.findall(pattern, body)
    assert links, f"no confirmation link for {live_portal.base_url} in the email:\n{body}"

    # ACCOUNT_CONFIRM_EMAIL_ON_GET is off: the link shows a page with a button.
    visit(page, links[-1])
    confirm = page.locator("main form").get_by_role("button", name=re.compile("confirm", re.I))
    expect(confirm).to_be_visible()
    with page.expect_navigation():
        confirm.click()
    check_page(page)
    assert path_of(page) == "/accounts/login/", "confirming should lead to sign-in (no login on confirmation)"

    sign_in(page, username, PASSWORD)
    assert path_of(page) == "/"
    header = page.locator("header")
    expect(header.get_by_role("button", name="Sign out")).to_be_visible()
    expect(header.get_by_role("link", name="Sign in")).to_have_count(0)


def test_signup_with_mismatched_passwords_shows_the_error_at_the_field_and_keeps_email_and_username(page):
    username = f"pat{uuid.uuid4().hex[:10]}"
    email = f"{username}@example.org"

    visit(page, "/accounts/signup/")
    _fill_signup(page, email=email, username=username, password1=PASSWORD, password2=PASSWORD + "-typo")

    assert path_of(page) == "/accounts/signup/", "the form should be shown again, not accepted"
    form = page.locator("main form[action='/accounts/signup/']")
    expect(form.locator("input[name=email]")).to_have_value(email)
    expect(form.locator("input[name=username]")).to_have_value(username)

    # The error is tied to the second password field (for screen readers) ...
    password2 = form.locator("input[name=password2]")
    expect(password2).to_have_attribute("aria-invalid", "true")
    described_by = (password2.get_attribute("aria-describedby") or "").split()
    error_texts = [page.locator(f"[id='{ident}']").inner_text() for ident in described_by]
    assert any("same password" in text for text in error_texts), (
        f"password2 is not described by the mismatch error (aria-describedby={described_by}, texts={error_texts})"
    )
    # ... and shown right beside it, not only at the top of the form.
    error = page.get_by_text("You must type the same password each time.")
    expect(error).to_have_count(1)
    error_box, field_box = error.bounding_box(), password2.bounding_box()
    assert error_box and field_box
    gap = min(
        abs(error_box["y"] - (field_box["y"] + field_box["height"])),
        abs(field_box["y"] - (error_box["y"] + error_box["height"])),
    )
    assert gap < 80, f"the error is {gap:.0f}px away from the field"
    # Passwords are never echoed back.
    expect(form.locator("input[name=password1]")).to_have_value("")
    expect(form.locator("input[name=password2]")).to_have_value("")


def test_signup_password_rules_are_announced_with_the_password_field(page):
    visit(page, "/accounts/signup/")

    password1 = page.locator("main form[action='/accounts/signup/'] input[name=password1]")
    described_by = (password1.get_attribute("aria-describedby") or "").split()
    texts = [page.locator(f"[id='{ident}']").inner_text() for ident in described_by]

    assert any("at least 12 characters" in text for text in texts), texts
