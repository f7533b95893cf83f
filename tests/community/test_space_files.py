"""Files shared in clinician spaces: checked by content, encrypted at rest, listed and served only to who may
read the post (404 alike for everyone else), audited as PHI reads in case spaces, kept in their space,
and taken off the disk with a purged thread. Patient communities take no files."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from portal_social.community import actions
from portal_social.community.models import Post, PostFile, Thread
from portal_social.core.crypto import TOKEN_PREFIX
from portal_social.core.models import AuditEvent
from tests.community import test_spaces
from tests.community.test_spaces import OUTSIDERS, client_for

#: The spaces' fixtures: a case-review space with its members, a staff space and a patient community.
people, world = test_spaces.people, test_spaces.world

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_files")]

CANARY = b"echo report canary-5521 for Maria Lopez "
PDF = b"%PDF-1.4\n" + CANARY * 10 + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
NAME = "Lopez Maria echo 2026-03-02.pdf"


def _pdf(name=NAME, data=PDF):
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def _png(name="ecg.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def _on_disk(settings) -> list[Path]:
    root = Path(settings.PORTAL_SOCIAL_PRIVATE_FILES_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _share(world, *uploads, who="colleague") -> Post:
    return actions.reply(
        author=world["people"][who],
        thread=world["thread"],
        body="The echo, and the ECG.",
        files=uploads,
        confirm_phi=True,  # the case space permits the patient's name in a file's name, once confirmed
    )


def _url(shared: PostFile, slug="case-review", thread=None) -> str:
    return reverse("portal_social_community:space_file", args=[slug, thread or shared.post.thread_id, shared.pk])


def test_files_shared_with_a_reply_are_encrypted_on_disk_and_in_their_row(world, settings):
    post = _share(world, _pdf(), _png())
    shared = list(post.files.order_by("created_at", "pk"))
    assert [(f.filename, f.content_type) for f in shared] == [(NAME, "application/pdf"), ("ecg.png", "image/png")]
    assert all("Lopez" not in f.file.name and "echo" not in f.file.name for f in shared)
    stored = _on_disk(settings)
    assert len(stored) == 2
    for path in stored:
        raw = path.read_bytes()
        assert raw.startswith(TOKEN_PREFIX.encode()) and b"canary-5521" not in raw and b"%PDF" not in raw
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT filename FROM {PostFile._meta.db_table}")  # noqa: S608 - a fixed table name
        names = [row[0] for row in cursor.fetchall()]
    assert names and all(NAME not in value and "Lopez" not in value for value in names)
    event = AuditEvent.objects.get(action="space.file_shared")
    assert event.details == {"count": 2, "types": ["application/pdf", "image/png"]}
    assert "Lopez" not in str(event.details)


def test_members_see_the_files_on_the_thread_page_and_download_them_as_phi_reads(world):
    post = _share(world, _pdf())
    shared = post.files.get()
    nurse = world["people"]["nurse"]
    client = client_for(nurse)
    page = client.get(reverse("portal_social_community:thread", args=["case-review", world["thread"].pk]))
    text = page.content.decode()
    assert page.status_code == 200 and _url(shared) in text and "Lopez Maria echo 2026-03-02.pdf" in text
    assert 'enctype="multipart/form-data"' in text and 'type="file"' in text
    reads_before = AuditEvent.objects.filter(action="phi.read", actor_id=nurse.pk).count()
    response = client.get(_url(shared))
    assert response.status_code == 200 and response.content == PDF
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff" and "no-store" in response["Cache-Control"]
    assert "sandbox" in response["Content-Security-Policy"]
    reads = AuditEvent.objects.filter(action="phi.read", actor_id=nurse.pk)
    assert reads.count() == reads_before + 1
    assert reads.order_by("-id").first().details.get("action", "download_file") == "download_file"
    assert client.post(_url(shared)).status_code == 405


@pytest.mark.parametrize("who", OUTSIDERS)
def test_outside_the_space_a_file_answers_as_one_that_does_not_exist(world, who):
    shared = _share(world, _pdf()).files.get()
    client = client_for(world["people"][who])
    ghost = "0b9f3c1e-4d7a-4a55-8f0e-2c1d9e8b7a61"
    real = client.get(_url(shared))
    missing = client.get(
        reverse("portal_social_community:space_file", args=["case-review", shared.post.thread_id, ghost])
    )
    assert real.status_code == missing.status_code == 404
    assert b"Lopez" not in real.content and b"canary" not in real.content and b"Cardiology" not in real.content
    assert not AuditEvent.objects.filter(action="phi.read", actor_id=getattr(world["people"][who], "pk", None)).exists()


def test_a_file_under_another_thread_or_of_a_deleted_post_is_not_found(world):
    post = _share(world, _pdf())
    shared = post.files.get()
    owner = world["people"]["owner"]
    other = actions.start_thread(author=owner, community=world["case_review"], title="Other", body="Another case.")
    client = client_for(world["people"]["nurse"])
    assert client.get(_url(shared, thread=other.thread_id)).status_code == 404
    actions.delete_post(user=world["people"]["colleague"], post=post)
    assert client.get(_url(shared)).status_code == 404


def test_file_names_are_screened_by_the_spaces_rules(world, settings):
    owner = world["people"]["owner"]
    with pytest.raises(actions.PhiFound) as warned:  # the case space warns, and posts once confirmed
        actions.reply(author=owner, thread=world["thread"], body="Echo attached.", files=[_pdf()])
    assert warned.value.may_post_anyway and "files" in warned.value.message_dict
    staff_thread = actions.start_thread(author=owner, community=world["staff"], title="Rota", body="Friday?").thread
    with pytest.raises(actions.PhiFound) as refused:  # a space without case discussion refuses it
        actions.reply(author=owner, thread=staff_thread, body="Echo attached.", files=[_pdf()], confirm_phi=True)
    assert not refused.value.may_post_anyway
    assert not PostFile.objects.exists() and not _on_disk(settings)
    actions.reply(author=owner, thread=staff_thread, body="The rota.", files=[_pdf(name="rota-december.pdf")])
    assert PostFile.objects.get().filename == "rota-december.pdf"


def test_patient_communities_take_no_files(world, settings):
    owner = world["people"]["owner"]
    with pytest.raises(actions.CommunityDenied):
        actions.start_thread(author=owner, community=world["patients"], title="Hello", body="Hi all.", files=[_png()])
    assert not Thread.objects.filter(community=world["patients"]).exists() and not _on_disk(settings)
    client = client_for(world["people"]["patient"])
    page = client.get(reverse("portal_social_community:new_thread", args=["heart-health"])).content.decode()
    assert 'type="file"' not in page and "multipart" not in page


def test_refused_files_refuse_the_post_and_keep_nothing(world, settings):
    before = Post.objects.count()
    with pytest.raises(ValidationError) as caught:
        _share(world, _pdf(), SimpleUploadedFile("notes.pdf", b"MZ\x90\x00 a program", content_type="application/pdf"))
    (message,) = caught.value.message_dict["files"]
    assert message.startswith("notes.pdf: This kind of file cannot be sent.")
    settings.PORTAL_SOCIAL_SPACE_FILE_MAX_FILES = 1
    with pytest.raises(ValidationError):
        _share(world, _pdf(), _png())
    settings.PORTAL_SOCIAL_SPACE_FILE_MAX_FILES = 5
    settings.PORTAL_SOCIAL_SPACE_FILE_TYPES = []
    with pytest.raises(actions.CommunityDenied):
        _share(world, _png())
    assert Post.objects.count() == before and not _on_disk(settings) and not PostFile.objects.exists()


def test_the_form_shares_files_and_a_warning_asks_for_them_again(world):
    owner = world["people"]["owner"]
    client = client_for(owner)
    url = reverse("portal_social_community:new_thread", args=["case-review"])
    warned = client.post(url, {"title": "New case", "body": "Patient MRN 40817265 with chest pain.", "files": [_png()]})
    assert warned.status_code == 200
    assert "choose them again" in warned.content.decode() and not PostFile.objects.exists()
    sent = client.post(
        url,
        {"title": "New case", "body": "Patient MRN 40817265 with chest pain.", "confirm_phi": "on", "files": [_png()]},
    )
    assert sent.status_code == 302
    assert PostFile.objects.get().post.thread.title == "New case"


def test_a_file_name_with_patient_details_is_posted_once_confirmed_on_the_form(world):
    client = client_for(world["people"]["colleague"])
    url = reverse("portal_social_community:thread", args=["case-review", world["thread"].pk])
    warned = client.post(url, {"body": "The echo from this morning.", "files": [_pdf()]})
    page = warned.content.decode()
    assert warned.status_code == 200 and 'name="confirm_phi"' in page and "choose them again" in page
    sent = client.post(url, {"body": "The echo from this morning.", "files": [_pdf()], "confirm_phi": "on"})
    assert sent.status_code == 302 and PostFile.objects.get().filename == NAME


def test_a_link_to_a_case_file_cannot_leave_its_space(world):
    shared = _share(world, _pdf()).files.get()
    owner = world["people"]["owner"]
    staff_thread = actions.start_thread(author=owner, community=world["staff"], title="Rota", body="Friday?").thread
    with pytest.raises(actions.CommunityDenied):
        actions.reply(author=owner, thread=staff_thread, body=f"See /community/files/{shared.pk}/")
    assert AuditEvent.objects.filter(action="space.containment").exists()


def test_a_thread_purged_for_retention_takes_its_files_off_the_disk(
    world, settings, django_capture_on_commit_callbacks
):
    import datetime
    import io

    from django.core.management import call_command
    from django.utils import timezone

    _share(world, _pdf(), _png())
    assert len(_on_disk(settings)) == 2
    space = world["case_review"]
    space.retention_days = 30
    space.save()
    Thread.objects.filter(pk=world["thread"].pk).update(last_post_at=timezone.now() - datetime.timedelta(days=60))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("portal_social_space_retention", stdout=io.StringIO())
    assert not PostFile.objects.exists() and not _on_disk(settings)
