"""Trust levels and the activity counters they rest on.

A member's :class:`~portal_social.community.models.CommunityProfile` keeps
four counters: published posts (``post_count``), posts read (``posts_read``),
days on which they read a community (``days_visited``, ``last_visited_on``).
They are kept by the actions and the thread page, never counted from rows on
a page that shows them:

* :func:`count_posts` runs when a post is published or taken down (the
  ``ON_PUBLISHED`` / ``ON_UNPUBLISHED`` hooks): the author's count is set to
  the number of their published posts, in one statement that writes nothing
  when the number is right, so a post hidden and restored counts once.
* :func:`record_read` runs when a member opens a thread page: two
  statements, always the same two, that write nothing when the member saw
  nothing new on a day already counted.

Both statements return the member's counters when they changed something,
and :func:`promote` compares them with ``PORTAL_SOCIAL_COMMUNITY_TRUST_LEVELS``
in Python: no query unless a threshold is crossed. Automatic changes only
ever raise a level; :func:`recompute` (the ``portal_social_community_trust``
command) also lowers it, for a member whose level 3 lapsed after a penalty.
A level a moderator set is locked and left alone.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from portal_social.community import events
from portal_social.community.models import Community, CommunityProfile, Penalty, Post, Thread, ThreadRead
from portal_social.conf import app_settings

logger = logging.getLogger("portal_social.community")

LEVELS = (0, 1, 2, 3)
_RETURNING = "id, user_id, trust_level, trust_level_locked, post_count, posts_read, days_visited, created_at"


@dataclass
class Counters:
    """A member's counters and level, as the trust rules read them."""

    profile_id: int
    user_id: int
    trust_level: int
    trust_level_locked: bool
    post_count: int
    posts_read: int
    days_visited: int
    created_at: datetime.datetime

    @classmethod
    def from_row(cls, row) -> Counters:
        created = row[7]
        if isinstance(created, str):  # SQLite answers RETURNING with text
            created = parse_datetime(created) or parse_date(created)
        if isinstance(created, datetime.datetime) and timezone.is_naive(created):
            created = timezone.make_aware(created, datetime.UTC)
        return cls(int(row[0]), int(row[1]), int(row[2]), bool(row[3]), int(row[4]), int(row[5]), int(row[6]), created)

    @classmethod
    def of(cls, profile: CommunityProfile) -> Counters:
        return cls(
            profile.pk,
            profile.user_id,
            profile.trust_level,
            profile.trust_level_locked,
            profile.post_count,
            profile.posts_read,
            profile.days_visited,
            profile.created_at,
        )


def _clean_since(user_id: int, days: int, now: datetime.datetime) -> bool:
    """No silence or suspension started in the last ``days`` days (one query)."""
    return not Penalty.objects.filter(user_id=user_id, starts_at__gt=now - datetime.timedelta(days=days)).exists()


def earned_level(counters: Counters, *, now: datetime.datetime | None = None, penalized: set[int] | None = None) -> int:
    """The highest level whose every minimum ``counters`` meet. Asks about penalties only when a level
    with ``clean_days`` is otherwise earned (``penalized``: the ids of members with a penalty in that time,
    when the caller already knows them)."""
    now = now or timezone.now()
    days = (now - counters.created_at).days if counters.created_at else 0
    earned = 0
    for level, needs in sorted(app_settings.COMMUNITY_TRUST_LEVELS.items()):
        if (
            days < needs.get("days", 0)
            or counters.posts_read < needs.get("posts_read", 0)
            or counters.post_count < needs.get("post_count", 0)
            or counters.days_visited < needs.get("days_visited", 0)
        ):
            break
        if needs.get("clean_days"):
            if penalized is not None:
                if counters.user_id in penalized:
                    break
            elif not _clean_since(counters.user_id, needs["clean_days"], now):
                break
        earned = level
    return earned


def _set_level(counters: Counters, level: int, *, actor=None, request=None, reason: str) -> None:
    """Write ``level`` (if the profile still has the level read, and is not locked) and audit it."""
    changed = CommunityProfile.objects.filter(
        pk=counters.profile_id, trust_level=counters.trust_level, trust_level_locked=False
    ).update(trust_level=level)
    if changed:
        events.member_event(
            events.TRUST,
            actor=actor,
            member_id=counters.user_id,
            target=CommunityProfile(pk=counters.profile_id, user_id=counters.user_id),
            request=request,
            details={"from": counters.trust_level, "to": level, "reason": reason},
        )
        counters.trust_level = level


def promote(counters: Counters, *, request=None) -> int:
    """Raise the member's level to the one their counters earn, if higher and not locked. The level after."""
    if counters.trust_level_locked or counters.trust_level >= LEVELS[-1]:
        return counters.trust_level
    earned = earned_level(counters)
    if earned > counters.trust_level:
        _set_level(counters, earned, request=request, reason="automatic")
    return counters.trust_level


def recompute(
    counters: Counters,
    *,
    actor=None,
    reason: str = "automatic",
    penalized: set[int] | None = None,
    only_lower: bool = False,
) -> int:
    """Set an unlocked member's level to the one they earn, up or down (``only_lower``: only down, as after
    a penalty). The level after."""
    if counters.trust_level_locked:
        return counters.trust_level
    earned = earned_level(counters, penalized=penalized)
    if earned != counters.trust_level and not (only_lower and earned > counters.trust_level):
        _set_level(counters, earned, actor=actor, reason=reason)
    return counters.trust_level


def recompute_all(*, batch: int = 500) -> tuple[int, int]:
    """Every unlocked member's level set to the one they earn (the ``portal_social_community_trust`` command).
    Idempotent: a second run changes nothing. Returns (members looked at, levels changed)."""
    now = timezone.now()
    clean_days = max((needs.get("clean_days", 0) for needs in app_settings.COMMUNITY_TRUST_LEVELS.values()), default=0)
    penalized = set(
        Penalty.objects.filter(starts_at__gt=now - datetime.timedelta(days=clean_days)).values_list(
            "user_id", flat=True
        )
    )
    seen = changed = 0
    for profile in CommunityProfile.objects.filter(trust_level_locked=False).order_by("pk").iterator(chunk_size=batch):
        counters = Counters.of(profile)
        before = counters.trust_level
        with transaction.atomic():
            after = recompute(counters, penalized=penalized)
        seen += 1
        changed += after != before
    return seen, changed


# --------------------------------------------------------------------------- counters


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _column(model, field: str) -> str:
    return _q(model._meta.get_field(field).column)


# SQL below: identifiers come from the models' metadata (quoted), every value is a parameter.


def _published_count_sql() -> str:
    """A member's published posts in patient communities: what they write in clinician spaces never
    shows on their member card, not even as a number."""
    posts, author, status = _q(Post._meta.db_table), _column(Post, "author"), _column(Post, "status")
    threads, thread_pk, post_thread = _q(Thread._meta.db_table), _q(Thread._meta.pk.column), _column(Post, "thread")
    communities, community_pk = _q(Community._meta.db_table), _q(Community._meta.pk.column)
    thread_community, kind = _column(Thread, "community"), _column(Community, "kind")
    return (
        f"(SELECT COUNT(*) FROM {posts} JOIN {threads} ON {threads}.{thread_pk} = {posts}.{post_thread} "  # noqa: S608
        f"JOIN {communities} ON {communities}.{community_pk} = {threads}.{thread_community} "
        f"WHERE {posts}.{author} = %s AND {posts}.{status} = %s AND {communities}.{kind} = "
        f"'{Community.Kind.COMMUNITY.value}')"
    )


def _post_count_sql() -> str:
    profile, user, published = (
        _q(CommunityProfile._meta.db_table),
        _column(CommunityProfile, "user"),
        _published_count_sql(),
    )
    return f"UPDATE {profile} SET post_count = {published} WHERE {user} = %s AND post_count <> {published} RETURNING {_RETURNING}"  # noqa: S608, E501


def _read_update_sql() -> str:
    profile, user = _q(CommunityProfile._meta.db_table), _column(CommunityProfile, "user")
    reads, thread_col, user_col = (
        _q(ThreadRead._meta.db_table),
        _column(ThreadRead, "thread"),
        _column(ThreadRead, "user"),
    )
    seen_col = _column(ThreadRead, "posts_seen")
    before = f"COALESCE((SELECT {seen_col} FROM {reads} WHERE {thread_col} = %s AND {user_col} = %s), 0)"  # noqa: S608
    new_day = "(last_visited_on IS NULL OR last_visited_on < %s)"
    return " ".join(
        (
            f"UPDATE {profile} SET",  # noqa: S608
            f"posts_read = posts_read + CASE WHEN {before} < %s THEN %s - {before} ELSE 0 END,",
            f"days_visited = days_visited + CASE WHEN {new_day} THEN 1 ELSE 0 END,",
            f"last_visited_on = CASE WHEN {new_day} THEN %s ELSE last_visited_on END",
            f"WHERE {user} = %s AND ({before} < %s OR {new_day}) RETURNING {_RETURNING}",
        )
    )


def _read_upsert_sql() -> str:
    reads, thread_col, user_col = (
        _q(ThreadRead._meta.db_table),
        _column(ThreadRead, "thread"),
        _column(ThreadRead, "user"),
    )
    seen_col, read_at = _column(ThreadRead, "posts_seen"), _column(ThreadRead, "read_at")
    return " ".join(
        (
            f"INSERT INTO {reads} ({thread_col}, {user_col}, {seen_col}, {read_at}) VALUES (%s, %s, %s, %s)",  # noqa: S608
            f"ON CONFLICT ({thread_col}, {user_col}) DO UPDATE SET {seen_col} = excluded.{seen_col},",
            f"{read_at} = excluded.{read_at} WHERE {reads}.{seen_col} < excluded.{seen_col}",
        )
    )


def count_posts(post: Post) -> None:
    """``ON_PUBLISHED`` / ``ON_UNPUBLISHED``: the author's ``post_count`` is their published posts, one
    statement, no write when it is already right; a promotion when the new count crosses a threshold."""
    if not post.author_id:
        return
    status = Post.Status.PUBLISHED.value
    with connection.cursor() as cursor:
        cursor.execute(_post_count_sql(), [post.author_id, status, post.author_id, post.author_id, status])
        row = cursor.fetchone()
    if row is not None:
        promote(Counters.from_row(row))


def record_read(user, thread: Thread, seen: int, *, request=None) -> None:
    """A member opened a thread page and has now seen its first ``seen`` published posts.

    Always two statements in one savepoint: the profile's counters (the posts
    not seen before added to ``posts_read``; a new day counted), then the
    thread's :class:`ThreadRead` row. Neither writes when nothing changed.
    A failure is logged (the class only) and never reaches the page.
    """
    today = connection.ops.adapt_datefield_value(timezone.localdate())
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    thread_id = Thread._meta.pk.get_db_prep_value(thread.pk, connection)
    before = (thread_id, user.pk)
    update_params = [*before, seen, seen, *before, today, today, today, user.pk, *before, seen, today]
    # Reading a clinician space counts towards nothing a patient community shows (trust, badges).
    in_space = thread.community.kind == Community.Kind.SPACE
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            row = None
            if not in_space:
                cursor.execute(_read_update_sql(), update_params)
                row = cursor.fetchone()
            cursor.execute(_read_upsert_sql(), [thread_id, user.pk, seen, now])
            if row is not None:
                promote(Counters.from_row(row), request=request)
    except Exception as exc:  # a counter never fails the page; the class only, never the data
        logger.warning("Reading counters not updated (%s).", type(exc).__name__)
