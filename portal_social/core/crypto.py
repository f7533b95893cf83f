"""Encryption keys for PHI at rest (MultiFernet: first key encrypts, all decrypt).

Keys come only from ``PORTAL_SOCIAL_ENCRYPTION_KEYS`` (settings or the
environment), never from the database.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, MultiFernet
from django.core.exceptions import ImproperlyConfigured

from portal_social.conf import app_settings


def key_problems(keys: list[str]) -> list[str]:
    """Human-readable problems with a list of Fernet keys (empty when fine).

    The message names the key by position only: a key must never be printed.
    """
    problems = []
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            problems.append(f"key {position} is not a Fernet key (32 url-safe base64-encoded bytes)")
    if len(set(keys)) != len(keys):
        problems.append("a key is listed twice")
    return problems


def get_fernet() -> MultiFernet:
    """The MultiFernet built from the configured keys.

    Raises ``ImproperlyConfigured`` when keys are missing or malformed, so PHI
    is never written in plaintext by accident.
    """
    keys = app_settings.ENCRYPTION_KEYS
    if not keys:
        raise ImproperlyConfigured(
            "PORTAL_SOCIAL_ENCRYPTION_KEYS is empty. Generate a key with "
            "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`."
        )
    problems = key_problems(keys)
    if problems:
        raise ImproperlyConfigured("PORTAL_SOCIAL_ENCRYPTION_KEYS: " + "; ".join(problems) + ".")
    return MultiFernet([Fernet(key) for key in keys])
