"""Encryption keys for PHI at rest (MultiFernet: first key encrypts, all decrypt).

Keys come only from ``PORTAL_SOCIAL_ENCRYPTION_KEYS`` (settings or the
environment), never from the database.
"""

from __future__ import annotations

import io
import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage
from django.db import models

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
