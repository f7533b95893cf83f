"""Joining a clinician space by request, with an owner's or moderator's approval.

A space is invisible to everyone outside it, so a colleague asks by the
space's name or address, which they learned from its members. The answer is
the same whether or not such a space exists, and whether or not they were
already asked about: the request page is never a way to find spaces. The
space's owners and moderators are told (without the space's name) and
decide on the member page; approval makes the person a member, a refusal
leaves no trace but the audit row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal_social.community import (
    notifications,  # noqa: F401  (registers the notices)
    rules,
)
from portal_social.community.actions._common import CommunityDenied
from portal_social.community.actions.spaces import add_member
from portal_social.community.models import Community, Membership
from portal_social.core import access, locking, notify
from portal_social.core.audit_events import register

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

JOIN_REQUESTED = register("space.join_requested", gettext_lazy("Asked to join a clinician space"))
REQUEST_DECIDED = register("space.join_decided", gettext_lazy("Request to join a clinician space decided"))
NAME_MAX_LENGTH = 120
MANAGERS = (Membership.Role.OWNER, Membership.Role.MODERATOR)


def request_to_join(*, user: AbstractBaseUser, name: str, request: HttpRequest | None = None) -> None:
    """Ask to join the space whose address or name is ``name``. Returns nothing either way."""
    if not (getattr(user, "is_active", False) and access.holds(user, rules.USE_SPACES)):
        raise CommunityDenied()
    text = " ".join(str(name or "").split())
    if not text:
        raise ValidationError({"name": [_("Enter the space's name or address.")]})
    if len(text) > NAME_MAX_LENGTH:
        raise ValidationError({"name": [_("A space's name is at most %(max)d characters.") % {"max": NAME_MAX_LENGTH}]})
    space = (
        Community.objects.filter(kind=Community.Kind.SPACE)
        .filter(Q(slug=text.lower()) | Q(name__iexact=text))
        .order_by("pk")
        .first()
    )
    if space is None:
        return
    with transaction.atomic():
        membership = locking.locked(Membership.objects.filter(community=space, user=user)).first()
        if membership is not None and membership.status in (Membership.Status.ACTIVE, Membership.Status.REQUESTED):
            return  # a member already, or asked before: nobody is told twice
        if membership is None:
            Membership.objects.create(community=space, user=user, status=Membership.Status.REQUESTED)
        else:
            membership.status, membership.joined_at = Membership.Status.REQUESTED, timezone.now()
            membership.save(update_fields=["status", "joined_at"])
        JOIN_REQUESTED.record(actor=user, target=space, request=request)
        managers = [
            m.user
            for m in Membership.objects.filter(
                community=space, status=Membership.Status.ACTIVE, role__in=MANAGERS
            ).select_related("user")
        ]
        notify.notify_many(managers, "space.join_requested")


def pending(space: Community):
    return (
        Membership.objects.filter(community=space, status=Membership.Status.REQUESTED)
        .select_related("user", "user__clinician_page")
        .order_by("joined_at", "pk")
    )


def decide(
    *, actor: AbstractBaseUser, space: Community, membership_id, approve: bool, request: HttpRequest | None = None
) -> Membership | None:
    """Approve or decline a request to join ``space`` (its owners and moderators). None: decided already."""
    if not rules.moderates(actor, space) or space.kind != Community.Kind.SPACE:
        raise CommunityDenied()
    with transaction.atomic():
        membership = (
            locking.locked(Membership.objects.filter(community=space, pk=membership_id, status="requested"))
            .select_related("user")
            .first()
        )
        if membership is None:
            return None
        REQUEST_DECIDED.record(
            actor=actor,
            target=space,
            request=request,
            details={"member": str(membership.user_id), "approved": approve},
        )
        if approve:
            membership = add_member(actor=actor, space=space, user=membership.user, request=request)
            notify.notify(membership.user, "space.join_approved")
        else:
            membership.status = Membership.Status.LEFT
            membership.save(update_fields=["status"])
    return membership
