"""Detectors for contact details: phone and fax numbers, e-mail, URLs, handles, IP addresses."""

from __future__ import annotations

import bisect
import ipaddress
import itertools
import re

from portal_social.core.phi.config import _Config, _phone_digits, _strip_scheme
from portal_social.core.phi.dates import _last
from portal_social.core.phi.engine import (
    _A,
    _AI,
    _LETTERS,
    _SENTENCE_BREAK,
    _TOKEN_REST,
    _Hit,
    _matches_at,
    _Text,
    register,
)

# --------------------------------------------------------------------------
# Phone and fax numbers
# --------------------------------------------------------------------------

_EXT = r"(?P<ext>\s{0,2},?\s{0,2}(?:ext\.?|extension|x)\s{0,2}\d{1,6})?"
_PHONE_NANP = re.compile(
    r"(?<![\w+.\-/$])(?:\+?1[\s.-]{0,2})?(?:\(\d{3}\)|\d{3})[\s.-]{0,2}\d{3}[\s.-]{0,2}\d{4}"
    + _EXT
    + r"(?![\w]|[.-]\d|/\d)",
    _AI,
)
# International: "+" then 9-15 digits, each followed by at most two separators.
_PHONE_INTL = re.compile(r"(?<![\w+])\+(?:\d[\s.()-]{0,2}){8,14}\d" + _EXT + r"(?![\w]|[.-]\d)", _AI)
# A seven-digit local number only with a phone word earlier in the sentence.
_PHONE_LOCAL = re.compile(r"(?<![\w.\-/$,])[2-9]\d{2}[-. ]\d{4}(?![\w]|[.-]\d)", _A)
_PHONE_CUE = re.compile(
    r"(?<![A-Za-z])(?:call|calling|phone|cell|mobile|text|texting|tel|fax|ring|dial|number|reach|contact|whatsapp)"
    r"(?![A-Za-z])",
    _AI,
)
# Whatever digits follow "my cell:" are a phone number, even mistyped ("555-0199-000").
_PHONE_CUED = re.compile(
    r"(?<![A-Za-z])(?:cell|phone|mobile|tel|fax|(?:phone\s{1,3})?number\s{1,3}is|(?:call|text|reach)\s{1,3}me\s{1,3}(?:at|on))"
    r"(?![A-Za-z])[\s:#.]{0,4}(?P<v>\+?\d[\d\s.()-]{5,18}\d)(?![\w]|[.-]\d)",
    _AI,
)
# Public product/clinician identifiers that look like phone numbers.
_NOT_PHONE_CUE = re.compile(
    r"(?<![A-Za-z])(?:ndc|npi|upc|lot|tracking|order|confirmation|ein|tin|routing)(?![A-Za-z])[\s:#]{0,4}"
    r"(?:(?:number|no\.?|code|#)[\s:#]{0,4})?(?:[A-Za-z]{1,10}\s{1,3}){0,4}(?:is\s{1,3})?$",
    _AI,
)


# Toll-free numbers belong to organisations (insurers, hotlines, help desks).
_TOLL_FREE = frozenset({"800", "833", "844", "855", "866", "877", "888"})
# An organisation's line or fax: the words before the number (same clause)
# name a service, a department or a place, and nothing says it is a person's.
_ORG_NUMBER_BEFORE = re.compile(
    r"(?<![A-Za-z])(?:main\s{1,3}line|(?:nurse|help|advice|warm|crisis|appointment|scheduling|billing|refill|triage"
    r"|after[\s-]hours|member\s{1,3}services?|customer\s{1,3}service|patient\s{1,3}(?:experience|relations)"
    r"|on[\s-]call)\s{0,3}(?:line|desk|number|office|team)|member\s{1,3}services?|customer\s{1,3}service|hotline|helpline|warmline|operator|front\s{1,3}desk"
    r"|switchboard|scheduling|billing(?:\s{1,3}office)?|clinic|clinic's|office's|hospital|hospital's|pharmacy"
    r"|pharmacy's|department|dept|center|centre|radiology|imaging|lab|practice|insurer|insurance\s{1,3}card"
    r"|the\s{1,3}office|their\s{1,3}(?:number|fax|line)|help\s{1,3}desk|agency|nursing\s{1,3}home|facility"
    r"|línea|clínica|farmacia|hospital|oficina|consultorio|departamento)(?![A-Za-z])",
    _AI,
)
_PERSONAL_NUMBER_BEFORE = re.compile(
    r"(?<![A-Za-z])(?:my|me|mine|his|her|their\s{1,3}(?:cell|home|mobile)|our\s{1,3}(?:home|house)|home|cell|mobile"
    r"|personal|private|wife|husband|son|daughter|mom|dad|mum|sister|brother|mi|su|celular|casa)(?![A-Za-z])",
    _AI,
)
_ORG_NUMBER_AFTER = re.compile(
    r"[\s,;)(-]{0,4}(?:that's|that\s{1,3}is|which\s{1,3}is|is)\s{1,3}(?:the|our|their|my\s{1,3}(?:job|work)'s)"
    r"\s{1,3}(?:main|front|office|clinic|hospital|pharmacy|billing|scheduling|help|nurse)",
    _AI,
)
_CLAUSE_BREAK = re.compile(r"[.!?;]\s|\n|\bbut\b|\bnot\b", _AI)


def _organisation_number(work: str, start: int, end: int) -> bool:
    """Whether the number at ``start:end`` is an organisation's: toll-free,
    or named as a service's line by the words before it in the same clause
    (nothing personal nearer), or by what follows ("that's the front desk")."""
    digits = _phone_digits(work[start:end])
    if len(digits) == 10 and digits[:3] in _TOLL_FREE:
        return True
    lo = max(0, start - 60)
    breaks = list(_CLAUSE_BREAK.finditer(work, lo, start))
    if breaks:
        lo = breaks[-1].end()
    org = _last(_ORG_NUMBER_BEFORE.finditer(work, lo, start))
    if org is not None and _PERSONAL_NUMBER_BEFORE.search(work, org.end(), start) is None:
        return True
    return bool(_ORG_NUMBER_AFTER.match(work, end))


_PHONE_CUED_STARTS = ("cell", "phone", "mobile", "tel", "fax", "number", "call", "text", "reach")


@register("phone")
def _detect_phone(t: _Text, config: _Config) -> list[_Hit]:
    """NANP numbers in any common format, international "+" numbers, and
    seven-digit local numbers after "call"/"phone"/"fax"; extensions included."""
    # Every phone hit has seven digits or more; NANP and local numbers have a
    # run of four, international ones a "+".
    if t.ndigits < 7:
        return []
    work = t.work
    hits = []
    full_numbers = []  # every ten-digit/international match, allowed or not
    patterns = []
    if t.ndigits >= 10 and t.maxrun >= 4:
        patterns.append(_PHONE_NANP)
    if t.ndigits >= 9 and "+" in work:
        patterns.append(_PHONE_INTL)
    for pattern in patterns:
        for m in pattern.finditer(work):
            start, end = m.span()
            full_numbers.append((start, end))
            if _NOT_PHONE_CUE.search(work, max(0, start - 24), start):
                continue
            main_end = m.start("ext") if m.group("ext") else end
            if _phone_digits(work[start:main_end]) in config.numbers:
                continue
            if config.public_lines and _organisation_number(work, start, main_end):
                continue
            hits.append(("phone", start, end))
    for m in _matches_at(_PHONE_CUED, work, t.starts(_PHONE_CUED_STARTS, _LETTERS)):
        start, end = m.span("v")
        digits = _phone_digits(m.group("v"))
        if 7 <= len(digits) <= 15 and digits not in config.numbers:
            if config.public_lines and _organisation_number(work, start, end):
                continue
            hits.append(("phone", start, end))
    hits += _national_numbers(t, config, full_numbers)
    full_numbers.sort()
    starts = [span[0] for span in full_numbers]
    reach = list(itertools.accumulate((span[1] for span in full_numbers), max))
    for m in _PHONE_LOCAL.finditer(work) if t.maxrun >= 4 else ():
        start, end = m.span()
        i = bisect.bisect_right(starts, start) - 1
        if i >= 0 and reach[i] > start:
            continue  # the last seven digits of a full number ("(800) 273-8255")
        cue = _last(_PHONE_CUE.finditer(work, max(0, start - 40), start))
        if cue is None or _SENTENCE_BREAK.search(work, cue.end(), start):
            continue
        if _phone_digits(m.group()) not in config.numbers and not (
            config.public_lines and _organisation_number(work, start, end)
        ):
            hits.append(("phone", start, end))
    return hits


# Numbers written the national way outside North America ("020 7946 0321",
# "0412 345 678"): libphonenumber's matcher reads each one for the regions in
# PORTAL_SOCIAL_PHI_PHONE_REGIONS. A number it knows to be valid is a phone
# number; one that is only possible needs a phone word before it.
_NATIONAL_START = re.compile(r"\(?0\d", _A)
_NATIONAL_REACH = 24
# A national number's groups ("020 7946 0321", "(02) 9876 5432", "0412 345 678"),
# checked before the matcher is asked; at most _NATIONAL_TRIES asks a text.
_NATIONAL_SHAPE = re.compile(r"\(?0\d{1,4}\)?[ .-]?\d{2,4}[ .-]?\d{3,4}(?:[ .-]?\d{2,4})?(?!\d)", _A)
_NATIONAL_TRIES = 16
_SSN_SHAPE = re.compile(r"\d{3}[ -]\d{2}[ -]\d{4}", _A)


def _national_numbers(t: _Text, config: _Config, taken: list[tuple[int, int]]) -> list[_Hit]:
    if not config.phone_regions or t.ndigits < 9:
        return []
    work = t.work
    hits: list[_Hit] = []
    taken = sorted(taken)
    taken_starts = [span[0] for span in taken]
    taken_reach = list(itertools.accumulate((span[1] for span in taken), max))
    floor = 0
    tries = 0
    for run_start, run_end in t.runs:
        if work[run_start] != "0" or run_end - run_start < 2 or run_start < floor:
            continue
        if tries >= _NATIONAL_TRIES:
            break
        start = run_start - 1 if run_start and work[run_start - 1] == "(" else run_start
        if start and (work[start - 1].isalnum() or work[start - 1] in "+-./"):
            continue
        if not _NATIONAL_SHAPE.match(work, start):
            continue
        i = bisect.bisect_right(taken_starts, start) - 1
        if i >= 0 and taken_reach[i] > start:
            continue  # inside a number already read
        tries += 1
        window = work[start : start + _NATIONAL_REACH]
        found = [(r, f) for r in config.phone_regions if (f := _match_number(window, r)) is not None]
        if not found:
            continue
        # A region where the number is valid; else a possible one after a phone word.
        region, (length, valid) = max(found, key=lambda item: item[1][1])
        end = start + length
        number = work[start:end]
        if _SSN_SHAPE.fullmatch(number.lstrip("(")) or (number[0] == "(" and ")" not in number):
            continue  # "078 31 5542" is an SSN's shape
        if _NOT_PHONE_CUE.search(work, max(0, start - 24), start):
            continue
        if not valid:
            cue = _last(_PHONE_CUE.finditer(work, max(0, start - 40), start))
            if cue is None or _SENTENCE_BREAK.search(work, cue.end(), start):
                continue
        if not (config.public_lines and _organisation_number(work, start, end)):
            hits.append(("phone", start, end, f"phonenumbers:{region}"))
            floor = end
    return hits


def _match_number(window: str, region: str) -> tuple[int, bool] | None:
    """The length of the number that opens ``window`` in ``region``'s national
    format, and whether libphonenumber holds it valid."""
    import phonenumbers

    for match in phonenumbers.PhoneNumberMatcher(window, region, leniency=phonenumbers.Leniency.POSSIBLE):
        if match.start != 0:
            return None
        return match.end, phonenumbers.is_valid_number(match.number)
    return None


# --------------------------------------------------------------------------
# E-mail, URL, handle, IP address
# --------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24}"
    r"(?![\w-]|\.[A-Za-z0-9])",
    _A,
)


@register("email")
def _detect_email(t: _Text, config: _Config) -> list[_Hit]:
    """E-mail addresses, including "+tags" and subdomains; not an
    organisation's role inbox ("records@", "privacy@", "quejas@") nor an
    address on a public or allowed domain."""
    if "@" not in t.work:
        return []
    hits = []
    for m in _EMAIL.finditer(t.work):
        local, _, domain = m.group().lower().rpartition("@")
        if _url_allowed(domain, config):
            continue
        if config.public_inboxes and local.replace(".", "").replace("-", "").replace("_", "") in config.inboxes:
            continue
        hits.append(("email", m.start(), m.end()))
    return hits


_URL_CHARS = r"[^\s<>\"'`\[\]{}|\\^]"
_SOCIAL = (
    r"(?:facebook|fb|instagram|twitter|x|tiktok|linkedin|youtube|youtu|threads|pinterest|reddit|snapchat"
    r"|venmo|gofundme|caringbridge|patreon|medium|substack|tumblr|bsky|mastodon)"
)
_URL = re.compile(
    r"(?<![\w@/.-])(?:(?:https?://|www\.)"
    + _URL_CHARS
    + r"{1,2000}"
    # Bare domains with a path: any social site, or a common TLD.
    + r"|(?:[a-z0-9-]{1,63}\.){0,4}(?:"
    + _SOCIAL
    + r"\.[a-z]{2,6}|[a-z0-9-]{1,63}\.(?:com|org|net|io|me|ly|gl|co|us|info|app|page|site|blog|link|fm|ee|tv|gg|bio))/"
    + _URL_CHARS
    + r"{0,500})",
    _AI,
)
_URL_TRAILING = ".,;:!?'\""


_HOST_PART = re.compile(r"[^/?#]*")


def _url_allowed(url: str, config: _Config) -> bool:
    rest = _strip_scheme(url.lower())
    host = _HOST_PART.match(rest).group().rsplit("@", 1)[-1].split(":", 1)[0]
    if host in config.domain_set or host.endswith(config.domain_suffixes):
        return True
    return rest in config.prefixes or rest.startswith(config.prefix_starts)


# Sites where people publish personal pages, whatever their top-level domain.
_PERSONAL_PLATFORMS = (
    "caringbridge.org",
    "mealtrain.com",
    "gofundme.com",
    "gofund.me",
    "givesendgo.com",
    "lotsahelpinghands.com",
    "forevermissed.com",
    "legacy.com",
    "linktr.ee",
    "venmo.com",
    "blogspot.com",
    "wordpress.com",
    "substack.com",
    "medium.com",
    "patreon.com",
    "change.org",
    "anchor.fm",
    "tumblr.com",
    "carrd.co",
    "ko-fi.com",
    "buymeacoffee.com",
    "cash.app",
    "paypal.me",
)
_PUBLIC_PATH = re.compile(r"/(?:explore|tags?|hashtag|topics?|search|help|about|legal|privacy)(?:/|$|\?)", _AI)
#: Hosts of governments, schools and organisations: their pages are public information. ``.org`` is
#: here because people publish personal pages on the platforms above (caringbridge.org, change.org are
#: checked first), rarely on an organisation's domain of their own.
_PUBLIC_SUFFIXES = (
    ".gov",
    ".edu",
    ".int",
    ".mil",
    ".org",
    ".org.uk",
    ".org.au",
    ".org.nz",
    ".org.mx",
    ".nhs.uk",
    ".gov.uk",
    ".gc.ca",
    ".gob.mx",
)


def _public_page(url: str) -> bool:
    """An organisation's page, a public listing or a local address, not a
    person's page: hosts on .gov, .edu, .org and similar, a personal-page
    platform's home page (caringbridge.org itself), explore and hashtag
    pages, localhost and LAN addresses."""
    rest = _strip_scheme(url.lower())
    host = _HOST_PART.match(rest).group().rsplit("@", 1)[-1].split(":", 1)[0]
    path = rest[len(_HOST_PART.match(rest).group()) :]
    if host == "localhost" or _lan_address(host):
        return True
    bare = host[4:] if host.startswith("www.") else host
    if bare in _PERSONAL_PLATFORMS:
        return path in ("", "/")  # the platform's home page is public
    if any(bare.endswith("." + p) for p in _PERSONAL_PLATFORMS):
        return False  # "janesjourney.blogspot.com"
    if _PUBLIC_PATH.search(path):
        return True
    return host.endswith(_PUBLIC_SUFFIXES)


def _lan_address(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


def _url_matches(t: _Text) -> list[re.Match[str]]:
    """``_URL.finditer(work)``, run only on the words (runs of non-whitespace)
    that hold a "/" or "www.": every match holds one, and none holds
    whitespace or looks ahead."""
    work, low = t.work, t.low
    found: list[re.Match[str]] = []
    pos = 0
    while True:
        anchor = low.find("/", pos)
        www = low.find("www.", pos, anchor if anchor >= 0 else len(low))
        if www >= 0:
            anchor = www
        if anchor < 0:
            return found
        # The word around the anchor; the previous word ended at ``pos``.
        start = max([work.rfind(c, pos, anchor) for c in t.spaces], default=-1) + 1
        start = max(start, pos)
        end = _TOKEN_REST.match(work, anchor).end()
        found.extend(_URL.finditer(work, start, end))
        pos = end


@register("url")
def _detect_url(t: _Text, config: _Config) -> list[_Hit]:
    """Links (http(s)://, www., bare social-profile and common-TLD paths) that
    are not on a public or allowed domain."""
    work = t.work
    hits = []
    for m in _url_matches(t):
        start, end = m.span()
        opened, closed = work.count("(", start, end), work.count(")", start, end)
        while end > start and (work[end - 1] in _URL_TRAILING or (work[end - 1] == ")" and opened < closed)):
            closed -= work[end - 1] == ")"
            end -= 1
        if end - start < 5 or _url_allowed(work[start:end], config) or _public_page(work[start:end]):
            continue
        hits.append(("url", start, end))
    return hits


_HANDLE = re.compile(r"(?<![\w@.+/-])@(?P<h>[A-Za-z0-9_][A-Za-z0-9_.-]{0,29})(?![A-Za-z0-9_])", _A)
_TIME_LIKE = re.compile(r"\d{1,2}(?::\d\d)?(?:am|pm|a|p)?", _AI)


@register("handle")
def _detect_handle(t: _Text, config: _Config | None) -> list[_Hit]:
    """@username profile handles (not e-mail addresses, not "@7pm")."""
    work = t.work
    if "@" not in work:
        return []
    hits = []
    for m in _HANDLE.finditer(work):
        start, end = m.span()
        while work[end - 1] in ".-":
            end -= 1
        handle = work[start + 1 : end]
        if len(handle) < 2 or _TIME_LIKE.fullmatch(handle) or not re.search(r"[A-Za-z]", handle):
            continue
        hits.append(("handle", start, end))
    return hits


_IPV4 = re.compile(r"(?<![\w.])\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?![\w]|\.\d)", _A)
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{1,4}:|::)[0-9A-Fa-f:.]{1,43}", _A)
_VERSION_CUE = re.compile(
    r"(?<![A-Za-z])(?:v|ver|version|build|release|update|policy|section|rule|step|chapter|code|error|firmware)"
    r"\.?\s{0,3}[:#]?\s{0,3}$",
    _AI,
)


#: Public DNS resolvers: everyone's, nobody's identifier.
PUBLIC_RESOLVERS = frozenset(
    {"8.8.8.8", "8.8.4.4", "1.1.1.1", "1.0.0.1", "9.9.9.9", "149.112.112.112", "208.67.222.222", "208.67.220.220"}
)


def _ip_public(value: str) -> bool:
    """An address that can point at a person: not loopback, not a home or
    office LAN address (10/8, 172.16/12, 192.168/16, link-local), not a
    public DNS resolver."""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    if address.is_loopback or address.is_unspecified:
        return False
    return not (address.version == 4 and value in PUBLIC_RESOLVERS)


_LAN_NETWORKS = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
# A home or office network device named before a LAN address: "my router is 192.168.1.1".
_LAN_DEVICE_BEFORE = re.compile(
    r"(?<![A-Za-z])(?:router|modem|wi-?fi|extender|gateway|lan|network|printer|access\s{1,3}point|hub|switch"
    r"|admin\s{1,3}page|local|dns|default)(?![A-Za-z])",
    _AI,
)


def _lan_device(work: str, start: int, value: str) -> bool:
    """A LAN address named as a home network's device (not a person's address)."""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    if address.version != 4 or not any(address in net for net in _LAN_NETWORKS):
        return False
    lo = max(0, start - 48)
    device = _last(_LAN_DEVICE_BEFORE.finditer(work, lo, start))
    return device is not None and not _SENTENCE_BREAK.search(work, device.end(), start)


_HEX = "0123456789ABCDEFabcdef"


def _ipv6_starts(work: str) -> list[int]:
    """Where an IPv6 match can start: at "::", or at the first of the one to
    four hex digits before a ":" (the look-behind rules out a longer run)."""
    starts = []
    colon = work.find(":")
    while colon >= 0:
        q = colon
        while q > 0 and work[q - 1] in _HEX and colon - q < 5:
            q -= 1
        if 1 <= colon - q <= 4:
            starts.append(q)
        if work.startswith(":", colon + 1):
            starts.append(colon)
        colon = work.find(":", colon + 1)
    return starts


@register("ip_address")
def _detect_ip_address(t: _Text, config: _Config | None) -> list[_Hit]:
    """IPv4 and IPv6 addresses (not loopback, not version numbers)."""
    work = t.work
    hits = []
    # An IPv4 match starts a run of at most three digits followed by ".".
    n = len(work)
    ipv4_starts = [s for s, e in t.runs if e - s <= 3 and e < n and work[e] == "."] if t.ndigits >= 4 else []
    for m in _matches_at(_IPV4, work, ipv4_starts):
        if _VERSION_CUE.search(work, max(0, m.start() - 12), m.start()):
            continue
        if _ip_public(m.group()) and not _lan_device(work, m.start(), m.group()):
            hits.append(("ip_address", m.start(), m.end()))
    # A hit holds two colons.
    for m in _matches_at(_IPV6, work, _ipv6_starts(work)) if work.count(":") >= 2 else ():
        start, end = m.span()
        while end > start and work[end - 1] == ".":
            end -= 1
        if end < len(work) and (work[end].isalnum() or work[end] == "_"):
            continue
        if work.count(":", start, end) >= 2 and _ip_public(work[start:end]):
            hits.append(("ip_address", start, end))
    return hits
