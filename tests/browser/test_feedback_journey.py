"""Feedback and service recovery in a browser: a patient complains through the portal; the case is routed
to a patient-experience (PX) staff member, who acknowledges it; its resolve deadline is missed and it is
escalated; the staff member apologises and resolves it; the patient sees it resolved and answers the
one-question survey; the case is counted in the reports' channel chart.

The patient and the staff member are the journey's own (``feedback_support.feedback_people``): the
staff member has an enrolled authenticator and is the lead and only case-taking member of the fallback
PX team. The missed deadline is the deadline task (``feedback.tasks.breach``) run on the live server's
database with its clock frozen just past the resolve deadline (``feedback_support.miss_resolve_deadline``).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.community_support import browser_of_their_own, open_again, press, status_message
from tests.browser.feedback_support import (
    CASE_PATH,
    REFERENCE,
    FeedbackPeople,
    feedback_people,
    miss_resolve_deadline,
    portal_cases_in_report,
)
from tests.browser.messaging_support import words
from tests.browser.support import path_of, sign_in, sign_in_with_code, visit

pytestmark = pytest.mark.browser

OUTCOME = "Resolved to the patient's satisfaction"


@pytest.fixture(scope="module")
def people(live_portal) -> FeedbackPeople:
    return feedback_people(live_portal)


def _queue_link(page, name: str):
    return page.get_by_role("navigation", name="Queues").get_by_role("link", name=name)


def _case_rows(page):
    return page.locator("table.ps-px-table tbody tr")


def _timeline(page):
    return page.locator("ol.ps-px__timeline > li")


def _form_with(page, button: str):
    """The form on the PX case page that the button ``button`` sends."""
    return page.locator("form").filter(has=page.get_by_role("button", name=button, exact=True))


def test_a_complaint_is_escalated_when_late_then_put_right_and_the_patient_says_how_we_did(
    browser, live_portal, people
):
    token = words()
    summary = f"Kept waiting at the front desk {token}"
    description = (
        "I waited forty minutes past my appointment time at the front desk and nobody told me why. "
        f"When I asked, the receptionist was curt with me. Please ask for {token}."
    )
    recovery_note = f"Called to apologise for the wait {token}"

    with (
        browser_of_their_own(browser, live_portal) as patient,
        browser_of_their_own(browser, live_portal) as staff,
    ):
        # 1. The patient gives feedback: a complaint, with a reply wanted through the portal.
        sign_in(patient, people.patient)
        visit(patient, "/feedback/")  # axe: the patient's feedback page
        expect(patient.get_by_role("heading", level=1)).to_have_text("Tell us how we did")
        expect(patient.locator("main")).to_contain_text("You have not sent any feedback yet.")
        press(patient, patient.get_by_role("link", name="Give feedback"), check=True)  # axe: the form
        assert path_of(patient) == "/feedback/new/", patient.url
        expect(patient.get_by_role("heading", level=1)).to_have_text("Give feedback")
        expect(patient.get_by_role("note")).to_contain_text("This form is not for emergencies")

        feedback_type = patient.get_by_role("group", name="What would you like to tell us?")
        feedback_type.get_by_role("radio", name="Complaint", exact=True).check()
        patient.get_by_label("In a few words").fill(summary)
        patient.get_by_label("What happened?").fill(description)
        patient.get_by_label("Please contact me about this").check()
        patient.get_by_label("How should we contact you?").select_option(label="A secure message in the portal")
        press(patient, "Send feedback", check=True)  # axe: the case page, just sent

        assert CASE_PATH.fullmatch(path_of(patient)), patient.url
        case_path = path_of(patient)
        case_id = CASE_PATH.fullmatch(case_path).group(1)
        heading = patient.get_by_role("heading", level=1)
        expect(heading).to_have_text(REFERENCE)
        reference = REFERENCE.search(heading.inner_text()).group(0)
        expect(status_message(patient, "Your feedback reached our patient experience team")).to_contain_text(reference)
        expect(patient.locator(".ps-feedback__facts .ps-status")).to_have_text("New")
        expect(patient.locator("main")).to_contain_text(summary)
        expect(patient.locator("main")).to_contain_text(token)
        expect(patient.locator("ol.ps-feedback__timeline > li")).to_have_count(1)
        expect(patient.locator("ol.ps-feedback__timeline")).to_contain_text("We received your feedback.")
        expect(patient.get_by_role("heading", name="How did we do?")).to_have_count(0)

        # 2. The staff member signs in with the second factor; the case was routed to them (the fallback
        #    team's only member taking cases), so it is in "My queue". They open it and acknowledge it.
        sign_in_with_code(staff, *people.staff_login)
        visit(staff, "/px/")  # axe: the workspace, "My queue"
        expect(staff.get_by_role("heading", level=1)).to_have_text("Patient experience workspace")
        expect(_queue_link(staff, "My queue")).to_have_attribute("aria-current", "page")
        row = _case_rows(staff).filter(has_text=reference)
        expect(row).to_have_count(1)
        expect(row).to_contain_text(summary)
        expect(row).to_contain_text("Complaint")
        expect(row).to_contain_text("New")
        expect(row).to_contain_text("Dana Whitfield")
        expect(row).to_contain_text(people.team)
        escalated_before = int(_queue_link(staff, "Escalation queue").locator(".badge").inner_text())
        # The page title is words only, and the keyboard triage script runs: "j" moves to the first case.
        assert staff.title().startswith("Patient experience workspace") and "<" not in staff.title(), staff.title()
        staff.locator("body").press("j")
        expect(staff.locator("[data-ps-triage] tbody a[data-ps-case]").first).to_be_focused()

        press(staff, row.get_by_role("link", name=reference), check=True)  # axe: the PX case page
        assert path_of(staff) == f"/px/c/{case_id}/", staff.url
        px_case_path = path_of(staff)
        expect(staff.get_by_role("heading", level=1)).to_contain_text(reference)
        expect(staff.get_by_role("heading", level=1)).to_contain_text("New")
        details = staff.locator(".ps-px__facts").first
        expect(details).to_contain_text("Portal feedback form")
        expect(details).to_contain_text("A secure message in the portal")
        expect(details).to_contain_text(f"Dana Whitfield ({people.team})")
        expect(staff.locator("main")).to_contain_text(description)
        expect(staff.locator("main")).not_to_contain_text("Escalated on")

        staff.get_by_label("Move to").select_option(label="Acknowledged")
        press(staff, "Update status")
        assert path_of(staff) == px_case_path, staff.url
        expect(status_message(staff, "Saved.")).to_be_visible()
        expect(staff.get_by_role("heading", level=1)).to_contain_text("Acknowledged")
        expect(_timeline(staff).filter(has_text="New → Acknowledged")).to_have_count(1)

        # 3. The resolve deadline passes: the deadline task, its clock frozen just past it, escalates the
        #    case. The workspace lists it in the escalation queue; its page says when and which clock.
        missed, escalated_on = miss_resolve_deadline(live_portal, case_id)
        assert missed == ["resolve"], missed

        open_again(staff, "/px/")
        escalation = _queue_link(staff, "Escalation queue")
        expect(escalation.locator(".badge")).to_have_text(str(escalated_before + 1))
        press(staff, escalation, check=True)  # axe: the escalation queue
        expect(escalation).to_have_attribute("aria-current", "page")
        row = _case_rows(staff).filter(has_text=reference)
        expect(row).to_have_count(1)
        expect(row).to_contain_text("Acknowledged")
        expect(row).to_contain_text("Missed")

        press(staff, row.get_by_role("link", name=reference), check=True)  # axe: the escalated case
        assert path_of(staff) == px_case_path, staff.url
        expect(staff.get_by_role("note").filter(has_text="Escalated on")).to_have_text(
            f"Escalated on {escalated_on}: a deadline was missed."
        )
        deadlines = staff.locator(".ps-px__facts").nth(1)
        resolve_due = deadlines.locator("dt", has_text="Resolve").locator("xpath=following-sibling::dd[1]")
        expect(resolve_due).to_contain_text("Missed")
        acknowledge_due = deadlines.locator("dt", has_text="Acknowledge").locator("xpath=following-sibling::dd[1]")
        expect(acknowledge_due).to_contain_text("Done")
        expect(acknowledge_due).not_to_contain_text("Missed")
        expect(details.locator("dt", has_text="Priority").locator("xpath=following-sibling::dd[1]")).to_have_text(
            "High"
        )
        expect(_timeline(staff).filter(has_text="Deadline missed")).to_contain_text("Resolve")

        # 4. The staff member records an apology, then resolves the case with its outcome.
        recovery = _form_with(staff, "Record service recovery")
        recovery.get_by_label("What was done").select_option(label="Apology")
        recovery.locator("input[name=note]").fill(recovery_note)
        press(staff, "Record service recovery")
        assert path_of(staff) == px_case_path, staff.url
        expect(status_message(staff, "Saved.")).to_be_visible()
        expect(staff.get_by_role("heading", name="Service recovery", level=3)).to_be_visible()
        expect(staff.locator(".ps-px__actions ul")).to_contain_text("Apology")

        staff.get_by_label("Move to").select_option(label="Resolved")
        _form_with(staff, "Update status").get_by_label("Outcome").select_option(label=OUTCOME)
        press(staff, "Update status", check=True)  # axe: the resolved case
        assert path_of(staff) == px_case_path, staff.url
        expect(status_message(staff, "Saved.")).to_be_visible()
        expect(staff.get_by_role("heading", level=1)).to_contain_text("Resolved")
        expect(deadlines.locator("dt", has_text="Outcome").locator("xpath=following-sibling::dd[1]")).to_have_text(
            OUTCOME
        )
        expect(resolve_due).to_contain_text("Done")
        expect(resolve_due).to_contain_text("Missed")  # resolved, but late

        timeline = _timeline(staff)
        recovered = timeline.filter(has_text="Service recovery")
        expect(recovered).to_have_count(1)
        expect(recovered).to_contain_text("Apology")
        expect(recovered).to_contain_text(recovery_note)
        expect(recovered).to_contain_text("Dana Whitfield")
        resolved = timeline.filter(has_text="Acknowledged → Resolved")
        expect(resolved).to_have_count(1)
        expect(resolved).to_contain_text("outcome: " + OUTCOME)
        expect(timeline.filter(has_text="Survey sent")).to_have_count(1)
        kinds = [item.locator("strong").inner_text() for item in timeline.all()]
        last_status = max(i for i, kind in enumerate(kinds) if kind == "Status changed")
        assert kinds.index("Service recovery") < last_status, kinds  # the apology, then the resolution

        # 5. The patient opens the case again: it is resolved, and asks how well things were put right.
        visit(patient, case_path)  # axe: the resolved case with its survey
        expect(patient.locator(".ps-feedback__facts .ps-status")).to_have_text("Resolved")
        steps = patient.locator("ol.ps-feedback__timeline")
        expect(steps).to_contain_text("Our team is looking into it.")
        expect(steps).to_contain_text("We finished looking into it.")
        expect(patient.get_by_role("heading", name="How did we do?")).to_be_visible()
        survey = patient.get_by_role("group", name="How well did we put things right?")
        expect(survey.get_by_role("radio")).to_have_count(5)
        survey.get_by_role("radio", name="5", exact=True).check()
        press(patient, "Send answer", check=True)  # axe: the answered survey
        assert path_of(patient) == case_path, patient.url
        expect(status_message(patient, "Thank you for answering.")).to_be_visible()
        expect(patient.get_by_role("button", name="Send answer")).to_have_count(0)

        # The answer reaches the case team's page.
        open_again(staff, px_case_path)
        expect(deadlines.locator("dt", has_text="Survey").locator("xpath=following-sibling::dd[1]")).to_have_text(
            "5 / 5"
        )

        # The patient's list shows the case, resolved.
        visit(patient, "/feedback/")
        listed = patient.locator("ul.ps-feedback__cases > li").filter(has_text=reference)
        expect(listed).to_have_count(1)
        expect(listed.locator(".ps-status")).to_have_text("Resolved")
        expect(listed.get_by_role("link", name=reference)).to_have_attribute("href", case_path)

        # 6. The case appears in the reports: the channel chart and its table count it.
        open_again(staff, "/px/")
        press(staff, staff.get_by_role("link", name="Reports", exact=True), check=True)  # axe: the reports
        assert path_of(staff) == "/px/reports/", staff.url
        chart = staff.get_by_role("img", name="Cases received per week, by channel")
        expect(chart).to_be_visible()
        expect(chart.locator("rect.ps-chart__bar title").filter(has_text="Portal feedback form")).not_to_have_count(0)
        counted = portal_cases_in_report(live_portal)
        assert counted >= 1
        by_channel = staff.get_by_role("table", name="Cases received by channel")
        row = by_channel.locator("tr").filter(has_text="Portal feedback form")
        expect(row.locator("td").nth(1)).to_have_text(str(counted))
