"""Following: members hear of new replies in threads they follow, and of new threads in communities they follow.

* :func:`follow_thread` follows or unfollows a thread. The author of a thread
  and everyone whose reply is published follow it without asking (an
  ``ON_PUBLISHED`` hook; following twice is one follow).
* :func:`set_community_notifications`: an active member chooses how they hear
  of new threads in a community: at once, in the daily digest, or not at all
  (``Membership.notifications``).

When a reply is published, every follower of its thread except its author
who may still read the thread is told (``community.reply``); when a thread's
opening post is published, every member who follows the community and may
read it is told (``community.new_thread``; a daily choice waits for the
digest). The notifications say only that something happened and link to the
thread, where the access policy decides again. A post published a second
time (a hidden post a moderator restores) tells nobody twice.

The work is batched: one query finds the people to tell, one reads their
notification preferences, one insert writes the notifications, whatever
their number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from portal_social.community import rules
from portal_social.community.actions._common import (
    ON_PUBLISHED,
    CommunityDenied,
    _signed_in,
)
from portal_social.community.models import Community, Membership, Post, Thread, ThreadFollow
from portal_social.core import access, locking, notify
from portal_social.core.notify.models import Notification

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

REPLY = "community.reply"
NEW_THREAD = "community.new_thread"
#: In clinician spaces the notices name the space (and the daily summary counts them by space).
SPACE_REPLY = "space.reply"
SPACE_NEW_THREAD = "space.new_thread"
#: An announcement in a clinician space: every member is told, whatever they chose for new threads.
ANNOUNCEMENT = "space.announcement"


# --------------------------------------------------------------------------- who may read


def _holders(perm: str):
    """The ids of the users holding ``perm`` through a role (a subquery; see ``access.holds``)."""
    app_label, codename = perm.split(".", 1)
    return (
        get_user_model()
        .objects.filter(groups__permissions__codename=codename, groups__permissions__content_type__app_label=app_label)
        .values("pk")
    )


def readers(community: Community) -> Q:
    """A condition on users selecting the signed-in people who may read ``community``.

    The same answer as ``rules.may_read`` for each active account, in one
    query for any number of people (tests compare the two).
    """
    condition = Q(is_active=True)
    members = Membership.objects.filter(community=community, status=Membership.Status.ACTIVE).values("user_id")
    if community.kind == Community.Kind.SPACE:  # its active members who still hold the role, and nobody else
        return condition & Q(pk__in=members) & Q(pk__in=_holders(rules.USE_SPACES))
    if community.visibility == Community.Visibility.PUBLIC:
        return condition
    moderators = Q(pk__in=_holders(rules.MODERATE))
    if community.visibility == Community.Visibility.MEMBERS:
        return condition & (Q(pk__in=_holders(rules.PARTICIPATE)) | moderators)
    return condition & (Q(pk__in=members) | moderators)


# --------------------------------------------------------------------------- following


def follow_thread(
    *, user: AbstractBaseUser, thread: Thread, follow: bool = True, request: HttpRequest | None = None
) -> bool:
    """Follow (or, with ``follow=False``, stop following) ``thread``; returns whether ``user`` now follows it.

    Preconditions: ``user`` is signed in and can read the published thread —
    else ``CommunityDenied``. Following twice is one follow.
    """
    if not _signed_in(user) or not access.can(user, "follow", thread):
        raise CommunityDenied()
    if not isinstance(follow, bool):
        raise ValidationError({"follow": [_("Choose to follow or to stop following.")]})
    with transaction.atomic():
        if follow:
            ThreadFollow.objects.get_or_create(thread=thread, user=user)
        else:
            ThreadFollow.objects.filter(thread=thread, user=user).delete()
    return follow


def is_following(user, thread: Thread) -> bool:
    if not _signed_in(user):
        return False
    return ThreadFollow.objects.filter(thread=thread, user=user).exists()


def set_community_notifications(
    *, user: AbstractBaseUser, community: Community, choice: str, request: HttpRequest | None = None
) -> Membership:
    """How an active member hears of new threads in ``community``: ``"immediately"``, ``"daily"`` or ``"off"``.

    Preconditions: ``user`` is an active member — else ``CommunityDenied``;
    ``choice`` is one of the three — else ``ValidationError``.
    """
    if not _signed_in(user) or not access.can(user, "view", community):
        raise CommunityDenied()
    if not isinstance(choice, str) or choice not in Membership.Notify.values:
        raise ValidationError({"notifications": [_("Choose how you want to hear of new threads.")]})
    with transaction.atomic():
        membership = locking.locked(
            Membership.objects.filter(community=community, user=user, status=Membership.Status.ACTIVE)
        ).first()
        if membership is None:
            raise CommunityDenied(_("Join this community to follow it."))
        if membership.notifications != choice:
            membership.notifications = choice
            membership.save(update_fields=["notifications"])
    return membership


# --------------------------------------------------------------------------- telling people


def _tell_followers(post: Post, thread: Thread) -> None:
    """A reply is published: every follower of the thread who may read it, but its author, once per reply."""
    in_space = thread.community.kind == Community.Kind.SPACE
    key = SPACE_REPLY if in_space else REPLY
    already = Notification.objects.filter(key=key, params__post=str(post.pk)).values("recipient_id")
    following = ThreadFollow.objects.filter(thread_id=thread.pk, thread__visible=True).values("user_id")
    followers = (
        get_user_model()
        .objects.filter(readers(thread.community), pk__in=following)
        .exclude(pk__in=already)
        .exclude(pk=post.author_id)
    )
    params = {"thread": thread.pk, "post": post.pk, **({"space": thread.community_id} if in_space else {})}
    notify.notify_many(list(followers), key, params=params)


def _tell_community(post: Post, thread: Thread) -> None:
    """A thread opens: members following its community who may read it, but its author, once per thread.
    An announcement reaches every member who may read it, at once unless they chose the daily digest."""
    community = thread.community
    in_space = community.kind == Community.Kind.SPACE
    key = ANNOUNCEMENT if thread.announcement else SPACE_NEW_THREAD if in_space else NEW_THREAD
    already = Notification.objects.filter(key=key, params__thread=str(thread.pk)).values("recipient_id")
    hearing = (
        Q() if thread.announcement else Q(notifications__in=[Membership.Notify.IMMEDIATELY, Membership.Notify.DAILY])
    )
    memberships = (
        Membership.objects.filter(
            hearing,
            community=community,
            status=Membership.Status.ACTIVE,
            user__in=get_user_model().objects.filter(readers(community)).values("pk"),
        )
        .exclude(user_id__in=already)
        .exclude(user_id=post.author_id)
        .select_related("user")
    )
    at_once, daily = [], []
    for membership in memberships:
        (daily if membership.notifications == Membership.Notify.DAILY else at_once).append(membership.user)
    params = {"thread": thread.pk, **({"space": community.pk} if in_space else {})}
    notify.notify_many(at_once, key, params=params)
    notify.notify_many(daily, key, params=params, digest=True)


def _on_published(post: Post) -> None:
    """``ON_PUBLISHED``: tell those who follow, then the author follows the thread (idempotent)."""
    thread = post.thread
    if post.is_opening:
        _tell_community(post, thread)
    else:
        _tell_followers(post, thread)
    if post.author_id is not None:
        ThreadFollow.objects.get_or_create(thread_id=thread.pk, user_id=post.author_id)


if _on_published not in ON_PUBLISHED:
    ON_PUBLISHED.append(_on_published)
