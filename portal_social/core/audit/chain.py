"""Proving the audit chain intact (``verify_chain``), anchoring its head outside the
database (``anchor_head``), and re-signing it under a new key (``reseal_chain``)."""

from __future__ import annotations

import contextlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from portal_social.core.audit.guard import database_guard_lifted
from portal_social.core.audit.keys import (
    GENESIS_HASH,
    AuditKey,
    audit_keys,
    compute_hash,
    derived_audit_keys,
    hashed_content,
    seal_head,
    signing_key,
)
from portal_social.core.models import AuditChainHead, AuditEvent

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
        if not hmac.compare_digest(compute_hash(event.prev_hash, hashed_content(event), key=key), event.hash):
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
            compute_hash(newest.prev_hash, hashed_content(newest), key=key), newest.hash
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
                    new_hash = compute_hash(prev_hash, hashed_content(event), key=signer)
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
