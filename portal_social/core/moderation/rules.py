"""Who may work the moderation queue: the access policy's rule and scope for queue items.

An item names the permission its reviewers hold (its kind's, copied onto
the item when it is queued). A reviewer sees and works the items whose
permission they hold through a role; nobody else sees any, superusers
included (``access.holds`` asks for the role, not ``is_superuser``).

A kind may also name **spaces** a person reviews without the role
(``Kind.reviewer_spaces``: a community's own moderators review that
community's posts). Such a reviewer sees and works only the items of that
kind whose ``space`` is one of theirs, and only when the portal asks them
for a second factor on every page (``PortalAdapter.requires_mfa``: staff
roles by default), because queue items show content as written. The hook
can only add spaces to someone's reach; it never narrows a role holder's.
"""

from __future__ import annotations

from django.db.models import Q

from portal_social.core import access
from portal_social.core.moderation import registry
from portal_social.core.moderation.models import ModerationItem


def _signed_in(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def reviewer_permissions(user) -> list[str]:
    """The registered kinds' permissions ``user`` holds through a role."""
    wanted = {kind.permission for kind in registry.kinds()}
    return sorted(permission for permission in wanted if access.holds(user, permission))


def _second_factor_bound(user) -> bool:
    from portal_social.adapter import get_adapter

    return bool(get_adapter().requires_mfa(user))


def kind_spaces(kind: registry.Kind, user) -> frozenset[str] | None:
    """Which items of ``kind`` ``user`` reviews: ``None`` for all of them (the kind's permission through
    a role), else the set of spaces (empty: none). Cached on the user object for the request."""
    if not _signed_in(user):
        return frozenset()
    if access.holds(user, kind.permission):
        return None
    if kind.reviewer_spaces is None:
        return frozenset()
    cache = user.__dict__.setdefault("_portal_social_review_spaces", {})
    if kind.key not in cache:
        spaces: frozenset[str] = frozenset()
        if _second_factor_bound(user):
            spaces = frozenset(space for space in (kind.reviewer_spaces(user) or ()) if space)
        cache[kind.key] = spaces
    return cache[kind.key]


def forget_spaces(user) -> None:
    """Drop the cached answers of :func:`kind_spaces` (after someone's spaces changed)."""
    if user is not None:
        user.__dict__.pop("_portal_social_review_spaces", None)


def reviewer_kinds(user) -> list[registry.Kind]:
    """The kinds ``user`` reviews at least some items of, in registration order."""
    return [kind for kind in registry.kinds() if kind_spaces(kind, user) != frozenset()]


def reviews_anything(user) -> bool:
    """Whether ``user`` reviews at least one kind of content (opens the queue)."""
    return bool(reviewer_kinds(user))


@access.rule(ModerationItem, "review")
def _reviewer_of_the_kind(user, item: ModerationItem) -> bool:
    if item.reviewer_permission and access.holds(user, item.reviewer_permission):
        return True
    try:
        kind = registry.get(item.kind)
    except LookupError:
        return False
    spaces = kind_spaces(kind, user)
    return bool(spaces) and bool(item.space) and item.space in spaces


@access.scope(ModerationItem)
def _items_visible_to(user) -> Q:
    condition = Q(pk__in=[])
    permissions = reviewer_permissions(user)
    if permissions:
        condition |= Q(reviewer_permission__in=permissions)
    for kind in registry.kinds():
        spaces = kind_spaces(kind, user)
        if spaces:
            condition |= Q(kind=kind.key, space__in=sorted(spaces))
    return condition


def space_reviewers(kind: registry.Kind, space: str) -> list:
    """The people who review ``space``'s items of ``kind`` through ``reviewer_spaces`` and can open the
    queue (it is a staff screen: the Wagtail admin), to be told of a new or urgent item there."""
    if not space or kind.space_reviewers is None:
        return []
    from portal_social.core.staff_area import ADMIN_PERMISSION

    people = []
    for person in kind.space_reviewers(space):
        spaces = kind_spaces(kind, person)
        if spaces and space in spaces and access.holds(person, ADMIN_PERMISSION):
            people.append(person)
    return people
