"""Helpers for the secure messaging journeys: a care-team member of their own, and pages that must not reload.

The demo's ``clinician1`` is never enrolled in two-step verification (other journeys rely on being
sent to enrolment with it), so a journey that signs a care-team member in takes one of its own: a
clinician with an authenticator, added to a demo care team as staff add members in the admin. A code
is good once in its 30 s window, so each journey that signs one in takes its own.
"""

from __future__ import annotations

import random
import re
import string

from playwright.sync_api import Page

from tests.browser.support import DEMO_PASSWORD, assert_no_csp_violations, path_of

#: The demo pools (seed_demo): slug -> the name the compose form lists.
CARDIOLOGY = "cardiology-raman"
CARDIOLOGY_NAME = "Cardiology — Dr. Raman's team"

CONVERSATION_PATH = re.compile(r"/messages/c/([0-9a-f-]{36})/")

TEAM_MEMBER = """
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth import get_user_model
from portal_social.core import roles
from portal_social.messaging.models import CarePool, PoolMember

username = "clinician-" + %(token)r
user = get_user_model().objects.create_user(
    username=username, email=username + "@example.org", password=%(password)r,
    first_name="Maya", last_name="Ellison",
)
EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
roles.grant_role(user=user, role=roles.CLINICIAN)
PoolMember.objects.create(pool=CarePool.objects.get(slug=%(pool)r), user=user)
secret = generate_totp_secret()
TOTP.activate(user, secret)
print("@@", username, secret)
"""


def words(length: int = 10) -> str:
    """A random word of lowercase letters: unique in a subject, and never read as a number (a phone, a date)."""
    return "".join(random.choices(string.ascii_lowercase, k=length))


def team_member(live_portal, pool: str = CARDIOLOGY) -> tuple[str, str]:
    """A clinician with an enrolled authenticator, member of the care team ``pool``: (username, secret)."""
    code = TEAM_MEMBER % {"token": words(8), "password": DEMO_PASSWORD, "pool": pool}
    out = live_portal.manage("shell", "-c", code).stdout
    found = re.search(r"^@@ (\S+) (\S+)$", out, re.MULTILINE)
    assert found, f"the care-team member was not created:\n{out}"
    return found.group(1), found.group(2)


def stay(page: Page) -> None:
    """Mark the document now shown, so :func:`stayed` can tell that it was never reloaded or left."""
    page.evaluate("window.__psJourneyStay = true")


def stayed(page: Page) -> bool:
    return page.evaluate("window.__psJourneyStay === true")


def conversation_id(page: Page) -> str:
    found = CONVERSATION_PATH.search(page.url)
    assert found, f"not a conversation page: {page.url}"
    return found.group(1)


def messages(page: Page):
    """The messages of the conversation page, oldest first (each an ``<li>``)."""
    return page.locator("ol.ps-message-list > li.ps-message")


def receipt(message):
    """The "Sent" / "Read by ..." mark under a message of the reader's own side."""
    return message.locator(".ps-message__receipt")


def sign_in_without_script(page: Page, login: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through allauth's form in a context with JavaScript turned off.

    axe cannot run there (its checks wait on timers, which do not fire without JavaScript), so pages
    reached this way are checked for CSP only; the journey runs axe on the same pages with JavaScript.
    """
    response = page.goto("/accounts/login/")
    assert response is not None and response.status == 200, f"the sign-in page answered {response and response.status}"
    form = page.locator("main form[action='/accounts/login/']")
    form.locator("input[name=login]").fill(login)
    form.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    page.wait_for_load_state("load")
    assert_no_csp_violations(page)
    assert path_of(page) != "/accounts/login/", "the sign-in was refused: " + page.locator("main").inner_text()
