"""Attachments: checked by their bytes, encrypted on disk, served only as downloads to who sees the message."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from portal_social.core.crypto import TOKEN_PREFIX
from portal_social.core.models import AuditEvent
from portal_social.messaging import actions
from portal_social.messaging.models import Attachment, Message
from tests.factories import sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_files")]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + b"lab results for canary-7731 " * 20
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _upload(data=PDF, name="Maria Lopez labs.pdf", content_type="application/pdf"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def _stored_files(settings):
    from pathlib import Path

    root = Path(settings.PORTAL_SOCIAL_PRIVATE_FILES_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_a_pdf_is_stored_encrypted_and_named_at_random(world, start, settings):
    conversation = start(attachment=_upload())
    attachment = Attachment.objects.get()
    assert attachment.content_type == "application/pdf" and attachment.size == len(PDF)
    assert attachment.filename == "Maria Lopez labs.pdf"
    assert "Maria" not in attachment.file.name and "labs" not in attachment.file.name
    (stored,) = _stored_files(settings)
    raw = stored.read_bytes()
    assert raw.startswith(TOKEN_PREFIX.encode()) and b"%PDF" not in raw and b"canary-7731" not in raw
    assert attachment.message.conversation == conversation


def test_the_kind_is_read_from_the_bytes_not_the_name(world, start):
    with pytest.raises(ValidationError) as caught:
        start(attachment=_upload(b"MZ\x90\x00this is a program", name="results.pdf"))
    assert "attachment" in caught.value.message_dict
    png = start(attachment=_upload(PNG, name="photo.pdf", content_type="application/pdf"), subject="Photo")
    attachment = Attachment.objects.get(message__conversation=png)
    assert attachment.content_type == "image/png" and attachment.filename == "photo.png"


def test_too_big_or_turned_off_is_refused_and_nothing_is_kept(world, start, settings):
    settings.PORTAL_SOCIAL_MESSAGING_ATTACHMENT_MAX_BYTES = 100
    with pytest.raises(ValidationError) as caught:
        start(attachment=_upload())
    assert "too large" in " ".join(caught.value.message_dict["attachment"])
    settings.PORTAL_SOCIAL_MESSAGING_ATTACHMENT_MAX_BYTES = 10_000
    settings.PORTAL_SOCIAL_MESSAGING_ATTACHMENT_TYPES = ["image/png"]
    with pytest.raises(ValidationError):
        start(attachment=_upload())
    assert not Message.objects.exists() and not _stored_files(settings)


def test_the_adapters_scan_hook_refuses_a_file(world, start, settings, monkeypatch):
    from portal_social.adapter import PortalAdapter

    monkeypatch.setattr(
        PortalAdapter, "scan_file", lambda self, data, content_type: "This file did not pass our security check."
    )
    with pytest.raises(ValidationError) as caught:
        start(attachment=_upload())
    assert caught.value.message_dict["attachment"] == ["This file did not pass our security check."]
    assert not _stored_files(settings)


def test_a_send_that_fails_after_storing_leaves_no_file(world, start, settings, monkeypatch):
    conversation = start()

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(Attachment.objects, "create", broken)
    with pytest.raises(RuntimeError):
        actions.send_message(sender=world.patient, conversation=conversation, body="See attached", attachment=_upload())
    assert conversation.messages.count() == 1 and not _stored_files(settings)


def _download_url(attachment):
    return reverse("portal_social_messaging:attachment", args=[attachment.message.conversation_id, attachment.pk])


def test_participants_download_it_as_an_attachment_with_nosniff_and_the_read_is_audited(world, start):
    start(attachment=_upload())
    attachment = Attachment.objects.get()
    for person in (world.patient, world.caregiver, world.nurse):
        client = Client()
        sign_in(client, person)
        response = client.get(_download_url(attachment))
        assert response.status_code == 200
        assert response.content == PDF
        assert response["Content-Type"] == "application/pdf"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Disposition"].startswith("attachment;")
        assert "no-store" in response["Cache-Control"]
    reads = AuditEvent.objects.filter(action="phi.read", patient_id=world.patient.pk, actor_id=world.nurse.pk)
    assert reads.exists()


def test_strangers_and_retracted_messages_get_404(world, start):
    start(attachment=_upload())
    attachment = Attachment.objects.get()
    for person in (world.other_patient, world.outsider_clinician, world.superuser):
        client = Client()
        sign_in(client, person)
        assert client.get(_download_url(attachment)).status_code == 404
    actions.retract_message(actor=world.patient, message=attachment.message)
    client = Client()
    sign_in(client, world.patient)
    assert client.get(_download_url(attachment)).status_code == 404


def test_the_conversation_page_offers_the_file_and_a_reply_can_carry_one(world, start):
    conversation = start()
    client = Client()
    sign_in(client, world.patient)
    url = reverse("portal_social_messaging:conversation", args=[conversation.pk])
    page = client.get(url)
    assert b'enctype="multipart/form-data"' in page.content and b'type="file"' in page.content
    response = client.post(
        url, {"body": "Here are my readings", "submission": "", "attachment": _upload(PNG, "bp.png", "image/png")}
    )
    assert response.status_code == 302
    page = client.get(url)
    assert b"bp.png" in page.content
    bad = client.post(url, {"body": "And this", "attachment": _upload(b"#!/bin/sh\nrm -rf /", "run.pdf")})
    assert bad.status_code == 400 and b"cannot be sent" in bad.content
    assert conversation.messages.count() == 2


JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def test_a_message_carries_several_files_each_stored_apart(world, start, settings):
    conversation = start(
        attachments=[_upload(), _upload(PNG, "bp.png", "image/png"), _upload(JPEG, "rash.jpg", "image/jpeg")]
    )
    stored = Attachment.objects.filter(message__conversation=conversation)
    assert sorted(a.filename for a in stored) == ["Maria Lopez labs.pdf", "bp.png", "rash.jpg"]
    assert len({a.file.name for a in stored}) == 3 and len(_stored_files(settings)) == 3


def test_too_many_files_are_refused_and_nothing_is_kept(world, start, settings):
    settings.PORTAL_SOCIAL_MESSAGING_ATTACHMENT_MAX_FILES = 2
    with pytest.raises(ValidationError) as caught:
        start(attachments=[_upload(), _upload(PNG, "a.png", "image/png"), _upload(PNG, "b.png", "image/png")])
    assert caught.value.message_dict["attachment"] == ["You can attach at most 2 files at a time."]
    assert not Message.objects.exists() and not _stored_files(settings)
    conversation = start(attachments=[_upload(), _upload(PNG, "a.png", "image/png")])
    assert Attachment.objects.filter(message__conversation=conversation).count() == 2


def test_one_bad_file_among_good_ones_refuses_them_all_naming_it(world, start, settings):
    good, bad = _upload(PNG, "bp.png", "image/png"), _upload(b"MZ\x90\x00a program", "results.pdf")
    with pytest.raises(ValidationError) as caught:
        start(attachments=[good, bad])
    (message,) = caught.value.message_dict["attachment"]
    assert message.startswith("results.pdf: This kind of file cannot be sent.")
    assert not Message.objects.exists() and not _stored_files(settings)


def test_files_too_large_together_are_refused_though_each_is_small_enough(world, start, settings):
    settings.PORTAL_SOCIAL_MESSAGING_ATTACHMENT_MAX_BYTES = len(PDF)
    settings.PORTAL_SOCIAL_MESSAGING_ATTACHMENT_MAX_TOTAL_BYTES = len(PDF) + 10
    with pytest.raises(ValidationError) as caught:
        start(attachments=[_upload(), _upload()])
    assert "Together the files are too large" in caught.value.message_dict["attachment"][0]
    assert not Message.objects.exists() and not _stored_files(settings)


def test_the_reply_form_takes_several_files_and_a_refusal_keeps_the_words(world, start, settings):
    settings.PORTAL_SOCIAL_MESSAGING_ATTACHMENT_MAX_FILES = 3
    conversation = start()
    client = Client()
    sign_in(client, world.patient)
    url = reverse("portal_social_messaging:conversation", args=[conversation.pk])
    page = client.get(url).content.decode()
    assert 'type="file"' in page and " multiple" in page.split('type="file"', 1)[1].split(">", 1)[0]
    assert "at most 3 files" in page
    files_sent = [_upload(PNG, "bp.png", "image/png"), _upload(JPEG, "rash.jpg", "image/jpeg")]
    response = client.post(url, {"body": "Two photos", "submission": "", "attachment": files_sent})
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "bp.png" in page and "rash.jpg" in page
    too_many = [_upload(PNG, f"p{n}.png", "image/png") for n in range(4)]
    refused = client.post(url, {"body": "Four more photos of my ankle", "attachment": too_many})
    assert refused.status_code == 400
    text = refused.content.decode()
    assert "at most 3 files" in text and "Four more photos of my ankle" in text and "choose them again" in text
    assert conversation.messages.count() == 2 and Attachment.objects.count() == 2
