"""Who may work the moderation queue: the access policy's rule and scope for queue items.

An item names the permission its reviewers hold (its kind's, copied onto
the item when it is queued). A reviewer sees and works the items whose
permission they hold through a role; nobody else sees any, superusers
included (``access.holds`` asks for the role, not ``is_superuser``).
"""

from __future__ import annotations

from django.db.models import Q

from portal_social.core import access
from portal_social.core.moderation import registry
from portal_social.core.moderation.models import ModerationItem


def reviewer_permissions(user) -> list[str]:
    """The registered kinds' permissions ``user`` holds through a role."""
    wanted = {kind.permission for kind in registry.kinds()}
    return sorted(permission for permission in wanted if access.holds(user, permission))


def reviews_anything(user) -> bool:
    """Whether ``user`` reviews at least one kind of content (opens the queue)."""
    return bool(reviewer_permissions(user))


@access.rule(ModerationItem, "review")
def _reviewer_of_the_kind(user, item: ModerationItem) -> bool:
    return bool(item.reviewer_permission) and access.holds(user, item.reviewer_permission)


@access.scope(ModerationItem)
def _items_visible_to(user) -> Q:
    permissions = reviewer_permissions(user)
    return Q(reviewer_permission__in=permissions) if permissions else Q(pk__in=[])
