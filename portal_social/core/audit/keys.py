"""Audit chain keys, and the keyed hashes that sign events and seal the chain head."""

from __future__ import annotations

import base64
import binascii
import datetime
import functools
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.core.exceptions import ImproperlyConfigured

from portal_social.conf import app_settings

if TYPE_CHECKING:
    from portal_social.core.models import AuditEvent

GENESIS_HASH = "0" * 64

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


def hashed_content(event: AuditEvent) -> dict[str, Any]:
    """The event's fields the hash covers, by name (``HASHED_FIELDS``)."""
    return {name: getattr(event, name) for name in HASHED_FIELDS}
