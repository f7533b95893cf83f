"""Caregiver links in a browser. A patient ends a caregiver's access while the caregiver has one of the
patient's conversations open; staff record a checked link in the admin and end it.

The patient finds the caregivers page from the account settings menu, sees who acts for them and what
they may do, is asked before anything changes, and ends it. The caregiver's open page, without a
reload, says that the conversation is no longer open to them and takes the reply box away; reloading
it answers "not found". The people are the journey's own (the demo's caregiver1 stays linked for the
other journeys).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.community_support import browser_of_their_own, press
from tests.browser.messaging_support import CARDIOLOGY, stay, stayed, words
from tests.browser.support import (
    DEMO_PASSWORD,
    LIVE_TIMEOUT_MS,
    PERSON,
    SocketWatch,
    assert_accessible,
    check_page,
    path_of,
    sign_in,
    sign_in_with_code,
    visit,
)

pytestmark = pytest.mark.browser

PEOPLE = (
    PERSON
    + """
from portal_social.core import caregivers
from portal_social.messaging import actions
from portal_social.messaging.models import CarePool, PoolPatient

patient = person("patient", roles.PATIENT, "Rosalind", "Quennell-" + token.capitalize())
caregiver = person("carer", roles.CAREGIVER, "Tobias", "Quennell-" + token.capitalize())
caregivers.link_caregiver(
    actor=patient, caregiver=caregiver, patient=patient, scopes=["messaging"], relationship="Son"
)
pool = CarePool.objects.get(slug=%(pool)r)
PoolPatient.objects.create(pool=pool, patient=patient)
conversation = actions.start_conversation(
    sender=caregiver, patient=patient, pool=pool, topic="appointment",
    subject="Moving the March appointment", body="Could my mother's visit move to a Thursday?",
)
print("@@", patient.username, caregiver.username, conversation.pk, patient.get_full_name(), caregiver.get_full_name())
"""
)


def test_a_patient_ends_a_caregivers_access_and_the_caregivers_open_page_says_so(browser, live_portal):
    script = PEOPLE % {"token": words(8), "password": DEMO_PASSWORD, "pool": CARDIOLOGY}
    out = live_portal.manage("shell", "-c", script).stdout
    found = re.search(r"^@@ (\S+) (\S+) (\S+) (Rosalind \S+) (Tobias \S+)$", out, re.MULTILINE)
    assert found, f"the journey's people were not made:\n{out}"
    patient_login, caregiver_login, conversation, patient_name, caregiver_name = found.groups()
    conversation_path = f"/messages/c/{conversation}/"

    with (
        browser_of_their_own(browser, live_portal) as carer,
        browser_of_their_own(browser, live_portal) as patient,
    ):
        # 1. The caregiver has the conversation they wrote for the patient open; its page follows it live.
        carer_socket = SocketWatch(carer)
        sign_in(carer, caregiver_login)
        visit(carer, conversation_path)
        expect(carer.get_by_text("Could my mother's visit move to a Thursday?")).to_be_visible()
        carer_socket.frame(lambda frame: frame.get("type") == "subscribed" and frame.get("target") == conversation)
        stay(carer)

        # 2. The patient finds the caregivers page from the account settings menu.
        sign_in(patient, patient_login)
        visit(patient, "/accounts/email/")
        press(
            patient, patient.get_by_role("navigation", name="Account settings").get_by_role("link", name="Caregivers")
        )
        check_page(patient)
        assert path_of(patient) == "/caregivers/"
        who = patient.locator(".ps-caregivers__item", has_text=caregiver_name)
        expect(who).to_contain_text("(Son)")
        expect(who).to_contain_text("Read and send your secure messages")

        # 3. Ending asks first, says what the caregiver will lose, and changes nothing until confirmed.
        press(patient, who.get_by_role("link", name=f"End {caregiver_name}'s access"), check=True)
        expect(patient.get_by_role("heading", level=1)).to_have_text(f"End {caregiver_name}'s access?")
        expect(patient.locator("main")).to_contain_text("Read and send your secure messages")
        assert stayed(carer) and carer.locator(".ps-conversation__ended").is_hidden()
        press(patient, "End access", check=True)
        assert path_of(patient) == "/caregivers/"
        expect(patient.locator(".messages")).to_contain_text(f"{caregiver_name} can no longer act for you.")
        expect(patient.get_by_role("heading", name="Access that has ended")).to_be_visible()
        expect(patient.locator(".ps-caregivers__list--ended")).to_contain_text(f"{caregiver_name} acted for you")

        # 4. The caregiver's open page, never reloaded, says the conversation is no longer theirs and takes
        #    the reply box away.
        ended = carer.locator(".ps-conversation__ended")
        expect(ended).to_be_visible(timeout=LIVE_TIMEOUT_MS)
        expect(ended).to_contain_text("no longer open to you")
        expect(carer.locator(".ps-conversation__reply")).to_be_hidden()
        assert stayed(carer), "the caregiver's page reloaded"
        assert_accessible(carer)

        # 5. Reloading answers as for a conversation that does not exist; their caregivers page says it ended.
        visit(carer, conversation_path, status=404)
        assert "Moving the March appointment" not in carer.content()
        visit(carer, "/caregivers/")
        expect(carer.locator("main")).not_to_contain_text("People you act for")
        expect(carer.locator(".ps-caregivers__list--ended")).to_contain_text(f"You acted for {patient_name}")


STAFF_AND_FAMILY = (
    PERSON
    + """
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

admin = person("records", roles.PORTAL_ADMINISTRATOR, "Hollis", "Grange")
secret = generate_totp_secret()
TOTP.activate(admin, secret)
patient = person("patient", roles.PATIENT, "Edda", "Thorsby-" + token.capitalize())
daughter = person("daughter", roles.PATIENT, "Signe", "Thorsby-" + token.capitalize())
print("@@", admin.username, secret, patient.username, daughter.email, patient.get_full_name(), daughter.get_full_name())
"""
)


def test_staff_record_a_checked_caregiver_link_and_end_it_and_the_caregiver_sees_both(browser, live_portal):
    script = STAFF_AND_FAMILY % {"token": words(8), "password": DEMO_PASSWORD}
    out = live_portal.manage("shell", "-c", script).stdout
    found = re.search(r"^@@ (\S+) (\S+) (\S+) (\S+) (Edda \S+) (Signe \S+)$", out, re.MULTILINE)
    assert found, f"the journey's people were not made:\n{out}"
    admin_login, secret, patient_login, daughter_email, patient_name, daughter_name = found.groups()

    with (
        browser_of_their_own(browser, live_portal) as staff,
        browser_of_their_own(browser, live_portal) as daughter,
    ):
        # 1. A portal administrator, past the second factor, opens Caregiver links from their tools.
        sign_in_with_code(staff, admin_login, secret)
        visit(staff, "/")
        press(staff, staff.get_by_role("navigation", name="Your tools").get_by_role("link", name="Caregiver links"))
        assert path_of(staff) == "/cms/portal-social/caregivers/"

        # 2. Finding the patient by username keeps the name out of the address; they have no links yet.
        staff.get_by_label("Patient or caregiver").fill(patient_login)
        press(staff, "Find")
        assert path_of(staff) == "/cms/portal-social/caregivers/" and patient_login not in staff.url
        expect(staff.get_by_role("heading", name=f"Links of {patient_name}")).to_be_visible()
        expect(staff.locator("main")).to_contain_text("No caregiver links")

        # 3. The link is recorded only with the identity and consent check confirmed.
        staff.get_by_label("Patient", exact=True).fill(patient_login)
        staff.get_by_label("Caregiver", exact=True).fill(daughter_email)
        staff.get_by_label("Secure messages: read and send them for the patient").check()
        staff.get_by_label("Relationship").fill("Daughter")
        press(staff, "Record the link")
        expect(staff.locator("main")).to_contain_text(
            "Confirm that the caregiver's identity and the consent were checked."
        )
        staff.get_by_label(re.compile("I have checked who the caregiver is")).check()
        press(staff, "Record the link")
        expect(staff.locator("main")).to_contain_text("The caregiver link was recorded.")
        row = staff.locator("table.listing tbody tr", has_text=daughter_name)
        expect(row).to_contain_text("Current")

        # 4. The daughter sees whom she acts for, and what she may do.
        sign_in(daughter, daughter_email.split("@")[0])
        visit(daughter, "/caregivers/")
        expect(daughter.get_by_role("heading", name="People you act for")).to_be_visible()
        expect(daughter.locator(".ps-caregivers__item", has_text=patient_name)).to_contain_text(
            "Read and send their secure messages"
        )

        # 5. Staff end it; the daughter's page says it ended.
        press(staff, row.get_by_role("button", name="End now"))
        expect(staff.locator("main")).to_contain_text("The caregiver link was ended.")
        # A link ended on the day it began never counts as in force: it is shown as withdrawn.
        expect(staff.locator("table.listing tbody tr", has_text=daughter_name)).to_contain_text("Withdrawn")
        visit(daughter, "/caregivers/")
        expect(daughter.locator("main")).not_to_contain_text("People you act for")
        expect(daughter.locator(".ps-caregivers__list--ended")).to_contain_text(f"You acted for {patient_name}")
