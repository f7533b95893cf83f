"""A patient finds a clinician and reviews them; a moderator redacts a phone number; stars appear.

The demo data gives Dr. Priya Raman (clinician1: cardiology, Spanish, accepting
new patients) 29 ratings, one short of the 30 needed before stars are shown.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.support import check_page, path_of, sign_in, sign_out, visit
from tests.totp import fresh_totp_code

pytestmark = pytest.mark.browser

QUEUE = "/cms/portal-social/moderation/"
PHONE = "413-555-0123"
COMMENT = f"Dr. Raman explained everything about my heart and answered every question. Call me at {PHONE} anytime."


def _moderator_with_totp(live_portal) -> tuple[str, str]:
    """A fresh community moderator with an authenticator enrolled; returns (username, secret)."""
    code = """
import uuid
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth import get_user_model
from portal_social.core import roles

username = "moderator-" + uuid.uuid4().hex[:8]
user = get_user_model().objects.create_user(username=username, email=username + "@example.org", password=%r)
EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
roles.grant_role(user=user, role=roles.COMMUNITY_MODERATOR)
secret = generate_totp_secret()
TOTP.activate(user, secret)
print("MODERATOR", username, secret)
"""
    from tests.browser.support import DEMO_PASSWORD

    out = live_portal.manage("shell", "-c", code % DEMO_PASSWORD).stdout
    username, secret = re.search(r"MODERATOR (\S+) (\S+)", out).groups()
    return username, secret


def test_patient_review_with_phone_is_held_redacted_by_moderator_and_stars_appear(page, live_portal):
    # 1. A patient finds a Spanish-speaking cardiologist who accepts new patients.
    sign_in(page, "patient1")
    visit(page, "/clinicians/")
    page.get_by_label("Specialty", exact=True).select_option(label="Cardiology")
    page.get_by_label("Language", exact=True).select_option(label="Spanish")
    page.get_by_label("Accepting new patients", exact=True).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Search").click()
    check_page(page)
    assert "specialty=cardiology" in page.url and "language=spanish" in page.url and "accepting=1" in page.url
    results = page.locator(".clinician-list")
    expect(results).to_contain_text("Priya Raman")
    expect(results).not_to_contain_text("Lucia Hernandez")  # not accepting new patients
    expect(results).not_to_contain_text("Sofia Alvarez")  # no Spanish
    with page.expect_navigation():
        results.get_by_role("link", name=re.compile("Priya Raman")).first.click()
    check_page(page)
    expect(page.locator("main")).to_contain_text("Fewer than 30")
    profile_url = page.url

    # 2. The review: stars from the keyboard-usable radio groups, and a comment with a phone number.
    with page.expect_navigation():
        page.get_by_role("link", name="Write a review").click()
    check_page(page)
    for group in page.locator("fieldset.star-rating").all():
        group.get_by_role("radio", name="5 stars").check()
    page.get_by_label(re.compile("comment", re.IGNORECASE)).fill(COMMENT)
    with page.expect_navigation():
        page.get_by_role("button", name="Submit review").click()
    check_page(page)
    main = page.locator("main")
    expect(main).to_contain_text("held for review")
    expect(main).to_contain_text("phone number")
    expect(main).not_to_contain_text(PHONE)  # the reason never repeats the PHI
    sign_out(page)

    # The held comment is not public; the stars already count (30 ratings).
    visit(page, profile_url.replace(live_portal.base_url, ""))
    expect(page.locator("main")).not_to_contain_text(PHONE)

    # 3. A moderator signs in with a second factor, hides the number and publishes.
    username, secret = _moderator_with_totp(live_portal)
    sign_in(page, username)
    assert "/accounts/2fa/authenticate/" in page.url
    code, _ = fresh_totp_code(secret)
    page.get_by_label(re.compile("code", re.IGNORECASE)).fill(code)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    # The review queue's old address leads to the reviews in the moderation queue.
    page.goto("/cms/portal-social/reviews/")
    assert path_of(page) == QUEUE and "type=review" in page.url, page.url
    held = page.locator("article.ps-moderation__item").filter(has_text=PHONE)
    expect(held).to_be_visible()
    held.get_by_label("Hide everything the checks found").check()
    with page.expect_navigation():
        held.get_by_role("button", name="Hide selected and publish").click()
    expect(page.locator("article.ps-moderation__item").filter(has_text=PHONE)).to_have_count(0)
    visit(page, "/")
    sign_out(page)

    # 4. The comment appears without the number; the aggregate stars appear at 30 ratings.
    visit(page, profile_url.replace(live_portal.base_url, ""))
    main = page.locator("main")
    expect(main).to_contain_text("[phone removed]")
    expect(main).to_contain_text("answered every question")
    expect(main).not_to_contain_text(PHONE)
    expect(main).to_contain_text("from 30 ratings")
    expect(main).not_to_contain_text("Fewer than 30")
