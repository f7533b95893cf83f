"""Rate limits for actions, per user and per IP address, kept in the cache.

Actions call ``check(action, request=..., user=...)`` before changing
anything; past the limit it raises ``RateLimited`` with a message that says
how long to wait. Fixed windows in the default cache: with Redis in
production every worker shares the counts.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied

from portal_social.conf import app_settings
from portal_social.core.audit import client_ip

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

#: Defaults per action; ``PORTAL_SOCIAL_RATE_LIMITS`` overrides or adds.
DEFAULT_LIMITS: dict[str, str] = {
    "break_glass": "5/h",
    "review": "5/d",
    "community_post": "30/h",
    "message": "60/10m",
    "feedback": "10/h",
    "flag": "30/h",
}

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Rate:
    amount: int
    seconds: int


def parse_rate(text: str) -> Rate:
    """``"5/m"``, ``"20/15m"`` or ``"100/d"`` -> Rate. ValueError when malformed."""
    try:
        amount_text, period = text.strip().split("/")
        amount = int(amount_text)
        unit = period[-1]
        count = int(period[:-1]) if period[:-1] else 1
        seconds = count * _UNITS[unit]
    except (ValueError, KeyError, IndexError):
        raise ValueError(f"Malformed rate {text!r}: use N/period such as '5/m' or '20/15m'.") from None
    if amount < 1 or seconds < 1:
        raise ValueError(f"Malformed rate {text!r}: amount and period must be positive.")
    return Rate(amount, seconds)


def limit_for(action: str) -> Rate | None:
    configured = {**DEFAULT_LIMITS, **app_settings.RATE_LIMITS}
    text = configured.get(action)
    return parse_rate(text) if text else None


class RateLimited(PermissionDenied):
    """Too many attempts; ``retry_after`` is in seconds."""

    def __init__(self, retry_after: int):
        self.retry_after = max(1, int(retry_after))
        super().__init__(self.message)

    @property
    def message(self) -> str:
        minutes = math.ceil(self.retry_after / 60)
        if self.retry_after < 60:
            wait = f"{self.retry_after} seconds"
        elif minutes == 1:
            wait = "a minute"
        else:
            wait = f"{minutes} minutes"
        return f"You have done that too many times. Please try again in {wait}."


def _key(action: str, kind: str, value: str, window: int) -> str:
    # Hashed with the secret key: the cache holds no user ids or addresses.
    digest = hashlib.blake2b(f"{kind}:{value}".encode(), key=settings.SECRET_KEY.encode()[:64], digest_size=12)
    return f"portal_social:rl:{action}:{digest.hexdigest()}:{window}"


def _hit(action: str, kind: str, value: str, rate: Rate, now: float) -> int | None:
    """Count one attempt; return seconds to wait if over the limit, else None."""
    window = int(now // rate.seconds)
    key = _key(action, kind, value, window)
    cache.add(key, 0, timeout=rate.seconds + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.add(key, 1, timeout=rate.seconds + 1)
        count = 1
    if count > rate.amount:
        return int((window + 1) * rate.seconds - now) + 1
    return None


def check(
    action: str,
    *,
    request: HttpRequest | None = None,
    user: AbstractBaseUser | None = None,
) -> None:
    """Count an attempt at ``action`` by this user and this IP; raise ``RateLimited`` past the limit."""
    rate = limit_for(action)
    if rate is None:
        return
    if user is None and request is not None:
        user = request.user
    now = time.time()
    waits = []
    if user is not None and getattr(user, "is_authenticated", False):
        waits.append(_hit(action, "user", str(user.pk), rate, now))
    ip = client_ip(request)
    if ip:
        waits.append(_hit(action, "ip", ip, rate, now))
    waits = [wait for wait in waits if wait is not None]
    if waits:
        raise RateLimited(max(waits))


def reset(action: str, *, user: AbstractBaseUser | None = None, ip: str | None = None) -> None:
    """Forget the current window's count (for support staff unlocking someone)."""
    rate = limit_for(action)
    if rate is None:
        return
    window = int(time.time() // rate.seconds)
    if user is not None:
        cache.delete(_key(action, "user", str(user.pk), window))
    if ip:
        cache.delete(_key(action, "ip", ip, window))
