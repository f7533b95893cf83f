"""The audit trail: append-only, hash-chained, and free of PHI.

``record(...)`` is the one function that writes events. Each event stores
``hash = sha256(prev_hash + canonical_json(content))``; ``verify_chain()``
recomputes every hash in order and names the first event that does not match.

What goes in an event: who (user id and username), what (an action name such
as ``phi.read``), which object (model label and id — opaque ids, never
content), whose record (the patient's user id), when, from where (IP, user
agent) and a short reason. Never message text, names of conditions, or
anything a patient wrote.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from portal_social.core.models import AuditChainHead, AuditEvent

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.db.models import Model
    from django.http import HttpRequest

GENESIS_HASH = "0" * 64
Severity = AuditEvent.Severity

#: Fields covered by the hash, in order. Changing this list breaks every
#: existing chain: add a versioned scheme instead.
HASHED_FIELDS = (
    "sequence",
    "public_id",
    "occurred_at",
    "actor_id",
    "actor_label",
    "action",
    "severity",
    "target_type",
    "target_id",
    "patient_id",
    "ip_address",
    "user_agent",
    "reason",
    "details",
)


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if value is None:
        return None
    if isinstance(value, dict | list | bool | int):
        return value
    return str(value)


def compute_hash(prev_hash: str, content: dict[str, Any]) -> str:
    payload = json.dumps(
        {name: _canonical(content[name]) for name in HASHED_FIELDS},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256((prev_hash + payload).encode("ascii")).hexdigest()


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
    chain head row, so concurrent writers form one linear chain.

    ``details`` must be small and free of PHI (ids, counts, role names).
    """
    if severity not in Severity.values:
        raise ValueError(f"Unknown audit severity {severity!r}")
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
        )
        event.hash = compute_hash(head.last_hash, {name: getattr(event, name) for name in HASHED_FIELDS})
        event.save(force_insert=True)
        AuditChainHead.objects.filter(pk=1).update(last_hash=event.hash)
    return event


def record_phi_read(
    *,
    actor: AbstractBaseUser,
    target: Model,
    patient: AbstractBaseUser | int | None,
    request: HttpRequest | None = None,
    reason: str = "",
) -> AuditEvent:
    """Record that ``actor`` opened PHI held in ``target`` about ``patient``."""
    return record("phi.read", actor=actor, target=target, patient=patient, request=request, reason=reason)


@dataclass(frozen=True)
class ChainProblem:
    sequence: int
    public_id: str
    problem: str

    def __str__(self) -> str:
        return f"audit chain broken at event {self.sequence} ({self.public_id}): {self.problem}"


def iter_chain(batch_size: int = 2000) -> Iterator[AuditEvent]:
    """Every event in chain order, read in keyset-paginated batches."""
    last = 0
    while True:
        batch = list(AuditEvent.objects.filter(sequence__gt=last).order_by("sequence")[:batch_size])
        if not batch:
            return
        yield from batch
        last = batch[-1].sequence


def verify_chain(batch_size: int = 2000) -> tuple[int, ChainProblem | None]:
    """Check every event; return (events checked, first problem or None)."""
    expected_prev = GENESIS_HASH
    expected_sequence = 1
    checked = 0
    for event in iter_chain(batch_size):
        if event.sequence != expected_sequence:
            return checked, ChainProblem(
                event.sequence,
                str(event.public_id),
                f"events {expected_sequence}..{event.sequence - 1} are missing",
            )
        if event.prev_hash != expected_prev:
            return checked, ChainProblem(
                event.sequence, str(event.public_id), "it does not link to the event before it"
            )
        content = {name: getattr(event, name) for name in HASHED_FIELDS}
        if compute_hash(event.prev_hash, content) != event.hash:
            return checked, ChainProblem(event.sequence, str(event.public_id), "its content was changed")
        expected_prev = event.hash
        expected_sequence += 1
        checked += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and (head.sequence != checked or (checked and head.last_hash != expected_prev)):
        return checked, ChainProblem(head.sequence, "head", "events after the last one present were removed")
    return checked, None
