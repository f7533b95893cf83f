"""Out of office: a care-team member away, with a colleague answering for them."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from portal_social.messaging import events, rules
from portal_social.messaging.models import (
    OutOfOffice,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

#: Readers of a conversation follow its stream: a new message, a retraction, a read receipt.
from portal_social.messaging.actions._common import (
    MessagingDenied,
)

# Out of office ---------------------------------------------------------------------------------

#: The longest absence one entry may cover.
MAX_ABSENCE = datetime.timedelta(days=366)


def set_out_of_office(
    *,
    actor: AbstractBaseUser,
    delegate: AbstractBaseUser,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    request: HttpRequest | None = None,
) -> OutOfOffice:
    """``actor`` (a member of a care-team pool) is away between the two moments; ``delegate`` answers.

    While it runs, messages in conversations assigned to ``actor`` go to the
    delegate, who may open and answer them, and patients are told when a reply
    can be expected. ``ValidationError`` for a delegate who does not answer
    patients (or is ``actor``), an end not after the start, an end in the past,
    or more than a year.
    """
    if not rules.pool_ids(actor):
        raise MessagingDenied(gettext("Only members of a care team can set an absence."))
    errors: dict[str, list[str]] = {}
    if delegate is None or delegate.pk == actor.pk or not delegate.is_active or not rules.is_staff_member(delegate):
        errors["delegate"] = [gettext("Choose a colleague who answers patients' messages.")]
    if ends_at <= starts_at:
        errors["ends_at"] = [gettext("The end must be after the start.")]
    elif ends_at <= timezone.now():
        errors["ends_at"] = [gettext("The end must be in the future.")]
    elif ends_at - starts_at > MAX_ABSENCE:
        errors["ends_at"] = [gettext("An absence can last a year at most.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        period = OutOfOffice.objects.create(user=actor, delegate=delegate, starts_at=starts_at, ends_at=ends_at)
        events.OUT_OF_OFFICE.record(
            actor=actor, target=period, request=request, details={"delegate": delegate.pk, "change": "set"}
        )
    return period


def end_out_of_office(*, actor: AbstractBaseUser, period: OutOfOffice, request: HttpRequest | None = None) -> None:
    """``actor`` is back: their absence ends now (one that had not started is removed)."""
    if period.user_id != actor.pk:
        raise MessagingDenied(gettext("You can end only your own absence."))
    now = timezone.now()
    with transaction.atomic():
        if period.starts_at >= now:
            OutOfOffice.objects.filter(pk=period.pk).delete()
        elif period.ends_at > now:
            OutOfOffice.objects.filter(pk=period.pk).update(ends_at=now)
        else:
            return
        events.OUT_OF_OFFICE.record(
            actor=actor,
            target_type="outofoffice",
            target_id=str(period.pk),
            request=request,
            details={"change": "ended"},
        )
