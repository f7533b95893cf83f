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

The package: :mod:`.keys` (keys, hashes, seals), :mod:`.writing`
(``record``), :mod:`.chain` (verify, anchor, re-seal) and :mod:`.guard` (the
database triggers). Import the names from here::

    from portal_social.core import audit

    audit.verify_chain()
"""

from portal_social.core.audit.chain import (
    ChainBroken,
    ChainProblem,
    anchor_head,
    iter_chain,
    reseal_chain,
    verify_chain,
)
from portal_social.core.audit.guard import (
    EVENTS_TABLE,
    POSTGRESQL_GUARD,
    POSTGRESQL_UNGUARD,
    SQLITE_GUARD,
    SQLITE_UNGUARD,
    database_guard_installed,
    database_guard_lifted,
    flush_lifts_database_guard,
    install_database_guard,
    remove_database_guard,
)
from portal_social.core.audit.keys import (
    DERIVED_KEY_INFO,
    EVENT_SCHEME,
    GENESIS_HASH,
    HASHED_FIELDS,
    HEAD_SCHEME,
    MIN_KEY_LENGTH,
    AuditKey,
    audit_key_problems,
    audit_keys,
    canonical_payload,
    compute_hash,
    derived_audit_keys,
    hashed_content,
    key_fingerprint,
    seal_head,
    signing_key,
)
from portal_social.core.audit.writing import Severity, client_ip, record

__all__ = [
    "DERIVED_KEY_INFO",
    "EVENTS_TABLE",
    "EVENT_SCHEME",
    "GENESIS_HASH",
    "HASHED_FIELDS",
    "HEAD_SCHEME",
    "MIN_KEY_LENGTH",
    "POSTGRESQL_GUARD",
    "POSTGRESQL_UNGUARD",
    "SQLITE_GUARD",
    "SQLITE_UNGUARD",
    "AuditKey",
    "ChainBroken",
    "ChainProblem",
    "Severity",
    "anchor_head",
    "audit_key_problems",
    "audit_keys",
    "canonical_payload",
    "client_ip",
    "compute_hash",
    "database_guard_installed",
    "database_guard_lifted",
    "derived_audit_keys",
    "flush_lifts_database_guard",
    "hashed_content",
    "install_database_guard",
    "iter_chain",
    "key_fingerprint",
    "record",
    "remove_database_guard",
    "reseal_chain",
    "seal_head",
    "signing_key",
    "verify_chain",
]
