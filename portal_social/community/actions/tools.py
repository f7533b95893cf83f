"""Thread tools: the chosen answer (a solved thread), pinning, locking and slow mode.

* :func:`solve`: the thread's author or a moderator chooses one published
  reply as the answer, or clears it. A chosen reply that is taken down
  (flags, a moderator, deletion) leaves the thread unsolved again.
* :func:`set_pinned`, :func:`set_locked`: moderators. A locked thread takes no
  replies (``rules._may_reply``); a pinned one is listed first.
* :func:`set_slow_mode`: moderators allow one post every N seconds per member,
  in a thread or in a whole community, with a reason kept (encrypted) for the
  record. :func:`slow_mode_refusal` is registered with ``POSTING_CHECKS``:
  the stricter of the thread's and the community's slow mode applies;
  moderators are exempt.

Each change is one audit event (``community.solve``, ``community.pin``,
``community.lock``, ``community.slow_mode``) holding ids, on/off and numbers,
never the reason's words. Asking for the state a thread is already in
changes nothing and records nothing.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from portal_social.community import events, rules
from portal_social.community.actions import badges
from portal_social.community.actions._common import (
    ON_UNPUBLISHED,
    POSTING_CHECKS,
    REASON_MAX_LENGTH,
    CommunityDenied,
    _signed_in,
)
from portal_social.community.models import Community, Post, Thread
from portal_social.core import access, locking, text
from portal_social.core.errors import refusal

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

#: The slow-mode durations a moderator may choose, in seconds (0: off).
SLOW_MODE_CHOICES: tuple[tuple[int, str], ...] = (
    (0, gettext_lazy("Off")),
    (30, gettext_lazy("30 seconds")),
    (60, gettext_lazy("1 minute")),
    (300, gettext_lazy("5 minutes")),
    (900, gettext_lazy("15 minutes")),
    (3600, gettext_lazy("1 hour")),
)
SLOW_MODE_SECONDS = frozenset(seconds for seconds, _label in SLOW_MODE_CHOICES)
SCOPE_THREAD, SCOPE_COMMUNITY = "thread", "community"


def _require(user, action: str, obj, message: str) -> None:
    if not _signed_in(user) or not access.can(user, action, obj):
        raise CommunityDenied(message)


# --------------------------------------------------------------------------- solved


def solve(*, user: AbstractBaseUser, thread: Thread, post: Post | None, request: HttpRequest | None = None) -> Thread:
    """Choose ``post`` as the answer to ``thread`` (``None``: clear the answer); returns the thread.

    Preconditions: ``user`` is the thread's author or a moderator and can
    see the thread — else ``CommunityDenied``; ``post`` is a published reply
    of this thread, not its opening post — else ``ValidationError``.
    """
    _require(user, "solve", thread, _("Only the thread's author or a moderator can choose the answer."))
    if post is not None and post.thread_id != thread.pk:
        raise refusal(_("Choose a reply from this thread."), "other_thread")
    with transaction.atomic():
        # The order the post actions lock in: the post, then its thread.
        chosen = locking.locked(Post.objects.filter(pk=post.pk)).first() if post is not None else None
        locked = locking.locked(Thread.objects.filter(pk=thread.pk)).get()
        if post is not None:
            if chosen is None or chosen.status != Post.Status.PUBLISHED:
                raise refusal(_("This reply is not published, so it cannot be the answer."), "not_published")
            if chosen.is_opening:
                raise refusal(_("The opening post cannot be the answer: choose a reply."), "opening")
        wanted = chosen.pk if chosen is not None else None
        if locked.solved_post_id == wanted:
            _copy_solved(thread, locked)
            return thread
        locked.solved_post_id = wanted
        locked.solved_by = user if wanted is not None else None
        locked.solved_at = timezone.now() if wanted is not None else None
        locked.save(update_fields=["solved_post", "solved_by", "solved_at"])
        events.thread_tool(
            events.SOLVED,
            actor=user,
            target=locked,
            request=request,
            details={"post": str(wanted) if wanted is not None else None, "solved": wanted is not None},
        )
        if chosen is not None:  # a badge for helpful answers (kept if the answer is cleared later)
            badges.answer_chosen(chosen, chosen_by=user, request=request)
    _copy_solved(thread, locked)
    return thread


def _copy_solved(target: Thread, source: Thread) -> None:
    for name in ("solved_post_id", "solved_by_id", "solved_at"):
        setattr(target, name, getattr(source, name))


def _chosen_reply_taken_down(post: Post) -> None:
    """``ON_UNPUBLISHED``: a chosen answer that is taken down leaves its thread unsolved (idempotent)."""
    if post.is_opening:
        return
    Thread.objects.filter(pk=post.thread_id, solved_post=post).update(solved_post=None, solved_by=None, solved_at=None)


# --------------------------------------------------------------------------- pin and lock


def _set_flag(moderator, thread: Thread, field: str, on: bool, event_type, request) -> Thread:
    _require(moderator, "moderate", thread, _("Only community moderators can do that."))
    if not isinstance(on, bool):
        raise ValidationError({field: [_("Choose on or off.")]})
    with transaction.atomic():
        locked = locking.locked(Thread.objects.filter(pk=thread.pk)).get()
        if getattr(locked, field) != on:
            setattr(locked, field, on)
            locked.save(update_fields=[field])
            events.thread_tool(event_type, actor=moderator, target=locked, request=request, details={"on": on})
    setattr(thread, field, on)
    return thread


def set_pinned(*, moderator: AbstractBaseUser, thread: Thread, pinned: bool, request: HttpRequest | None = None):
    """Pin ``thread`` (listed first in its community) or unpin it. Moderators only."""
    return _set_flag(moderator, thread, "pinned", pinned, events.PINNED, request)


def set_locked(*, moderator: AbstractBaseUser, thread: Thread, locked: bool, request: HttpRequest | None = None):
    """Lock ``thread`` (no new replies; what is there stays readable) or unlock it. Moderators only."""
    return _set_flag(moderator, thread, "locked", locked, events.LOCKED, request)


# --------------------------------------------------------------------------- slow mode


def clean_seconds(value) -> int:
    """``value`` (an int or its digits) as one of :data:`SLOW_MODE_SECONDS`; else ``ValidationError``."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 6:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value not in SLOW_MODE_SECONDS:
        raise ValidationError({"seconds": [_("Choose one of the slow mode durations offered.")]})
    return value


def set_slow_mode(
    *,
    moderator: AbstractBaseUser,
    target: Thread | Community,
    seconds: int | str,
    reason: str = "",
    request: HttpRequest | None = None,
) -> Thread | Community:
    """Allow each member one post every ``seconds`` in a thread or a community (0: off). Moderators only.

    ``reason`` (1..300 characters of plain text) is required to turn slow
    mode on; it is kept, encrypted, with who set it, for the record and the
    other moderators. Members see the pace, never the reason.
    """
    model = type(target)
    if model not in (Thread, Community):
        raise TypeError("slow mode is set on a thread or a community")
    _require(moderator, "moderate", target, _("Only community moderators can do that."))
    seconds = clean_seconds(seconds)
    reason = text.clean_plain(
        reason if reason is not None else "",
        field="reason",
        required=bool(seconds),
        max_length=REASON_MAX_LENGTH,
        empty_message=_("Say why slow mode is needed (other moderators read it; members do not)."),
    )
    if not seconds:
        reason = ""
    with transaction.atomic():
        locked = locking.locked(model.objects.filter(pk=target.pk)).get()
        if locked.slow_mode_seconds == seconds and locked.slow_mode_reason == reason:
            _copy_slow_mode(target, locked)
            return target
        was = locked.slow_mode_seconds
        locked.slow_mode_seconds = seconds
        locked.slow_mode_set_by = moderator
        locked.slow_mode_reason = reason
        locked.save(update_fields=["slow_mode_seconds", "slow_mode_set_by", "slow_mode_reason"])
        events.thread_tool(
            events.SLOW_MODE,
            actor=moderator,
            target=locked,
            request=request,
            details={
                "scope": SCOPE_THREAD if model is Thread else SCOPE_COMMUNITY,
                "seconds": seconds,
                "was": was,
            },
        )
    _copy_slow_mode(target, locked)
    return target


def _copy_slow_mode(target, source) -> None:
    for name in ("slow_mode_seconds", "slow_mode_set_by_id", "slow_mode_reason"):
        setattr(target, name, getattr(source, name))


def effective_slow_mode(community: Community, thread: Thread | None = None) -> int:
    """The seconds between posts that apply in ``thread`` (or to a new thread of ``community``): the stricter."""
    return max(community.slow_mode_seconds or 0, (thread.slow_mode_seconds or 0) if thread is not None else 0)


def _wait(seconds: int, last, now) -> float:
    if not seconds or last is None:
        return 0.0
    return seconds - (now - last).total_seconds()


def slow_mode_refusal(author, community: Community, thread: Thread | None = None) -> str | None:
    """``POSTING_CHECKS``: why ``author`` must wait before posting again, or None.

    The thread's slow mode counts the author's last post in the thread; the
    community's counts their last post anywhere in the community; the longer
    wait applies. The community's moderators are exempt.
    """
    thread_seconds = (thread.slow_mode_seconds or 0) if thread is not None else 0
    community_seconds = community.slow_mode_seconds or 0
    if not (thread_seconds or community_seconds) or not _signed_in(author) or rules.moderates(author, community):
        return None
    now = timezone.now()
    wait = 0.0
    if thread_seconds:
        last = Post.objects.filter(thread=thread, author=author).aggregate(last=Max("created_at"))["last"]
        wait = max(wait, _wait(thread_seconds, last, now))
    if community_seconds:
        last = Post.objects.filter(thread__community=community, author=author).aggregate(last=Max("created_at"))["last"]
        wait = max(wait, _wait(community_seconds, last, now))
    if wait <= 0:
        return None
    minutes = max(1, math.ceil(wait / 60))
    if thread is not None:
        message = ngettext(
            "Slow mode is on in this thread: you can post again in about %(minutes)d minute.",
            "Slow mode is on in this thread: you can post again in about %(minutes)d minutes.",
            minutes,
        )
    else:
        message = ngettext(
            "Slow mode is on in this community: you can post again in about %(minutes)d minute.",
            "Slow mode is on in this community: you can post again in about %(minutes)d minutes.",
            minutes,
        )
    return message % {"minutes": minutes}


def describe_pace(seconds: int) -> str:
    """What readers are told: "Slow mode: one post every 5 minutes"."""
    if seconds < 60:
        return ngettext(
            "Slow mode: one post every %(count)d second", "Slow mode: one post every %(count)d seconds", seconds
        ) % {"count": seconds}
    minutes = math.ceil(seconds / 60)
    return ngettext("Slow mode: one post every minute", "Slow mode: one post every %(count)d minutes", minutes) % {
        "count": minutes
    }


slow_mode_refusal.only_new_posts = True  # edits and reactions add no post
if slow_mode_refusal not in POSTING_CHECKS:
    POSTING_CHECKS.append(slow_mode_refusal)
if _chosen_reply_taken_down not in ON_UNPUBLISHED:
    ON_UNPUBLISHED.append(_chosen_reply_taken_down)
