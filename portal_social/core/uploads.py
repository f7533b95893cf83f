"""Uploads stay in memory: an attachment is never written to disk before it is encrypted.

Django's default upload handlers keep a file of up to ``FILE_UPLOAD_MAX_MEMORY_SIZE`` (2.5 MB) in memory and
write anything larger, as it arrives, to a temporary file in ``FILE_UPLOAD_TEMP_DIR`` (``/tmp``). A secure
message's attachment (up to 10 MB), a file shared in a clinician space or a care-relationship CSV would then
sit on disk in plain text until the request ends, and stay there if the process dies mid-upload; deleted
data can be read back from the disk. ``core.files`` encrypts what it stores, but only once it has the bytes.

:class:`MemoryOnlyUploadHandler` keeps every file of a request in memory, up to
``PORTAL_SOCIAL_UPLOAD_MAX_BYTES`` for the request together (64 MB by default, above every limit the
portal sets). Beyond that, a file is counted but not kept: it arrives as an :class:`OversizedUpload` with
its true ``size``, so the size checks every form makes (``core.files``, Wagtail's image limit) refuse it
with their usual clear sentence, and reading it anyway is refused (``RequestDataTooBig``, a 400) rather
than giving a truncated file. Check ``portal_social.W014`` warns while a handler that writes to disk is
configured.

Set it as the only handler::

    FILE_UPLOAD_HANDLERS = ["portal_social.core.uploads.MemoryOnlyUploadHandler"]

and bound request bodies at the web server in front of the portal (nginx's ``client_max_body_size``) to
what the portal accepts, so one client cannot make a worker hold more.
"""

from __future__ import annotations

from io import BytesIO

from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadedfile import InMemoryUploadedFile, UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopFutureHandlers

from portal_social.conf import app_settings

#: Said by :class:`OversizedUpload` when read (logged by Django's security logger): never the file's name.
OVERSIZED = "An uploaded file was over PORTAL_SOCIAL_UPLOAD_MAX_BYTES and was not kept."


class _NotKept:
    """The content of a file that was not kept: any read is refused."""

    closed = False

    def _refuse(self, *args, **kwargs):
        raise RequestDataTooBig(OVERSIZED)

    read = readline = readlines = __iter__ = _refuse

    def seek(self, *args, **kwargs) -> int:
        return 0

    def tell(self) -> int:
        return 0

    def close(self) -> None:
        self.closed = True


class OversizedUpload(UploadedFile):
    """A file past the request's memory limit: its name, type and true ``size``, and no content."""

    def __init__(self, *, name, content_type, size, charset, content_type_extra=None):
        super().__init__(_NotKept(), name, content_type, size, charset, content_type_extra)

    def open(self, mode=None):
        return self

    def chunks(self, chunk_size=None):
        raise RequestDataTooBig(OVERSIZED)

    def multiple_chunks(self, chunk_size=None) -> bool:
        return True


class MemoryOnlyUploadHandler(FileUploadHandler):
    """Keep every uploaded file of a request in memory, up to ``PORTAL_SOCIAL_UPLOAD_MAX_BYTES`` together."""

    def __init__(self, request=None):
        super().__init__(request)
        self.kept = 0
        self.limit = app_settings.UPLOAD_MAX_BYTES
        self.buffer: BytesIO | None = None
        self.received = 0

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.buffer = BytesIO()
        self.received = 0
        raise StopFutureHandlers()  # no handler after this one ever sees the file (or writes it to disk)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.received += len(raw_data)
        if self.buffer is not None and self.kept + len(raw_data) <= self.limit:
            self.buffer.write(raw_data)
            self.kept += len(raw_data)
        elif self.buffer is not None:
            self.kept -= self.buffer.tell()  # what this file had kept is given back: it is not kept at all
            self.buffer = None
        return None

    def file_complete(self, file_size: int) -> UploadedFile:
        if self.buffer is None:
            return OversizedUpload(
                name=self.file_name,
                content_type=self.content_type,
                size=file_size,
                charset=self.charset,
                content_type_extra=self.content_type_extra,
            )
        self.buffer.seek(0)
        upload = InMemoryUploadedFile(
            file=self.buffer,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )
        self.buffer = None
        return upload
