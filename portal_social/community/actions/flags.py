"""Members flag posts; flags add up by trust, and enough of them hide a post until a moderator decides."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from portal_social import signals
from portal_social.community import events
from portal_social.community.models import (
    CommunityProfile,
    Post,
    PostFlag,
)
from portal_social.conf import app_settings
from portal_social.core import (
    access,
    moderation,
    ratelimit,
    text,
)
from portal_social.core.errors import refusal

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

from portal_social.community.actions._common import (
    KIND,
    CommunityDenied,
    _locked_post,
    _signed_in,
    _unpublished,
)

#: What one flag adds towards hiding a post, by the flagger's trust level.
FLAG_WEIGHTS = {0: Decimal("0.5"), 1: Decimal("1"), 2: Decimal("1.5"), 3: Decimal("2")}
FLAG_NOTE_MAX_LENGTH = 300


def flag_post(
    *, user: AbstractBaseUser, post: Post, reason: str, note: str = "", request: HttpRequest | None = None
) -> PostFlag:
    """Flag a published post for the moderators, once per person, with a reason and optional words.

    Flags add up, weighted by each flagger's trust level (:data:`FLAG_WEIGHTS`);
    at ``PORTAL_SOCIAL_COMMUNITY_FLAG_HIDE_SCORE`` the post is hidden until a
    moderator decides. "A complaint about my care" also sends
    ``content_needs_attention`` for the patient-experience team; it is the
    only flag a member may put on their own post (it hides nothing then).
    """
    if not _signed_in(user) or not access.can(user, "flag", post):
        raise CommunityDenied()
    if reason not in PostFlag.Reason.values:
        raise ValidationError({"reason": [_("Choose why you are flagging this post.")]})
    own = post.author_id == user.pk
    if own and reason != PostFlag.Reason.CARE_COMPLAINT:
        raise refusal(_("You cannot flag your own post. You can ask a moderator for help instead."), "own")
    note = text.clean_plain(note or "", field="note", required=False, max_length=FLAG_NOTE_MAX_LENGTH)
    already = _("You have already flagged this post. Thank you: a moderator will look at it.")
    if PostFlag.objects.filter(post=post, flagger=user).exists():
        raise refusal(already, "duplicate")
    ratelimit.check("flag", request=request, user=user)
    profile = CommunityProfile.objects.filter(user=user).first()
    weight = Decimal(0) if own else FLAG_WEIGHTS.get(profile.trust_level if profile else 0, FLAG_WEIGHTS[3])
    with transaction.atomic():
        locked = _locked_post(post)  # the queue's lock order: the item, then the post
        if locked.status != Post.Status.PUBLISHED:
            raise refusal(_("This post is already waiting for a moderator."), "not_published")
        try:
            with transaction.atomic():
                flag = PostFlag.objects.create(post=locked, flagger=user, reason=reason)
        except IntegrityError:
            raise refusal(already, "duplicate") from None
        events.post_flagged(actor=user, post=locked, request=request, details={"reason": reason, "own": own})
        if not own:
            reason_row = moderation.Reason(
                "flag", added_by=user, details={"category": reason, "flag": str(flag.pk)}, note=note, weight=weight
            )
            item = moderation.enqueue(locked, kind=KIND, reasons=[reason_row], actor=user, request=request)
            _hide_when_flagged(locked, item, request)
        if reason == PostFlag.Reason.CARE_COMPLAINT:
            transaction.on_commit(
                lambda: signals.content_needs_attention.send(
                    sender=Post, target=locked, cause="care_complaint", author_id=locked.author_id
                ),
                robust=True,
            )
    return flag


def _hide_when_flagged(post: Post, item, request) -> None:
    """Hide ``post`` (held again, out of the thread) once its flags' weights reach the setting."""
    threshold = app_settings.COMMUNITY_FLAG_HIDE_SCORE
    if not threshold:
        return
    score = sum((r.weight for r in item.reasons.all() if r.code == "flag"), Decimal(0))
    if score < Decimal(str(threshold)):
        return
    post.status = Post.Status.HELD
    post.hold_reasons = [*post.hold_reasons, {"code": "flagged"}]
    post.save(update_fields=["status", "hold_reasons"])
    _unpublished(post)
    events.post_hidden(actor=None, post=post, request=request, details={"score": str(score), "item": str(item.pk)})
