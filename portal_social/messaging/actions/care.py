"""Care relationships: which patients may write to a care-team pool (``PoolPatient``), added and ended one at a
time, by the CSV import of the EHR's attribution list (``messaging.care_import``) or any other sync.

Ending a relationship deletes the ``PoolPatient`` row, as removing the snippet in the Wagtail admin does; nothing
else follows from it, because nothing is cached: ``PortalAdapter.can_message`` reads the links afresh whenever a
patient opens "New message" or starts a conversation. Conversations already started stay open to the patient.
Each change is audited as the snippet's are (``message.pool_patient``).
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from portal_social.core import access
from portal_social.messaging import events
from portal_social.messaging.actions._common import MessagingDenied
from portal_social.messaging.models import CarePool, PoolPatient

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

ADD_CARE_RELATIONSHIP = "portal_social.add_poolpatient"
END_CARE_RELATIONSHIP = "portal_social.delete_poolpatient"


def may_manage_care_relationships(user) -> bool:
    """Whether ``user`` may both add and end care relationships (through a role, never as superuser)."""
    return access.holds(user, ADD_CARE_RELATIONSHIP) and access.holds(user, END_CARE_RELATIONSHIP)


def care_relationship_problems(pool: CarePool | None, patient) -> dict[str, list[str]]:
    """Why ``patient`` cannot be linked to or unlinked from ``pool`` here, by field; {} when nothing is wrong."""
    errors: dict[str, list[str]] = {}
    if not isinstance(pool, CarePool) or not pool.active:
        errors["pool"] = [gettext("This care-team pool is not active.")]
    if patient is None or not getattr(patient, "is_active", False):
        errors["patient"] = [gettext("This portal account is not active.")]
    return errors


def _require_care_permission(actor, permission: str) -> None:
    # ``actor`` None: the system itself (a management command run by whoever operates the portal).
    if actor is not None and not access.holds(actor, permission):
        raise MessagingDenied(gettext("You cannot change care relationships."), code="care_relationship_denied")


def _care_relationship_event(*, actor, link_id, pool_id, patient_id, change: str, how: str, request) -> None:
    # The same event, target and details as a change through the snippet (``messaging.wagtail_hooks``).
    events.POOL_PATIENTS.record(
        actor=actor,
        target_type=PoolPatient._meta.model_name,
        target_id=str(link_id),
        patient=patient_id,
        request=request,
        details={"pool": str(pool_id), "how": how, "change": change},
    )


def add_care_relationship(
    *,
    actor: AbstractBaseUser | None,
    pool: CarePool,
    patient: AbstractBaseUser,
    since: datetime.date | None = None,
    how: str = "import",
    request: HttpRequest | None = None,
) -> PoolPatient | None:
    """Record that ``patient`` has an established care relationship with ``pool`` (they may write to it).

    Returns the new link, or None when the link exists already (left as it
    is, its ``since`` included). ``MessagingDenied`` for an actor without
    ``add_poolpatient`` (through a role); ``ValidationError`` for an
    inactive pool or account, or a ``since`` in the future (default: today).
    """
    _require_care_permission(actor, ADD_CARE_RELATIONSHIP)
    today = timezone.localdate()
    since = since or today
    errors = care_relationship_problems(pool, patient)
    if since > today:
        errors["since"] = [gettext("A care relationship cannot start in the future.")]
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            if PoolPatient.objects.filter(pool=pool, patient=patient).exists():
                return None
            link = PoolPatient.objects.create(pool=pool, patient=patient, since=since, created_by=actor)
            _care_relationship_event(
                actor=actor,
                link_id=link.pk,
                pool_id=pool.pk,
                patient_id=patient.pk,
                change="added",
                how=how,
                request=request,
            )
    except IntegrityError:
        return None  # linked by someone else a moment ago
    return link


def end_care_relationship(
    *,
    actor: AbstractBaseUser | None,
    pool: CarePool,
    patient: AbstractBaseUser,
    how: str = "import",
    request: HttpRequest | None = None,
) -> bool:
    """End ``patient``'s care relationship with ``pool``: the link is deleted, as the snippet's delete does.

    Returns False when there was none. ``MessagingDenied`` for an actor
    without ``delete_poolpatient`` (through a role); ``ValidationError`` for
    an inactive pool or account.
    """
    _require_care_permission(actor, END_CARE_RELATIONSHIP)
    errors = care_relationship_problems(pool, patient)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        link = PoolPatient.objects.select_for_update().filter(pool=pool, patient=patient).first()
        if link is None:
            return False
        link_id = link.pk
        link.delete()
        _care_relationship_event(
            actor=actor,
            link_id=link_id,
            pool_id=pool.pk,
            patient_id=patient.pk,
            change="ended",
            how=how,
            request=request,
        )
    return True
