"""A grievance's written response (42 CFR 482.13(a)(2)) and classifying a case as a grievance.

The response names a contact person, the steps taken to investigate, the
results and the completion date; the letter fills those into an editable
wording without ever evaluating what a template or a writer typed. Opening
the letter or its PDF is a PHI read; the timeline and the audit log record
that a response was written or sent, never what it says.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone
from freezegun import freeze_time

from portal_social.core.models import AuditEvent
from portal_social.feedback import actions
from portal_social.feedback.actions.letters import DEFAULT_LETTER, fill, letter_template_problems
from portal_social.feedback.models import Case, CaseEvent, GrievanceResponse, LetterTemplate
from tests.core.test_calendar_schedules import NEW_YORK, local
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

STEPS = "We interviewed the charge nurse and read the call-bell log for the night shift."
RESULTS = "Call bells went unanswered for 40 minutes; a second nurse now covers nights."
CONTACT = "Pat Lee, Patient Relations, 555-0142"
RISK_WORDS = "After the nurse gave me the wrong tablets I fainted in the corridor."


def ny(*args):
    return local(NEW_YORK, *args)


def codes(error: ValidationError) -> list[str]:
    return [e.code for e in error.error_dict.get(NON_FIELD_ERRORS, [])]


def letter_url(case) -> str:
    return f"/px/c/{case.pk}/letter/"


def pdf_url(case) -> str:
    return f"/px/c/{case.pk}/letter.pdf"


@pytest.fixture
def grievance(world, submit):
    case = submit(description="Nobody answered my call bell all night.", summary="Call bell")
    return actions.classify_case(actor=world.px, case=case, type="grievance")


def write(world, case, **changes):
    data = {
        "contact_person": CONTACT,
        "steps": STEPS,
        "results": RESULTS,
        "completed_on": timezone.localdate(),
    }
    data.update(changes)
    return actions.write_grievance_response(actor=world.px, case=case, **data)


# --------------------------------------------------------------------------- classifying


def test_classifying_a_complaint_as_a_grievance_gives_it_seven_calendar_days(world, submit):
    with freeze_time(ny(2026, 6, 1, 10)):
        case = submit()
        assert case.resolve_due_at == ny(2026, 6, 4, 17)  # a complaint: 3 business days
        case = actions.classify_case(actor=world.px, case=case, type="grievance", severity="high")
    stored = Case.objects.get(pk=case.pk)
    assert (stored.type, stored.severity) == ("grievance", "high")
    assert stored.resolve_due_at == ny(2026, 6, 8, 10)  # 7 calendar days from when it was received
    event = stored.events.get(kind=CaseEvent.Kind.CLASSIFIED)
    assert event.details == {"changed": {"type": ["complaint", "grievance"], "severity": ["medium", "high"]}}
    assert event.actor == world.px and event.note == ""
    audited = AuditEvent.objects.get(action="feedback.case_classify", target_id=str(case.pk))
    assert audited.details["changed"]["type"] == ["complaint", "grievance"]


def test_classifying_with_nothing_new_records_nothing(world, grievance):
    before = grievance.events.count()
    actions.classify_case(actor=world.px, case=grievance, type="grievance", categories=[])
    assert grievance.events.count() == before


def test_a_medical_risk_category_sends_the_case_to_risk_management(world, submit):
    case = submit()
    case = actions.classify_case(actor=world.px, case=case, categories=[world.safety, world.communication])
    assert case.medical_risk and case.risk_source == "category" and case.team == world.risk_team
    assert set(case.categories.all()) == {world.safety, world.communication}
    with pytest.raises(actions.FeedbackDenied):
        actions.classify_case(actor=world.px, case=case, type="grievance")


def test_classifying_is_for_staff_and_bad_choices_are_refused(world, submit):
    case = submit()
    from portal_social.core import access

    for stranger in (world.patient, world.moderator):
        with pytest.raises(access.NotFound):
            actions.classify_case(actor=stranger, case=case, type="grievance")
    for bad in ({"type": "praise"}, {"severity": "apocalyptic"}, {"categories": ["x"]}, {"categories": [99999]}):
        with pytest.raises(ValidationError) as refused:
            actions.classify_case(actor=world.px, case=case, **bad)
        assert set(refused.value.message_dict) == set(bad)
    assert Case.objects.get(pk=case.pk).type == "complaint"


# --------------------------------------------------------------------------- writing the response


def test_only_a_grievance_gets_a_written_response(world, submit):
    complaint = submit()
    with pytest.raises(ValidationError) as refused:
        write(world, complaint)
    assert codes(refused.value) == ["not_grievance"]
    assert not GrievanceResponse.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"contact_person": "  "}, "contact_person"),
        ({"steps": ""}, "steps"),
        ({"results": None}, "results"),
        ({"completed_on": None}, "completed_on"),
        ({"completed_on": "2026-06-01"}, "completed_on"),
        ({"steps": "x" * 5001}, "steps"),
    ],
)
def test_every_part_the_rule_requires_is_required(world, grievance, changes, field):
    with pytest.raises(ValidationError) as refused:
        write(world, grievance, **changes)
    assert list(refused.value.message_dict) == [field]
    assert not GrievanceResponse.objects.exists()


def test_the_completion_date_is_between_receipt_and_today(world, grievance):
    received = timezone.localdate(grievance.received_at)
    with pytest.raises(ValidationError) as refused:
        write(world, grievance, completed_on=received - dt.timedelta(days=1))
    assert refused.value.error_dict["completed_on"][0].code == "before_received"
    with pytest.raises(ValidationError) as refused:
        write(world, grievance, completed_on=timezone.localdate() + dt.timedelta(days=1))
    assert refused.value.error_dict["completed_on"][0].code == "future"
    response = write(world, grievance, completed_on=received)
    assert response.completed_on == received


def test_writing_again_updates_the_one_response_and_what_it_says_is_encrypted(world, grievance):
    from django.db import connection

    first = write(world, grievance)
    second = write(world, grievance, results="We changed the night rota.")
    assert first.pk == second.pk and GrievanceResponse.objects.count() == 1
    assert GrievanceResponse.objects.get().results == "We changed the night rota."
    with connection.cursor() as cursor:
        cursor.execute("SELECT steps, results FROM portal_social_grievanceresponse")
        raw = " ".join(str(v) for v in cursor.fetchone())
    assert "call-bell" not in raw and "night rota" not in raw


def test_the_timeline_and_audit_say_it_was_written_and_sent_never_what_it_says(world, grievance):
    write(world, grievance)
    write(world, grievance, steps="We spoke to the night manager.")
    actions.mark_letter_sent(actor=world.px, case=grievance)
    lines = list(grievance.events.filter(details__has_key="letter").order_by("pk"))
    assert [line.details["letter"] for line in lines] == ["written", "updated", "sent"]
    assert all(line.note == "" and line.actor == world.px for line in lines)
    rows = AuditEvent.objects.filter(action="feedback.case_letter", target_id=str(grievance.pk))
    assert [row.details["letter"] for row in rows.order_by("pk")] == ["written", "updated", "sent"]
    assert {row.patient_id for row in rows} == {world.patient.pk}
    dumped = json.dumps([row.details for row in rows]) + json.dumps([line.details for line in lines])
    for words in ("call-bell", "night manager", "second nurse", "Pat Lee", "555-0142"):
        assert words not in dumped


def test_a_letter_is_sent_once_and_only_after_it_is_written(world, grievance):
    with pytest.raises(ValidationError) as refused:
        actions.mark_letter_sent(actor=world.px, case=grievance)
    assert codes(refused.value) == ["no_response"]
    write(world, grievance)
    response = actions.mark_letter_sent(actor=world.px, case=grievance)
    assert response.sent_at is not None
    assert Case.objects.get(pk=grievance.pk).status == "new"  # sending is not resolving
    with pytest.raises(ValidationError) as refused:
        actions.mark_letter_sent(actor=world.px, case=grievance)
    assert codes(refused.value) == ["already_sent"]


# --------------------------------------------------------------------------- rendering


def test_every_placeholder_is_filled(world, grievance, settings):
    settings.PORTAL_SOCIAL_ORGANISATION_NAME = "St Example Hospital"
    body = " | ".join(f"{name}=<{{{name}}}>" for name in actions.letters.PLACEHOLDERS)
    template = LetterTemplate.objects.create(name="Every part", body=body)
    write(world, grievance, template=template, completed_on=timezone.localdate(grievance.received_at))
    letter = actions.render_letter(grievance)
    received = timezone.localdate(grievance.received_at)
    expected = {
        "reference": grievance.reference,
        "patient_name": "Maria Lopez",
        "received_on": f"{received.day} {received:%B %Y}",
        "contact_person": CONTACT,
        "steps": STEPS,
        "results": RESULTS,
        "completed_on": f"{received.day} {received:%B %Y}",
        "organisation": "St Example Hospital",
    }
    assert letter == " | ".join(f"{name}=<{value}>" for name, value in expected.items())


def test_without_a_template_the_built_in_wording_meets_the_rule(world, grievance, settings):
    settings.PORTAL_SOCIAL_ORGANISATION_NAME = "St Example Hospital"
    assert letter_template_problems(DEFAULT_LETTER) == []
    write(world, grievance)
    letter = actions.render_letter(grievance)
    for part in (CONTACT, STEPS, RESULTS, grievance.reference, "Dear Maria Lopez,", "St Example Hospital"):
        assert part in letter
    assert "{" not in letter


def test_the_chosen_wording_wins_over_the_default_one(world, grievance):
    LetterTemplate.objects.create(name="House style", body="DEFAULT {steps} {results} {contact_person} {completed_on}")
    LetterTemplate.objects.filter(name="House style").update(default=True)
    write(world, grievance)
    assert actions.render_letter(grievance).startswith("DEFAULT ")
    chosen = LetterTemplate.objects.create(name="Short", body="CHOSEN {steps}")
    write(world, grievance, template=chosen)
    assert actions.render_letter(grievance) == f"CHOSEN {STEPS}"


def test_an_anonymous_grievance_is_addressed_to_the_patient(world):
    case = actions.record_case(
        actor=world.px, channel="letter", type="grievance", description="The lift was broken for a week."
    )
    write(world, case)
    assert "Dear the patient," in actions.render_letter(case)


@pytest.mark.parametrize(
    "trick",
    [
        "{case.patient.password}",
        "{0.__class__}",
        "{steps.__class__.__mro__}",
        "{steps!r}",
        "{steps:>99999999}",
        "{__import__}",
        "{patient_name[0]}",
        "{ reference }",
        "{unknown}",
    ],
)
def test_placeholder_tricks_in_a_template_render_literally(world, grievance, trick):
    template = LetterTemplate.objects.create(name="Tricky", body=f"A {trick} B {{reference}}")
    write(world, grievance, template=template)
    assert actions.render_letter(grievance) == f"A {trick} B {grievance.reference}"


def test_what_staff_write_is_never_read_as_a_placeholder(world, grievance):
    write(world, grievance, steps="See {patient_name} and {0.__class__} and {{results}}.")
    letter = actions.render_letter(grievance)
    assert "See {patient_name} and {0.__class__} and {{results}}." in letter
    assert fill("{{x}} {a}", {"a": "{a}"}) == "{x} {a}"


def test_letter_templates_must_use_known_placeholders_and_every_required_part():
    assert letter_template_problems("{steps} {results} {contact_person} {completed_on}") == []
    problems = letter_template_problems("{steps} {results} {diagnosis}")
    assert "{diagnosis}" in problems[0]
    assert "{contact_person}" in problems[1] and "{completed_on}" in problems[1]


# --------------------------------------------------------------------------- the pages


def test_staff_write_preview_and_send_the_letter_from_its_page(client, world, grievance):
    sign_in(client, world.px)
    page = client.get(letter_url(grievance))
    assert page.status_code == 200
    content = page.content.decode()
    assert "Save the response to see the letter." in content
    bad = client.post(letter_url(grievance), {"what": "save", "contact_person": "", "steps": STEPS, "results": ""})
    assert bad.status_code == 400
    assert "Name the person the patient can contact." in bad.content.decode()
    assert not GrievanceResponse.objects.exists()
    future = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    data = {"what": "save", "contact_person": CONTACT, "steps": STEPS, "results": RESULTS, "completed_on": future}
    refused = client.post(letter_url(grievance), data)
    assert refused.status_code == 400 and "This cannot be in the future." in refused.content.decode()
    data["completed_on"] = timezone.localdate().isoformat()
    saved = client.post(letter_url(grievance), data)
    assert saved.status_code == 302 and saved["Location"] == letter_url(grievance) + "?done=saved"
    content = client.get(saved["Location"]).content.decode()
    assert "Dear Maria Lopez," in content and RESULTS in content and "Download the letter (PDF)" in content
    sent = client.post(letter_url(grievance), {"what": "sent"})
    assert sent.status_code == 302
    assert GrievanceResponse.objects.get().sent_at is not None
    again = client.post(letter_url(grievance), {"what": "sent"})
    assert again.status_code == 400 and "already recorded as sent" in again.content.decode()
    assert "The letter was sent" not in again.content.decode()  # the page says when it was sent instead
    case_page = client.get(f"/px/c/{grievance.pk}/").content.decode()
    assert "Written response (grievance letter)" in case_page and "written response sent" in case_page


def test_the_letter_escapes_what_staff_wrote(client, world, grievance):
    write(world, grievance, steps="<script>alert(1)</script>")
    sign_in(client, world.px)
    content = client.get(letter_url(grievance)).content.decode()
    assert "<script>alert(1)</script>" not in content and "&lt;script&gt;" in content


def test_the_pdf_is_an_uncached_attachment_named_by_the_reference(client, world, grievance):
    write(world, grievance)
    sign_in(client, world.px)
    response = client.get(pdf_url(grievance))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert response["Content-Disposition"] == f'attachment; filename="{grievance.reference}.pdf"'
    assert "no-store" in response["Cache-Control"]
    assert b"Maria Lopez" in response.content and b"Call bells went unanswered" in response.content
    assert client.post(pdf_url(grievance)).status_code == 405


def test_opening_the_letter_or_its_pdf_is_a_phi_read(client, world, grievance):
    write(world, grievance)
    sign_in(client, world.px)

    def reads():
        return AuditEvent.objects.filter(action="phi.read", actor_id=world.px.pk, target_id=str(grievance.pk))

    before = reads().count()
    client.get(letter_url(grievance))
    assert reads().count() == before + 1
    client.get(pdf_url(grievance))
    assert reads().count() == before + 2
    assert reads().latest("pk").patient_id == world.patient.pk


def test_a_complaint_answers_a_clear_refusal_on_both_routes(client, world, submit):
    complaint = submit()
    sign_in(client, world.px)
    for response in (
        client.get(letter_url(complaint)),
        client.post(letter_url(complaint), {"what": "save", "contact_person": CONTACT}),
        client.get(pdf_url(complaint)),
    ):
        assert response.status_code == 409
        assert "Only a grievance gets a written response." in response.content.decode()
    assert not GrievanceResponse.objects.exists()


def test_the_pdf_waits_for_the_written_response(client, world, grievance):
    sign_in(client, world.px)
    response = client.get(pdf_url(grievance))
    assert response.status_code == 409 and "Write the response first" in response.content.decode()


def test_other_px_staff_patients_and_moderators_get_404(client, world, submit):
    risk_case = submit(description=RISK_WORDS, categories=[world.safety])
    risk_case = actions.classify_case(actor=world.risk, case=risk_case, type="grievance")
    actions.write_grievance_response(
        actor=world.risk,
        case=risk_case,
        contact_person=CONTACT,
        steps=STEPS,
        results=RESULTS,
        completed_on=timezone.localdate(),
    )
    for who in (world.px, world.patient, world.moderator):
        sign_in(client, who)
        for url in (letter_url(risk_case), pdf_url(risk_case)):
            assert client.get(url).status_code == 404, (who, url)
        assert client.post(letter_url(risk_case), {"what": "sent"}).status_code == 404
    assert GrievanceResponse.objects.get().sent_at is None
    sign_in(client, world.risk)
    assert client.get(letter_url(risk_case)).status_code == 200
    assert client.get(pdf_url(risk_case)).status_code == 200


def test_the_case_page_classifies_and_links_the_letter_for_a_grievance(client, world, submit):
    case = submit()
    sign_in(client, world.px)
    page = client.get(f"/px/c/{case.pk}/").content.decode()
    assert "Written response (grievance letter)" not in page and 'value="grievance"' in page
    response = client.post(
        f"/px/c/{case.pk}/classify/",
        {"type": "grievance", "severity": "high", "categories": [str(world.communication.pk)]},
    )
    assert response.status_code == 302 and response["Location"].endswith("?done=classify")
    stored = Case.objects.get(pk=case.pk)
    assert (stored.type, stored.severity) == ("grievance", "high")
    assert list(stored.categories.all()) == [world.communication]
    page = client.get(f"/px/c/{case.pk}/").content.decode()
    assert "Written response (grievance letter)" in page and letter_url(case) in page
    bad = client.post(f"/px/c/{case.pk}/classify/", {"type": "praise", "severity": "high"})
    assert bad.status_code == 400
    to_risk = client.post(
        f"/px/c/{case.pk}/classify/", {"type": "grievance", "severity": "high", "categories": [str(world.safety.pk)]}
    )
    assert to_risk.status_code == 302 and "risk_sent=1" in to_risk["Location"]
    assert Case.objects.get(pk=case.pk).medical_risk
