"""What every community action shares: the refusal, the queue kind and stream, locks and counters."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _lazy

from portal_social.community.models import (
    Post,
    Thread,
)
from portal_social.core import (
    locking,
    moderation,
    realtime,
)
from portal_social.core.errors import Denied

if TYPE_CHECKING:
    pass

from portal_social.community import moderation as _queue_kind
from portal_social.community import notifications  # noqa: F401  (registers the notifications)
from portal_social.community import rules as _rules  # noqa: F401  (registers the access rules)

KIND = _queue_kind.KIND
#: Readers of a thread follow its stream: a new published post is announced by id.
THREAD_STREAM = "community.thread"
realtime.register_stream(THREAD_STREAM, Thread, action="view")
REASON_MAX_LENGTH = 300


class CommunityDenied(Denied):
    default_message = _lazy("You cannot do that in this community.")
    code = "community_denied"


def _signed_in(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


#: Called with a post inside the transaction that first publishes it (as written, or
#: after a moderator approved it), once the thread's counters are updated. Each
#: hook defers what leaves the database (notifications) with ``transaction.on_commit``.
ON_PUBLISHED: list[Callable[[Post], None]] = []
#: Called with a published post inside the transaction that takes it down (flags, a
#: moderator, deletion).
ON_UNPUBLISHED: list[Callable[[Post], None]] = []
#: Checks before anyone posts (or edits, or reacts): ``check(author, community, thread_or_None)``
#: returns a sentence saying why not (slow mode, a penalty), or None. A check marked
#: ``only_new_posts = True`` (slow mode) applies only to what adds a post.
POSTING_CHECKS: list[Callable[..., str | None]] = []


def posting_refusal(author, community, thread=None, *, adds_post: bool = True) -> None:
    """Raise ``CommunityDenied`` with the first :data:`POSTING_CHECKS` sentence that applies.

    ``adds_post=False`` (an edit, a reaction) skips checks marked ``only_new_posts``.
    """
    for check in POSTING_CHECKS:
        if not adds_post and getattr(check, "only_new_posts", False):
            continue
        message = check(author, community, thread)
        if message:
            raise CommunityDenied(message)


def _published(post: Post) -> None:
    """A post became visible: the thread's counters and, after commit, a live update to its readers."""
    thread = post.thread
    now = timezone.now()
    if post.is_opening:
        Thread.objects.filter(pk=thread.pk).update(visible=True, last_post_at=now)
        thread.visible = True
    else:
        Thread.objects.filter(pk=thread.pk).update(reply_count=F("reply_count") + 1, last_post_at=now)
    for hook in ON_PUBLISHED:
        hook(post)
    realtime.publish_to_stream(THREAD_STREAM, thread, {"kind": "post", "post": str(post.pk)})


def _unpublished(post: Post) -> None:
    """A published post was taken down (flags, or a moderator): the thread's counters, and a live update."""
    thread = post.thread
    if post.is_opening:
        Thread.objects.filter(pk=thread.pk).update(visible=False)
    else:
        Thread.objects.filter(pk=thread.pk, reply_count__gt=0).update(reply_count=F("reply_count") - 1)
    for hook in ON_UNPUBLISHED:
        hook(post)
    realtime.publish_to_stream(THREAD_STREAM, thread, {"kind": "hidden", "post": str(post.pk)})


def _locked_post(post: Post) -> Post:
    """``post`` re-read and locked, after its pending queue item (the queue's lock order: the item, then the
    content); the item, or None, is kept on the result as ``pending_item``."""
    item = moderation.lock_pending(post)
    locked = locking.locked(Post.objects.select_related("thread", "thread__community", "author")).get(pk=post.pk)
    locked.pending_item = item
    return locked
