"""Secure messaging in a browser: a patient writes to their care team while a clinician has the team
inbox open; each side sees the other's doing without reloading; the pages work without JavaScript; a
caregiver never sees a conversation the patient keeps private.

The patient and caregiver are the demo's (seed_demo: patient1, caregiver1 writing for patient1, a
confidential conversation "A private question"). The clinician is one of the journey's own, added to
Dr. Raman's cardiology team with an enrolled authenticator (``messaging_support.team_member``).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.community_support import browser_of_their_own, open_again, press
from tests.browser.messaging_support import (
    CARDIOLOGY_NAME,
    CONVERSATION_PATH,
    conversation_id,
    messages,
    receipt,
    sign_in_without_script,
    stay,
    stayed,
    team_member,
    words,
)
from tests.browser.support import (
    LIVE_TIMEOUT_MS,
    SocketWatch,
    assert_accessible,
    assert_no_csp_violations,
    path_of,
    sign_in,
    sign_in_with_code,
    visit,
    watch_console,
)

pytestmark = pytest.mark.browser

EMERGENCY = "If this is an emergency, call 911."
PRIVATE_SUBJECT = "A private question"


@pytest.fixture(scope="module")
def clinician(live_portal) -> tuple[str, str]:
    """A member of Dr. Raman's team with an authenticator: (username, secret)."""
    return team_member(live_portal)


def _subscribed(socket: SocketWatch, stream: str, target: str | None = None) -> None:
    socket.frame(
        lambda frame: (
            frame.get("type") == "subscribed"
            and frame.get("stream") == stream
            and (target is None or frame.get("target") == target)
        )
    )


def test_a_patient_writes_to_the_care_team_and_each_side_sees_the_other_live(browser, live_portal, clinician):
    token = words()
    subject = f"Parking for my clinic visit {token}"
    body = f"Where should I park when I come to the heart clinic next week? Ask for {token} at the desk."
    reply = f"Use the visitor car park on Elm Street; the clinic validates the ticket. {token}"
    later = f"Thank you, I will bring the ticket with me. {token}"

    with (
        browser_of_their_own(browser, live_portal) as team,
        browser_of_their_own(browser, live_portal) as patient,
    ):
        team_socket = SocketWatch(team)
        patient_socket = SocketWatch(patient)

        # 1. The clinician signs in with the second factor and opens the team inbox, which shows the
        #    conversations waiting for a reply; the page follows the team's stream.
        sign_in_with_code(team, *clinician)
        visit(team, "/messages/")  # axe: the clinician's inbox
        expect(team.get_by_role("heading", level=1)).to_have_text("Team inbox")
        filters = team.get_by_role("navigation", name="Show conversations")
        expect(filters.get_by_role("link", name="Waiting for a reply")).to_have_attribute("aria-current", "page")
        expect(team.locator(".ps-messaging__pools")).to_contain_text(CARDIOLOGY_NAME)
        inbox_list = team.locator(".ps-messaging__list")
        expect(inbox_list.get_by_role("link", name=subject)).to_have_count(0)
        _subscribed(team_socket, "messaging.pool")
        stay(team)

        # 2. The patient writes to the cardiology team. The form warns that messages are not for
        #    emergencies; sent empty, it comes back naming each missing answer.
        sign_in(patient, "patient1")
        visit(patient, "/messages/")  # axe: the patient's inbox
        expect(patient.get_by_role("heading", level=1)).to_have_text("Secure messages")
        expect(patient.locator("main")).to_contain_text(EMERGENCY)
        press(patient, patient.get_by_role("link", name="Write to your care team"), check=True)  # axe: compose
        assert path_of(patient) == "/messages/new/", patient.url
        expect(patient.get_by_role("note")).to_contain_text(EMERGENCY)

        press(patient, "Send message", check=True)  # axe: the form with its errors
        assert path_of(patient) == "/messages/new/", patient.url
        problems = patient.get_by_role("alert").filter(has_text="There is a problem")
        for error in (
            "Choose a care team.",
            "Choose what your message is about.",
            "Give your message a subject.",
            "Write your message.",
        ):
            expect(problems.get_by_role("link", name=error)).to_be_visible()
        expect(patient.get_by_label("Send to")).to_have_attribute("aria-invalid", "true")
        expect(patient.get_by_label("Subject")).to_have_attribute("aria-invalid", "true")

        patient.get_by_label("Send to").select_option(label=CARDIOLOGY_NAME)
        patient.get_by_label("Topic").select_option(label="Appointment")
        patient.get_by_label("Subject").fill(subject)
        patient.get_by_label("Your message").fill(body)
        press(patient, "Send message", check=True)  # axe: the conversation, patient side

        # 3. The patient lands on the conversation: sent, and not yet read.
        assert CONVERSATION_PATH.fullmatch(path_of(patient)), patient.url
        conversation_path = path_of(patient)
        convo = conversation_id(patient)
        expect(patient.get_by_role("heading", level=1)).to_have_text(subject)
        expect(patient.get_by_role("status").filter(has_text="Your message was sent.")).to_be_visible()
        expect(messages(patient)).to_have_count(1)
        first = messages(patient).first
        expect(first).to_contain_text(body)
        expect(receipt(first)).to_have_text("Sent")
        _subscribed(patient_socket, "messaging.conversation", convo)
        stay(patient)

        # 4. Without a reload, the clinician's inbox lists the new conversation.
        try:
            expect(inbox_list.get_by_role("link", name=subject)).to_be_visible(timeout=LIVE_TIMEOUT_MS)
        except AssertionError:
            pytest.fail("the inbox did not list the new conversation:\n" + team_socket.report(), pytrace=False)
        assert stayed(team), "the inbox was reloaded"
        row = inbox_list.locator("li.ps-conversation-row").filter(has_text=subject)
        expect(row).to_contain_text(CARDIOLOGY_NAME)
        expect(row).to_contain_text("Appointment")
        expect(row.locator(".badge")).to_have_text("Unread")
        assert_no_csp_violations(team)
        assert_accessible(team)  # the inbox with the row added live

        # 5. The clinician opens it; the patient's "Sent" becomes "Read by the care team", live.
        press(team, inbox_list.get_by_role("link", name=subject), check=True)  # axe: conversation, team side
        assert path_of(team) == conversation_path, team.url
        expect(team.get_by_role("heading", level=1)).to_have_text(subject)
        expect(team.locator(".ps-conversation__meta")).to_contain_text("Patient:")
        expect(messages(team).first).to_contain_text(body)
        try:
            expect(receipt(first)).to_have_text("Read by the care team", timeout=LIVE_TIMEOUT_MS)
        except AssertionError:
            pytest.fail("the read receipt did not reach the patient:\n" + patient_socket.report(), pytrace=False)
        assert stayed(patient), "the patient's page was reloaded"

        # 6. The clinician replies; the reply is added at the end of the patient's open page.
        _subscribed(team_socket, "messaging.conversation", convo)
        team.get_by_label("Your message").fill(reply)
        press(team, "Send")
        assert path_of(team) == conversation_path, team.url
        expect(team.get_by_role("status").filter(has_text="Your message was sent.")).to_be_visible()
        expect(messages(team)).to_have_count(2)
        try:
            expect(messages(patient)).to_have_count(2, timeout=LIVE_TIMEOUT_MS)
        except AssertionError:
            pytest.fail("the reply did not reach the patient's page:\n" + patient_socket.report(), pytrace=False)
        answer = messages(patient).last
        expect(answer).to_contain_text(reply)
        expect(answer).to_contain_text("Maya E.")
        expect(answer.locator(".ps-message__receipt")).to_have_count(0)  # receipts mark one's own side only
        expect(patient.locator(".ps-conversation__announce")).to_have_text("A new message arrived.")
        expect(patient.locator(".ps-conversation__live")).to_be_hidden()
        assert stayed(patient), "the patient's page was reloaded"
        assert_no_csp_violations(patient)
        assert_accessible(patient)  # the conversation with the reply added live
        # The patient's open page reports what it showed: the clinician's mark turns to read.
        expect(receipt(messages(team).last)).to_have_text("Read by the patient", timeout=LIVE_TIMEOUT_MS)

        # 7. Without JavaScript, the patient reads the conversation and replies by the plain form. (axe
        #    needs JavaScript; it checked these pages above.)
        context = browser.new_context(
            base_url=live_portal.base_url, viewport={"width": 1280, "height": 800}, java_script_enabled=False
        )
        context.set_default_timeout(10_000)
        try:
            plain = context.new_page()
            watch_console(plain)
            sign_in_without_script(plain, "patient1")
            open_again(plain, conversation_path)
            expect(messages(plain)).to_have_count(2)
            expect(messages(plain).first).to_contain_text(body)
            expect(receipt(messages(plain).first)).to_have_text("Read by the care team")
            expect(messages(plain).last).to_contain_text(reply)
            expect(plain.get_by_role("note").filter(has_text=EMERGENCY)).to_be_visible()
            plain.get_by_label("Your message").fill(later)
            press(plain, "Send")
            assert path_of(plain) == conversation_path, plain.url
            expect(plain.get_by_role("status").filter(has_text="Your message was sent.")).to_be_visible()
            expect(messages(plain)).to_have_count(3)
            expect(messages(plain).last).to_contain_text(later)
            # The clinician's page is still open, and an open page reports what it shows: the new message
            # may already be read by the time the patient's page loads after the redirect.
            expect(receipt(messages(plain).last)).to_have_text(re.compile(r"^\s*(Sent|Read by the care team)\s*$"))
        finally:
            context.close()

        # The reply sent without JavaScript reaches both pages still open, live.
        expect(messages(team)).to_have_count(3, timeout=LIVE_TIMEOUT_MS)
        expect(messages(team).last).to_contain_text(later)
        expect(messages(patient)).to_have_count(3, timeout=LIVE_TIMEOUT_MS)
        expect(messages(patient).last).to_contain_text(later)


def test_a_caregiver_does_not_see_the_conversation_the_patient_keeps_private(browser, page, live_portal):
    # The patient's inbox lists the private conversation, marked so; its address is what a caregiver tries.
    with browser_of_their_own(browser, live_portal) as patient:
        sign_in(patient, "patient1")
        visit(patient, "/messages/")
        private = patient.locator("li.ps-conversation-row").filter(has_text=PRIVATE_SUBJECT)
        expect(private).to_have_count(1)
        expect(private.locator(".badge")).to_have_text("Private")
        private_path = private.get_by_role("link", name=PRIVATE_SUBJECT).get_attribute("href")
        assert private_path and CONVERSATION_PATH.fullmatch(private_path), private_path

    sign_in(page, "caregiver1")
    visit(page, "/messages/")  # axe: the caregiver's inbox
    listed = page.locator(".ps-messaging__list")
    shared = listed.locator("li.ps-conversation-row").filter(has_text="Refill for Mum's lisinopril")
    expect(shared).to_have_count(1)
    expect(shared).to_contain_text(re.compile(r"For \w+"))
    expect(listed.get_by_role("link", name="Dizzy since the new blood pressure pill")).to_have_count(1)
    expect(listed.get_by_role("link", name=PRIVATE_SUBJECT)).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text(PRIVATE_SUBJECT)

    # The conversation the caregiver wrote opens; the private one answers "not found", as if it did not exist.
    press(page, shared.get_by_role("link"), check=True)
    expect(page.get_by_role("heading", level=1)).to_have_text("Refill for Mum's lisinopril")
    expect(page.locator(".ps-conversation__meta")).to_contain_text("Patient:")
    visit(page, private_path, status=404)
    expect(page.locator("main")).not_to_contain_text(PRIVATE_SUBJECT)
    assert PRIVATE_SUBJECT not in page.content()
    assert "not told my family" not in page.content()


BACKDATE = """
import datetime
from django.utils import timezone
from portal_social.conf import app_settings
from portal_social.messaging.models import Message
last = Message.objects.filter(conversation_id=%(conversation)r).order_by("-seq").first()
left = datetime.timedelta(seconds=app_settings.MESSAGING_RETRACT_SECONDS - %(left)d)
Message.objects.filter(pk=last.pk).update(created_at=timezone.now() - left)
print("@@", last.pk)
"""


def test_a_retract_button_goes_from_the_open_page_when_its_time_is_up(page, live_portal):
    # A page left open past the retraction window no longer offers a button the server would refuse.
    sign_in(page, "patient1")
    visit(page, "/messages/")
    row = page.locator("li.ps-conversation-row").filter(has_text="Dizzy since the new blood pressure pill")
    press(page, row.get_by_role("link"))
    convo = conversation_id(page)
    page.get_by_label("Your message").fill(f"One more question about the pill {words()}")
    press(page, "Send")
    mine = messages(page).last
    expect(mine.get_by_role("button", name=re.compile("Retract"))).to_be_visible()

    out = live_portal.manage("shell", "-c", BACKDATE % {"conversation": convo, "left": 4}).stdout
    assert "@@" in out, out
    open_again(page, path_of(page))
    stay(page)
    retract = messages(page).last.get_by_role("button", name=re.compile("Retract"))
    expect(retract).to_be_visible()  # four seconds left
    expect(retract).to_have_count(0, timeout=LIVE_TIMEOUT_MS)
    assert stayed(page), "the page was reloaded"
