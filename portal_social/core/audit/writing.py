"""Appending events to the audit chain: ``record``, the one writer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from portal_social.core.audit.keys import GENESIS_HASH, compute_hash, hashed_content, seal_head, signing_key
from portal_social.core.models import AuditChainHead, AuditEvent

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.db.models import Model
    from django.http import HttpRequest

Severity = AuditEvent.Severity


# Writing ------------------------------------------------------------------------


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address, normalised, as ``portal_social.core.network.client_ip`` derives it.

    ``REMOTE_ADDR``, or the client's address in ``X-Forwarded-For`` when the
    request came through a proxy listed in ``PORTAL_SOCIAL_TRUSTED_PROXIES``;
    a header from anyone else is ignored, so nobody can forge the audit
    trail's addresses. Normalised, so the value hashed is the value the
    database returns.
    """
    from portal_social.core.network import client_ip as derived_client_ip

    return derived_client_ip(request)


def _target(target: Model | None, target_type: str, target_id: str) -> tuple[str, str]:
    if target is not None:
        return target._meta.label_lower, str(target.pk)
    return target_type, target_id


def record(
    action: str,
    *,
    actor: AbstractBaseUser | None = None,
    target: Model | None = None,
    target_type: str = "",
    target_id: str = "",
    patient: AbstractBaseUser | int | None = None,
    request: HttpRequest | None = None,
    reason: str = "",
    severity: str = Severity.INFO,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the audit chain and return it.

    Runs in its own savepoint inside the caller's transaction, so the event is
    committed with the change it describes, or not at all. Serialises on the
    chain head row, so concurrent writers form one linear chain. Signs the
    event and the new head with the first audit key; raises
    ``ImproperlyConfigured`` before touching the database when there is none.

    ``details`` must be small and free of PHI (ids, counts, role names).
    """
    if severity not in Severity.values:
        raise ValueError(f"Unknown audit severity {severity!r}")
    key = signing_key()
    if actor is None and request is not None and getattr(request.user, "is_authenticated", False):
        actor = request.user
    actor_id = actor.pk if actor is not None and getattr(actor, "is_authenticated", False) else None
    actor_label = actor.get_username()[:150] if actor_id is not None else ""
    patient_id = patient if isinstance(patient, int) or patient is None else patient.pk
    target_type, target_id = _target(target, target_type, target_id)
    user_agent = request.META.get("HTTP_USER_AGENT", "")[:300] if request is not None else ""

    with transaction.atomic():
        # Taking the head row first is what serialises writers (row lock on
        # PostgreSQL, the write lock on SQLite).
        updated = AuditChainHead.objects.filter(pk=1).update(sequence=F("sequence") + 1)
        if not updated:
            # Only after Django's flush (test databases): migrations create the row.
            AuditChainHead.objects.create(pk=1, sequence=1, last_hash=GENESIS_HASH)
        head = AuditChainHead.objects.get(pk=1)
        event = AuditEvent(
            sequence=head.sequence,
            occurred_at=timezone.now(),
            actor_id=actor_id,
            actor_label=actor_label,
            action=action[:64],
            severity=severity,
            target_type=target_type[:100],
            target_id=target_id[:64],
            patient_id=patient_id,
            ip_address=client_ip(request),
            user_agent=user_agent,
            reason=reason[:200],
            details=details or {},
            prev_hash=head.last_hash,
            key_id=key.key_id,
        )
        event.hash = compute_hash(head.last_hash, hashed_content(event), key=key)
        event.save(force_insert=True)
        AuditChainHead.objects.filter(pk=1).update(
            last_hash=event.hash, key_id=key.key_id, seal=seal_head(event.sequence, event.hash, key=key)
        )
    return event
