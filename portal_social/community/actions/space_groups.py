"""Clinician-space membership by department group.

A space may name department groups (``Community.member_groups``: Django
groups the host keeps in step with its directory, "Cardiology department").
Every active account in one of them that holds ``use_clinician_spaces``
belongs to the space, as a member whose ``source`` is "group"; leaving the
group (or losing the clinician role) ends that membership at once, and the
person's open sockets on the space's threads close.

What people decided stays decided: someone an owner added in person keeps
their membership when they leave the group, and someone who was removed from
the space, or left it, is not added back by the group.

:func:`sync` runs after commit whenever a person's groups or a space's groups
change (``connect``), and ``manage.py portal_social_space_groups --sync``
runs it for every space as a safety net (for groups changed outside Django's
ORM, by a directory sync writing SQL, say).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import m2m_changed
from django.utils.translation import gettext as _

from portal_social.community import rules
from portal_social.community.actions.spaces import MEMBER_ADDED, MEMBER_REMOVED
from portal_social.community.models import Community, Membership
from portal_social.core import access, audit_events, realtime

SPACE_GROUPS_CHANGED = audit_events.register("space.groups", _("Clinician space's department groups changed"))


def _eligible(users) -> set:
    """The ids of ``users`` who may belong to a space: active, holding ``use_clinician_spaces``."""
    return {user.pk for user in users if user.is_active and access.holds(user, rules.USE_SPACES)}


def sync(*, spaces: Iterable[Community] | None = None, user_ids: Iterable | None = None) -> tuple[int, int]:
    """Bring group memberships of ``spaces`` (default: every space with groups) in line with the groups,
    for ``user_ids`` only when given. Returns (added, removed)."""
    if spaces is None:
        spaces = Community.objects.filter(kind=Community.Kind.SPACE, member_groups__isnull=False).distinct()
    spaces = [space for space in spaces if space.kind == Community.Kind.SPACE]  # never a patient community
    user_ids = None if user_ids is None else set(user_ids)
    added = removed = 0
    closed: set = set()
    for space in spaces:
        groups = list(space.member_groups.values_list("pk", flat=True))
        in_groups = get_user_model().objects.filter(groups__in=groups).distinct() if groups else []
        if user_ids is not None and groups:
            in_groups = in_groups.filter(pk__in=user_ids)
        wanted = _eligible(in_groups) if groups else set()
        with transaction.atomic():
            rows = Membership.objects.select_for_update().filter(community=space)
            if user_ids is not None:
                rows = rows.filter(user_id__in=user_ids | wanted)
            have = {row.user_id: row for row in rows}
            for user_id in sorted(wanted - set(have), key=str):
                Membership.objects.create(community=space, user_id=user_id, source=Membership.Source.GROUP)
                MEMBER_ADDED.record(
                    actor=None, target=space, details={"member": str(user_id), "role": "member", "by": "group"}
                )
                added += 1
            for user_id, row in have.items():
                if (
                    row.source == Membership.Source.GROUP
                    and row.status == Membership.Status.ACTIVE
                    and user_id not in wanted
                ):
                    row.delete()
                    MEMBER_REMOVED.record(actor=None, target=space, details={"member": str(user_id), "by": "group"})
                    closed.add(user_id)
                    removed += 1
    if closed:
        realtime.recheck_access_after_commit(sorted(closed, key=str))
    return added, removed


def set_groups(*, space: Community, groups, actor=None) -> tuple[int, int]:
    """Name the department groups of ``space`` (an administrator's task: the command), then sync it."""
    if space.kind != Community.Kind.SPACE:
        raise ValueError("department groups are for clinician spaces")
    with transaction.atomic():
        space.member_groups.set(groups)
        SPACE_GROUPS_CHANGED.record(
            actor=actor, target=space, details={"groups": sorted(str(group.pk) for group in groups)}
        )
    return sync(spaces=[space])


def _user_groups_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if isinstance(instance, get_user_model()):
        user_ids = {instance.pk}
    elif pk_set:
        user_ids = set(pk_set)
    else:  # group.user_set.clear(): who was in it is gone already; sync every space
        user_ids = None
    transaction.on_commit(lambda: sync(user_ids=user_ids), robust=True)


def _space_groups_changed(sender, instance, action, **kwargs) -> None:
    if (
        action in ("post_add", "post_remove", "post_clear")
        and isinstance(instance, Community)
        and instance.kind == Community.Kind.SPACE
    ):
        transaction.on_commit(lambda: sync(spaces=[instance]), robust=True)


def connect() -> None:
    """Keep group memberships current as groups change (called from the app's ``ready``)."""
    through = get_user_model().groups.through
    m2m_changed.connect(_user_groups_changed, sender=through, dispatch_uid="portal_social_space_user_groups")
    m2m_changed.connect(
        _space_groups_changed, sender=Community.member_groups.through, dispatch_uid="portal_social_space_groups"
    )
