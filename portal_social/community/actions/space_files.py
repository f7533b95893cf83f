"""Files shared in clinician spaces: checked by content, encrypted at rest, offered only as downloads.

A member attaches files to a new thread or a reply in a space; patient
communities take none (``CommunityDenied``). The kinds, sizes and count are
``PORTAL_SOCIAL_SPACE_FILE_*`` (``core.files.Limits``); every file is read
from its bytes, never its name, and passes the adapter's malware-scan hook.
Files are stored encrypted under random names (``core.files``), their names
encrypted in the row, and served only to who may read the post, as a
download that no browser previews (``nosniff``, a sandboxing CSP, never
cached). A download in a case-discussion space is a PHI read in the audit
trail, like reading the thread. Files go with their post: a thread purged by
the space's retention takes its files off the disk once the purge commits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal_social.community.actions._common import CommunityDenied
from portal_social.community.models import Community, Post, PostFile
from portal_social.core import files
from portal_social.core.audit_events import register

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

SHARED = register("space.file_shared", gettext_lazy("Files shared in a clinician space"))

#: The form field (and error key) that carries a post's files.
FIELD = "files"


def limits() -> files.Limits:
    from portal_social.conf import app_settings

    return files.Limits(
        types=tuple(app_settings.SPACE_FILE_TYPES),
        max_bytes=app_settings.SPACE_FILE_MAX_BYTES,
        max_files=app_settings.SPACE_FILE_MAX_FILES,
        max_total_bytes=app_settings.SPACE_FILE_MAX_TOTAL_BYTES,
    )


def takes_files(community: Community) -> bool:
    """Whether posts in ``community`` may carry files: clinician spaces, when the setting allows a kind."""
    return community.kind == Community.Kind.SPACE and bool(limits().types)


def check(community: Community, uploads) -> list[files.CheckedFile]:
    """The files sent with a post in ``community``, checked together; [] for none.

    ``CommunityDenied`` for files sent anywhere but a space that takes them;
    ``core.files.FileRefused`` (keyed ``files``) when any is refused, naming it.
    """
    uploads = [upload for upload in (uploads or ()) if upload is not None]
    if not uploads:
        return []
    if not takes_files(community):
        raise CommunityDenied(_("Files can be shared in clinician spaces only."))
    return files.check_uploads(uploads, field=FIELD, limits=limits())


def attach(
    post: Post, checked: list[files.CheckedFile], stored: list[str], *, actor=None, request: HttpRequest | None = None
) -> None:
    """Store each checked file encrypted and record it on ``post`` (inside the post's transaction:
    ``stored`` collects the names so a write that does not commit removes them)."""
    if not checked:
        return
    folder = f"spaces/{post.thread.community_id.hex[:2]}"
    for file in checked:
        name = files.store(file, folder)
        stored.append(name)
        PostFile.objects.create(
            post=post, file=name, filename=file.filename, content_type=file.content_type, size=file.size
        )
    SHARED.record(
        actor=actor,
        target=post,
        request=request,
        details={"count": len(checked), "types": sorted({f.content_type for f in checked})},
    )


def download(*, actor: AbstractBaseUser, shared: PostFile, request: HttpRequest | None = None):
    """The file as a download, once the caller has checked that ``actor`` may read its post; recorded as a
    PHI read in a case-discussion space."""
    from portal_social.community.actions import spaces

    spaces.record_case_read(actor=actor, thread=shared.post.thread, request=request, action="download_file")
    return files.download(shared.file.name, content_type=shared.content_type, filename=shared.filename)


@receiver(post_delete, sender=PostFile, dispatch_uid="portal_social_space_file_removed")
def _remove_stored_file(sender, instance: PostFile, **kwargs) -> None:
    """A deleted row (its post or thread deleted, or purged for retention) takes its file off the disk once
    the deletion commits; a rolled-back deletion keeps it."""
    name = instance.file.name
    if name:
        transaction.on_commit(lambda: files.remove(name), robust=True)
