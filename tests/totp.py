"""Authenticator codes for tests, computed as a phone app would.

The portal accepts only the code of the current 30-second window (allauth's
``MFA_TOTP_TOLERANCE`` is 0). A code computed in a window's last moments can
reach the server in the next one and be refused, so every test takes its code
through :func:`fresh_totp_code`, which waits for the next window when the
current one is nearly over.
"""

from __future__ import annotations

import time

TOTP_PERIOD = 30
#: Seconds a code must still have in its window when a test takes it.
MARGIN_SECONDS = 3.0


def totp_code(secret: str, *, counter: int | None = None) -> str:
    """The RFC 6238 code (SHA-1, 30 s, 6 digits) for ``counter``, by allauth's own HOTP functions."""
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    if counter is None:
        counter = int(time.time()) // TOTP_PERIOD
    return format_hotp_value(hotp_value(secret, counter))


def fresh_totp_code(secret: str, *, margin: float = MARGIN_SECONDS) -> tuple[str, int]:
    """A code with at least ``margin`` seconds of its window left, and its counter."""
    left = TOTP_PERIOD - time.time() % TOTP_PERIOD
    if left < margin:
        time.sleep(left + 0.1)
    counter = int(time.time()) // TOTP_PERIOD
    return totp_code(secret, counter=counter), counter


def current_code(secret: str) -> str:
    """The code to type now: one that stays valid for the next few seconds."""
    return fresh_totp_code(secret)[0]


def wait_for_next_totp_window(counter: int) -> None:
    """Sleep (at most one period) until the TOTP window after ``counter`` begins."""
    remaining = (counter + 1) * TOTP_PERIOD - time.time()
    if remaining > 0:
        time.sleep(min(remaining + 0.1, TOTP_PERIOD + 1))
