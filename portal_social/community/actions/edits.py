"""Authors edit their posts (every version kept for moderators); authors and moderators delete posts.

An edit is screened exactly like a new post (``posting._screen``): personal
details refuse it with ``PhiFound`` unless the author posts anyway, and then
the post waits for a moderator. A published post whose new text is held is
taken down until a moderator decides; a post already waiting stays waiting,
its queue item told it was edited. The text before the edit is kept as a
``PostRevision`` (encrypted), and a moderator's hidden parts are cleared:
they were offsets into the old text, so the new text is screened afresh.

Deletion is soft: the post's status becomes "deleted", the row stays for the
record, its pending queue item is closed and, if it was published, it is
taken down (the opening post: the whole thread is hidden).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from portal_social.community import events, rules
from portal_social.community.actions import search_index, spaces
from portal_social.community.actions._common import (
    KIND,
    REASON_MAX_LENGTH,
    CommunityDenied,
    _locked_post,
    _signed_in,
    _unpublished,
    posting_refusal,
)
from portal_social.community.actions.posting import _clean_body, _hold_reasons, _render, _screen
from portal_social.community.models import Post, PostRevision
from portal_social.core import access, moderation, notify, ratelimit, screening, text
from portal_social.core.errors import refusal
from portal_social.core.moderation import reasons as reason_codes

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

#: The queue reason added to a held post's item when its author edits it.
EDITED = "edited"
reason_codes.register(EDITED, _lazy("Edited by its author"), 0)

_EDITED_FIELDS = ("body_source", "body_html", "redactions", "marks", "urgent", "edited_at", "status", "hold_reasons")
LOCKED_MESSAGE = _lazy("This thread is locked: its posts can no longer be edited.")


def _edit_refusal(author, community, thread) -> None:
    """The posting checks (a silenced member may not edit either), but not slow mode: an edit adds no post."""
    posting_refusal(author, community, thread, adds_post=False)


def _changeable(locked: Post) -> None:
    if locked.status not in (Post.Status.PUBLISHED, Post.Status.HELD):
        raise refusal(_("This post can no longer be changed."), "gone")


def edit_post(
    *,
    author: AbstractBaseUser,
    post: Post,
    body: str,
    confirm_phi: bool = False,
    request: HttpRequest | None = None,
) -> Post:
    """Replace the text of the author's own published or waiting post; returns the post as it now is.

    Preconditions: ``author`` wrote the post, may still post in its
    community, and the thread is not locked — else ``CommunityDenied``; the
    text as for a new post — else ``ValidationError`` or ``PhiFound``. The
    same text again changes nothing (a double submit is harmless).
    """
    if not _signed_in(author) or not access.can(author, "edit", post):
        if _signed_in(author) and post.author_id == author.pk and post.thread.locked:
            raise CommunityDenied(LOCKED_MESSAGE)
        raise CommunityDenied()
    community = post.thread.community
    _edit_refusal(author, community, post.thread)
    source = _clean_body(body)
    if source == post.body_source:
        return post
    spaces.contain_text(actor=author, text=source, into=community, request=request)
    body_result = _screen(author, community, "body", source, confirm_phi=confirm_phi)
    body_html = _render(body_result.publishable_text(), "body")
    ratelimit.check("community_edit", request=request, user=author)
    with transaction.atomic():
        locked = _locked_post(post)
        _changeable(locked)
        if locked.thread.locked:
            raise CommunityDenied(LOCKED_MESSAGE)
        if locked.body_source == source:  # a twin of this request got here first
            return locked
        revision = PostRevision.objects.create(post=locked, body_source=locked.body_source, edited_by=author)
        was = locked.status
        hold = _hold_reasons([body_result], author, community)
        codes = [reason["code"] for reason in hold]
        locked.body_source = source
        locked.body_html = body_html
        locked.redactions = []
        locked.marks = [f.code for f in body_result.findings if f.outcome == screening.policy.OUTCOME_MARK]
        locked.urgent = locked.urgent or body_result.urgent
        locked.edited_at = timezone.now()
        if was == Post.Status.PUBLISHED and hold:
            locked.status = Post.Status.HELD
            locked.hold_reasons = hold
        elif was == Post.Status.HELD:
            kept = [reason for reason in locked.hold_reasons if reason.get("code") not in codes]
            locked.hold_reasons = [*kept, *hold]
        locked.save(update_fields=list(_EDITED_FIELDS))
        if locked.status == Post.Status.HELD:
            queued = [*moderation.from_hold_codes(hold), moderation.Reason(EDITED)]
            if was == Post.Status.PUBLISHED:
                _unpublished(locked)
            moderation.enqueue(locked, kind=KIND, reasons=queued, actor=author, request=request)
        else:
            search_index.post_text_changed(locked)
        events.post_edited(
            actor=author,
            post=locked,
            request=request,
            details={
                "from": was,
                "status": locked.status,
                "reasons": codes,
                "revision": revision.pk,
                "revisions": PostRevision.objects.filter(post=locked).count(),
            },
        )
    for name in _EDITED_FIELDS:
        setattr(post, name, getattr(locked, name))
    return post


def delete_post(*, user: AbstractBaseUser, post: Post, reason: str = "", request: HttpRequest | None = None) -> Post:
    """Delete a post: its author, or a moderator with a reason (1..300 characters, kept encrypted).

    The row stays with status "deleted"; readers no longer see it, its
    pending queue item is closed, and a published post is taken down (an
    opening post hides its thread). Deleting a deleted post changes nothing.
    """
    already = post.status == Post.Status.DELETED and _signed_in(user)
    if already and (post.author_id == user.pk or rules.moderates(user, post.thread.community)):
        return post
    if not _signed_in(user) or not access.can(user, "delete", post):
        raise CommunityDenied()
    as_moderator = post.author_id != user.pk
    if as_moderator:
        reason = text.clean_plain(
            reason,
            field="reason",
            required=True,
            max_length=REASON_MAX_LENGTH,
            empty_message=_("Give a reason for deleting this post."),
        )
    with transaction.atomic():
        locked = _locked_post(post)
        if locked.status == Post.Status.DELETED:
            return locked
        _changeable(locked)
        was = locked.status
        locked.status = Post.Status.DELETED
        locked.deleted_by = user
        locked.deleted_at = timezone.now()
        fields = ["status", "deleted_by", "deleted_at"]
        if as_moderator:
            locked.rejection_reason = reason
            fields.append("rejection_reason")
        locked.save(update_fields=fields)
        item = moderation.close(locked, status="rejected" if as_moderator else "ignored", moderator=user)
        if was == Post.Status.PUBLISHED:
            _unpublished(locked)
        details = {"from": was, "by": "moderator" if as_moderator else "author", "opening": locked.is_opening}
        if item is not None:
            details["item"] = str(item.pk)
        events.post_deleted(actor=user, post=locked, request=request, details=details)
        if as_moderator and locked.author_id:
            # The author hears that it happened, never what the post said or who removed it.
            notify.notify(locked.author, "community.post_deleted")
    for name in ("status", "deleted_by_id", "deleted_at", "rejection_reason"):
        setattr(post, name, getattr(locked, name))
    return post
