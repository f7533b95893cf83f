"""Filing a closed conversation to the record (text and PDF through the adapter), and out-of-office delegation."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal_social.core import files, pdf
from portal_social.core.models import AuditEvent
from portal_social.messaging import actions
from portal_social.messaging.models import OutOfOffice
from tests.factories import sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_files")]


def _check_pdf(data: bytes) -> None:
    """A structurally sound PDF: header, every xref offset lands on its object, trailer and EOF."""
    assert data.startswith(b"%PDF-1.4") and data.rstrip().endswith(b"%%EOF")
    start = int(re.search(rb"startxref\n(\d+)", data).group(1))
    assert data[start:].startswith(b"xref")
    table = data[start:].split(b"\n")
    count = int(table[1].split()[1])
    for number, row in enumerate(table[3 : 3 + count - 1], start=1):
        offset = int(row.split()[0])
        assert data[offset:].startswith(b"%d 0 obj" % number)


def test_text_pdf_wraps_paginates_and_escapes():
    text = "\n".join(f"Line {n} (with parentheses) and a backslash \\ — ünïcode ✓" for n in range(200))
    data = pdf.text_pdf(text, title="Transcript (test)")
    _check_pdf(data)
    assert data.count(b"/Type /Page ") >= 4
    assert b"\\(with parentheses\\)" in data


def test_a_closed_conversation_is_filed_once_by_the_care_team(world, start, settings):
    conversation = start(body="Dizzy since Monday")
    actions.send_message(sender=world.nurse, conversation=conversation, body="Please drink water")
    second = actions.send_message(sender=world.patient, conversation=conversation, body="Oops, wrong person")
    actions.retract_message(actor=world.patient, message=second)
    with pytest.raises(actions.MessagingDenied):
        actions.file_to_record(actor=world.nurse, conversation=conversation)  # still open
    actions.close_conversation(actor=world.nurse, conversation=conversation)
    with pytest.raises(actions.MessagingDenied):
        actions.file_to_record(actor=world.patient, conversation=conversation)
    reference = actions.file_to_record(actor=world.nurse, conversation=conversation)
    assert reference.endswith(".pdf")
    storage = files.private_storage()
    with storage.open(reference) as handle:
        _check_pdf(handle.read())
    with storage.open(reference.replace(".pdf", ".txt")) as handle:
        text = handle.read().decode()
    assert "Patient: Maria Lopez" in text and "Dizzy since Monday" in text and "Please drink water" in text
    assert "Oops, wrong person" not in text and "Retracted by the sender" in text
    assert actions.file_to_record(actor=world.nurse, conversation=conversation) == reference
    assert AuditEvent.objects.filter(action="message.file_to_record", patient_id=world.patient.pk).count() == 1
    raw = (settings.PORTAL_SOCIAL_PRIVATE_FILES_ROOT, reference)
    with open("/".join(raw), "rb") as stored:
        assert b"Dizzy" not in stored.read()  # encrypted at rest


def test_the_file_button_shows_for_the_care_team_on_a_closed_conversation(world, start):
    conversation = start()
    actions.close_conversation(actor=world.nurse, conversation=conversation)
    client = Client()
    sign_in(client, world.nurse)
    page = client.get(reverse("portal_social_messaging:conversation", args=[conversation.pk]))
    assert b"File to the medical record" in page.content
    response = client.post(reverse("portal_social_messaging:file_record", args=[conversation.pk]))
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert b"Filed to the medical record" in page.content
    patient = Client()
    sign_in(patient, world.patient)
    assert b"File to the medical record" not in patient.get(page.request["PATH_INFO"]).content


def test_out_of_office_rules(world):
    now = timezone.now()
    with pytest.raises(ValidationError):
        actions.set_out_of_office(
            actor=world.clinician, delegate=world.patient, starts_at=now, ends_at=now + datetime.timedelta(days=1)
        )
    with pytest.raises(ValidationError):
        actions.set_out_of_office(actor=world.clinician, delegate=world.nurse, starts_at=now, ends_at=now)
    with pytest.raises(ValidationError):
        actions.set_out_of_office(
            actor=world.clinician, delegate=world.nurse, starts_at=now, ends_at=now + datetime.timedelta(days=400)
        )
    with pytest.raises(actions.MessagingDenied):
        actions.set_out_of_office(
            actor=world.patient, delegate=world.nurse, starts_at=now, ends_at=now + datetime.timedelta(days=1)
        )
    period = actions.set_out_of_office(
        actor=world.clinician, delegate=world.nurse, starts_at=now, ends_at=now + datetime.timedelta(days=2)
    )
    with pytest.raises(actions.MessagingDenied):
        actions.end_out_of_office(actor=world.nurse, period=period)
    actions.end_out_of_office(actor=world.clinician, period=period)
    period.refresh_from_db()
    assert period.ends_at <= timezone.now()
    assert AuditEvent.objects.filter(action="message.out_of_office").count() == 2


def test_the_patient_is_told_who_answers_while_the_assignee_is_away(world, start):
    conversation = start()
    actions.assign_conversation(actor=world.clinician, conversation=conversation, assignee=world.clinician)
    client = Client()
    sign_in(client, world.clinician)
    today = timezone.localdate()
    response = client.post(
        reverse("portal_social_messaging:away"),
        {
            "delegate": str(world.nurse.pk),
            "away_from": today.isoformat(),
            "back_on": (today + datetime.timedelta(days=5)).isoformat(),
        },
    )
    assert response.status_code == 302
    assert OutOfOffice.objects.filter(user=world.clinician, delegate=world.nurse).exists()
    patient = Client()
    sign_in(patient, world.patient)
    page = patient.get(reverse("portal_social_messaging:conversation", args=[conversation.pk])).content.decode()
    assert "is away until" in page and "Another member of the team is answering" in page


def test_the_away_page_refuses_bad_dates_and_strangers(world):
    client = Client()
    sign_in(client, world.clinician)
    today = timezone.localdate()
    bad = client.post(
        reverse("portal_social_messaging:away"),
        {"delegate": str(world.nurse.pk), "away_from": today.isoformat(), "back_on": today.isoformat()},
    )
    assert bad.status_code == 400 and b"must be after" in bad.content
    outsider = client.post(
        reverse("portal_social_messaging:away"),
        {"delegate": str(world.outsider_clinician.pk), "away_from": today.isoformat(), "back_on": "2099-01-01"},
    )
    assert outsider.status_code == 400
    patient = Client()
    sign_in(patient, world.patient)
    assert patient.get(reverse("portal_social_messaging:away")).status_code == 403
