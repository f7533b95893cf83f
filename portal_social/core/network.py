"""The client's address, read the same way by the audit log and every rate limit.

Behind a load balancer, Django's ``REMOTE_ADDR`` is the balancer's address,
and the client's is in ``X-Forwarded-For``. That header is whatever the
client sent, with each proxy appending the address it received the request
from, so only the entries appended by proxies the portal trusts are facts.
``client_ip`` walks the header from the right, past the trusted proxies
(``PORTAL_SOCIAL_TRUSTED_PROXIES``), and takes the first address that is not
one of them: the client as the outermost trusted proxy saw it. Anything to
its left was written by the client and is ignored.

The header is read only when ``REMOTE_ADDR`` itself is a trusted proxy.
Otherwise the request did not come through one, and a forged header would
put any address in the audit trail or give an attacker a fresh rate-limit
count on every request.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import TYPE_CHECKING

from portal_social.conf import app_settings

if TYPE_CHECKING:
    from django.http import HttpRequest

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_address(raw: str) -> Address | None:
    """One address as a proxy or server writes it, or None when it is not one.

    Accepts ``203.0.113.5``, ``2001:db8::1``, and the forms some load
    balancers write into ``X-Forwarded-For``: with a port (``203.0.113.5:4711``,
    ``[2001:db8::1]:443``) or an IPv6 zone (``fe80::1%eth0``). An IPv4 address
    mapped into IPv6 (``::ffff:203.0.113.5``) is returned as IPv4, so it
    matches IPv4 proxy networks and is stored one way.
    """
    text = raw.strip()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    # A zone names the server's own interface; it is not part of the address
    # and the database's address column refuses it.
    text = text.split("%", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def proxy_problems(entries: tuple[str, ...] | list[str]) -> list[str]:
    """What is wrong with each ``PORTAL_SOCIAL_TRUSTED_PROXIES`` entry (used by check E016)."""
    problems = []
    for entry in entries:
        try:
            network = ipaddress.ip_network(entry, strict=True)
        except ValueError as exc:
            problems.append(f"{entry!r} is not an IP address or network ({exc})")
            continue
        if network.prefixlen == 0:
            problems.append(f"{entry!r} trusts every address, so any client could choose the address recorded")
    return problems


@lru_cache(maxsize=16)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    networks = []
    for entry in entries:
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            continue  # reported by system check E016; never widen trust on a typo
        if network.prefixlen:
            networks.append(network)
    return tuple(networks)


def trusted_proxies() -> tuple[Network, ...]:
    """The networks in ``PORTAL_SOCIAL_TRUSTED_PROXIES``, malformed entries left out."""
    return _networks(tuple(app_settings.TRUSTED_PROXIES))


def _is_trusted(address: Address, networks: tuple[Network, ...]) -> bool:
    return any(address.version == network.version and address in network for network in networks)


def client_ip(request: HttpRequest | None) -> str | None:
    """The address of the client that sent ``request``, normalised; None when unknown.

    ``REMOTE_ADDR`` unless it is a trusted proxy; then the right-most
    ``X-Forwarded-For`` entry that is not a trusted proxy. If every entry is
    a trusted proxy (a request from inside the proxies' own network), the
    left-most one. A malformed entry ends the walk at the last trusted hop
    before it: nothing beyond a malformed entry can be vouched for.
    """
    if request is None:
        return None
    remote = parse_address(request.META.get("REMOTE_ADDR") or "")
    if remote is None:
        return None
    networks = trusted_proxies()
    if not networks or not _is_trusted(remote, networks):
        return remote.compressed
    hop = remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR") or ""
    for entry in reversed(forwarded.split(",")) if forwarded.strip() else ():
        address = parse_address(entry)
        if address is None:
            break
        hop = address
        if not _is_trusted(address, networks):
            break
    return hop.compressed
