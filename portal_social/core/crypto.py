"""Encryption keys for PHI at rest (MultiFernet: first key encrypts, all decrypt).

Keys come only from ``PORTAL_SOCIAL_ENCRYPTION_KEYS`` (settings or the
environment), never from the database.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import os
from collections.abc import Callable, Iterator

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage
from django.db import models, transaction

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


def key_fingerprint(key: str) -> str:
    """A short id for an encryption key that names it without revealing it.

    An HMAC of a constant under the key's bytes: the same key always gives
    the same id, and the id gives no way back to the key.
    """
    try:
        secret = base64.urlsafe_b64decode(str(key).encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        secret = str(key).encode("utf-8")
    return hmac.new(secret, b"portal_social encryption key id", hashlib.sha256).hexdigest()[:16]


def key_fingerprints() -> list[str]:
    """Fingerprints of ``PORTAL_SOCIAL_ENCRYPTION_KEYS``, the current (encrypting) key first."""
    return [key_fingerprint(key) for key in app_settings.ENCRYPTION_KEYS]


# Fields and storage ---------------------------------------------------------------


#: Stored values start with this, so encrypted and legacy values are told apart
#: and a column can be checked for plaintext.
TOKEN_PREFIX = "fernet:"


class DecryptionFailed(ValueError):
    """A stored value cannot be decrypted with any configured key."""


def encrypt_text(value: str) -> str:
    return TOKEN_PREFIX + get_fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt_text(token: str) -> str:
    if not token.startswith(TOKEN_PREFIX):
        raise DecryptionFailed("The stored value is not an encrypted token.")
    try:
        return get_fernet().decrypt(token[len(TOKEN_PREFIX) :].encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise DecryptionFailed(
            "A stored value cannot be decrypted with PORTAL_SOCIAL_ENCRYPTION_KEYS; "
            "was a key removed before portal_social_rotate_keys finished?"
        ) from None


def is_current(token: str) -> bool:
    """Whether ``token`` is encrypted with the first (current) key."""
    keys = app_settings.ENCRYPTION_KEYS
    if not token.startswith(TOKEN_PREFIX) or not keys:
        return False
    try:
        Fernet(keys[0]).decrypt(token[len(TOKEN_PREFIX) :].encode("ascii"))
    except InvalidToken:
        return False
    return True


def rotate_token(token: str) -> str:
    """Re-encrypt ``token`` under the first key (any configured key may read it)."""
    return TOKEN_PREFIX + get_fernet().rotate(token[len(TOKEN_PREFIX) :].encode("ascii")).decode("ascii")


class EncryptedTextField(models.TextField):
    """Text encrypted with the portal's keys before it reaches the database.

    The column holds ``fernet:<token>``; Python code sees plain ``str``. It
    cannot be searched, ordered or indexed by content — by design. With no
    valid keys, saving raises ``ImproperlyConfigured`` rather than writing
    plaintext.
    """

    description = "Text encrypted at rest"

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt_text(str(value))

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt_text(value)

    def get_internal_type(self) -> str:
        return "TextField"


class EncryptedFileSystemStorage(FileSystemStorage):
    """File storage that encrypts every file's bytes (for attachments).

    Files are encrypted whole in memory, so keep uploads bounded (the forms
    that use it enforce a size limit). The stored file starts with
    ``fernet:``; ``open()`` returns the decrypted bytes.
    """

    magic = TOKEN_PREFIX.encode("ascii")

    def _save(self, name, content):
        content.seek(0)
        raw = content.read()
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        token = self.magic + get_fernet().encrypt(raw)
        return super()._save(name, ContentFile(token))

    def _open(self, name, mode="rb"):
        if "w" in mode or "a" in mode:
            raise ValueError("Encrypted files are written with save(), not opened for writing.")
        with super()._open(name, "rb") as stored:
            token = stored.read()
        if not token.startswith(self.magic):
            raise DecryptionFailed("The stored file is not encrypted.")
        try:
            data = get_fernet().decrypt(token[len(self.magic) :])
        except InvalidToken:
            raise DecryptionFailed("A stored file cannot be decrypted with the configured keys.") from None
        return File(io.BytesIO(data), name=name)

    def size(self, name):
        # The plaintext size, which is what callers mean.
        with self.open(name) as handle:
            return len(handle.read())

    def rotate(self, name) -> bool:
        """Re-encrypt one stored file under the current key. Returns whether it changed."""
        path = self.path(name)
        with open(path, "rb") as stored:
            token = stored.read()
        if is_current(token.decode("ascii")):
            return False
        fresh = self.magic + get_fernet().rotate(token[len(self.magic) :])
        tmp = path + ".rotating"
        with open(tmp, "wb") as out:
            out.write(fresh)
        os.replace(tmp, path)
        return True


# Rotation -------------------------------------------------------------------------


def encrypted_fields() -> Iterator[tuple[type[models.Model], list[EncryptedTextField]]]:
    """Every installed model with encrypted columns, and those columns."""
    from django.apps import apps

    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if fields:
            yield model, fields


def rotate_keys(*, batch_size: int = 500, progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Re-encrypt every stored value under the first key; return re-encrypted rows by model label.

    Covers every ``EncryptedTextField`` and the second-factor seeds
    ``PortalMFAAdapter`` stores. Works in batches, each in its own
    transaction, skipping values already under the current key, so an
    interrupted run is resumed by running it again. ``progress(label, rows)``
    is called as each model is finished. The run is recorded in the audit
    trail as ``keys.rotated`` with the counts and the keys' fingerprints
    (never the keys). Raises ``ImproperlyConfigured`` before touching
    anything when the keys are missing or malformed.
    """
    get_fernet()  # fails early, clearly, on missing or malformed keys
    rows: dict[str, int] = {}
    for model, fields in encrypted_fields():
        rows[model._meta.label] = _rotate_model(model, fields, batch_size)
        if progress is not None:
            progress(model._meta.label, rows[model._meta.label])
    rows["mfa.Authenticator"] = _rotate_mfa_secrets(batch_size)
    if progress is not None:
        progress("mfa.Authenticator", rows["mfa.Authenticator"])

    from portal_social.core import audit_events

    fingerprints = key_fingerprints()
    audit_events.keys_rotated(rows=rows, current_key_id=fingerprints[0], key_ids=fingerprints)
    return rows


def _rotate_model(model: type[models.Model], fields: list[EncryptedTextField], batch_size: int) -> int:
    columns = [f.column for f in fields]
    table = model._meta.db_table
    pk = model._meta.pk.column
    rotated = 0
    last = None
    while True:
        # Raw column values: the tokens, not the decrypted text.
        rows = _batch(table, pk, columns, last, batch_size)
        if not rows:
            return rotated
        with transaction.atomic(using="default"):
            for row in rows:
                updates = {
                    field.attname: rotate_token(token)
                    for field, token in zip(fields, row[1:], strict=True)
                    if token and not is_current(token)
                }
                if updates:
                    _write(table, pk, row[0], updates, fields)
                    rotated += 1
        last = rows[-1][0]


def _rotate_mfa_secrets(batch_size: int) -> int:
    """TOTP and recovery-code seeds stored by PortalMFAAdapter ("fernet:" values)."""
    from allauth.mfa.models import Authenticator

    rotated = 0
    last = 0
    while True:
        batch = list(Authenticator.objects.filter(pk__gt=last).order_by("pk")[:batch_size])
        if not batch:
            return rotated
        with transaction.atomic():
            for authenticator in batch:
                data = dict(authenticator.data or {})
                changed = False
                for key, value in data.items():
                    if isinstance(value, str) and value.startswith(TOKEN_PREFIX) and not is_current(value):
                        data[key] = rotate_token(value)
                        changed = True
                if changed:
                    Authenticator.objects.filter(pk=authenticator.pk).update(data=data)
                    rotated += 1
        last = batch[-1].pk


def _batch(table: str, pk: str, columns: list[str], last, size: int) -> list[tuple]:
    from django.db import connection

    quote = connection.ops.quote_name
    select = ", ".join(quote(c) for c in [pk, *columns])
    where = f" WHERE {quote(pk)} > %s" if last is not None else ""
    sql = f"SELECT {select} FROM {quote(table)}{where} ORDER BY {quote(pk)} LIMIT %s"  # noqa: S608
    params = [last, size] if last is not None else [size]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _write(table: str, pk: str, pk_value, updates: dict[str, str], fields: list[EncryptedTextField]) -> None:
    from django.db import connection

    quote = connection.ops.quote_name
    columns = {f.attname: f.column for f in fields}
    assignments = ", ".join(f"{quote(columns[name])} = %s" for name in updates)
    sql = f"UPDATE {quote(table)} SET {assignments} WHERE {quote(pk)} = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*updates.values(), pk_value])
