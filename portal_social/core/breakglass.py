"""Break-the-glass: emergency access by staff to a PHI object they could not open.

A staff member holding ``portal_social.break_glass`` (clinicians and care-team
staff by default) writes a reason and gets a grant for one object that
expires after ``PORTAL_SOCIAL_BREAK_GLASS_MINUTES``. Every step is audited at
high severity and the risk managers are told, without any PHI.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _lazy

from portal_social.conf import app_settings
from portal_social.core import access, audit_events, notify, ratelimit, roles, text
from portal_social.core.errors import Denied
from portal_social.core.models import BreakGlassGrant

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.db.models import Model
    from django.http import HttpRequest

MIN_REASON_LENGTH = 20
MAX_REASON_LENGTH = 2000


class BreakGlassDenied(Denied):
    """This person may not break the glass."""

    default_message = _lazy("Emergency access is for staff who hold it and have signed in with a second factor.")
    code = "break_glass_denied"


def may_break_glass(user: AbstractBaseUser) -> bool:
    """Staff with the permission and MFA; never patients or caregivers."""
    from portal_social.core.second_factor import user_has_mfa

    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if roles.user_roles(user) & {roles.PATIENT, roles.CAREGIVER}:
        return False
    return access.holds(user, "portal_social.break_glass") and user_has_mfa(user)


def break_the_glass(
    *,
    user: AbstractBaseUser,
    obj: Model,
    reason: str,
    patient: AbstractBaseUser | int | None = None,
    request: HttpRequest | None = None,
) -> BreakGlassGrant:
    """Open ``obj`` to ``user`` for a limited time, for the written ``reason``.

    Raises ``BreakGlassDenied`` if the user may not break the glass, and
    ``ValidationError`` for a missing, too short or too long reason or an
    object that holds no PHI. Returns the grant (a new one each time: an
    expired grant is never extended).
    """
    if not may_break_glass(user):
        raise BreakGlassDenied()
    ratelimit.check("break_glass", request=request, user=user)
    if not access.is_phi_action(type(obj), "view"):
        raise ValidationError("Emergency access applies only to records that hold health information.")
    reason = text.stripped(text.normalise(reason)) if isinstance(reason, str) else ""
    if len(reason) < MIN_REASON_LENGTH:
        raise ValidationError(
            {"reason": f"Explain why you need emergency access (at least {MIN_REASON_LENGTH} characters)."}
        )
    if len(reason) > MAX_REASON_LENGTH:
        raise ValidationError({"reason": f"Keep the reason under {MAX_REASON_LENGTH} characters."})

    now = timezone.now()
    with transaction.atomic():
        grant = BreakGlassGrant.objects.create(
            user=user,
            target_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
            target_id=str(obj.pk),
            reason=reason,
            created_at=now,
            expires_at=now + datetime.timedelta(minutes=app_settings.BREAK_GLASS_MINUTES),
        )
        audit_events.break_glass_opened(
            actor=user,
            target=obj,
            grant=grant,
            minutes=app_settings.BREAK_GLASS_MINUTES,
            patient=patient if patient is not None else access.patient_of(obj),
            request=request,
        )
        # Mandatory: risk managers hear of it even with notifications off. No name, no reason.
        notify.notify_role(roles.RISK_MANAGER, "break_glass.used")
    return grant
