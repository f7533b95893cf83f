"""Caregiver (proxy) links: who may act for a patient, in which scopes, when.

``link_caregiver`` and ``end_caregiver_link`` are the write path;
``is_proxy_for`` and ``patients_for`` are what features ask. Patients see and
end their links, and caregivers step down, at ``caregiver_views``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _lazy

from portal_social import signals
from portal_social.core import access, audit, realtime, roles
from portal_social.core.errors import Denied
from portal_social.core.models import CaregiverRelation

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


class CaregiverLinkDenied(Denied):
    """The actor may not link or unlink this caregiver."""

    default_message = _lazy("Only the patient or a portal administrator can change who acts for a patient.")
    code = "caregiver_link_denied"


def _may_link(actor: AbstractBaseUser, patient: AbstractBaseUser) -> bool:
    # A link does not exist yet, so there is no object to ask the policy about:
    # the patient links their own proxies; administrators link anyone's. Once a
    # link exists, changing it is the policy's "change" rule (core.rules).
    if actor.pk == patient.pk:
        return True
    return access.holds(actor, "portal_social.manage_caregivers")


def link_caregiver(
    *,
    actor: AbstractBaseUser,
    caregiver: AbstractBaseUser,
    patient: AbstractBaseUser,
    scopes: Iterable[str],
    starts_on: datetime.date | None = None,
    ends_on: datetime.date | None = None,
    relationship: str = "",
) -> CaregiverRelation:
    """Let ``caregiver`` act for ``patient`` within ``scopes`` between the dates.

    Preconditions: ``actor`` is the patient or holds ``manage_caregivers``
    (raises ``CaregiverLinkDenied``). Raises ``ValidationError`` for an
    unknown scope, no scope, a self-link, reversed dates or a patient who does
    not hold the patient role. The caregiver is given the caregiver role.
    """
    if not _may_link(actor, patient):
        raise CaregiverLinkDenied()
    scopes = set(scopes)
    unknown = scopes - set(CaregiverRelation.SCOPES)
    if unknown:
        raise ValidationError({"scopes": f"Unknown scope: {', '.join(sorted(unknown))}."})
    if not scopes:
        raise ValidationError({"scopes": "Choose at least one thing the caregiver may do."})
    if caregiver.pk == patient.pk:
        raise ValidationError({"caregiver": "A person cannot be their own caregiver."})
    if not roles.has_role(patient, roles.PATIENT):
        raise ValidationError({"patient": "Only a patient can have a caregiver."})
    starts_on = starts_on or timezone.localdate()
    if ends_on is not None and ends_on < starts_on:
        raise ValidationError({"ends_on": "The end date must be on or after the start date."})

    with transaction.atomic():
        relation = CaregiverRelation.objects.create(
            caregiver=caregiver,
            patient=patient,
            relationship=relationship[:60],
            starts_on=starts_on,
            ends_on=ends_on,
            created_by=actor,
            **{f"scope_{scope}": scope in scopes for scope in CaregiverRelation.SCOPES},
        )
        # The link itself is the authority for the caregiver role.
        roles.grant_role(user=caregiver, role=roles.CAREGIVER)
        audit.record(
            "caregiver.link",
            actor=actor,
            target=relation,
            patient=patient,
            details={"scopes": sorted(scopes)},
            severity=audit.Severity.NOTICE,
        )
    transaction.on_commit(
        lambda: signals.caregiver_linked.send(sender=CaregiverRelation, relation=relation, actor=actor)
    )
    return relation


def end_caregiver_link(
    *, actor: AbstractBaseUser, relation: CaregiverRelation, ends_on: datetime.date | None = None
) -> CaregiverRelation:
    """End a caregiver link on ``ends_on`` (default: yesterday, so it stops now).

    A link ended before it starts is revoked: it never applies. The caregiver
    loses the caregiver role when no current or future link remains.

    Preconditions: ``access.can(actor, "end", relation)`` — the patient, the
    caregiver stepping down, a holder of ``manage_caregivers``, or someone
    granted ``change`` on this link — else ``CaregiverLinkDenied``.
    """
    if not access.can(actor, "end", relation):
        raise CaregiverLinkDenied()
    ends_on = ends_on or (timezone.localdate() - datetime.timedelta(days=1))
    with transaction.atomic():
        # Locked and read again: a second "End access" (a double click, two tabs) finds the link over and
        # changes and records nothing.
        relation = (
            CaregiverRelation.objects.select_for_update().select_related("caregiver", "patient").get(pk=relation.pk)
        )
        if not is_current_or_future(relation):
            return relation
        if ends_on < relation.starts_on:
            relation.revoked_at = timezone.now()
            relation.save(update_fields=["revoked_at"])
        else:
            relation.ends_on = ends_on
            relation.save(update_fields=["ends_on"])
        audit.record(
            "caregiver.unlink",
            actor=actor,
            target=relation,
            patient=relation.patient_id,
            severity=audit.Severity.NOTICE,
        )
        remaining = CaregiverRelation.objects.current_or_future().filter(caregiver=relation.caregiver_id)
        if not remaining.exists():
            roles.revoke_role(user=relation.caregiver, role=roles.CAREGIVER)
        # Pages refuse the caregiver at their next request; their open sockets are told now.
        realtime.recheck_access_after_commit([relation.caregiver_id])
    transaction.on_commit(
        lambda: signals.caregiver_unlinked.send(sender=CaregiverRelation, relation=relation, actor=actor)
    )
    return relation


def links_of(person: AbstractBaseUser):
    """Every link ``person`` is a party to, as patient or as caregiver, with both people read in the same query."""
    from django.db.models import Q

    return CaregiverRelation.objects.filter(Q(patient=person) | Q(caregiver=person)).select_related(
        "caregiver", "patient"
    )


def is_current_or_future(relation: CaregiverRelation, on: datetime.date | None = None) -> bool:
    """Whether ``relation`` is in force on ``on`` (default today) or starts later: not revoked, not over."""
    on = on or timezone.localdate()
    return relation.revoked_at is None and (relation.ends_on is None or relation.ends_on >= on)


def is_proxy_for(
    caregiver: AbstractBaseUser, patient: AbstractBaseUser, scope: str, on: datetime.date | None = None
) -> bool:
    """Whether ``caregiver`` may act for ``patient`` in ``scope`` on date ``on``."""
    if not getattr(caregiver, "is_authenticated", False):
        return False
    return CaregiverRelation.objects.active(on).with_scope(scope).filter(caregiver=caregiver, patient=patient).exists()


def patients_for(caregiver: AbstractBaseUser, scope: str, on: datetime.date | None = None):
    """The patients ``caregiver`` may act for in ``scope`` today, as a queryset."""
    from django.contrib.auth import get_user_model

    ids = CaregiverRelation.objects.active(on).with_scope(scope).filter(caregiver=caregiver).values("patient_id")
    return get_user_model().objects.filter(pk__in=ids)


def proxied_ids(caregiver: AbstractBaseUser, scope: str) -> frozenset:
    """The ids of the patients ``caregiver`` may act for in ``scope`` today: one query, kept on the user object
    for the rest of the request (so a link that ends counts from the next request). :func:`forget_proxied`
    drops it after a change in the same request."""
    if not getattr(caregiver, "is_authenticated", False) or not getattr(caregiver, "is_active", False):
        return frozenset()
    cache = caregiver.__dict__.setdefault(_PROXIED_CACHE, {})
    if scope not in cache:
        cache[scope] = frozenset(
            CaregiverRelation.objects.active()
            .with_scope(scope)
            .filter(caregiver=caregiver)
            .values_list("patient_id", flat=True)
        )
    return cache[scope]


def forget_proxied(caregiver: AbstractBaseUser) -> None:
    """Drop what :func:`proxied_ids` kept on ``caregiver``."""
    caregiver.__dict__.pop(_PROXIED_CACHE, None)


_PROXIED_CACHE = "_portal_social_proxied_ids"
