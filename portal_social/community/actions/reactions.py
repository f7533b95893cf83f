"""Reactions: a member says "Helpful", "Sending a hug" or "Like" to someone else's published post.

The kinds come from ``PORTAL_SOCIAL_COMMUNITY_REACTIONS`` (:func:`kinds`).
:func:`react` sets one reaction explicitly on or off, so sending the same
form twice changes nothing the second time (it is not a toggle). Only
active members who take part in the community react (``access`` rule
``Post.react``), never on their own post, and the checks that stop someone
posting (a penalty, slow mode) stop them reacting too.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.core import checks
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from portal_social.community import events
from portal_social.community.models import Post, Reaction
from portal_social.conf import app_settings
from portal_social.core import access, ratelimit

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

from portal_social.community.actions import badges
from portal_social.community.actions._common import CommunityDenied, _signed_in, posting_refusal

#: A reaction's key, as stored on each :class:`Reaction` row (``Reaction.kind`` holds 20 characters).
KIND_PATTERN = re.compile(r"[a-z_]{1,20}")
#: The rate limit of ``ratelimit.check`` (``PORTAL_SOCIAL_RATE_LIMITS["community_react"]``).
RATE_LIMIT = "community_react"


def _problems() -> list[str]:
    """What is wrong with ``PORTAL_SOCIAL_COMMUNITY_REACTIONS`` (empty when it is well formed)."""
    try:
        pairs = app_settings.COMMUNITY_REACTIONS
    except (TypeError, ValueError):
        return ["it must be a dict of key to label, or a list of (key, label) pairs"]
    if not pairs:
        return ["it names no reaction"]
    problems, seen = [], set()
    for pair in pairs:
        if len(pair) != 2:
            problems.append(f"{pair!r} is not a (key, label) pair")
            continue
        key, label = pair
        if not isinstance(key, str) or not KIND_PATTERN.fullmatch(key):
            problems.append(f"the key {key!r} must be 1 to 20 of a-z and _")
        elif key in seen:
            problems.append(f"the key {key!r} appears twice")
        seen.add(key)
        if not str(label).strip():
            problems.append(f"the key {key!r} has no label")
    return problems


@checks.register()
def check_reactions_setting(app_configs=None, **kwargs):
    problems = _problems()
    if not problems:
        return []
    return [
        checks.Error(
            "PORTAL_SOCIAL_COMMUNITY_REACTIONS is malformed: " + "; ".join(problems) + ".",
            hint='Use a dict such as {"helpful": _("Helpful"), "hug": _("Sending a hug")}.',
            id="portal_social.E161",
        )
    ]


def kinds() -> list[tuple[str, str]]:
    """The reactions members may give, in order, as ``(key, label)``; malformed entries are left out
    (the system check names them), so a bad setting never breaks a page."""
    try:
        pairs = app_settings.COMMUNITY_REACTIONS
    except (TypeError, ValueError):
        return []
    found, seen = [], set()
    for pair in pairs:
        if len(pair) != 2:
            continue
        key, label = pair
        if isinstance(key, str) and KIND_PATTERN.fullmatch(key) and key not in seen and str(label).strip():
            seen.add(key)
            found.append((key, label))
    return found


def react(
    *,
    user: AbstractBaseUser,
    post: Post,
    kind: str,
    on: bool,
    request: HttpRequest | None = None,
) -> bool:
    """Set ``user``'s ``kind`` reaction to ``post`` on (``on=True``) or off; returns whether anything changed.

    Preconditions: ``user`` can see the post — else ``CommunityDenied``; the
    post is published — else ``CommunityDenied`` ("This post is not
    published"); ``user`` is an active member who takes part, and not the
    post's author — else ``CommunityDenied``; no posting check refuses them
    (a penalty, slow mode) — else ``CommunityDenied`` with its sentence;
    ``kind`` is one of :func:`kinds` — else ``ValidationError`` on ``kind``;
    within the ``community_react`` rate limit — else ``RateLimited``.
    The same call twice changes nothing the second time (and writes no audit event).
    """
    if not _signed_in(user) or not access.can(user, "view", post):
        raise CommunityDenied()
    if post.status != Post.Status.PUBLISHED:
        raise CommunityDenied(_("This post is not published: it takes no reactions."), code="not_published")
    if not access.can(user, "react", post):
        if post.author_id == user.pk:
            raise CommunityDenied(_("You cannot react to your own post."), code="own")
        raise CommunityDenied(_("Only members of this community can react to its posts."))
    thread = post.thread
    posting_refusal(user, thread.community, thread, adds_post=False)
    if not isinstance(kind, str) or kind not in dict(kinds()):
        raise ValidationError({"kind": [ValidationError(_("Choose one of the reactions offered."), code="invalid")]})
    if not isinstance(on, bool):
        raise ValidationError({"on": [ValidationError(_("Choose to add or take back the reaction."), code="invalid")]})
    ratelimit.check(RATE_LIMIT, request=request, user=user)
    with transaction.atomic():
        if on:
            if Reaction.objects.filter(post=post, user=user, kind=kind).exists():
                return False
            try:
                with transaction.atomic():
                    Reaction.objects.create(post=post, user=user, kind=kind)
            except IntegrityError:  # a twin of this request won the race: the reaction is there
                return False
        elif not Reaction.objects.filter(post=post, user=user, kind=kind).delete()[0]:
            return False
        # Ids and the kind only; no patient: nothing anyone wrote is read or kept.
        events.REACTED.record(
            actor=user, target=post, request=request, details={"thread": str(post.thread_id), "kind": kind, "on": on}
        )
        if on:  # a badge for reactions received (kept if the reaction is taken back)
            badges.reaction_given(post, kind, request=request)
    return True
