"""Attachments never touch the disk in plain text: uploads stay in memory until core.files encrypts them."""

from __future__ import annotations

import uuid

import pytest
from django.core.files import uploadedfile
from django.core.files.uploadedfile import SimpleUploadedFile

from portal_social.messaging.models import Attachment
from tests.factories import sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_files")]

#: A PDF of 3 MB: over Django's FILE_UPLOAD_MAX_MEMORY_SIZE (2.5 MB), under the 10 MB attachment limit.
BIG_PDF = b"%PDF-1.4\n" + b"lab results for canary-4242 " * (3 * 1024 * 1024 // 28) + b"\n%%EOF\n"
DJANGO_DEFAULT_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]


@pytest.fixture
def temporary_files(monkeypatch):
    """The names of the plain temporary files Django makes for uploads during the test."""
    made: list[str] = []
    original = uploadedfile.TemporaryUploadedFile.__init__

    def spy(self, name, *args, **kwargs):
        made.append(name)
        original(self, name, *args, **kwargs)

    monkeypatch.setattr(uploadedfile.TemporaryUploadedFile, "__init__", spy)
    return made


def _reply(client, conversation, body="Here are my results."):
    upload = SimpleUploadedFile("Maria Lopez labs.pdf", BIG_PDF, content_type="application/pdf")
    data = {"body": body, "submission": str(uuid.uuid4()), "attachment": upload}
    return client.post(f"/messages/c/{conversation.pk}/", data)


def test_a_3_mb_attachment_is_stored_without_a_temporary_file(client, world, start, temporary_files):
    conversation = start()
    sign_in(client, world.patient)
    response = _reply(client, conversation)
    assert response.status_code == 302
    assert Attachment.objects.get().size == len(BIG_PDF)
    assert temporary_files == []


def test_with_djangos_default_handlers_the_same_upload_goes_to_a_temporary_file(
    client, world, start, settings, temporary_files
):
    # What the portal's handler prevents (and proof that the spy above sees it).
    settings.FILE_UPLOAD_HANDLERS = DJANGO_DEFAULT_HANDLERS
    conversation = start()
    sign_in(client, world.patient)
    assert _reply(client, conversation).status_code == 302
    assert temporary_files == ["Maria Lopez labs.pdf"]


def test_files_past_the_requests_memory_limit_are_refused_clearly_and_the_text_is_kept(
    client, world, start, settings, temporary_files
):
    settings.PORTAL_SOCIAL_UPLOAD_MAX_BYTES = 1024 * 1024
    conversation = start()
    sign_in(client, world.patient)
    response = _reply(client, conversation, body="Results attached, sorry for the size.")
    assert response.status_code == 400
    page = response.content.decode()
    assert "too large to be received" in page
    assert "Results attached, sorry for the size." in page
    assert conversation.messages.count() == 1 and not Attachment.objects.exists()
    assert temporary_files == []
