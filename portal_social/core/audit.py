"""The audit trail: append-only, keyed, hash-chained, and free of PHI.

``record(...)`` is the one function that writes events; features call it
through ``portal_social.core.audit_events``, one function per event type,
which names the action and its severity. Each event stores
``hash = HMAC-SHA256(key, prev_hash + canonical_json(content))`` under the
audit key its ``key_id`` names, and the chain head carries an HMAC over its
sequence number and last hash. Keys come from settings
(``PORTAL_SOCIAL_AUDIT_KEYS``, or derived from the encryption keys), never
from the database, so someone who can write to the database but does not hold
a key cannot rewrite history, or cut off its newest events, undetected.
``verify_chain()`` walks the chain from the first event and names the first
one that does not match.

A database trigger (PostgreSQL and SQLite) refuses UPDATE, DELETE and
TRUNCATE of events and any INSERT that does not extend the chain: a second
line of defence against mistakes and against database roles that do not own
the table.

What goes in an event: who (user id and username), what (an action name such
as ``phi.read``), which object (model label and id — opaque ids, never
content), whose record (the patient's user id), when, from where (IP, user
agent) and a short reason. Never message text, names of conditions, or
anything a patient wrote.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime
import functools
import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from portal_social.conf import app_settings
from portal_social.core.models import AuditChainHead, AuditEvent

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.db.backends.base.base import BaseDatabaseWrapper
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

#: Prefixes of the signed messages, so an event's MAC can never be replayed as
#: a head seal or the other way round.
EVENT_SCHEME = "portal_social.audit.event.v2"
HEAD_SCHEME = "portal_social.audit.head.v1"

#: HKDF ``info`` for audit keys derived from the encryption keys. Changing it
#: changes every derived key, and events signed before would stop verifying.
DERIVED_KEY_INFO = b"portal_social audit chain key v1"

#: Shortest accepted ``PORTAL_SOCIAL_AUDIT_KEYS`` entry: 32 random characters
#: carry well over 128 bits.
MIN_KEY_LENGTH = 32


# Keys ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditKey:
    """One audit chain key: the fingerprint stored with events, and the secret."""

    key_id: str
    secret: bytes = field(repr=False)


def key_fingerprint(secret: bytes) -> str:
    """A short id for ``secret``: an HMAC of a constant under it, so it names the key without revealing it."""
    return hmac.new(secret, b"portal_social audit key id", hashlib.sha256).hexdigest()[:16]


def audit_key_problems(keys: list) -> list[str]:
    """Human-readable problems with ``PORTAL_SOCIAL_AUDIT_KEYS`` (empty when fine).

    Keys are named by position only: a key must never be printed.
    """
    problems = []
    for position, key in enumerate(keys, start=1):
        if not isinstance(key, str):
            problems.append(f"key {position} is not a string")
        elif len(key) < MIN_KEY_LENGTH:
            problems.append(f"key {position} is shorter than {MIN_KEY_LENGTH} characters")
    texts = [key for key in keys if isinstance(key, str)]
    if len(set(texts)) != len(texts):
        problems.append("a key is listed twice")
    return problems


def _derived_secret(encryption_key: str) -> bytes | None:
    try:
        material = base64.urlsafe_b64decode(encryption_key.encode("ascii"))
    except (binascii.Error, ValueError):
        return None  # a malformed encryption key is reported by check E001
    if len(material) != 32:
        return None
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=DERIVED_KEY_INFO).derive(material)


@functools.cache
def _keys_for(secrets: tuple[bytes, ...]) -> tuple[AuditKey, ...]:
    return tuple(AuditKey(key_fingerprint(secret), secret) for secret in secrets)


def derived_audit_keys() -> tuple[AuditKey, ...]:
    """One key derived with HKDF-SHA256 from each ``PORTAL_SOCIAL_ENCRYPTION_KEYS`` key, in order."""
    encryption_keys = (str(key) for key in app_settings.ENCRYPTION_KEYS)
    return _keys_for(tuple(secret for secret in map(_derived_secret, encryption_keys) if secret is not None))


def audit_keys() -> tuple[AuditKey, ...]:
    """The configured audit keys, the signing key first.

    ``PORTAL_SOCIAL_AUDIT_KEYS`` when set; otherwise one key derived with
    HKDF-SHA256 from each ``PORTAL_SOCIAL_ENCRYPTION_KEYS`` key. Raises
    ``ImproperlyConfigured`` when there is none or a key is malformed, so an
    event is never written unsigned.
    """
    configured = app_settings.AUDIT_KEYS
    problems = audit_key_problems(configured)
    if problems:
        raise ImproperlyConfigured("PORTAL_SOCIAL_AUDIT_KEYS: " + "; ".join(problems) + ".")
    keys = _keys_for(tuple(key.encode("utf-8") for key in configured)) if configured else derived_audit_keys()
    if not keys:
        raise ImproperlyConfigured(
            "No audit chain key: set PORTAL_SOCIAL_AUDIT_KEYS, or PORTAL_SOCIAL_ENCRYPTION_KEYS "
            "(an audit key is derived from them when PORTAL_SOCIAL_AUDIT_KEYS is unset)."
        )
    return keys


def signing_key() -> AuditKey:
    """The key that signs new events and the chain head: the first configured."""
    return audit_keys()[0]


# Hashes -------------------------------------------------------------------------


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if value is None:
        return None
    if isinstance(value, dict | list | bool | int):
        return value
    return str(value)


def canonical_payload(content: dict[str, Any]) -> str:
    """The event's hashed fields as canonical JSON (ASCII, sorted keys, no spaces)."""
    return json.dumps(
        {name: _canonical(content[name]) for name in HASHED_FIELDS},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )


def compute_hash(prev_hash: str, content: dict[str, Any], *, key: AuditKey) -> str:
    """HMAC-SHA256 under ``key`` over the key id, the previous hash and the event's content."""
    message = "\n".join((EVENT_SCHEME, key.key_id, prev_hash, canonical_payload(content)))
    return hmac.new(key.secret, message.encode("ascii"), hashlib.sha256).hexdigest()


def seal_head(sequence: int, last_hash: str, *, key: AuditKey) -> str:
    """HMAC-SHA256 under ``key`` over the chain head's sequence number and last hash."""
    message = "\n".join((HEAD_SCHEME, key.key_id, str(sequence), last_hash))
    return hmac.new(key.secret, message.encode("ascii"), hashlib.sha256).hexdigest()


def _content(event: AuditEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in HASHED_FIELDS}


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
        event.hash = compute_hash(head.last_hash, _content(event), key=key)
        event.save(force_insert=True)
        AuditChainHead.objects.filter(pk=1).update(
            last_hash=event.hash, key_id=key.key_id, seal=seal_head(event.sequence, event.hash, key=key)
        )
    return event


# Verifying ----------------------------------------------------------------------


@dataclass(frozen=True)
class ChainProblem:
    sequence: int
    public_id: str
    problem: str

    def __str__(self) -> str:
        return f"audit chain broken at event {self.sequence} ({self.public_id}): {self.problem}"


class ChainBroken(Exception):
    """The chain head cannot be vouched for (raised by ``anchor_head``)."""

    def __init__(self, problem: ChainProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _rows_after(after: tuple[int, int] | None, limit: int, using: str = DEFAULT_DB_ALIAS) -> list[AuditEvent]:
    # Every row of the table in (sequence, id) order, so rows outside the
    # chain (sequence 0, repeats) are seen too, not skipped by the keyset.
    events = AuditEvent.objects.using(using).order_by("sequence", "id")
    if after is not None:
        sequence, pk = after
        events = events.filter(Q(sequence__gt=sequence) | Q(sequence=sequence, id__gt=pk))
    return list(events[:limit])


def iter_chain(batch_size: int = 2000) -> Iterator[AuditEvent]:
    """Every event row in (sequence, id) order, read in keyset-paginated batches."""
    after = None
    while True:
        batch = _rows_after(after, batch_size)
        if not batch:
            return
        yield from batch
        after = (batch[-1].sequence, batch[-1].pk)


class _ChainWalk:
    """Checks events one by one from genesis, then the head and the external anchor."""

    def __init__(self, keys: dict[str, AuditKey], anchor: tuple[int, str] | None, *, using: str) -> None:
        self.keys = keys
        self.anchor = anchor
        self.using = using
        self.expected_sequence = 1
        self.expected_prev = GENESIS_HASH
        self.checked = 0

    def check(self, event: AuditEvent) -> ChainProblem | None:
        def broken(problem: str) -> ChainProblem:
            return ChainProblem(event.sequence, str(event.public_id), problem)

        if event.sequence < self.expected_sequence:
            if event.sequence < 1:
                return broken("it is outside the chain (sequence numbers start at 1)")
            return broken(f"it repeats sequence number {event.sequence}")
        if event.sequence > self.expected_sequence:
            return broken(f"events {self.expected_sequence}..{event.sequence - 1} are missing")
        if event.prev_hash != self.expected_prev:
            return broken("it does not link to the event before it")
        key = self.keys.get(event.key_id)
        if key is None:
            return broken(f"it was signed with an audit key that is not configured (key id {event.key_id!r})")
        if not hmac.compare_digest(compute_hash(event.prev_hash, _content(event), key=key), event.hash):
            return broken("its content was changed, or it was not signed with the audit key")
        if self.anchor is not None and event.sequence == self.anchor[0] and event.hash != self.anchor[1]:
            return broken("its hash differs from the one anchored outside the database")
        self.expected_prev = event.hash
        self.expected_sequence += 1
        self.checked += 1
        return None

    def finish(self, head: AuditChainHead | None) -> ChainProblem | None:
        def broken(problem: str, sequence: int | None = None) -> ChainProblem:
            return ChainProblem(self.checked if sequence is None else sequence, "head", problem)

        if head is None:
            return broken("the chain head is missing")
        if self.checked > head.sequence:
            beyond = AuditEvent.objects.using(self.using).filter(sequence=head.sequence + 1).first()
            public_id = str(beyond.public_id) if beyond is not None else "?"
            return ChainProblem(head.sequence + 1, public_id, f"it lies beyond the chain head ({head.sequence})")
        if self.checked < head.sequence:
            return broken("events after the last one present were removed", head.sequence)
        if head.last_hash != self.expected_prev:
            return broken("the chain head does not match the last event", head.sequence)
        key = self.keys.get(head.key_id)
        if key is None:
            return broken("the chain head is not sealed with a configured audit key", head.sequence)
        if not hmac.compare_digest(seal_head(head.sequence, head.last_hash, key=key), head.seal):
            return broken("the chain head's seal does not match: it was moved without the audit key", head.sequence)
        if self.anchor is not None and self.anchor[0] > self.checked:
            return ChainProblem(
                self.anchor[0],
                "anchor",
                f"the chain ends at event {self.checked} but event {self.anchor[0]} was anchored "
                "outside the database: events were removed",
            )
        return None


def _latest_anchor() -> tuple[int, str] | None:
    from portal_social.adapter import get_adapter

    anchor = get_adapter().latest_audit_anchor()
    if anchor is None:
        return None
    sequence, head_hash = anchor
    return int(sequence), str(head_hash)


@contextlib.contextmanager
def _one_snapshot(using: str) -> Iterator[None]:
    """Reads that see one state of the database (head and newest events agree)."""
    connection = connections[using]
    if connection.in_atomic_block:
        yield  # the caller's transaction decides what it sees
        return
    with transaction.atomic(using=using):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


def verify_chain(
    batch_size: int = 2000, *, check_anchor: bool = True, using: str = DEFAULT_DB_ALIAS
) -> tuple[int, ChainProblem | None]:
    """Walk the chain from the first event; return (events checked, first problem or None).

    Intact means: sequence numbers 1, 2, 3… with no gaps, repeats or rows
    outside the chain; each event links to the one before and its HMAC
    matches under the key its ``key_id`` names (an unknown key id is a
    failure); the head matches the last event and its seal matches; and, when
    the adapter keeps anchors (``latest_audit_anchor``), the anchored event is
    present with the anchored hash.

    Most events are read in batches outside a transaction, so writers are not
    held up; the head and the events after the last batch are then read in
    one snapshot, so events appended meanwhile are not mistaken for forgeries.
    """
    walk = _ChainWalk(
        {key.key_id: key for key in audit_keys()}, _latest_anchor() if check_anchor else None, using=using
    )
    after = None
    while True:
        events = _rows_after(after, batch_size, using)
        for event in events:
            problem = walk.check(event)
            if problem is not None:
                return walk.checked, problem
        if events:
            after = (events[-1].sequence, events[-1].pk)
        if len(events) < batch_size:
            break
    with _one_snapshot(using):
        while events := _rows_after(after, batch_size, using):
            for event in events:
                problem = walk.check(event)
                if problem is not None:
                    return walk.checked, problem
            after = (events[-1].sequence, events[-1].pk)
        return walk.checked, walk.finish(AuditChainHead.objects.using(using).filter(pk=1).first())


# Anchoring ----------------------------------------------------------------------


def _head_problem(
    head: AuditChainHead | None, newest: AuditEvent | None, keys: dict[str, AuditKey]
) -> ChainProblem | None:
    if head is None:
        return ChainProblem(0, "head", "the chain head is missing")
    if newest is None:
        if head.sequence != 0 or head.last_hash != GENESIS_HASH:
            return ChainProblem(head.sequence, "head", "events after the last one present were removed")
    else:
        if newest.sequence != head.sequence or newest.hash != head.last_hash:
            return ChainProblem(head.sequence, "head", "the chain head does not match the last event")
        key = keys.get(newest.key_id)
        if key is None or not hmac.compare_digest(
            compute_hash(newest.prev_hash, _content(newest), key=key), newest.hash
        ):
            return ChainProblem(newest.sequence, str(newest.public_id), "it does not verify under a configured key")
    key = keys.get(head.key_id)
    if key is None or not hmac.compare_digest(seal_head(head.sequence, head.last_hash, key=key), head.seal):
        return ChainProblem(head.sequence, "head", "the chain head's seal does not match")
    return None


def anchor_head(*, using: str = DEFAULT_DB_ALIAS) -> tuple[int, str]:
    """Hand the chain head to ``PortalAdapter.anchor_audit_head``; return (sequence, hash).

    Checks the head's seal and the newest event's HMAC first (not the whole
    chain: that is ``verify_chain``), and raises ``ChainBroken`` rather than
    anchor a head that was moved without the key. Hashes only, never PHI.
    """
    from portal_social.adapter import get_adapter

    keys = {key.key_id: key for key in audit_keys()}
    with _one_snapshot(using):
        head = AuditChainHead.objects.using(using).filter(pk=1).first()
        newest = AuditEvent.objects.using(using).order_by("-sequence").first()
    problem = _head_problem(head, newest, keys)
    if problem is not None:
        raise ChainBroken(problem)
    get_adapter().anchor_audit_head(sequence=head.sequence, head_hash=head.last_hash, at=timezone.now())
    return head.sequence, head.last_hash


# Re-sealing ---------------------------------------------------------------------


def reseal_chain(*, accept_derived_keys: bool = False, using: str = DEFAULT_DB_ALIAS) -> AuditEvent:
    """Re-sign every event and the head under the signing key; return the ``audit.reseal`` event.

    For retiring a key: list the new key first and the old one after it, run
    this, then remove the old key. With ``accept_derived_keys``, events
    signed with keys derived from the encryption keys are accepted too, for
    the one-time move from the derived default to ``PORTAL_SOCIAL_AUDIT_KEYS``.

    The whole chain is verified first (including the external anchor), and
    ``ChainBroken`` is raised without changing anything if it is not intact,
    so re-sealing never launders a forgery. Runs in one transaction holding
    the chain head, so writers wait; needs a database role that owns the
    events table (the guard is lifted meanwhile). The re-sealing is itself
    recorded, with the key ids before and after, and the new head is
    anchored at once: anchors taken before name hashes that no longer exist.
    """
    keys = {key.key_id: key for key in audit_keys()}
    if accept_derived_keys:
        keys.update({key.key_id: key for key in derived_audit_keys()})
    signer = signing_key()
    with transaction.atomic(using=using):
        # Taking the head first, as record() does, keeps writers out meanwhile.
        AuditChainHead.objects.using(using).filter(pk=1).update(sequence=F("sequence"))
        walk = _ChainWalk(keys, _latest_anchor(), using=using)
        events = AuditEvent._base_manager.using(using)
        after = None
        while batch := _rows_after(after, 2000, using):
            for event in batch:
                problem = walk.check(event)
                if problem is not None:
                    raise ChainBroken(problem)
            after = (batch[-1].sequence, batch[-1].pk)
        head = AuditChainHead.objects.using(using).filter(pk=1).first()
        problem = walk.finish(head)
        if problem is not None:
            raise ChainBroken(problem)
        old_key_ids = sorted(set(events.values_list("key_id", flat=True)) | {head.key_id})
        with database_guard_lifted(using):
            prev_hash, after = GENESIS_HASH, None
            while batch := _rows_after(after, 2000, using):
                for event in batch:
                    new_hash = compute_hash(prev_hash, _content(event), key=signer)
                    events.filter(pk=event.pk).update(prev_hash=prev_hash, hash=new_hash, key_id=signer.key_id)
                    prev_hash = new_hash
                after = (batch[-1].sequence, batch[-1].pk)
            AuditChainHead.objects.using(using).filter(pk=1).update(
                last_hash=prev_hash, key_id=signer.key_id, seal=seal_head(head.sequence, prev_hash, key=signer)
            )
        from portal_social.core import audit_events

        event = audit_events.audit_chain_resealed(
            events=walk.checked, from_key_ids=old_key_ids, to_key_id=signer.key_id
        )
    # Every hash changed, so earlier anchors no longer match: anchor the new head at once.
    anchor_head(using=using)
    return event


# The database guard -------------------------------------------------------------

EVENTS_TABLE = "portal_social_auditevent"

#: PostgreSQL: one function refuses UPDATE, DELETE and TRUNCATE; another lets
#: an INSERT through only when it extends the chain. ``record()`` holds the
#: chain head's row lock while it inserts, so the newest event the trigger
#: reads is the one the new event links to.
POSTGRESQL_GUARD = (
    """
    CREATE OR REPLACE FUNCTION portal_social_audit_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'portal_social audit events are append-only (% refused)', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE OR REPLACE FUNCTION portal_social_audit_extends_chain() RETURNS trigger AS $$
    DECLARE
        last_sequence bigint;
        last_hash varchar;
    BEGIN
        SELECT sequence, hash INTO last_sequence, last_hash
            FROM portal_social_auditevent ORDER BY sequence DESC LIMIT 1;
        IF NOT FOUND THEN
            last_sequence := 0;
            last_hash := repeat('0', 64);
        END IF;
        IF NEW.sequence IS DISTINCT FROM last_sequence + 1 OR NEW.prev_hash IS DISTINCT FROM last_hash THEN
            RAISE EXCEPTION 'portal_social audit events must extend the chain (sequence % refused after %)',
                NEW.sequence, last_sequence USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql
    """,
    "DROP TRIGGER IF EXISTS portal_social_audit_append_only ON portal_social_auditevent",
    "DROP TRIGGER IF EXISTS portal_social_audit_no_truncate ON portal_social_auditevent",
    "DROP TRIGGER IF EXISTS portal_social_audit_extends_chain ON portal_social_auditevent",
    """
    CREATE TRIGGER portal_social_audit_append_only
        BEFORE UPDATE OR DELETE ON portal_social_auditevent
        FOR EACH ROW EXECUTE FUNCTION portal_social_audit_append_only()
    """,
    """
    CREATE TRIGGER portal_social_audit_no_truncate
        BEFORE TRUNCATE ON portal_social_auditevent
        FOR EACH STATEMENT EXECUTE FUNCTION portal_social_audit_append_only()
    """,
    """
    CREATE TRIGGER portal_social_audit_extends_chain
        BEFORE INSERT ON portal_social_auditevent
        FOR EACH ROW EXECUTE FUNCTION portal_social_audit_extends_chain()
    """,
)

POSTGRESQL_UNGUARD = (
    "DROP TRIGGER IF EXISTS portal_social_audit_append_only ON portal_social_auditevent",
    "DROP TRIGGER IF EXISTS portal_social_audit_no_truncate ON portal_social_auditevent",
    "DROP TRIGGER IF EXISTS portal_social_audit_extends_chain ON portal_social_auditevent",
    "DROP FUNCTION IF EXISTS portal_social_audit_extends_chain()",
    "DROP FUNCTION IF EXISTS portal_social_audit_append_only()",
)

#: SQLite has no TRUNCATE (``DELETE`` without ``WHERE`` fires the delete
#: trigger once triggers exist). SQLite drops a table's triggers when Django
#: rebuilds the table to alter it, so a migration that alters the events table
#: must call ``install_database_guard`` again; ``portal_social_audit verify``
#: warns when the guard is missing.
SQLITE_GUARD = (
    """
    CREATE TRIGGER IF NOT EXISTS portal_social_audit_no_update
        BEFORE UPDATE ON portal_social_auditevent
    BEGIN
        SELECT RAISE(ABORT, 'portal_social audit events are append-only (UPDATE refused)');
    END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS portal_social_audit_no_delete
        BEFORE DELETE ON portal_social_auditevent
    BEGIN
        SELECT RAISE(ABORT, 'portal_social audit events are append-only (DELETE refused)');
    END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS portal_social_audit_extends_chain
        BEFORE INSERT ON portal_social_auditevent
        WHEN NEW.sequence IS NOT (SELECT COALESCE(MAX(sequence), 0) + 1 FROM portal_social_auditevent)
          OR NEW.prev_hash IS NOT COALESCE(
              (SELECT hash FROM portal_social_auditevent ORDER BY sequence DESC LIMIT 1),
              '0000000000000000000000000000000000000000000000000000000000000000'
          )
    BEGIN
        SELECT RAISE(ABORT, 'portal_social audit events must extend the chain');
    END
    """,
)

SQLITE_UNGUARD = (
    "DROP TRIGGER IF EXISTS portal_social_audit_no_update",
    "DROP TRIGGER IF EXISTS portal_social_audit_no_delete",
    "DROP TRIGGER IF EXISTS portal_social_audit_extends_chain",
)

_GUARD = {"postgresql": POSTGRESQL_GUARD, "sqlite": SQLITE_GUARD}
_UNGUARD = {"postgresql": POSTGRESQL_UNGUARD, "sqlite": SQLITE_UNGUARD}
_GUARD_TRIGGERS = {
    "postgresql": {
        "portal_social_audit_append_only",
        "portal_social_audit_no_truncate",
        "portal_social_audit_extends_chain",
    },
    "sqlite": {"portal_social_audit_no_update", "portal_social_audit_no_delete", "portal_social_audit_extends_chain"},
}


def _execute_all(connection: BaseDatabaseWrapper, statements: tuple[str, ...]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def install_database_guard(connection: BaseDatabaseWrapper) -> None:
    """Create the triggers that keep the events table append-only and linear (PostgreSQL, SQLite)."""
    _execute_all(connection, _GUARD.get(connection.vendor, ()))


def remove_database_guard(connection: BaseDatabaseWrapper) -> None:
    """Drop the triggers ``install_database_guard`` created."""
    _execute_all(connection, _UNGUARD.get(connection.vendor, ()))


def database_guard_installed(connection: BaseDatabaseWrapper) -> bool | None:
    """Whether every guard trigger is present and enabled; ``None`` on other databases."""
    expected = _GUARD_TRIGGERS.get(connection.vendor)
    if expected is None:
        return None
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal AND tgenabled <> 'D'",
                [EVENTS_TABLE],
            )
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [EVENTS_TABLE])
        present = {row[0] for row in cursor.fetchall()}
    return expected <= present


@contextlib.contextmanager
def database_guard_lifted(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Drop the guard triggers for the duration, then create them again.

    For test suites that empty the database between tests with Django's
    ``flush`` (``TransactionTestCase``, ``LiveServerTestCase``, pytest-django's
    ``transaction=True``), which the guard otherwise refuses. Needs a database
    role that owns the events table. The database checks nothing done inside;
    ``verify_chain`` still does.
    """
    connection = connections[using]
    remove_database_guard(connection)
    try:
        yield
    finally:
        install_database_guard(connection)


@contextlib.contextmanager
def flush_lifts_database_guard() -> Iterator[None]:
    """While active, Django's ``flush`` lifts the guard around emptying the tables.

    For test suites only: ``TransactionTestCase``, ``LiveServerTestCase`` and
    pytest-django's ``transaction=True`` tests end with ``flush``, which the
    guard refuses (TRUNCATE on PostgreSQL, DELETE on SQLite). Wrap the test
    session in it, for example in ``conftest.py``::

        @pytest.fixture(autouse=True, scope="session")
        def _flush_lifts_the_audit_guard():
            with audit.flush_lifts_database_guard():
                yield
    """
    from django.db.backends.base.operations import BaseDatabaseOperations

    patched = {type(connections[alias].ops) for alias in connections}
    originals = {ops_class: ops_class.execute_sql_flush for ops_class in patched}

    def wrap(original):
        def execute_sql_flush(self: BaseDatabaseOperations, sql_list: list[str]) -> None:
            with database_guard_lifted(self.connection.alias):
                return original(self, sql_list)

        return execute_sql_flush

    for ops_class, original in originals.items():
        ops_class.execute_sql_flush = wrap(original)
    try:
        yield
    finally:
        for ops_class, original in originals.items():
            ops_class.execute_sql_flush = original
