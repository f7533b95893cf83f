"""A moderator's decisions on a post: publish (or keep), remove, or hide chosen parts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal_social.community import events
from portal_social.community.models import (
    Post,
)
from portal_social.core import (
    access,
    moderation,
    notify,
    screening,
    text,
)
from portal_social.core.errors import refusal

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

from portal_social.community.actions import search_index
from portal_social.community.actions._common import (
    REASON_MAX_LENGTH,
    CommunityDenied,
    _locked_post,
    _published,
    _signed_in,
    _unpublished,
)


def _require_moderator(moderator, post: Post) -> None:
    if not _signed_in(moderator) or not access.can(moderator, "moderate", post):
        raise CommunityDenied(_("Only community moderators can do that."))


def _decided(locked: Post, moderator, status: str, **fields) -> dict:
    locked.status = status
    locked.moderated_by = moderator
    locked.moderated_at = timezone.now()
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.save(update_fields=["status", "moderated_by", "moderated_at", *fields])
    item_status = "approved" if status == Post.Status.PUBLISHED else "rejected"
    item = moderation.close(locked, status=item_status, moderator=moderator)
    return {"item": str(item.pk)} if item is not None else {}


def _sync(target: Post, source: Post) -> None:
    for name in ("status", "body_html", "redactions", "moderated_by_id", "moderated_at", "rejection_reason"):
        setattr(target, name, getattr(source, name))


def _decidable(locked: Post) -> str:
    """The post's status, if a moderator may decide it: held, or published with flags waiting in the queue."""
    if locked.status == Post.Status.HELD:
        return locked.status
    if locked.status == Post.Status.PUBLISHED and locked.pending_item is not None:
        return locked.status
    raise refusal(_("This post is not waiting for a decision."), "decided")


def approve_post(*, moderator: AbstractBaseUser, post: Post, request: HttpRequest | None = None) -> Post:
    """Publish a held post as written, or keep a flagged one published (its flags leave the queue).

    The author of a post that was held is told; readers of the thread see it live.
    """
    _require_moderator(moderator, post)
    with transaction.atomic():
        locked = _locked_post(post)
        was = _decidable(locked)
        item = _decided(locked, moderator, Post.Status.PUBLISHED)
        if was == Post.Status.HELD:
            _published(locked)
        events.post_approved(actor=moderator, post=locked, request=request, details={"from": was, **item})
        if was == Post.Status.HELD:
            notify.notify(locked.author, "community.post_published")
    _sync(post, locked)
    return post


def reject_post(*, moderator: AbstractBaseUser, post: Post, reason: str, request: HttpRequest | None = None) -> Post:
    """Do not publish a held post, or take down a flagged one; ``reason`` (1..300 characters) is kept for the record."""
    _require_moderator(moderator, post)
    reason = text.clean_plain(
        reason,
        field="reason",
        required=True,
        max_length=REASON_MAX_LENGTH,
        empty_message=_("Give a reason for not publishing this post."),
    )
    with transaction.atomic():
        locked = _locked_post(post)
        was = _decidable(locked)
        item = _decided(locked, moderator, Post.Status.REJECTED, rejection_reason=reason)
        if was == Post.Status.PUBLISHED:
            _unpublished(locked)
        events.post_rejected(actor=moderator, post=locked, request=request, details={"from": was, **item})
        notify.notify(locked.author, "community.post_rejected")
    _sync(post, locked)
    return post


def redact_post(
    *,
    moderator: AbstractBaseUser,
    post: Post,
    spans: list[tuple[int, int]] | None = None,
    use_findings: bool = True,
    request: HttpRequest | None = None,
) -> Post:
    """Hide chosen parts of a held or flagged post (or everything the PHI scanner finds); it is then published."""
    _require_moderator(moderator, post)
    with transaction.atomic():
        locked = _locked_post(post)
        was = _decidable(locked)
        source = locked.body_source
        merged, redacted = screening.moderator_redaction(
            source,
            spans=spans or (),
            use_findings=use_findings,
            previous=locked.redactions,
            outside_message=_("A selected part is outside the post."),
            empty_message=_("Choose at least one part of the post to hide."),
        )
        item = _decided(
            locked,
            moderator,
            Post.Status.PUBLISHED,
            redactions=[{"start": s.start, "end": s.end, "kind": s.label} for s in merged],
            body_html=text.render(redacted),
        )
        if was == Post.Status.HELD:
            _published(locked)
        else:  # a flagged post stays published: what readers read (and search finds) changed
            search_index.post_text_changed(locked)
        events.post_redacted(
            actor=moderator,
            post=locked,
            request=request,
            details={"from": was, "spans": len(merged), "kinds": sorted({s.label for s in merged}), **item},
        )
        notify.notify(locked.author, "community.post_published_redacted")
    _sync(post, locked)
    return post
