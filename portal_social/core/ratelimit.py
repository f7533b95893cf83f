"""Rate limits for actions: per signed-in person, with a generous per-address backstop.

Actions call ``check(action, request=..., user=...)`` before changing
anything; past the limit it raises ``RateLimited`` with a message that says
how long to wait. Fixed windows in the default cache: with Redis in
production every worker shares the counts.

Why per person first: everyone behind a hospital's network, or behind a load
balancer the portal does not know about, shares one address. A limit per
address that is tight enough to stop one person would stop the whole
hospital, and one person could use it up for everybody. So the person's own
limit is the real one and the address limit is set far above what a crowd
of honest people reaches; it only catches one client running through many
accounts.

Addresses are ``portal_social.core.network.client_ip``: the client behind
the trusted proxies, never an address a client can choose.

Only attempts that succeed use up a limit. Inside a request served through
``portal_social.core.middleware.RateLimitRefundMiddleware`` each count that
``check`` adds is remembered for the request (``charges_for_request``), and
given back when the request fails: an exception, or a 5xx answer such as
"the database is busy, please try again". A patient whose review failed five
times on the server's side can still send it.
"""

from __future__ import annotations

import contextvars
import hashlib
import ipaddress
import logging
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache

from portal_social.conf import app_settings
from portal_social.core.errors import Denied
from portal_social.core.network import client_ip

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

#: Defaults per action; ``PORTAL_SOCIAL_RATE_LIMITS`` overrides or adds. The
#: first rate is each person's; the ``/ip`` rate is the backstop per address.
logger = logging.getLogger("portal_social.ratelimit")

DEFAULT_LIMITS: dict[str, str] = {
    "break_glass": "5/h,200/h/ip",
    "review": "5/d,1000/d/ip",
    "community_post": "30/h,3000/h/ip",
    "community_edit": "30/h,3000/h/ip",
    "message": "60/10m,6000/10m/ip",
    "message_typing": "30/m,3000/m/ip",
    "feedback": "10/h,1000/h/ip",
    # The feedback intake API: the first rate counts per intake key (each tool), the backstop per address.
    "intake_api": "600/h,18000/h/ip",
    "flag": "30/h,1000/h/ip",
    "community_react": "120/h,6000/h/ip",
    # Password spraying: how many *different* accounts may fail to sign in
    # from one address in the period before that address is refused. Counted
    # with ``count_distinct``, not ``check``; correct sign-ins never count.
    "sign_in_spray": "100/h/ip",
}

#: The ``sign_in_spray`` limit's name, for the account adapter.
SIGN_IN_SPRAY = "sign_in_spray"

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_SCOPES = ("user", "ip")
#: IPv6 clients usually hold a whole /64; counting single addresses would give
#: one of them 2**64 fresh counts.
_IPV6_PREFIX = 64


@dataclass(frozen=True)
class Rate:
    amount: int
    seconds: int


@dataclass(frozen=True)
class Limit:
    """One rate and what it counts: ``"user"`` (the signed-in person) or ``"ip"`` (the address)."""

    rate: Rate
    per: str


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


def parse_limits(text: str) -> tuple[Limit, ...]:
    """``"5/d,1000/d/ip"`` -> a per-user Limit and a per-address Limit. ValueError when malformed.

    A rate without a scope counts per user; ``/user`` says so explicitly and
    ``/ip`` counts per client address.
    """
    limits = []
    for part in text.split(","):
        part = part.strip()
        rate_text, per = part, "user"
        if part.count("/") == 2:
            rate_text, per = part.rsplit("/", 1)
            if per not in _SCOPES:
                raise ValueError(f"Malformed rate {part!r}: the scope after the period is 'user' or 'ip'.")
        limits.append(Limit(parse_rate(rate_text), per))
    return tuple(limits)


def limits_for(action: str) -> tuple[Limit, ...]:
    """The limits configured for ``action``; empty when it is not limited."""
    configured = {**DEFAULT_LIMITS, **app_settings.RATE_LIMITS}
    text = configured.get(action)
    return parse_limits(text) if text else ()


class RateLimited(Denied):
    """Too many attempts; ``retry_after`` is in seconds."""

    code = "rate_limited"

    def __init__(self, retry_after: int):
        self.retry_after = max(1, int(retry_after))
        super().__init__()

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


def _address_key(ip: str) -> str:
    address = ipaddress.ip_address(ip)
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/{_IPV6_PREFIX}", strict=False).network_address)
    return ip


def _key(action: str, kind: str, value: str, rate: Rate, window: int) -> str:
    # Hashed with the secret key: the cache holds no user ids or addresses.
    digest = hashlib.blake2b(f"{kind}:{value}".encode(), key=settings.SECRET_KEY.encode()[:64], digest_size=12)
    return f"portal_social:rl:{action}:{rate.seconds}:{digest.hexdigest()}:{window}"


def _incr(key: str, rate: Rate) -> int:
    cache.add(key, 0, timeout=rate.seconds + 1)
    try:
        return cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.add(key, 1, timeout=rate.seconds + 1)
        return 1


def _incr_all(counts: list[tuple[str, Rate]]) -> list[int]:
    """:func:`_incr` for each ``(key, rate)``. With Django's Redis cache, one round trip for all of them
    (each key created with its window's expiry if missing, then incremented, in one MULTI/EXEC)."""
    from django.core.cache.backends.redis import RedisCache

    client = getattr(cache, "_cache", None)
    if not counts or not isinstance(cache, RedisCache) or not hasattr(client, "get_client"):
        return [_incr(key, rate) for key, rate in counts]
    names = [cache.make_and_validate_key(key) for key, _rate in counts]
    pipe = client.get_client(names[0], write=True).pipeline(transaction=True)
    for name, (_key, rate) in zip(names, counts, strict=True):
        pipe.set(name, 0, ex=rate.seconds + 1, nx=True)  # what cache.add(key, 0) writes
        pipe.incr(name)
    return [int(count) for count in pipe.execute()[1::2]]


def _wait(rate: Rate, window: int, now: float) -> int:
    return int((window + 1) * rate.seconds - now) + 1


@dataclass
class Charges:
    """The counts one request added, so that they can be given back if it fails."""

    keys: list[str] = field(default_factory=list)

    def refund(self) -> int:
        """Take back every count this request added; return how many were taken back."""
        refunded = 0
        keys, self.keys = self.keys, []
        for key in keys:
            try:
                if cache.decr(key) < 0:  # the window ended and restarted meanwhile
                    cache.delete(key)
            except ValueError:  # the window ended: nothing to give back
                continue
            except Exception as exc:  # the cache is down: the count expires with its window anyway
                logger.warning("rate-limit refund skipped (%s)", type(exc).__name__)
                break
            refunded += 1
        return refunded


_charges: contextvars.ContextVar[Charges | None] = contextvars.ContextVar(
    "portal_social_ratelimit_charges", default=None
)


@contextmanager
def charges_for_request() -> Iterator[Charges]:
    """Remember the counts ``check`` adds inside the block (one request); the caller refunds them on failure."""
    charges = Charges()
    token = _charges.set(charges)
    try:
        yield charges
    finally:
        _charges.reset(token)


def refund_current() -> int:
    """Give back the counts the current request has added so far (for an action that failed cleanly)."""
    charges = _charges.get()
    return charges.refund() if charges is not None else 0


def _hit_all(hits: list[tuple[str, str, str, Rate]], now: float) -> list[int | None]:
    """Count one attempt for each ``(action, kind, value, rate)``, all together; for each, the seconds to
    wait if it is over its limit, else None."""
    planned = []
    for action, kind, value, rate in hits:
        window = int(now // rate.seconds)
        planned.append((_key(action, kind, value, rate, window), rate, window))
    counts = _incr_all([(key, rate) for key, rate, _window in planned])
    charges = _charges.get()
    if charges is not None:
        charges.keys.extend(key for key, _rate, _window in planned)
    return [
        _wait(rate, window, now) if count > rate.amount else None
        for (_key_, rate, window), count in zip(planned, counts, strict=True)
    ]


def _signed_in(user: AbstractBaseUser | None) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False))


def check(
    action: str,
    *,
    request: HttpRequest | None = None,
    user: AbstractBaseUser | None = None,
) -> None:
    """Count an attempt at ``action``; raise ``RateLimited`` past any of its limits.

    Per-user rates count against the signed-in ``user`` (``request.user`` when
    not given). Someone not signed in has no other identity than an address,
    so for them the per-user rates count against the address. ``/ip`` rates
    always count against the address.
    """
    limits = limits_for(action)
    if not limits:
        return
    if user is None and request is not None:
        user = getattr(request, "user", None)
    ip = client_ip(request)
    address = _address_key(ip) if ip else None
    now = time.time()
    hits = []
    for limit in limits:
        if limit.per == "user" and _signed_in(user):
            hits.append((action, "user", str(user.pk), limit.rate))
        elif limit.per == "user" and address:
            hits.append((action, "anonymous", address, limit.rate))
        elif limit.per == "ip" and address:
            hits.append((action, "ip", address, limit.rate))
    waits = [wait for wait in _hit_all(hits, now) if wait is not None]
    if waits:
        raise RateLimited(max(waits))


def reset(action: str, *, user: AbstractBaseUser | None = None, ip: str | None = None) -> None:
    """Forget the current window's counts for a user, an address or both (support staff unlocking someone)."""
    now = time.time()
    address = _address_key(ip) if ip else None
    for limit in limits_for(action):
        window = int(now // limit.rate.seconds)
        if user is not None and limit.per == "user":
            cache.delete(_key(action, "user", str(user.pk), limit.rate, window))
        if address and limit.per == "user":
            cache.delete(_key(action, "anonymous", address, limit.rate, window))
        if address and limit.per == "ip":
            cache.delete(_key(action, "ip", address, limit.rate, window))
            cache.delete(_key(action, "distinct", address, limit.rate, window))


def _address_limit(action: str) -> Rate | None:
    return next((limit.rate for limit in limits_for(action) if limit.per == "ip"), None)


def count_distinct(action: str, *, request: HttpRequest | None, member: str) -> None:
    """Count ``member`` once per window against the client's address.

    For limits on how many *different* things one address touches (accounts
    that failed to sign in, for ``sign_in_spray``), where a person retrying
    their own account many times must not count more than once.
    """
    rate = _address_limit(action)
    ip = client_ip(request)
    if rate is None or not ip:
        return
    address = _address_key(ip)
    window = int(time.time() // rate.seconds)
    # ``add`` is atomic in every cache backend: only the first sighting of a
    # member in this window increments the count.
    if cache.add(_key(action, "seen", f"{address}|{member}", rate, window), 1, timeout=rate.seconds + 1):
        _incr(_key(action, "distinct", address, rate, window), rate)


def distinct_wait(action: str, *, request: HttpRequest | None) -> int | None:
    """Seconds until the client's address may try again, once it has reached ``action``'s distinct limit."""
    rate = _address_limit(action)
    ip = client_ip(request)
    if rate is None or not ip:
        return None
    now = time.time()
    window = int(now // rate.seconds)
    if (cache.get(_key(action, "distinct", _address_key(ip), rate, window)) or 0) >= rate.amount:
        return _wait(rate, window, now)
    return None
