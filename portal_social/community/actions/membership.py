"""A member's name and their place in communities: choosing a handle, joining, leaving."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal_social.community import events, rules
from portal_social.community.models import (
    HANDLE_PATTERN,
    Community,
    CommunityProfile,
    Membership,
)
from portal_social.core import (
    access,
    locking,
    phi,
    text,
)
from portal_social.core.errors import refusal

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

from portal_social.community.actions._common import (
    CommunityDenied,
    _signed_in,
)


def set_handle(*, user: AbstractBaseUser, handle: str, request: HttpRequest | None = None) -> CommunityProfile:
    """Choose (or change) the name ``user`` posts under. Unique whatever its case; never an email or a number."""
    if not _signed_in(user) or not (access.holds(user, rules.PARTICIPATE) or access.holds(user, rules.USE_SPACES)):
        raise CommunityDenied()  # people who take part in communities, or in clinician spaces
    handle = text.clean_plain(handle, field="handle", required=True, max_length=30)
    if not re.fullmatch(HANDLE_PATTERN, handle):
        raise ValidationError(
            {
                "handle": [
                    _("Use 3 to 30 letters, digits, dots, dashes or underscores, starting with a letter or digit.")
                ]
            }
        )
    if any(f.kind != "name" for f in phi.scan(handle)):
        raise ValidationError({"handle": [_("A community name cannot be an email address, a number or an id.")]})
    taken = CommunityProfile.objects.filter(handle__iexact=handle).exclude(user=user).exists()
    if taken:
        raise refusal(_("Someone already uses this community name. Choose another."), "taken")
    try:
        with transaction.atomic():
            profile, _created = CommunityProfile.objects.update_or_create(user=user, defaults={"handle": handle})
    except IntegrityError:
        raise refusal(_("Someone already uses this community name. Choose another."), "taken") from None
    return profile


def join(*, user: AbstractBaseUser, community: Community, request: HttpRequest | None = None) -> Membership:
    """Join ``community`` (a private one: ask to join; a moderator approves)."""
    if not _signed_in(user) or not access.can(user, "join", community):
        raise CommunityDenied()
    status = (
        Membership.Status.REQUESTED
        if community.visibility == Community.Visibility.PRIVATE
        else Membership.Status.ACTIVE
    )
    with transaction.atomic():
        membership, created = Membership.objects.get_or_create(
            community=community, user=user, defaults={"status": status}
        )
        if not created:
            if membership.status == Membership.Status.ACTIVE:
                return membership
            membership.status = status
            membership.joined_at = timezone.now()
            membership.save(update_fields=["status", "joined_at"])
        events.joined(actor=user, membership=membership, request=request)
    rules.forget_moderated(user)  # what the request remembered of the membership is out of date
    return membership


def leave(*, user: AbstractBaseUser, community: Community, request: HttpRequest | None = None) -> None:
    if not _signed_in(user):
        raise CommunityDenied()
    if community.kind == Community.Kind.SPACE:
        from portal_social.community.actions import spaces

        # A space keeps an owner, and the leaver's open sockets close.
        return spaces.remove_member(actor=user, space=community, user=user, request=request)
    with transaction.atomic():
        membership = locking.locked(Membership.objects.filter(community=community, user=user)).first()
        if membership is None or membership.status == Membership.Status.LEFT:
            return
        membership.status = Membership.Status.LEFT
        membership.save(update_fields=["status"])
        events.left(actor=user, membership=membership, request=request)
    rules.forget_moderated(user)
