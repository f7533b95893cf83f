"""Text-message notifications, in a browser: patient1 (seed_demo: a fictional 555 number on Riverside's
record, texts on) sees the choice on their notification settings with the last four digits only; a
care-team reply then reaches them as a text that names nothing but the portal, "a new secure message" and
the link, and the link opens the conversation with the reply. Once they untick texts, the next reply is
emailed only.

The live server writes texts to files (``core.sms.FileBackend``, ``SMS_FILE_PATH``); the reply is written
by clinician1 through the messaging action, as the care team's own journeys do in a browser.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.community_support import press
from tests.browser.messaging_support import CONVERSATION_PATH, messages, words
from tests.browser.support import path_of, sign_in, visit

pytestmark = pytest.mark.browser

SUBJECT = "Dizzy since the new blood pressure pill"
CHOICE = "Also send me a text message"
REPLY = """
from django.contrib.auth import get_user_model
from portal_social.messaging import actions
from portal_social.messaging.models import Conversation

clinician = get_user_model().objects.get(username="clinician1")
message = actions.send_message(
    sender=clinician, conversation=Conversation.objects.get(pk=%(conversation)r), body=%(body)r
)
print("@@", message.pk)
"""


def _reply(live_portal, conversation: str, body: str) -> None:
    out = live_portal.manage("shell", "-c", REPLY % {"conversation": conversation, "body": body}).stdout
    assert "@@" in out, f"the care team's reply was not sent:\n{out}"
    live_portal.manage("portal_social_notify", "sweep")  # what the task worker does on the services stack


def _texts(folder: Path) -> list[str]:
    if not folder.exists():
        return []
    return [path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.txt"))]


def _wait_for_text(folder: Path, containing: str, timeout: float = 15) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [text for text in _texts(folder) if containing in text]
        if found:
            return found[-1]
        time.sleep(0.2)
    raise AssertionError(f"no text message naming {containing} in {folder}: {_texts(folder)}")


def test_a_patient_gets_a_text_that_names_nothing_and_can_turn_texts_off(page, live_portal):
    folder = live_portal.work_dir / "sms"

    # 1. The settings page offers texts to the number on record, showing its last four digits only.
    sign_in(page, "patient1")
    visit(page, "/notifications/")  # axe: the settings with the text-message choice
    choice = page.get_by_label(CHOICE)
    expect(choice).to_be_checked()  # seed_demo: patient1 asked for texts
    expect(page.get_by_text("ending 0147")).to_be_visible()
    assert "555" not in page.content()

    # 2. The patient's conversation with the cardiology team.
    visit(page, "/messages/")
    row = page.locator("li.ps-conversation-row").filter(has_text=SUBJECT)
    press(page, row.get_by_role("link", name=SUBJECT))
    conversation = CONVERSATION_PATH.fullmatch(path_of(page)).group(1)

    # 3. A care-team reply: a text naming only the portal, "a new secure message" and the link.
    token = words()
    body = f"Your potassium came back normal, keep taking the lisinopril. {token}"
    live_portal.manage("portal_social_notify", "sweep")  # what the demo queued before (texts or not)
    before = len(_texts(folder))
    _reply(live_portal, conversation, body)
    text = _wait_for_text(folder, conversation)
    assert len(_texts(folder)) == before + 1
    assert text.startswith("To: •••• 0147\n"), text
    link = re.search(r"https?://\S+", text).group(0)
    assert text.split("\n\n", 1)[1].strip() == f"Riverside Health: You have a new secure message {link}"
    for word in (token, "potassium", "lisinopril", "Dizzy", "pill", "Maria"):
        assert word.lower() not in text.lower(), f"the text names {word!r}"

    # 4. The link opens the conversation, with the reply (its path, on this test server's port).
    assert urlsplit(link).path == f"/messages/c/{conversation}/", link
    visit(page, urlsplit(link).path)  # axe: the conversation the text links to
    assert path_of(page) == f"/messages/c/{conversation}/", page.url
    expect(messages(page).filter(has_text=token)).to_have_count(1)

    # 5. Texts off: the next reply is emailed only.
    visit(page, "/notifications/")
    page.get_by_label(CHOICE).uncheck()
    press(page, "Save", check=True)  # axe: the settings, saved
    expect(page.get_by_label(CHOICE)).not_to_be_checked()
    later = words()
    _reply(live_portal, conversation, f"One more note about your results. {later}")
    time.sleep(1.0)
    assert len(_texts(folder)) == before + 1, "a text was sent after the patient turned texts off"
