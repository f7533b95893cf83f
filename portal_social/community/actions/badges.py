"""Earned badges: what a member's part in the communities earns them, shown on their member card.

The badges come from ``PORTAL_SOCIAL_COMMUNITY_BADGES`` (:func:`configured`):
each has a key, a label and a rule the code knows (:data:`RULES`). The rules
read counters the actions already keep, never a count of a large table on a
page:

* ``posts``: the member's published posts (``CommunityProfile.post_count``)
  reach ``count``. Looked at when one of their posts is published (the
  ``ON_PUBLISHED`` hook, after ``trust.count_posts`` updated the counter).
* ``answers``: ``count`` of the member's replies were chosen as a thread's
  answer by someone else (the thread's author or a moderator). Looked at
  when :func:`~portal_social.community.actions.tools.solve` chooses one. A
  member who chooses their own reply earns nothing by it.
* ``days_member``: ``days`` have passed since the member chose a community
  name. Looked at when one of their posts is published, and every day by
  ``manage.py portal_social_community_trust`` (:func:`award_all`).
* ``reactions_received``: ``count`` reactions of ``kind`` on the member's
  published posts. Looked at when someone gives that reaction, until the
  badge is earned (then never again).

An award is one :class:`MemberBadge` row, unique per member and badge, so
giving it twice changes nothing. It is never taken back: a post taken down,
an answer cleared, a reaction withdrawn or a changed setting leave the badge
in place (a key no longer in the setting is simply not shown). Each award is
one audit event (``community.badge_awarded``: the member's id, the badge key
and the post's id) and one notification with generic words
(``community.badge``: never which badge, the post or the community).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core import checks
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from portal_social.community import events

# ``trust.count_posts`` is registered with ON_PUBLISHED by ``people``: importing it here puts that hook
# before this module's, so a post's own publication is already in the author's ``post_count`` here.
from portal_social.community.actions import people as _people  # noqa: F401
from portal_social.community.actions._common import ON_PUBLISHED
from portal_social.community.models import Community, CommunityProfile, MemberBadge, Post, Reaction, Thread
from portal_social.conf import app_settings
from portal_social.core import notify

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

POSTS, ANSWERS, DAYS_MEMBER, REACTIONS_RECEIVED = "posts", "answers", "days_member", "reactions_received"
#: The rules the code knows, and the keys each takes beside ``key``, ``label`` and ``earned_by``.
RULES: dict[str, frozenset[str]] = {
    POSTS: frozenset({"count"}),
    ANSWERS: frozenset({"count"}),
    DAYS_MEMBER: frozenset({"days"}),
    REACTIONS_RECEIVED: frozenset({"count", "kind"}),
}
#: A badge's key, as stored on each :class:`MemberBadge` row (``MemberBadge.badge`` holds 40 characters).
KEY_PATTERN = re.compile(r"[a-z0-9_]{1,40}")
#: A reaction's key (as ``actions.reactions.KIND_PATTERN``).
KIND_PATTERN = re.compile(r"[a-z_]{1,20}")
MAX_THRESHOLD = 100_000
#: The notification a member gets for each badge (``community/notifications.py``).
NOTIFICATION = "community.badge"


@dataclass(frozen=True)
class Badge:
    """One well-formed entry of the setting."""

    key: str
    label: Any
    earned_by: str
    #: ``count`` (posts, answers, reactions) or ``days`` (days_member).
    threshold: int
    #: The reaction kind counted (``reactions_received`` only).
    kind: str = ""


def _parse(entry: Any) -> tuple[Badge | None, str | None]:
    """One entry of the setting: the badge, or why it is malformed."""
    if not isinstance(entry, Mapping):
        return None, f"{entry!r} is not a dict with key, label and earned_by"
    key = entry.get("key")
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        return None, f"the key {key!r} must be 1 to 40 of a-z, 0-9 and _"
    label = entry.get("label")
    if label is None or not str(label).strip():
        return None, f"the badge {key!r} has no label"
    rule = entry.get("earned_by")
    if not isinstance(rule, str) or rule not in RULES:
        return None, f"the badge {key!r} has earned_by {rule!r}, not one of {', '.join(sorted(RULES))}"
    unknown = set(entry) - {"key", "label", "earned_by"} - RULES[rule]
    if unknown:
        return None, f"the badge {key!r} does not take {', '.join(sorted(map(str, unknown)))}"
    name = "days" if rule == DAYS_MEMBER else "count"
    number = entry.get(name, None if rule == DAYS_MEMBER else 1)
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= MAX_THRESHOLD:
        return None, f"the badge {key!r} needs {name} as a whole number from 1 to {MAX_THRESHOLD}"
    kind = ""
    if rule == REACTIONS_RECEIVED:
        kind = entry.get("kind")
        if not isinstance(kind, str) or not KIND_PATTERN.fullmatch(kind):
            return None, f"the badge {key!r} needs the kind of reaction it counts (a reaction's key)"
    return Badge(key, label, rule, number, kind), None


def _read() -> tuple[list[Badge], list[str]]:
    try:
        entries = list(app_settings.COMMUNITY_BADGES)
    except (TypeError, ValueError):
        return [], ["it must be a list of dicts"]
    found, problems, seen = [], [], set()
    for entry in entries:
        badge, problem = _parse(entry)
        if problem:
            problems.append(problem)
        elif badge.key in seen:
            problems.append(f"the key {badge.key!r} appears twice")
        else:
            seen.add(badge.key)
            found.append(badge)
    return found, problems


def configured() -> list[Badge]:
    """The badges members may earn, in the order cards show them. Malformed entries are left out (the
    system check names them), so a bad setting never breaks a page or a post."""
    return _read()[0]


@checks.register()
def check_badges_setting(app_configs=None, **kwargs):
    """E162: a malformed ``PORTAL_SOCIAL_COMMUNITY_BADGES``; W162: a badge counts a reaction nobody can give."""
    found, problems = _read()
    errors: list[checks.CheckMessage] = []
    if problems:
        errors.append(
            checks.Error(
                "PORTAL_SOCIAL_COMMUNITY_BADGES is malformed: " + "; ".join(problems) + ".",
                hint='Use a list of dicts such as {"key": "first_post", "label": _("First post"), '
                '"earned_by": "posts", "count": 1}; earned_by is one of ' + ", ".join(sorted(RULES)) + ".",
                id="portal_social.E162",
            )
        )
    from portal_social.community.actions.reactions import kinds

    offered = {key for key, _label in kinds()}
    for badge in found:
        if badge.earned_by == REACTIONS_RECEIVED and badge.kind not in offered:
            errors.append(
                checks.Warning(
                    f"The community badge {badge.key!r} counts {badge.kind!r} reactions, which "
                    "PORTAL_SOCIAL_COMMUNITY_REACTIONS does not offer: nobody can earn it.",
                    hint="Name a reaction the portal offers, or remove the badge.",
                    id="portal_social.W162",
                )
            )
    return errors


# --------------------------------------------------------------------------- awarding


class _Facts:
    """What the rules read about one member, each read once and only when a rule asks."""

    def __init__(self, user, now: datetime.datetime):
        self.user, self.now = user, now
        self._profile: Any = ...
        self._answers: int | None = None
        self._reactions: dict[str, int] = {}

    @property
    def profile(self) -> dict | None:
        if self._profile is ...:
            self._profile = CommunityProfile.objects.filter(user=self.user).values("post_count", "created_at").first()
        return self._profile

    def answers(self) -> int:
        if self._answers is None:
            self._answers = Thread.objects.filter(solved_post__author=self.user).exclude(solved_by=self.user).count()
        return self._answers

    def reactions(self, kind: str) -> int:
        if kind not in self._reactions:
            self._reactions[kind] = Reaction.objects.filter(
                post__author=self.user, post__status=Post.Status.PUBLISHED, kind=kind
            ).count()
        return self._reactions[kind]

    def earned(self, badge: Badge) -> bool:
        if badge.earned_by == POSTS:
            return self.profile is not None and self.profile["post_count"] >= badge.threshold
        if badge.earned_by == DAYS_MEMBER:
            return self.profile is not None and (self.now - self.profile["created_at"]).days >= badge.threshold
        if badge.earned_by == ANSWERS:
            return self.answers() >= badge.threshold
        if badge.earned_by == REACTIONS_RECEIVED:
            return self.reactions(badge.kind) >= badge.threshold
        return False


def _award(user, badge: Badge, *, post: Post | None = None, request: HttpRequest | None = None) -> bool:
    """Give ``user`` ``badge`` unless they hold it: the row, its audit event and the notification."""
    post = post if badge.earned_by != DAYS_MEMBER else None
    with transaction.atomic():
        row, created = MemberBadge.objects.get_or_create(user=user, badge=badge.key, defaults={"post": post})
        if not created:
            return False
        # Ids and the badge's key only: never the label (settings may change it) or anything written.
        events.member_event(
            events.BADGE_AWARDED,
            actor=None,
            member_id=user.pk,
            target=row,
            request=request,
            details={"badge": badge.key, "post": str(post.pk) if post is not None else None},
        )
        notify.notify(user, NOTIFICATION)
    return True


def award_badges(
    user: AbstractBaseUser,
    *,
    post: Post | None = None,
    rules: Iterable[str] | None = None,
    kind: str | None = None,
    request: HttpRequest | None = None,
) -> list[str]:
    """Give ``user`` every configured badge they have earned and do not hold; returns the keys given.

    ``rules`` limits the look to badges of those rules (default: all), and
    ``kind`` the ``reactions_received`` badges to that reaction. ``post``
    is the post that earned it, kept with the award (not for time badges).
    One query for the badges held, then only what a missing badge's rule
    needs (the profile's counters; a count for answers or reactions). Safe
    to call again: a badge held is never given twice, nor taken back.
    """
    if user is None or getattr(user, "pk", None) is None:
        return []
    wanted = [
        badge
        for badge in configured()
        if (rules is None or badge.earned_by in rules)
        and (kind is None or badge.earned_by != REACTIONS_RECEIVED or badge.kind == kind)
    ]
    if not wanted:
        return []
    held = set(MemberBadge.objects.filter(user=user, badge__in=[b.key for b in wanted]).values_list("badge", flat=True))
    facts = _Facts(user, timezone.now())
    return [
        badge.key
        for badge in wanted
        if badge.key not in held and facts.earned(badge) and _award(user, badge, post=post, request=request)
    ]


def _of_rule(rule: str, kind: str | None = None) -> bool:
    return any(b.earned_by == rule and (kind is None or b.kind == kind) for b in configured())


def _in_space(post: Post) -> bool:
    """Posts in clinician spaces earn nothing a patient community shows (no query when the post came
    with its thread and community, one otherwise)."""
    thread = post._state.fields_cache.get("thread")
    if thread is not None and "community" in thread._state.fields_cache:
        return thread.community.kind == Community.Kind.SPACE
    return Thread.objects.filter(pk=post.thread_id, community__kind=Community.Kind.SPACE).exists()


def _on_published(post: Post) -> None:
    """``ON_PUBLISHED``: post-count and membership badges of the post's author (idempotent)."""
    if post.author_id is None or not (_of_rule(POSTS) or _of_rule(DAYS_MEMBER)) or _in_space(post):
        return
    award_badges(post.author, post=post, rules={POSTS, DAYS_MEMBER})


def answer_chosen(post: Post, *, chosen_by, request: HttpRequest | None = None) -> list[str]:
    """``solve`` chose ``post`` as its thread's answer: answer badges of its author, unless they chose it."""
    if post.author_id is None or post.author_id == getattr(chosen_by, "pk", None) or not _of_rule(ANSWERS):
        return []
    if _in_space(post):
        return []
    return award_badges(post.author, post=post, rules={ANSWERS}, request=request)


def reaction_given(post: Post, kind: str, *, request: HttpRequest | None = None) -> list[str]:
    """``react`` gave ``post`` a ``kind`` reaction: reaction badges of its author for that kind."""
    if post.author_id is None or not _of_rule(REACTIONS_RECEIVED, kind) or _in_space(post):
        return []
    return award_badges(post.author, post=post, rules={REACTIONS_RECEIVED}, kind=kind, request=request)


def award_all(*, batch: int = 500) -> int:
    """The daily catch-up (``portal_social_community_trust``): membership badges whose day came, and
    post-count badges (after a setting added or lowered one), for every active member who has not got
    them. Reads the profiles' counters only; one pass per badge. Returns how many were given."""
    now = timezone.now()
    given = 0
    for badge in configured():
        if badge.earned_by == DAYS_MEMBER:
            due = {"created_at__lte": now - datetime.timedelta(days=badge.threshold)}
        elif badge.earned_by == POSTS:
            due = {"post_count__gte": badge.threshold}
        else:
            continue
        held = MemberBadge.objects.filter(user=OuterRef("user"), badge=badge.key)
        profiles = (
            CommunityProfile.objects.filter(user__is_active=True, **due)
            .exclude(Exists(held))
            .select_related("user")
            .order_by("pk")
        )
        for profile in profiles.iterator(chunk_size=batch):
            given += _award(profile.user, badge)
    return given


# --------------------------------------------------------------------------- the member card


def labels_for(user_ids: Iterable[int]) -> dict[int, list[Any]]:
    """The labels of the badges each of ``user_ids`` holds, in the setting's order: one query whatever
    their number (none when there is nobody or no badge). Keys no longer in the setting are left out."""
    ids = {user_id for user_id in user_ids if user_id is not None}
    if not ids or not configured():
        return {}
    return labels_of(held_by(ids).values_list("user_id", "badge"))


def held_by(user_ids) -> QuerySet:
    """The badges of ``user_ids`` that the setting still names (a query for :func:`labels_of`)."""
    return MemberBadge.objects.filter(user_id__in=user_ids, badge__in=[badge.key for badge in configured()])


def labels_of(held: Iterable[tuple[int, str]]) -> dict[int, list[Any]]:
    """``(user id, badge key)`` pairs as each user's badge labels, in the setting's order."""
    badges = configured()
    order = {badge.key: index for index, badge in enumerate(badges)}
    labels = {badge.key: badge.label for badge in badges}
    keys_of: dict[int, list[str]] = {}
    for user_id, key in held:
        if key in order:
            keys_of.setdefault(user_id, []).append(key)
    return {user_id: [labels[key] for key in sorted(keys, key=order.__getitem__)] for user_id, keys in keys_of.items()}


if _on_published not in ON_PUBLISHED:
    ON_PUBLISHED.append(_on_published)
