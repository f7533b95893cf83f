"""allauth MFA adapter that keeps second-factor secrets encrypted at rest.

Set ``MFA_ADAPTER = "portal_social.core.mfa.PortalMFAAdapter"``. TOTP seeds and
recovery-code seeds are encrypted with the portal's Fernet keys, so a copy of
the database alone cannot mint codes.
"""

from __future__ import annotations

from allauth.mfa.adapter import DefaultMFAAdapter
from cryptography.fernet import InvalidToken

from portal_social.core.crypto import get_fernet

_PREFIX = "fernet:"


class PortalMFAAdapter(DefaultMFAAdapter):
    def encrypt(self, text: str) -> str:
        return _PREFIX + get_fernet().encrypt(text.encode()).decode()

    def decrypt(self, encrypted_text: str) -> str:
        if not encrypted_text.startswith(_PREFIX):
            # Enrolled before this adapter was configured: stored as allauth
            # stores it by default. Re-enrolling the factor encrypts it.
            return encrypted_text
        try:
            return get_fernet().decrypt(encrypted_text[len(_PREFIX) :].encode()).decode()
        except InvalidToken as exc:
            raise ValueError(
                "An MFA secret cannot be decrypted with PORTAL_SOCIAL_ENCRYPTION_KEYS; "
                "was a key removed before rotation finished?"
            ) from exc
