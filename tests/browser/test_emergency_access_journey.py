"""Emergency access (break-the-glass) to a secure-messaging conversation, in a browser.

A clinician of another care team, signed in with the second factor, opens a conversation of the demo's
patient1 that is not theirs: the portal answers "not found", as for a conversation that does not exist,
with one addition, a link to ask for emergency access. A written reason of at least 20 characters opens
the conversation for reading only, for a limited time, with a note saying so. A conversation that does
not exist shows the same pages until a valid reason is sent (no oracle). A patient, who may never break
the glass, gets the plain "page not found" and no offer.

The conversation is the demo's "Dizzy since the new blood pressure pill" (seed_demo: patient1, Dr.
Raman's cardiology team). The clinician is one of the journey's own: a member of Dr. Okafor's primary
care team only, with an enrolled authenticator (clinicians hold ``portal_social.break_glass`` by default).
"""

from __future__ import annotations

import datetime
import re
import uuid
import zoneinfo

import pytest
from playwright.sync_api import Page, expect

from tests.browser.community_support import open_again, press
from tests.browser.messaging_support import TEAM_MEMBER, messages, words
from tests.browser.support import (
    DEMO_PASSWORD,
    assert_accessible,
    assert_no_csp_violations,
    check_page,
    path_of,
    sign_in,
    sign_in_with_code,
    visit,
)

pytestmark = pytest.mark.browser

SUBJECT = "Dizzy since the new blood pressure pill"
PATIENT_NAME = "Maria Lopez"  # patient1, as the care team (and an emergency reader) sees her named
FIRST_MESSAGE = "Since I started the new blood pressure pill last week I feel dizzy when I stand up."
TEAM_ANSWER = "Keep taking it, stand up slowly, and drink plenty of water."
ASK = "Ask for emergency access"
REASON_LABEL = "Why do you need this record now?"
OPEN = "Open with emergency access"
TOO_SHORT = "Explain why you need emergency access (at least 20 characters)."
NOTE = re.compile(
    r"^Emergency access: you may read this conversation until (\d{2}:\d{2})\. Every page you open is recorded\.$"
)
#: The portal's TIME_ZONE (example_site/settings/base.py), in which the note gives the time limit.
PORTAL_TIME_ZONE = zoneinfo.ZoneInfo("America/New_York")
#: PORTAL_SOCIAL_BREAK_GLASS_MINUTES (the default): how long emergency access lasts.
MINUTES = 60

#: After TEAM_MEMBER (the outsider, in Dr. Okafor's team): the conversation's address, and proof that the
#: outsider may not open it yet (else the journey would prove nothing).
CONVERSATION = """
from portal_social.core import access
from portal_social.messaging.models import Conversation

found = [
    c for c in Conversation.objects.filter(patient__username="patient1", pool__slug="cardiology-raman")
    if c.subject == %(subject)r
]
assert len(found) == 1, found
assert not access.can(user, "view", found[0]), "the outsider is on the conversation's care team"
print("@@conversation", found[0].pk)
"""


@pytest.fixture(scope="module")
def world(live_portal) -> dict[str, str]:
    """One ``manage.py shell``: the outsider (username, secret) and the conversation's path."""
    code = TEAM_MEMBER % {"token": words(8), "password": DEMO_PASSWORD, "pool": "primary-care-okafor"}
    code += CONVERSATION % {"subject": SUBJECT}
    out = live_portal.manage("shell", "-c", code).stdout
    outsider = re.search(r"^@@ (\S+) (\S+)$", out, re.MULTILINE)
    convo = re.search(r"^@@conversation ([0-9a-f-]{36})$", out, re.MULTILINE)
    assert outsider and convo, f"the journey's world was not made:\n{out}"
    return {
        "username": outsider.group(1),
        "secret": outsider.group(2),
        "path": f"/messages/c/{convo.group(1)}/",
    }


def _submit(page: Page, name: str) -> int:
    """Press the button ``name``, check the page that follows (axe, CSP) and return its HTTP status."""
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name=name, exact=True).click()
    response = navigation.value
    assert response is not None, "the form was not sent"
    check_page(page)
    return response.status


def _main_text(page: Page) -> str:
    return page.locator("main").inner_text()


def _shows_nothing_of_the_conversation(page: Page) -> None:
    html = page.content()
    for secret in (SUBJECT, PATIENT_NAME, "Lopez", FIRST_MESSAGE):
        assert secret not in html, f"{page.url} shows {secret!r}"


def test_a_clinician_of_another_team_opens_a_conversation_with_emergency_access(page, world):
    path = world["path"]
    emergency_path = path + "emergency/"
    nowhere = f"/messages/c/{uuid.uuid4()}/"

    # 1. The outsider signs in with the second factor and opens the conversation's address: "not found",
    #    with the offer of emergency access, and nothing of the conversation.
    sign_in_with_code(page, world["username"], world["secret"])
    visit(page, path, status=404)  # axe: the not-found page with the offer
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    ask = page.get_by_role("link", name=ASK, exact=True)
    expect(ask).to_have_attribute("href", emergency_path)
    expect(page.get_by_role("note").filter(has_text="emergency access")).to_contain_text(
        "every page you open are recorded"
    )
    _shows_nothing_of_the_conversation(page)
    not_found_text = _main_text(page)

    # 2. The request screen asks for a reason; one too short comes back with the error, the field marked.
    press(page, ask, check=True)  # axe: the request screen
    assert path_of(page) == emergency_path, page.url
    expect(page.get_by_role("heading", level=1)).to_have_text("Emergency access")
    expect(page.locator("main")).to_contain_text(f"It opens for reading only, for {MINUTES} minutes.")
    _shows_nothing_of_the_conversation(page)
    request_text = _main_text(page)
    reason = page.get_by_label(REASON_LABEL)
    expect(reason).not_to_have_attribute("aria-invalid", "true")

    reason.fill("   Need it now.   ")  # 12 characters once trimmed
    assert _submit(page, OPEN) == 400  # axe: the request screen with its errors
    assert path_of(page) == emergency_path, page.url
    problems = page.get_by_role("alert").filter(has_text="There is a problem")
    expect(problems.get_by_role("link", name=TOO_SHORT)).to_be_visible()
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(page.locator("main .errorlist")).to_have_text(TOO_SHORT)
    _shows_nothing_of_the_conversation(page)

    # 3. (Checked before the glass is broken.) A conversation that does not exist answers alike: the same
    #    "not found" with the offer, then the same request screen.
    open_again(page, nowhere, status=404)
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    expect(page.get_by_role("link", name=ASK, exact=True)).to_have_attribute("href", nowhere + "emergency/")
    assert _main_text(page) == not_found_text
    open_again(page, nowhere + "emergency/")
    assert _main_text(page) == request_text
    open_again(page, path, status=404)  # still closed to the outsider
    assert _main_text(page) == not_found_text

    # 4. A reason long enough opens the conversation for reading: the note with its time limit, the patient
    #    named, the messages, and no reply form.
    open_again(page, emergency_path)
    page.get_by_label(REASON_LABEL).fill("Patient arrived in the emergency department dizzy; checking recent advice.")
    sent = datetime.datetime.now(PORTAL_TIME_ZONE)
    assert _submit(page, OPEN) == 200  # axe: the conversation opened with emergency access
    opened = datetime.datetime.now(PORTAL_TIME_ZONE)
    assert path_of(page) == path, page.url
    expect(page.get_by_role("heading", level=1)).to_have_text(SUBJECT)
    note = page.get_by_role("note").filter(has_text="Emergency access:")
    expect(note).to_have_text(NOTE)
    until = NOTE.match(note.inner_text().strip()).group(1)
    limit = datetime.timedelta(minutes=MINUTES)
    assert until in {(sent + limit).strftime("%H:%M"), (opened + limit).strftime("%H:%M")}, (until, sent, opened)
    expect(page.locator(".ps-conversation__meta")).to_contain_text(f"Patient: {PATIENT_NAME}")
    expect(messages(page).first).to_contain_text(FIRST_MESSAGE)
    expect(messages(page).filter(has_text=TEAM_ANSWER)).to_have_count(1)
    expect(page.get_by_role("textbox", name="Your message")).to_have_count(0)
    expect(page.get_by_role("button", name="Send", exact=True)).to_have_count(0)
    expect(page.locator(".ps-conversation__tools")).to_have_count(0)  # no closing, assigning or filing
    assert_no_csp_violations(page)

    # The request screen now leads straight to the open conversation; a made-up one still answers "not found"
    # to a valid reason, only now (the reason is the price of each guess).
    open_again(page, emergency_path)
    assert path_of(page) == path, page.url
    open_again(page, nowhere + "emergency/")
    page.get_by_label(REASON_LABEL).fill("Patient arrived in the emergency department dizzy; checking recent advice.")
    assert _submit(page, OPEN) == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.get_by_role("link", name=ASK)).to_have_count(0)


def test_a_patient_is_never_offered_emergency_access(page, world):
    path = world["path"]
    sign_in(page, "patient2")
    for address in (path, path + "emergency/", f"/messages/c/{uuid.uuid4()}/emergency/"):
        open_again(page, address, status=404)
        expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
        expect(page.get_by_role("link", name=ASK)).to_have_count(0)
        expect(page.get_by_label(REASON_LABEL)).to_have_count(0)
        _shows_nothing_of_the_conversation(page)
    assert_accessible(page)
