"""Files people send (secure-message attachments): checked by content, encrypted at rest, served as downloads.

* :func:`check_uploads` checks the files sent together (how many, how much
  in all) and each of them with :func:`check_upload`, and names the file
  any refusal is about.
* :func:`check_upload` reads an upload once, refuses it past the size limit
  or when its bytes are not one of the allowed kinds (the name and the
  browser's declared type are ignored: a renamed executable stays refused),
  and asks the adapter's malware-scan hook (``PortalAdapter.scan_file``).
* :func:`private_storage` is where accepted files go: an
  :class:`~portal_social.core.crypto.EncryptedFileSystemStorage` under
  ``PORTAL_SOCIAL_PRIVATE_FILES_ROOT``, with no public URL, each file under a
  random name.
* :func:`download` answers with the bytes as an attachment, ``nosniff``,
  never cached, and sandboxed should a browser render it anyway.

The kinds known by content are listed in :data:`KINDS`; a portal narrows
them with ``PORTAL_SOCIAL_MESSAGING_ATTACHMENT_TYPES``.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.core.files.base import ContentFile
from django.http import HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext, ngettext

from portal_social.core.crypto import EncryptedFileSystemStorage


@dataclass(frozen=True)
class Kind:
    """A file kind recognised by its first bytes."""

    content_type: str
    extension: str
    label: str


#: Content type -> kind. Detection is in :func:`sniff`.
KINDS: dict[str, Kind] = {
    "application/pdf": Kind("application/pdf", "pdf", "PDF"),
    "image/png": Kind("image/png", "png", "PNG image"),
    "image/jpeg": Kind("image/jpeg", "jpg", "JPEG image"),
    "image/heic": Kind("image/heic", "heic", "HEIC photo"),
}

_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1")


def sniff(head: bytes) -> str | None:
    """The content type of a file from its first bytes (at least 12), or None when unknown."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "image/heic"
    return None


class FileRefused(ValidationError):
    """An upload refused: too big, an unknown kind, or the malware scan objected."""


@dataclass(frozen=True)
class CheckedFile:
    """An upload that passed: its bytes, detected type and a safe display name."""

    data: bytes
    content_type: str
    filename: str

    @property
    def size(self) -> int:
        return len(self.data)


_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")


def safe_filename(name: str, content_type: str) -> str:
    """The sender's file name made harmless to show and offer back: no path, no control characters,
    at most 100 characters, ending in the extension of what the file really is."""
    name = unicodedata.normalize("NFC", os.path.basename(str(name or "").replace("\\", "/")))
    name = _UNSAFE_NAME.sub("_", name).strip(" .") or "file"
    stem, _dot, _ext = name.rpartition(".")
    stem = (stem or name)[:90]
    return f"{stem}.{KINDS[content_type].extension}"


@dataclass(frozen=True)
class Limits:
    """What files one feature takes: kinds (content types of :data:`KINDS`), the largest file, how many
    files go together, and how much they may weigh together (each is read into memory to be checked)."""

    types: tuple[str, ...]
    max_bytes: int
    max_files: int = 1
    max_total_bytes: int = 0

    def __post_init__(self):
        object.__setattr__(self, "types", tuple(t for t in self.types if t in KINDS))
        if not self.max_total_bytes:
            object.__setattr__(self, "max_total_bytes", self.max_bytes * self.max_files)


def messaging_limits() -> Limits:
    """Secure-message attachments: ``PORTAL_SOCIAL_MESSAGING_ATTACHMENT_*``."""
    from portal_social.conf import app_settings

    return Limits(
        types=tuple(app_settings.MESSAGING_ATTACHMENT_TYPES),
        max_bytes=app_settings.MESSAGING_ATTACHMENT_MAX_BYTES,
        max_files=app_settings.MESSAGING_ATTACHMENT_MAX_FILES,
        max_total_bytes=app_settings.MESSAGING_ATTACHMENT_MAX_TOTAL_BYTES,
    )


def allowed_types(limits: Limits | None = None) -> tuple[str, ...]:
    return (limits or messaging_limits()).types


def max_bytes() -> int:
    return messaging_limits().max_bytes


def _megabytes(limit: int) -> int:
    return max(1, round(limit / (1024 * 1024)))


def _kinds_text(limits: Limits) -> str:
    labels = [KINDS[t].label for t in limits.types]
    return ", ".join(labels[:-1]) + (gettext(" or ") if len(labels) > 1 else "") + labels[-1] if labels else ""


def describe_allowed(limits: Limits | None = None) -> str:
    """ "PDF, PNG image or JPEG image, up to 10 MB": what a one-file form's help text says."""
    limits = limits or messaging_limits()
    return gettext("%(kinds)s, up to %(size)d MB") % {
        "kinds": _kinds_text(limits),
        "size": _megabytes(limits.max_bytes),
    }


def describe_allowed_files(limits: Limits | None = None) -> str:
    """ "PDF or PNG image, up to 10 MB each; at most 5 files, 25 MB in all": a many-file form's help text."""
    limits = limits or messaging_limits()
    if limits.max_files == 1:
        return describe_allowed(limits)
    return gettext("%(kinds)s, up to %(size)d MB each; at most %(count)d files, %(total)d MB in all") % {
        "kinds": _kinds_text(limits),
        "size": _megabytes(limits.max_bytes),
        "count": limits.max_files,
        "total": _megabytes(limits.max_total_bytes),
    }


def _shown_name(upload) -> str:
    """The sender's own name for ``upload``, cleaned, to tell them which of their files a refusal is about."""
    name = unicodedata.normalize("NFC", os.path.basename(str(getattr(upload, "name", "") or "").replace("\\", "/")))
    return _UNSAFE_NAME.sub("_", name).strip(" .")[:100] or gettext("a file")


def check_uploads(uploads, *, field: str = "attachment", limits: Limits | None = None) -> list[CheckedFile]:
    """Check the files sent together: at most ``limits.max_files``, at most ``limits.max_total_bytes`` in
    all, and each by :func:`check_upload` (``limits``: the messaging settings unless given). Raises one
    :class:`FileRefused` (keyed by ``field``) listing every refusal, each naming its file, so nothing is
    half-accepted."""
    limits = limits or messaging_limits()
    uploads = [upload for upload in (uploads or ()) if upload is not None]
    if not uploads:
        return []
    if len(uploads) > limits.max_files:
        message = ngettext(
            "You can attach %(count)d file at a time.",
            "You can attach at most %(count)d files at a time.",
            limits.max_files,
        ) % {"count": limits.max_files}
        raise FileRefused({field: [message]}, code="too_many")
    too_much = gettext("Together the files are too large: the limit is %(size)d MB in all.") % {
        "size": _megabytes(limits.max_total_bytes)
    }
    if sum(getattr(upload, "size", None) or 0 for upload in uploads) > limits.max_total_bytes:
        raise FileRefused({field: [too_much]}, code="too_big")
    checked: list[CheckedFile] = []
    problems: list[str] = []
    for upload in uploads:
        try:
            checked.append(check_upload(upload, field=field, limits=limits))
        except FileRefused as refused:
            for message in refused.message_dict.get(field, []):
                problems.append(
                    gettext("%(file)s: %(problem)s") % {"file": _shown_name(upload), "problem": message}
                    if len(uploads) > 1
                    else message
                )
    if problems:
        raise FileRefused({field: problems}, code="refused")
    if sum(file.size for file in checked) > limits.max_total_bytes:  # sizes as read, whatever the upload claimed
        raise FileRefused({field: [too_much]}, code="too_big")
    return checked


def check_upload(upload, *, field: str = "attachment", limits: Limits | None = None) -> CheckedFile:
    """Read ``upload`` (a Django ``UploadedFile``) and return it checked, or raise :class:`FileRefused`
    (keyed by ``field``) with a sentence the sender can act on (``limits``: the messaging settings unless
    given)."""
    from portal_social.adapter import get_adapter

    limits = limits or messaging_limits()
    limit = limits.max_bytes
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise FileRefused({field: [_too_big(limit)]}, code="too_big")
    try:
        upload.seek(0)
        data = upload.read(limit + 1)
    except RequestDataTooBig:  # past PORTAL_SOCIAL_UPLOAD_MAX_BYTES: counted, not kept (core.uploads)
        raise FileRefused({field: [gettext("The files sent together are too large to be received.")]}, code="too_big")
    if len(data) > limit:
        raise FileRefused({field: [_too_big(limit)]}, code="too_big")
    if not data:
        raise FileRefused({field: [gettext("The file is empty.")]}, code="empty")
    content_type = sniff(data[:16])
    if content_type is None or content_type not in limits.types:
        raise FileRefused(
            {
                field: [
                    gettext("This kind of file cannot be sent. You can send: %(kinds)s.")
                    % {"kinds": describe_allowed(limits)}
                ]
            },
            code="type",
        )
    problem = get_adapter().scan_file(data, content_type=content_type)
    if problem:
        raise FileRefused({field: [str(problem)]}, code="malware")
    return CheckedFile(data, content_type, safe_filename(getattr(upload, "name", ""), content_type))


def _too_big(limit: int) -> str:
    return gettext("The file is too large: the limit is %(size)d MB.") % {"size": max(1, round(limit / (1024 * 1024)))}


@functools.lru_cache(maxsize=4)
def _storage(root: str) -> EncryptedFileSystemStorage:
    return EncryptedFileSystemStorage(location=root, base_url=None, file_permissions_mode=0o600)


def private_root() -> str:
    """``PORTAL_SOCIAL_PRIVATE_FILES_ROOT``, else ``<MEDIA_ROOT>/portal-social-private``."""
    configured = getattr(settings, "PORTAL_SOCIAL_PRIVATE_FILES_ROOT", None)
    if configured:
        return str(configured)
    return str(Path(settings.MEDIA_ROOT or ".") / "portal-social-private")


def private_storage() -> EncryptedFileSystemStorage:
    """Encrypted storage with no public URL (a callable for ``FileField(storage=...)``)."""
    return _storage(private_root())


def store(checked: CheckedFile, folder: str) -> str:
    """Save ``checked`` encrypted under a random name in ``folder``; returns the stored name."""
    name = f"{folder.strip('/')}/{uuid.uuid4().hex}.bin"
    return private_storage().save(name, ContentFile(checked.data))


def remove(name: str) -> None:
    """Delete a stored file (a write that did not commit); a missing file is fine."""
    if name:
        with contextlib.suppress(OSError):
            private_storage().delete(name)


def download(name: str, *, content_type: str, filename: str) -> HttpResponse:
    """The stored file ``name``, decrypted, as a download that a browser will not sniff, cache or run."""
    with private_storage().open(name) as handle:
        data = handle.read()
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    response["Content-Length"] = str(len(data))
    return response
