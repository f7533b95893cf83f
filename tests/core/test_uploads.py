"""core.uploads: every file of a request in memory, up to PORTAL_SOCIAL_UPLOAD_MAX_BYTES together."""

from __future__ import annotations

import pytest
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadedfile import InMemoryUploadedFile, SimpleUploadedFile
from django.test import RequestFactory

from portal_social.checks import check_upload_handlers
from portal_social.core.uploads import OversizedUpload


def _files(settings, **files):
    settings.FILE_UPLOAD_HANDLERS = ["portal_social.core.uploads.MemoryOnlyUploadHandler"]
    request = RequestFactory().post(
        "/", {name: SimpleUploadedFile(f"{name}.bin", data) for name, data in files.items()}
    )
    return request.FILES


def test_files_within_the_limit_are_kept_in_memory_whole(settings):
    settings.PORTAL_SOCIAL_UPLOAD_MAX_BYTES = 10_000
    files = _files(settings, a=b"a" * 6_000, b=b"b" * 4_000)
    assert isinstance(files["a"], InMemoryUploadedFile) and files["a"].read() == b"a" * 6_000
    assert files["b"].read() == b"b" * 4_000


def test_a_file_past_the_limit_keeps_its_size_and_refuses_to_be_read(settings):
    settings.PORTAL_SOCIAL_UPLOAD_MAX_BYTES = 10_000
    files = _files(settings, a=b"a" * 6_000, b=b"b" * 5_000, c=b"c" * 3_000)
    over = files["b"]
    assert isinstance(over, OversizedUpload) and over.size == 5_000 and over.name == "b.bin"
    for read in (over.read, lambda: list(over.chunks()), over.readline):
        with pytest.raises(RequestDataTooBig) as refused:
            read()
        assert "b.bin" not in str(refused.value)
    # What the oversized file would have kept was given back: the next file still fits.
    assert files["a"].read() == b"a" * 6_000 and files["c"].read() == b"c" * 3_000


def test_the_handler_stops_handlers_after_it(settings):
    settings.FILE_UPLOAD_HANDLERS = [
        "portal_social.core.uploads.MemoryOnlyUploadHandler",
        "django.core.files.uploadhandler.TemporaryFileUploadHandler",
    ]
    settings.PORTAL_SOCIAL_UPLOAD_MAX_BYTES = 100
    request = RequestFactory().post("/", {"a": SimpleUploadedFile("a.bin", b"a" * 5_000_000)})
    assert isinstance(request.FILES["a"], OversizedUpload)


def test_w014_warns_while_uploads_can_reach_the_disk(settings):
    settings.FILE_UPLOAD_HANDLERS = [
        "django.core.files.uploadhandler.MemoryFileUploadHandler",
        "django.core.files.uploadhandler.TemporaryFileUploadHandler",
    ]
    assert [w.id for w in check_upload_handlers()] == ["portal_social.W014"]
    settings.FILE_UPLOAD_HANDLERS = ["portal_social.core.uploads.MemoryOnlyUploadHandler"]
    assert check_upload_handlers() == []


def test_the_example_portal_keeps_uploads_in_memory():
    from example_site.settings import base

    assert base.FILE_UPLOAD_HANDLERS == ["portal_social.core.uploads.MemoryOnlyUploadHandler"]
    assert check_upload_handlers() == []
