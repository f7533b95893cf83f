"""PHI scanner: find HIPAA Safe Harbor identifiers in text headed for a public place.

Anything a patient or caregiver writes that other people will read (community
posts, review comments, public feedback) passes :func:`scan` first; the caller
holds the text back, asks the author to edit it, or publishes :func:`redact`'s
output. The scanner covers the Safe Harbor identifiers (45 CFR 164.514(b)(2))
that free text can carry; photographs and biometrics are out of scope.

Usage::

    from portal_social.core import phi

    findings = phi.scan("Call me at 555-867-5309")
    # [Finding(kind='phone', start=11, end=23, text='555-867-5309')]
    phi.redact(text, findings)  # "Call me at [phone removed]"

Design decisions:

* **Recall first, but not at any price.** A false positive costs the author an
  edit or a moderator a click; a false negative publishes PHI. Yet a scanner
  that flags every number in "A1C 6.5, BP 120/80, 500 mg twice a day" is one
  patients learn to ignore, so numbers are flagged only by their shape
  (phone, SSN, e-mail, IP, VIN with check digit, card number with Luhn check,
  ZIP+4) or by a cue word in front of them ("MRN", "member ID", "serial",
  "zip"). A seven-digit local number ("867-5309") needs a phone word earlier
  in the sentence; whatever digits follow "my cell:" are a phone number.
* **Overlaps** merge into one finding covering the union of the spans, with
  the kind of the longest detector hit (the more specific kind on a tie:
  "Member ID 5558675309" is a member ID), so a redaction never leaves part of
  an identifier behind.
* **Dates** are flagged only with birth, death, admission, discharge or
  appointment context ("DOB 03/14/1962", "admitted 2/3", "my appointment on
  Oct 12"), and a birth year alone only when it implies an age of 90 or more.
  Safe Harbor removes every element of every date tied to a person except the
  year, but flagging every date in community posts ("on March 3 I had
  surgery", "the picnic on June 14") would drown the real findings. The date
  rule is deliberately narrower than Safe Harbor; documented in the bench.
* **Names** are flagged only after a cue: a relationship ("my husband John
  Smith", "my daughter Emily"), "my name is", "named", "I'm Jane Doe", a
  sign-off ("Sincerely, Pat Wells") or "Hi all, Jamal Wright here".
  Clinicians ("Dr. Patel", "Nurse Kim") are never flagged: their names are
  public in this product (the clinician directory, reviews are about them)
  and are not patient PHI. Honorific mentions of staff ("Ms. Rodriguez at the
  front desk") are not flagged either, for the same reason.
* **Ages** are PHI only from 90 up (Safe Harbor aggregates them into "90 or
  older"); "over 90", "in her 90s" already are that aggregate and pass.
* **Not identifiers**: room and bed numbers (they identify a place, not a
  person), NDC drug codes and NPI numbers (public product and clinician
  identifiers: a 10- or 11-digit number right after "NDC"/"NPI" is not a
  phone), public numbers (911, 988, 411, 311, 211, 1-800-273-8255, and
  ``PORTAL_SOCIAL_PHI_ALLOWED_NUMBERS``), links to public health sites, the
  portal's own hosts and ``PORTAL_SOCIAL_PHI_ALLOWED_DOMAINS``.
* **Cities and states** alone are not detected (that needs a gazetteer); a
  "City, ST" right after a street address is part of the address finding.
* **What a reader sees**, not the code points: the detectors read a folded
  copy (invisible characters dropped, NFKC, every decimal digit and full stop
  made ASCII) and, when characters can change the display order, the order a
  reader sees too; offsets are mapped back to the text as written. See "The
  screening form" below.

Every pattern runs in linear time: Python's ``re`` backtracks, so each pattern
uses bounded quantifiers only, alternatives that start differently, and
look-behind guards that stop a pattern from being retried inside a run of the
characters it has just failed on. ``tests/core/test_phi.py`` feeds 100 KB
adversarial strings to every detector and checks the time scales linearly.
Host-supplied MRN patterns (``PORTAL_SOCIAL_PHI_MRN_PATTERNS``) are the host's
responsibility: keep their quantifiers bounded too.
"""

from __future__ import annotations

import bisect
import datetime
import functools
import ipaddress
import itertools
import re
import unicodedata
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.translation import gettext, gettext_lazy

from portal_social.conf import app_settings

__all__ = ["DETECTORS", "KINDS", "LABELS", "Finding", "marker", "normalise", "redact", "scan"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One identifier found in a text: ``text == source[start:end]``."""

    kind: str
    start: int
    end: int
    text: str


#: Every kind :func:`scan` reports, in the order a moderator would read them.
KINDS: tuple[str, ...] = (
    "name",
    "phone",
    "email",
    "address",
    "zip",
    "date",
    "age",
    "ssn",
    "mrn",
    "member_id",
    "account_number",
    "license",
    "vehicle",
    "device",
    "url",
    "ip_address",
    "handle",
)

#: Human label per kind, used in :func:`redact`'s markers ("[phone removed]").
LABELS = {
    "name": gettext_lazy("name"),
    "phone": gettext_lazy("phone"),
    "email": gettext_lazy("email"),
    "address": gettext_lazy("address"),
    "zip": gettext_lazy("ZIP code"),
    "date": gettext_lazy("date"),
    "age": gettext_lazy("age"),
    "ssn": gettext_lazy("SSN"),
    "mrn": gettext_lazy("medical record number"),
    "member_id": gettext_lazy("member ID"),
    "account_number": gettext_lazy("account number"),
    "license": gettext_lazy("license number"),
    "vehicle": gettext_lazy("vehicle identifier"),
    "device": gettext_lazy("device identifier"),
    "url": gettext_lazy("link"),
    "ip_address": gettext_lazy("IP address"),
    "handle": gettext_lazy("handle"),
}

# When two detectors claim the same span, the more specific (cue-driven) kind
# wins: "Member ID 5558675309" is a member ID, not a phone number.
_PRIORITY = {
    kind: rank
    for rank, kind in enumerate(
        (
            "ssn",
            "mrn",
            "member_id",
            "license",
            "device",
            "vehicle",
            "account_number",
            "date",
            "age",
            "email",
            "url",
            "ip_address",
            "address",
            "zip",
            "phone",
            "handle",
            "name",
        )
    )
}

#: Numbers anyone may publish: emergency, crisis and information lines.
PUBLIC_NUMBERS = ("911", "988", "411", "311", "211", "18002738255")

#: Sites whose links are public information, not a person's.
PUBLIC_DOMAINS = (
    "cdc.gov",
    "nih.gov",
    "medlineplus.gov",
    "cms.gov",
    "medicare.gov",
    "medicaid.gov",
    "healthcare.gov",
    "hhs.gov",
    "fda.gov",
    "samhsa.gov",
    "va.gov",
    "who.int",
    "988lifeline.org",
)

# One-for-one replacements, the last step of the screening form (see
# _fold): exotic spaces (and the blank braille cell, used as an invisible
# space) become spaces, line and paragraph separators newlines, dashes "-",
# full-width digits and "@" ASCII, so that every pattern below can be
# compiled with re.ASCII. Invisible characters are not here: _fold drops
# them, so "555\u200b867\u200b5309" reads as the reader sees it.
_NORMALISE = {
    **dict.fromkeys(map(ord, "\u00a0\u1680\u202f\u205f\u3000\u2800"), " "),
    **dict.fromkeys(range(0x2000, 0x200B), " "),
    **dict.fromkeys(map(ord, "\u0085\u2028\u2029"), "\n"),
    **dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"), "-"),
    **{0xFF10 + i: str(i) for i in range(10)},
    0xFF20: "@",
    0x2019: "'",
    0x2018: "'",
}

_A = re.ASCII
_AI = re.ASCII | re.IGNORECASE


class _Config(NamedTuple):
    numbers: frozenset[str]
    domains: tuple[str, ...]
    prefixes: tuple[str, ...]
    mrn_patterns: tuple[re.Pattern[str], ...]
    # Derived from domains and prefixes, for _url_allowed.
    domain_set: frozenset[str]
    domain_suffixes: tuple[str, ...]  # "." + domain
    prefix_starts: tuple[str, ...]  # prefix + "/", prefix + "?"


_Hit = tuple[str, int, int]
Detector = Callable[[str, "_Config | None"], list[_Hit]]


# --------------------------------------------------------------------------
# Settings (read on every call, compiled once per distinct value)
# --------------------------------------------------------------------------


def _setting(name: str, default):
    if not settings.configured:
        return default
    return getattr(settings, name, default)


def _as_tuple(value, *, split: bool = True) -> tuple:
    """A setting as a tuple; a comma-separated string (from the environment) is split."""
    if value is None:
        return ()
    if isinstance(value, re.Pattern) or (isinstance(value, str) and not split):
        value = [value]
    elif isinstance(value, str):
        value = [part.strip() for part in value.split(",")]
    return tuple(v for v in value if v)


# The last configuration built, keyed by the settings object it was read from:
# override_settings (and pytest-django's ``settings`` fixture) install a new
# settings object and send ``setting_changed``, so either invalidates it.
_config_cache: tuple[object, _Config] | None = None


def _config() -> _Config:
    global _config_cache
    wrapped = settings._wrapped
    cached = _config_cache
    if cached is not None and cached[0] is wrapped:
        return cached[1]
    config = _read_config()
    _config_cache = (wrapped, config)
    return config


@receiver(setting_changed)
def _forget_config(**kwargs) -> None:
    global _config_cache
    _config_cache = None


def _read_config() -> _Config:
    if settings.configured:
        numbers = app_settings.PHI_ALLOWED_NUMBERS
        domains = app_settings.PHI_ALLOWED_DOMAINS
        patterns = _as_tuple(app_settings.PHI_MRN_PATTERNS, split=False)
    else:
        numbers = domains = patterns = ()
    hosts = _as_tuple(_setting("ALLOWED_HOSTS", ()))
    key = tuple((p.pattern, p.flags) if isinstance(p, re.Pattern) else (str(p), 0) for p in patterns)
    return _build_config(tuple(map(str, numbers)), tuple(map(str, domains)), tuple(map(str, hosts)), key)


@functools.lru_cache(maxsize=32)
def _build_config(
    numbers: tuple[str, ...], domains: tuple[str, ...], hosts: tuple[str, ...], patterns: tuple[tuple[str, int], ...]
) -> _Config:
    allowed_numbers = {_phone_digits(n) for n in (*PUBLIC_NUMBERS, *numbers)}
    allowed_numbers.discard("")
    plain, prefixes = [], []
    for entry in (*PUBLIC_DOMAINS, *domains, *_own_hosts(hosts)):
        entry = _strip_scheme(entry.strip().lower()).lstrip(".")
        if not entry:
            continue
        (prefixes if "/" in entry else plain).append(entry.rstrip("/") if "/" in entry else entry)
    compiled = tuple(re.compile(p, f) for p, f in patterns)
    return _Config(
        frozenset(allowed_numbers),
        tuple(plain),
        tuple(prefixes),
        compiled,
        frozenset(plain),
        tuple("." + d for d in plain),
        tuple(p + end for p in prefixes for end in "/?"),
    )


def _own_hosts(hosts: Iterable[str]) -> list[str]:
    """The portal's own host names (ALLOWED_HOSTS without wildcards and IPs)."""
    own = []
    for host in hosts:
        host = host.strip().strip("[]")
        if not host or "*" in host:
            continue
        try:
            ipaddress.ip_address(host)
        except ValueError:
            own.append(host)
    return own


_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]{0,15}://", _AI)


def _strip_scheme(value: str) -> str:
    value = _SCHEME.sub("", value)
    return value[4:] if value.startswith("www.") else value


# --------------------------------------------------------------------------
# Shared building blocks
# --------------------------------------------------------------------------

# Between a cue and its value: punctuation, then up to three filler words.
_SEP = r"[\s:#=.,(\-]{0,6}"
_FILLER = r"(?:(?:is|was|are|number|num|no|nr|id|of|on\s{1,3}file(?:\s{1,3}is)?)(?![A-Za-z0-9])" + _SEP + r"){0,3}"
# An identifier: letters, digits, inner hyphens/slashes/dots, single spaces
# between digit groups ("000 448 119"). One character per step: no ambiguity.
_VALUE = r"(?P<v>[A-Za-z0-9](?:[A-Za-z0-9]|[-/.](?=[A-Za-z0-9])|(?<=\d)\x20(?=\d)){2,39})(?![A-Za-z0-9])"
_SENTENCE_BREAK = re.compile(r"[.!?;]\s|\n", _A)
_DIGITS = re.compile(r"\d", _A)
_NON_DIGITS = re.compile(r"\D", _A)


def _cue_pattern(cues: str, value: str = _VALUE) -> re.Pattern[str]:
    return re.compile(r"(?<![A-Za-z0-9])(?:" + cues + r")(?![A-Za-z])" + _SEP + _FILLER + value, _AI)


def _cue_hits(matches: Iterable[re.Match[str]], kind: str, min_len: int, min_digits: int) -> list[_Hit]:
    hits = []
    for m in matches:
        value = m.group("v")
        if len(value) >= min_len and len(_DIGITS.findall(value)) >= min_digits:
            hits.append((kind, m.start("v"), m.end("v")))
    return hits


def _phone_digits(value: str) -> str:
    digits = _NON_DIGITS.sub("", value)
    return digits[1:] if len(digits) == 11 and digits.startswith("1") else digits


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


# --------------------------------------------------------------------------
# Prefilters: facts computed once per scan, and exact shortcuts for finditer
# --------------------------------------------------------------------------
#
# Most posts hold no identifier at all, so most of the scanner's time went into
# regular expressions trying every position of a text they cannot match. The
# detectors below run a pattern only where it can match, and only in ways that
# give exactly the matches ``pattern.finditer(work)`` would:
#
# * a cheap necessary condition for the whole text (no "@": no e-mail; fewer
#   than seven digits: no phone number);
# * :func:`_matches_at`: when every match starts at a known kind of position
#   (a cue word, a run of digits), ``pattern.match`` is tried at those
#   positions only, left to right, resuming after each match as finditer does;
# * :func:`_matches_in`: when every match starts in a known window (near a
#   run of digits, before a capitalised word), ``finditer`` runs on the windows,
#   with enough text after each that no attempt starting in it reads less.
#
# A look-behind sees the text before ``pos``, so an attempt at a position gives
# the same answer whether the search started there or earlier.

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ALNUM = _LETTERS + "0123456789"
_ASCII_WS = " \t\n\r\x0b\x0c"  # what \s matches under re.ASCII
_ASCII_LOWER = {ord(c): ord(c.lower()) for c in _LETTERS[:26]}
_DIGIT_BYTES = b"0123456789"
# Not r"\d+": a pattern that starts with one character class gets a fast scan.
_DIGIT_RUN = re.compile(r"[0-9][0-9]*", _A)
_TOKEN_REST = re.compile(r"[^ \t\n\r\x0b\x0c]*", _A)
# How far an identifier value (_VALUE) can reach from a letter or digit: the
# same steps as _VALUE, which read the same in both directions.
_VALUE_REACH = re.compile(r"(?:[A-Za-z0-9]|[-/.](?=[A-Za-z0-9])|(?<=\d)\x20(?=\d))*", _A)


class _Text:
    """The normalised text a scan reads, with what several detectors need to
    know about it computed once: a lower-cased copy of the same length (for
    finding cue words), the number of ASCII digits, and the runs of digits."""

    __slots__ = ("work", "low", "ndigits", "_runs", "_maxrun", "_rev", "_value_digits", "_components", "_spaces")

    def __init__(self, work: str) -> None:
        self.work = work
        low = work.lower()
        if len(low) != len(work):  # "İ" lower-cases to two characters
            low = work.translate(_ASCII_LOWER)
        self.low = low
        raw = work.encode("utf-8", "surrogatepass")
        self.ndigits = len(raw) - len(raw.translate(None, _DIGIT_BYTES))
        self._runs: list[tuple[int, int]] | None = None
        self._maxrun: int | None = None
        self._rev: str | None = None
        self._value_digits: bool | None = None
        self._components: list[list[int]] | None = None
        self._spaces: tuple[str, ...] | None = None

    @property
    def runs(self) -> list[tuple[int, int]]:
        """(start, end) of every maximal run of digits, in order."""
        if self._runs is None:
            self._runs = [m.span() for m in _DIGIT_RUN.finditer(self.work)] if self.ndigits else []
        return self._runs

    @property
    def maxrun(self) -> int:
        """The length of the longest run of digits."""
        if self._maxrun is None:
            self._maxrun = max((end - start for start, end in self.runs), default=0)
        return self._maxrun

    @property
    def rev(self) -> str:
        """The text reversed."""
        if self._rev is None:
            self._rev = self.work[::-1]
        return self._rev

    @property
    def value_digits(self) -> bool:
        """Whether some run of digits could be part of an identifier of four or
        more characters: four digits or more, or joined to a letter or digit
        directly or through one of "-/. ". False for "9:00 | 14:30"."""
        if self._value_digits is None:
            work, n = self.work, len(self.work)
            self._value_digits = False
            for start, end in self.runs:
                if end - start >= 4:
                    self._value_digits = True
                    break
                if start > 0 and (
                    work[start - 1] in _ALNUM or (work[start - 1] in "-/. " and start > 1 and work[start - 2] in _ALNUM)
                ):
                    self._value_digits = True
                    break
                if end < n and (
                    work[end] in _ALNUM or (work[end] in "-/. " and end + 1 < n and work[end + 1] in _ALNUM)
                ):
                    self._value_digits = True
                    break
        return self._value_digits

    @property
    def components(self) -> list[list[int]]:
        """[start, end, digits] of every stretch of letters and digits holding
        a digit, joined directly, by one of "-/." or (digit to digit) by a
        space: any identifier value with digits (a VIN, a card number, what
        follows "MRN") lies inside one. In "MRN 00123456" the stretch is
        "00123456", in "at 2pm" it is "2pm"."""
        if self._components is None:
            work, n = self.work, len(self.work)
            components: list[list[int]] = []
            end = -1
            for run_start, run_end in self.runs:
                if run_start < end:  # in the stretch already measured
                    components[-1][2] += run_end - run_start
                    continue
                start = n - _VALUE_REACH.match(self.rev, n - run_start).end()
                end = _VALUE_REACH.match(work, run_end).end()
                components.append([start, end, run_end - run_start])
            self._components = components
        return self._components

    def values(self, min_len: int, min_digits: int) -> list[list[int]]:
        """The stretches that can hold a value of ``min_len`` characters with ``min_digits`` digits."""
        return [c for c in self.components if c[1] - c[0] >= min_len and c[2] >= min_digits]

    def has_value(self, min_len: int, min_digits: int) -> bool:
        return any(end - start >= min_len and digits >= min_digits for start, end, digits in self.components)

    @property
    def spaces(self) -> tuple[str, ...]:
        """The ASCII whitespace characters the text contains."""
        if self._spaces is None:
            self._spaces = tuple(c for c in _ASCII_WS if c in self.work)
        return self._spaces

    def starts(self, literals: Iterable[str], guard: str, lo: int = 0, hi: int | None = None) -> list[int]:
        """Sorted positions from ``lo`` to ``hi`` where a lower-case literal
        occurs (any case) and the character before is not in ``guard`` (a
        pattern's look-behind)."""
        low, work = self.low, self.work
        if hi is None:
            hi = len(low)
        found = []
        for literal in literals:
            stop = hi + len(literal)
            i = low.find(literal, lo, stop)
            while i >= 0:
                if not i or work[i - 1] not in guard:
                    found.append(i)
                i = low.find(literal, i + 1, stop)
        found.sort()
        return found


def _matches_at(pattern: re.Pattern[str], work: str, starts: Iterable[int]) -> list[re.Match[str]]:
    """``list(pattern.finditer(work))``, given sorted positions that include
    every position where a match can start (none of these patterns matches
    the empty string)."""
    found = []
    floor = 0
    match = pattern.match
    for pos in starts:
        if pos >= floor:
            m = match(work, pos)
            if m is not None:
                found.append(m)
                floor = m.end()
    return found


def _matches_in(
    pattern: re.Pattern[str], work: str, windows: Iterable[tuple[int, int]], reach: int
) -> list[re.Match[str]]:
    """``list(pattern.finditer(work))``, given windows ``(lo, hi)`` sorted by
    ``lo`` such that every match starts in one of them, and ``reach`` greater
    than the number of characters an attempt can read, look-ahead and "$"
    included, past the position it starts at."""
    merged: list[list[int]] = []
    for lo, hi in windows:
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([max(lo, 0), hi])
    found: list[re.Match[str]] = []
    floor, n = 0, len(work)
    for lo, hi in merged:
        lo = max(lo, floor)
        if lo >= hi:
            continue
        for m in pattern.finditer(work, lo, min(n, hi + reach)):
            if m.start() >= hi:
                break
            found.append(m)
            floor = m.end()
    return found


def _run_starts(t: _Text, max_len: int = 1 << 30) -> list[int]:
    """Starts of the digit runs no longer than ``max_len``: where a pattern that
    begins with digits after a look-behind excluding \\w can start."""
    return [start for start, end in t.runs if end - start <= max_len]


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
    r"(?<![A-Za-z])(?:ndc|npi|upc|lot|tracking|order|confirmation)(?![A-Za-z])[\s:#]{0,4}"
    r"(?:(?:number|no\.?|code|#)[\s:#]{0,4})?$",
    _AI,
)


_PHONE_CUED_STARTS = ("cell", "phone", "mobile", "tel", "fax", "number", "call", "text", "reach")


def detect_phone(work: str, config: _Config | None = None) -> list[_Hit]:
    """NANP numbers in any common format, international "+" numbers, and
    seven-digit local numbers after "call"/"phone"/"fax"; extensions included."""
    return _detect_phone(_Text(work), config or _config())


def _detect_phone(t: _Text, config: _Config) -> list[_Hit]:
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
            if _phone_digits(work[start:main_end]) not in config.numbers:
                hits.append(("phone", start, end))
    for m in _matches_at(_PHONE_CUED, work, t.starts(_PHONE_CUED_STARTS, _LETTERS)):
        start, end = m.span("v")
        digits = _phone_digits(m.group("v"))
        if 7 <= len(digits) <= 15 and digits not in config.numbers:
            hits.append(("phone", start, end))
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
        if _phone_digits(m.group()) not in config.numbers:
            hits.append(("phone", start, end))
    return hits


# --------------------------------------------------------------------------
# E-mail, URL, handle, IP address
# --------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24}"
    r"(?![\w-]|\.[A-Za-z0-9])",
    _A,
)


def detect_email(work: str, config: _Config | None = None) -> list[_Hit]:
    """E-mail addresses, including "+tags" and subdomains."""
    return _detect_email(_Text(work), config)


def _detect_email(t: _Text, config: _Config | None) -> list[_Hit]:
    if "@" not in t.work:
        return []
    return [("email", m.start(), m.end()) for m in _EMAIL.finditer(t.work)]


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
    + r"\.[a-z]{2,6}|[a-z0-9-]{1,63}\.(?:com|org|net|io|me|ly|gl|co|us|info|app|page|site|blog|link))/"
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


def detect_url(work: str, config: _Config | None = None) -> list[_Hit]:
    """Links (http(s)://, www., bare social-profile and common-TLD paths) that
    are not on a public or allowed domain."""
    return _detect_url(_Text(work), config or _config())


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


def _detect_url(t: _Text, config: _Config) -> list[_Hit]:
    work = t.work
    hits = []
    for m in _url_matches(t):
        start, end = m.span()
        opened, closed = work.count("(", start, end), work.count(")", start, end)
        while end > start and (work[end - 1] in _URL_TRAILING or (work[end - 1] == ")" and opened < closed)):
            closed -= work[end - 1] == ")"
            end -= 1
        if end - start < 5 or _url_allowed(work[start:end], config):
            continue
        hits.append(("url", start, end))
    return hits


_HANDLE = re.compile(r"(?<![\w@.+/-])@(?P<h>[A-Za-z0-9_][A-Za-z0-9_.-]{0,29})(?![A-Za-z0-9_])", _A)
_TIME_LIKE = re.compile(r"\d{1,2}(?::\d\d)?(?:am|pm|a|p)?", _AI)


def detect_handle(work: str, config: _Config | None = None) -> list[_Hit]:
    """@username profile handles (not e-mail addresses, not "@7pm")."""
    return _detect_handle(_Text(work), config)


def _detect_handle(t: _Text, config: _Config | None) -> list[_Hit]:
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
    r"(?<![A-Za-z])(?:v|ver|version|build|release|update|policy|section|rule|step|chapter)\.?\s{0,3}$", _AI
)


def _ip_public(value: str) -> bool:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    return not (address.is_loopback or address.is_unspecified)


def detect_ip_address(work: str, config: _Config | None = None) -> list[_Hit]:
    """IPv4 and IPv6 addresses (not loopback, not version numbers)."""
    return _detect_ip_address(_Text(work), config)


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


def _detect_ip_address(t: _Text, config: _Config | None) -> list[_Hit]:
    work = t.work
    hits = []
    # An IPv4 match starts a run of at most three digits followed by ".".
    n = len(work)
    ipv4_starts = [s for s, e in t.runs if e - s <= 3 and e < n and work[e] == "."] if t.ndigits >= 4 else []
    for m in _matches_at(_IPV4, work, ipv4_starts):
        if _VERSION_CUE.search(work, max(0, m.start() - 12), m.start()):
            continue
        if _ip_public(m.group()):
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


# --------------------------------------------------------------------------
# Government and health-plan numbers
# --------------------------------------------------------------------------

_SSN = re.compile(r"(?<![\w-])(?!000|666)\d{3}(?P<s>[- ])(?!00)\d{2}(?P=s)(?!0000)\d{4}(?![\w-]|\.\d)", _A)
_SSN_CUE = _cue_pattern(
    r"ssn|ss\s{0,2}#|ss\s{1,3}number|social\s{1,3}security(?:\s{1,3}(?:number|num|no\.?|#))?"
    r"|social(?=\s{1,3}(?:is|was|number|#))",
    r"(?P<v>\d{3}[- ]?\d{2}[- ]?\d{4})(?![\w-]|\.\d)",
)


def detect_ssn(work: str, config: _Config | None = None) -> list[_Hit]:
    """Social Security numbers: 3-2-4 with dashes or spaces anywhere, nine
    plain digits after an SSN cue."""
    return _detect_ssn(_Text(work), config)


def _detect_ssn(t: _Text, config: _Config | None) -> list[_Hit]:
    if t.ndigits < 9 or t.maxrun < 4:  # both patterns: nine digits, the last four together
        return []
    hits = [("ssn", m.start(), m.end()) for m in _SSN.finditer(t.work)]
    hits += [("ssn", m.start("v"), m.end("v")) for m in _SSN_CUE.finditer(t.work)]
    return hits


_MRN_CUE = _cue_pattern(
    r"mrn|m\.r\.n\.?|mr\s{0,2}#"
    r"|medical\s{1,3}records?(?:\s{1,3}(?:number|num|no\.?|#|id))?"
    r"|med\.?\s{0,2}rec(?:ord)?\.?(?:\s{0,3}(?:#|no\.?|number|num))?"
    r"|chart\s{0,3}(?:number|num|no\.?|#|id)"
    r"|(?:patient|hospital|health\s{1,3}record)\s{1,3}(?:id|number|num|no\.?|#)"
)


def detect_mrn(work: str, config: _Config | None = None) -> list[_Hit]:
    """Medical record numbers after a cue ("MRN", "medical record #", "chart
    number", "patient ID") and anything PORTAL_SOCIAL_PHI_MRN_PATTERNS matches."""
    return _detect_mrn(_Text(work), config or _config())


# Where each cue pattern can start (lower case); a cue hit needs digits in its
# value, so the cue patterns run only when ``_Text.value_digits``.
_MRN_STARTS = ("mr", "m.r", "med", "chart", "patient", "hospital", "health")


# From the start of a cue to the start of its value: at most 42 characters of
# cue ("insurance card identification number"), 6 of _SEP, 3 x 20 of _FILLER.
_CUE_TO_VALUE = 160


def _cue_matches(
    pattern: re.Pattern[str], t: _Text, starts: Sequence[str], min_len: int, min_digits: int
) -> list[re.Match[str]]:
    """The matches of a _cue_pattern whose value _cue_hits can keep (the
    others make no hit): cues starting a little before a stretch that can
    hold such a value."""
    positions: list[int] = []
    floor = 0
    for start, end, _ in t.values(min_len, min_digits):
        lo = max(start - _CUE_TO_VALUE, floor)
        if lo < end:
            positions += t.starts(starts, _ALNUM, lo, end)
            floor = end
    return _matches_at(pattern, t.work, positions)


def _detect_mrn(t: _Text, config: _Config) -> list[_Hit]:
    work = t.work
    hits = _cue_hits(_cue_matches(_MRN_CUE, t, _MRN_STARTS, 4, 3), "mrn", 4, 3)
    for pattern in config.mrn_patterns:
        group = "mrn" if "mrn" in pattern.groupindex else 0
        for m in pattern.finditer(work):
            start, end = m.span(group)
            if end > start >= 0:
                hits.append(("mrn", start, end))
    return hits


_MEMBER_CUE = _cue_pattern(
    r"(?:member|subscriber|policy|group|plan|insurance(?:\s{1,3}card)?|beneficiary|medicare|medicaid|medi-cal"
    r"|health\s{1,3}plan|enrollee|cardholder|contract|coverage)"
    r"\s{0,3}(?:id(?:entification)?|#|number|num|no\.?)(?:\s{0,3}(?:#|number|no\.?))?"
)


def detect_member_id(work: str, config: _Config | None = None) -> list[_Hit]:
    """Health-plan member, subscriber, policy, group and Medicare/Medicaid IDs after a cue."""
    return _detect_member_id(_Text(work), config)


_MEMBER_STARTS = (
    "member",
    "subscriber",
    "policy",
    "group",
    "plan",
    "insurance",
    "beneficiary",
    "medi",
    "health",
    "enrollee",
    "cardholder",
    "contract",
    "coverage",
)


def _detect_member_id(t: _Text, config: _Config | None) -> list[_Hit]:
    return _cue_hits(_cue_matches(_MEMBER_CUE, t, _MEMBER_STARTS, 5, 2), "member_id", 5, 2)


_ACCOUNT_CUE = _cue_pattern(
    r"(?:(?:billing|patient|guarantor|hospital|bank|checking|savings|my)\s{1,3})?(?:account|acct\.?|a/c)"
    r"(?:\s{0,3}(?:#|number|num|no\.?))?"
    r"|(?:claim|invoice|statement|bill|rx|prescription|refill)"
    r"\s{0,3}(?:#|number|num|no\.?|id)"
    r"|rx\s{0,2}#?"
)
_CARD = re.compile(r"(?<![\w-])(?:\d[ -]?){12,18}\d(?![\w-]|\.\d)", _A)


def detect_account_number(work: str, config: _Config | None = None) -> list[_Hit]:
    """Account, claim, invoice and prescription numbers after a cue, and
    payment card numbers anywhere (13-19 digits passing the Luhn check)."""
    return _detect_account_number(_Text(work), config)


_ACCOUNT_STARTS = (
    "bill",
    "patient",
    "guarantor",
    "hospital",
    "bank",
    "checking",
    "savings",
    "my",
    "account",
    "acct",
    "a/c",
    "claim",
    "invoice",
    "statement",
    "rx",
    "prescription",
    "refill",
)


def _detect_account_number(t: _Text, config: _Config | None) -> list[_Hit]:
    hits = _cue_hits(_cue_matches(_ACCOUNT_CUE, t, _ACCOUNT_STARTS, 4, 4), "account_number", 4, 4)
    # A card number starts a run of digits; its 13+ digits are joined by
    # single spaces or hyphens.
    card_starts = _run_starts(t) if t.has_value(13, 13) else []
    for m in _matches_at(_CARD, t.work, card_starts):
        digits = _NON_DIGITS.sub("", m.group())
        if 13 <= len(digits) <= 19 and len(set(digits)) > 1 and _luhn(digits):
            hits.append(("account_number", m.start(), m.end()))
    return hits


_LICENSE_CUE = _cue_pattern(
    r"(?:driver'?s?|driving)\s{1,3}licen[cs]e(?!\s{1,3}plate)(?:\s{0,3}(?:number|num|no\.?|#|id))?"
    r"|(?-i:DL)\s{0,2}(?:#|:|number|no\.?)"
    r"|licen[cs]e(?!\s{1,3}plate)\s{0,3}(?:number|num|no\.?|#)"
    r"|(?:medical|nursing|professional|pharmacy|pharmacist|dental|state|board)\s{1,3}licen[cs]e"
    r"(?:\s{0,3}(?:number|num|no\.?|#))?"
    r"|dea(?:\s{0,3}(?:number|num|no\.?|#|registration))?"
    r"|(?:birth|death|marriage)\s{1,3}certificate(?:\s{0,3}(?:number|num|no\.?|#))?"
    r"|certificate\s{0,3}(?:number|num|no\.?|#)|cert(?:ification)?\s{0,3}(?:#|number|no\.?)"
    r"|passport(?:\s{0,3}(?:number|num|no\.?|#))?"
    r"|state\s{1,3}id(?:\s{0,3}(?:number|no\.?|#))?"
    r"|(?:permit|registration|green\s{1,3}card|visa|alien|a-number|uscis|tax\s{1,3}id|ein|itin)"
    r"\s{0,3}(?:number|num|no\.?|#)"
)


def detect_license(work: str, config: _Config | None = None) -> list[_Hit]:
    """Driver's, professional and DEA licence numbers, certificate, passport
    and state ID numbers, after a cue."""
    return _detect_license(_Text(work), config)


_LICENSE_STARTS = (
    "driv",
    "dl",
    "licen",
    "medical",
    "nursing",
    "professional",
    "pharmac",
    "dental",
    "state",
    "board",
    "dea",
    "birth",
    "marriage",
    "cert",
    "passport",
    "permit",
    "registration",
    "green",
    "visa",
    "alien",
    "a-number",
    "uscis",
    "tax",
    "ein",
    "itin",
)


def _detect_license(t: _Text, config: _Config | None) -> list[_Hit]:
    return _cue_hits(_cue_matches(_LICENSE_CUE, t, _LICENSE_STARTS, 5, 2), "license", 5, 2)


# --------------------------------------------------------------------------
# Vehicles and devices
# --------------------------------------------------------------------------

_VIN = re.compile(r"(?<![A-Za-z0-9])[A-HJ-NPR-Z0-9]{17}(?![A-Za-z0-9])", _AI)
_VIN_CUE = re.compile(r"(?<![A-Za-z])(?:vin|vehicle\s{1,3}(?:id|identification))(?![A-Za-z])[^A-Za-z0-9]{0,6}$", _AI)
_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_PLATE_CUE = _cue_pattern(
    r"licen[cs]e\s{1,3}plate(?:\s{0,3}(?:number|num|no\.?|#))?|plates?(?:\s{0,3}(?:number|num|no\.?|#))?"
    r"|tag\s{0,3}(?:number|num|no\.?|#)|registration\s{1,3}plate",
    r"(?P<v>[A-Za-z0-9]{2,8}(?:[ -](?=[A-Za-z]{0,4}\d)[A-Za-z0-9]{1,5})?)(?![A-Za-z0-9])",
)


def _vin_valid(vin: str) -> bool:
    total = sum(_VIN_VALUES[ch] * w for ch, w in zip(vin, _VIN_WEIGHTS, strict=True))
    check = total % 11
    return vin[8] == ("X" if check == 10 else str(check))


def detect_vehicle(work: str, config: _Config | None = None) -> list[_Hit]:
    """VINs (17 characters with a valid check digit, or after "VIN") and
    licence plates after a cue."""
    return _detect_vehicle(_Text(work), config)


_PLATE_STARTS = ("licen", "plate", "tag", "registration")


def _detect_vehicle(t: _Text, config: _Config | None) -> list[_Hit]:
    work = t.work
    hits = []
    # A VIN is 17 letters and digits with a digit.
    for m in _VIN.finditer(work) if t.has_value(17, 1) else ():
        vin = m.group().upper()
        if not (re.search(r"\d", vin) and re.search(r"[A-Z]", vin)):
            continue
        if _vin_valid(vin) or _VIN_CUE.search(work, max(0, m.start() - 30), m.start()):
            hits.append(("vehicle", m.start(), m.end()))
    # A plate may join letters to digits with a space ("ABC 1234"): the looser value_digits.
    plates = _matches_at(_PLATE_CUE, work, t.starts(_PLATE_STARTS, _ALNUM)) if t.value_digits else []
    hits += _cue_hits(plates, "vehicle", 4, 1)
    return hits


_DEVICE_CUE = _cue_pattern(
    r"serial(?:\s{0,3}(?:number|num|no\.?|#))?|s/n|(?-i:SN)(?:\s{0,2}#)?"
    r"|device\s{0,3}(?:id|identifier|serial)|imei|meid|udi|esn|mac\s{1,3}address"
)
_MAC = re.compile(r"(?<![\w:-])[0-9A-Fa-f]{2}(?P<s>[:-])(?:[0-9A-Fa-f]{2}(?P=s)){4}[0-9A-Fa-f]{2}(?![\w:-])", _A)


def detect_device(work: str, config: _Config | None = None) -> list[_Hit]:
    """Device serial numbers, device IDs, IMEI/UDI after a cue; MAC addresses."""
    return _detect_device(_Text(work), config)


_DEVICE_STARTS = ("serial", "s/n", "sn", "device", "imei", "meid", "udi", "esn", "mac")
# Every MAC address holds a separator, two hex digits and the same separator
# (a literal first character makes the search fast).
_MAC_HINTS = (re.compile(r":[0-9A-Fa-f]{2}:", _A), re.compile(r"-[0-9A-Fa-f]{2}-", _A))


def _detect_device(t: _Text, config: _Config | None) -> list[_Hit]:
    hits = _cue_hits(_cue_matches(_DEVICE_CUE, t, _DEVICE_STARTS, 4, 2), "device", 4, 2)
    if _MAC_HINTS[0].search(t.work) or _MAC_HINTS[1].search(t.work):
        hits += [("device", m.start(), m.end()) for m in _MAC.finditer(t.work)]
    return hits


# --------------------------------------------------------------------------
# Dates and ages
# --------------------------------------------------------------------------

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DATE = re.compile(
    r"(?<![\w/.-])(?:"
    r"(?P<n1>\d{1,2})(?P<ns>[/.-])(?P<n2>\d{1,2})(?:(?P=ns)(?P<ny>\d{4}|\d{2}))?(?![\w/]|[.-]\d)"
    r"|(?P<iy>\d{4})-(?P<im>\d{1,2})-(?P<id>\d{1,2})(?![\w-]|\.\d)"
    r"|(?:the\s{1,3})?(?P<d1>\d{1,2})(?:st|nd|rd|th)?\s{1,3}(?:of\s{1,3})?(?P<m1>" + _MONTH + r")\.?"
    r"(?:,?\s{1,3}(?P<y1>\d{4}))?(?![\w])"
    r"|(?P<m2>" + _MONTH + r")\.?\s{1,3}(?P<d2>\d{1,2})(?:st|nd|rd|th)?(?:,?\s{1,3}(?P<y2>\d{4}))?(?![\w])"
    r"|(?P<mm>\d{1,2})/(?P<my>\d{4})(?![\w/]|[.-]\d)"
    r"|(?P<m3>" + _MONTH + r")\.?,?\s{1,3}(?P<y3>\d{4})(?![\w])"
    r")",
    _AI,
)
# Necessary for a date with a month name (see _detect_date); "\Z" is the
# position searched up to.
_MONTH_AFTER = re.compile(r"(?:st|nd|rd|th)?\s{1,3}(?:of\s{1,3})?" + _MONTH, _AI)
_MONTH_BEFORE = re.compile(_MONTH + r"\.?,?\s{1,3}\Z", _AI)
_BIRTH_DEATH_STAY = (
    r"d\.?o\.?b\.?|date\s{1,3}of\s{1,3}(?:birth|death|admission|discharge)|birth\s{0,2}(?:date|day)s?|b-?days?"
    r"|born|admit(?:ted)?|admission|discharged?|died|death|passed(?:\s{1,3}away)?|deceased"
)
_DATE_CUE_BEFORE = re.compile(
    r"(?<![A-Za-z])(?:"
    + _BIRTH_DEATH_STAY
    + r"|date\s{1,3}of\s{1,3}(?:service|surgery|procedure)|(?-i:DOS)|appointments?|appts?|visit\s{1,3}(?:on|date)"
    r"|scheduled|(?:surgery|procedure|follow[\s-]?up)\s{1,3}(?:date|on|is|was))(?![A-Za-z])\.?",
    _AI,
)
_DATE_CUE_AFTER = re.compile(r"(?<![A-Za-z])(?:" + _BIRTH_DEATH_STAY + r")(?![A-Za-z])", _AI)
_BORN_YEAR = re.compile(
    r"(?<![A-Za-z])(?:born|birth\s{1,3}year|year\s{1,3}of\s{1,3}birth)(?![A-Za-z])[\s:,]{1,4}"
    r"(?:in\s{1,3})?(?:(?:the\s{1,3})?year\s{1,3}(?:of\s{1,3})?)?(?P<v>1[89]\d\d)(?![\w]|[/.-]\d)",
    _AI,
)


def _last(matches: Iterable[re.Match[str]]) -> re.Match[str] | None:
    last = deque(matches, maxlen=1)
    return last[0] if last else None


def _valid_date(m: re.Match[str]) -> bool:
    g = m.groupdict()
    if g["n1"]:
        a, b = int(g["n1"]), int(g["n2"])
        if not g["ny"] and g["ns"] != "/":
            return False  # "6.5", "3-4": a lab value or a range, not a date
        return 1 <= a <= 31 and 1 <= b <= 31 and (a <= 12 or b <= 12)
    if g["mm"]:
        return 1 <= int(g["mm"]) <= 12
    if g["iy"]:
        return 1 <= int(g["im"]) <= 12 and 1 <= int(g["id"]) <= 31
    day = g["d1"] or g["d2"]
    return day is None or 1 <= int(day) <= 31


def detect_date(work: str, config: _Config | None = None) -> list[_Hit]:
    """Dates with birth, death, admission, discharge or appointment context
    within 40 characters (same sentence); birth years implying age 90+."""
    return _detect_date(_Text(work), config)


def _detect_date(t: _Text, config: _Config | None) -> list[_Hit]:
    if not t.ndigits:
        return []
    work = t.work
    hits = []
    # A date's first run of digits is at most 14 characters after its start
    # ("September, 2024") and is followed by "/", ".", "-" and a digit, or by
    # "-" (2024-03-14), or by a month ("3rd of May"), or comes after a month
    # (May 3, May 2024). A date reads fewer than 50 characters.
    windows = []
    for start, end in t.runs:
        size = end - start
        if size > 4 or size == 3:
            continue
        after = work[end : end + 2]
        if (
            (size <= 2 and len(after) == 2 and after[0] in "/.-" and after[1] in "0123456789")
            or (size == 4 and after[:1] == "-")
            or (size <= 2 and _MONTH_AFTER.match(work, end))
            or (start and work[start - 1] in _ASCII_WS and _MONTH_BEFORE.search(work, max(0, start - 16), start))
        ):
            windows.append((start - 16, end))
    for m in _matches_in(_DATE, work, windows, 64):
        if not _valid_date(m):
            continue
        start, end = m.span()
        window = 20 if m.group("n1") and not m.group("ny") else 40
        lo = max(0, start - window)
        cue = _last(_DATE_CUE_BEFORE.finditer(work, lo, start))
        if cue is not None and not _SENTENCE_BREAK.search(work, cue.end(), start):
            hits.append(("date", start, end))
            continue
        after = _DATE_CUE_AFTER.search(work, end, min(len(work), end + 30))
        if after is not None and not _SENTENCE_BREAK.search(work, end, after.start()):
            hits.append(("date", start, end))
    low = t.low
    if t.maxrun < 4 or not ("born" in low or "birth" in low or "year" in low):
        return hits
    oldest = datetime.date.today().year - 90
    for m in _BORN_YEAR.finditer(work):
        if int(m.group("v")) <= oldest:
            hits.append(("date", m.start("v"), m.end("v")))
    return hits


# Ages: find each number from 90 to 119 first (rare in ordinary text), then
# look at a few characters on either side. Much cheaper than trying every cue
# at every position, and just as linear.
_AGE_CANDIDATE = re.compile(r"(?<![\w.$,])(?:9\d|1[01]\d)(?!\d|[.,]\d)", _A)
_AGE_UNIT_AFTER = re.compile(
    r"\s{0,2}-?\s{0,2}(?:(?:years?|yrs?)[\s-]{1,3}(?:old|young|of\s{1,3}age)|y/o|y\.o\.?|yo)(?![A-Za-z])", _AI
)
_NOT_AN_AGE_UNIT = re.compile(
    r"\s{0,2}(?:%|percent|mg|mcg|g|kg|lbs?|pounds?|oz|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|seconds?"
    r"|secs?|degrees?|units?|steps|bpm|mm|cm|ml|miles?|times|dollars|pills|tabs?|tablets?|percentile|x)(?![A-Za-z])"
    r"|\s{0,2}[/$]",
    _AI,
)
_REL_NOUN = (
    r"(?:great-?)?(?:grand)?(?:mother|father|mom|mum|dad|ma|pa|parent|son|daughter|child)(?:-in-law)?"
    r"|grandma|grandpa|granny|nana|husband|wife|spouse|aunt|uncle|sister|brother|neighbou?r|friend|patient|veteran"
)
_AGE_CUE_BEFORE = re.compile(
    r"(?<![A-Za-z])(?:aged?|age\s{0,2}[:=]|i'?m|i\s{1,2}am|(?:s?he|who|they)'s|(?:s?he|who|" + _REL_NOUN + r")"
    r"\s{1,3}(?:is|was)(?:\s{1,3}now)?|turned|turning|turns|(?:will|i'll|s?he'll|they'll)\s{1,3}be)\s{1,3}$",
    _AI,
)
_AGE_APPOSITION_BEFORE = re.compile(r"(?<![A-Za-z])(?:" + _REL_NOUN + r")\s{0,2}[,(]\s{0,2}$", _AI)
_AGE_APPOSITION_AFTER = re.compile(r"\s{0,2}[,)]", _A)
_AGGREGATE = re.compile(r"(?<![A-Za-z])(?:over|more\s{1,3}than|older\s{1,3}than|at\s{1,3}least|past)\s{1,3}$", _AI)


def detect_age(work: str, config: _Config | None = None) -> list[_Hit]:
    """Ages of 90 and over stated as ages ("93-year-old", "Dad is 96", "Mom (92)")."""
    return _detect_age(_Text(work), config)


def _detect_age(t: _Text, config: _Config | None) -> list[_Hit]:
    work = t.work
    hits = []
    # A candidate is a whole run of two or three digits.
    starts = [start for start, end in t.runs if 2 <= end - start <= 3]
    for m in _matches_at(_AGE_CANDIDATE, work, starts):
        start, end = m.span()
        lo = max(0, start - 40)
        if _AGGREGATE.search(work, max(0, start - 14), start):
            continue  # "over 90" is the Safe Harbor aggregate itself
        if (
            _AGE_UNIT_AFTER.match(work, end)
            or (_AGE_CUE_BEFORE.search(work, lo, start) and not _NOT_AN_AGE_UNIT.match(work, end))
            or (_AGE_APPOSITION_BEFORE.search(work, lo, start) and _AGE_APPOSITION_AFTER.match(work, end))
        ):
            hits.append(("age", start, end))
    return hits


# --------------------------------------------------------------------------
# Street addresses and ZIP codes
# --------------------------------------------------------------------------

_STATES = (
    r"(?:AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY"
    r"|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC|PR|VI|GU)"
)
_SUFFIX = (
    r"(?:street|st|avenue|ave|av|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|terrace|ter"
    r"|circle|cir|parkway|pkwy|highway|hwy|square|sq|trail|trl|plaza|crescent|alley)"
)
_DIRECTION = r"(?:[NSEW]\.?|North|South|East|West|[NS]\.?[EW]\.?)"
_CITY_STATE = r"[A-Z][a-z]{1,20}(?:\s[A-Z][a-z]{1,20}){0,2},?\s{1,3}" + _STATES + r"(?![A-Za-z])"
_ADDRESS = re.compile(
    r"(?<![\w#/.,$-])\d{1,6}[A-Za-z]?(?:-\d{1,4})?\s{1,3}(?:" + _DIRECTION + r"\s{1,3})?"
    r"(?:(?:[A-Z][A-Za-z'-]{0,24}\.?|\d{1,3}(?:st|nd|rd|th))\s{1,3}){1,4}"
    r"(?i:" + _SUFFIX + r")(?![A-Za-z])\.?"
    r"(?:\s{1,3}" + _DIRECTION + r"(?![A-Za-z]))?"
    r"(?:,?\s{1,3}(?i:apt|apartment|unit|suite|ste|rm|room|fl|floor|bldg|building|no)\.?\s{0,3}#?\s{0,2}"
    r"[A-Za-z0-9-]{1,6}(?![A-Za-z0-9])|,?\s{1,3}#\s{0,2}[A-Za-z0-9-]{1,6}(?![A-Za-z0-9]))?"
    r"(?P<city>,\s{1,3}" + _CITY_STATE + r")?"
    r"(?P<zip>,?\s{1,3}\d{5}(?:-\d{4})?(?![\w-]))?",
    _A,
)
_PO_BOX = re.compile(
    r"(?<![A-Za-z])(?:p\.?\s?o\.?\s{0,2}box|post\s{1,3}office\s{1,3}box)\s{0,3}#?\s{0,2}\d{1,8}(?!\d)", _AI
)
_CITY_STATE_ZIP = re.compile(
    r"(?<![A-Za-z])(?P<a>[A-Z][a-z]{1,20}(?:\s[A-Z][a-z]{1,20}){0,2},\s{1,3}"
    + _STATES
    + r")\s{1,3}(?P<zip>\d{5}(?:-\d{4})?)(?![\w-])",
    _A,
)
_ZIP4 = re.compile(r"(?<![\w-])\d{5}-\d{4}(?![\w-]|\.\d)", _A)
_ZIP_CUE = re.compile(
    r"(?<![A-Za-z])(?:zip(?:\s{0,2}code)?|zipcode|postal\s{1,3}code)(?![A-Za-z])[\s:#]{0,4}"
    r"(?:(?:is|was)\s{1,3})?(?P<v>\d{5})(?![\w-])",
    _AI,
)


def detect_address(work: str, config: _Config | None = None) -> list[_Hit]:
    """Street addresses (number, capitalised street name, suffix, optional
    direction, unit and "City, ST"), PO boxes, and "City, ST 12345"."""
    return _detect_address(_Text(work), config)


def _detect_address(t: _Text, config: _Config | None) -> list[_Hit]:
    if not t.ndigits:
        return []
    work = t.work
    hits = []
    # A street address starts with a run of at most six digits.
    for m in _matches_at(_ADDRESS, work, _run_starts(t, 6)):
        end = m.end("city") if m.group("city") else m.end()
        if m.group("zip"):
            end = m.start("zip")
            zip_start = m.start("zip") + len(m.group("zip")) - len(m.group("zip").lstrip(", "))
            hits.append(("zip", zip_start, m.end("zip")))
        hits.append(("address", m.start(), end))
    if "box" in t.low:
        hits += [("address", m.start(), m.end()) for m in _PO_BOX.finditer(work)]
    for m in _CITY_STATE_ZIP.finditer(work) if t.maxrun >= 5 else ():
        hits.append(("address", m.start("a"), m.end("a")))
        hits.append(("zip", m.start("zip"), m.end("zip")))
    return hits


def detect_zip(work: str, config: _Config | None = None) -> list[_Hit]:
    """ZIP+4 codes anywhere; five-digit ZIPs after "zip"/"postal code" (and
    after an address or "City, ST": see :func:`detect_address`)."""
    return _detect_zip(_Text(work), config)


def _detect_zip(t: _Text, config: _Config | None) -> list[_Hit]:
    if t.maxrun < 5:  # both patterns: five digits together
        return []
    work, low = t.work, t.low
    hits = [("zip", m.start(), m.end()) for m in _ZIP4.finditer(work)]
    if "zip" in low or "postal" in low:
        hits += [("zip", m.start("v"), m.end("v")) for m in _ZIP_CUE.finditer(work)]
    return hits


# --------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------

_UPPER = "A-ZÀ-ÖØ-Þ"
_LOWER = "a-zß-öø-ÿ"
# A capitalised name word: "Ann", "O'Brien", "McDonald", "Anne-Marie", "José"; a
# possessive "'s" may follow ("Jake's"), any other letter may not.
_WORD = (
    rf"[{_UPPER}][{_LOWER}]{{0,3}}(?:['-]?[{_UPPER}])?[{_LOWER}]{{1,20}}(?![{_UPPER}{_LOWER}]|'[{_UPPER}{_LOWER}]{{2}})"
)
_NAME = (
    r"(?P<n>(?:(?:Mr|Mrs|Ms|Mx|Miss)\.?\s{1,2})?"
    + _WORD
    + r"(?:\s{1,2}(?:["
    + _UPPER
    + r"]\.\s{1,2})?"
    + _WORD
    + r"){0,2})"
)
_RELATION = (
    r"(?:great-|step|half-?)?(?:grand)?(?:mother|father|son|daughter|child|children|kid|mom|mum|mommy|mama|dad"
    r"|daddy|papa|sister|brother)(?:-in-law)?"
    r"|grandma|grandpa|granny|nana|grandson|granddaughter|grandchild|husband|wife|spouse|partner|fianc[ée]e?"
    r"|boyfriend|girlfriend|friend|best\s{1,3}friend|neighbou?r|roommate|aunt|auntie|uncle|cousin|niece|nephew"
    r"|twin|baby|caregiver|godmother|godfather|godson|goddaughter|companion|sweetheart"
)
_NAME_STRONG = re.compile(
    r"(?<![A-Za-z])(?i:(?:my|our|his|her|their)\s{1,3}"
    r"(?:(?:late|dear|beloved|elderly|little|older|younger|big|baby|oldest|youngest|eldest|\d{1,3}[\s-]{1,2}"
    r"(?:year|yr|month|week)s?[\s-]{1,2}old)\s{1,3})?(?:" + _RELATION + r")"
    r"|(?:my\s{1,3})?name\s{0,2}(?:is|:|'s)|named|(?:patient|client|member|resident)\s{1,3}name\s{0,2}(?:is|:)"
    r")(?![A-Za-z'])\s{0,2},?\s{1,3}" + _NAME,
    re.ASCII,
)
_NAME_WEAK = re.compile(
    r"(?<![A-Za-z])(?i:i\s{1,2}am|i'm|im|this\s{1,2}is|it's|it\s{1,2}is)(?![A-Za-z'])\s{1,3}" + _NAME, re.ASCII
)
_NAME_SIGNOFF = re.compile(
    r"(?<![A-Za-z])(?i:sincerely|regards|best\s{1,3}regards|kind\s{1,3}regards|warmly|respectfully|cheers|love|signed"
    r"|best|gratefully|with\s{1,3}gratitude|(?:thanks|thank\s{1,3}you)(?:\s{1,3}(?:so\s{1,3}much|again|all|everyone"
    r"|for\s{1,3}(?:everything|all|your\s{1,3}help|listening)))?)\s{0,2}[,\n:-]\s{0,3}"
    + _NAME
    + r"\s{0,3}(?=$|[\n.!(])",
    re.ASCII,
)
_NAME_HERE = re.compile(
    r"(?<![A-Za-z])(?i:hi|hello|hey|greetings)(?:\s{1,3}(?i:all|everyone|folks|there|friends|team))?\s{0,2}[,!.:-]{1,2}"
    r"\s{1,3}" + _NAME + r"\s{1,2}(?i:here)(?![A-Za-z])",
    re.ASCII,
)
# Capitalised words that follow a cue but are not names ("I'm Not Sure").
_NOT_NAMES_TEXT = """
    I A An And The But Or So We He She They It Its This That These Those My Our His Her Their Your You Me Us Them
    Is Was Has Had Have Will Would Can Could Should Did Does Do Not No Yes Very Really Just Still Also Always Never
    Here There Today Tomorrow Yesterday Tonight Now Then Again Finally Because After Before When While If Who What
    Where Why How Which From To In On At For With About Of By As All Everyone Both Together Same Some Any Every
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday Dr Doctor Doc Nurse Nurses Mom Mum Dad Grandma Grandpa
    Hospital Health Medical Center Centre Clinic Type Thank Thanks Please Sorry Happy Glad Grateful Thankful Sure
    Writing Calling Going Being Feeling Doing Getting Trying Looking Hoping Waiting Here New Diabetic Pregnant Ok
    Okay Well Fine Back Home Sick Tired Frustrated Disappointed Upset Angry Confused Worried Scared Ridiculous
    Unacceptable Amazing Great Good Bad Hi Hello Hey Dear Not Unable Afraid Diagnosed Currently Recently Only
    Emergency Urgent Care Patient Patients Member Caregiver Staff Team Everybody Anyone Someone Nobody God Jesus
    Lord Christmas Easter Thanksgiving English Spanish Covid Cancer Stage Level Room Floor Unit Suite Building
    """
_NOT_NAMES = frozenset(_NOT_NAMES_TEXT.split())


def _name_hit(work: str, m: re.Match[str], min_words: int) -> _Hit | None:
    start = m.start("n")
    words = [(w.start(), w.end(), w.group()) for w in re.finditer(r"\S+", m.group("n"))]
    kept = []
    for ws, we, word in words:
        bare = word.rstrip(".")
        if bare in _NOT_NAMES:
            if kept:
                # "My Daughter Loves The Nurses": a capitalised common word
                # right after the candidate means Title Case, not a name.
                return None
            break
        kept.append((ws, we, bare))
    honorific = bool(kept) and kept[0][2] in {"Mr", "Mrs", "Ms", "Mx", "Miss"}
    real = [w for w in kept if w[2] not in {"Mr", "Mrs", "Ms", "Mx", "Miss"} and len(w[2]) > 1]
    if len(real) < (1 if honorific else min_words):
        return None
    return ("name", start, start + kept[-1][1])


def detect_name(work: str, config: _Config | None = None) -> list[_Hit]:
    """Personal names after a cue (relationship, "my name is", "named", "I'm",
    a sign-off, "Hi all, X here"); never clinicians ("Dr. X")."""
    return _detect_name(_Text(work), config)


# A name starts with a capital letter. In the cue patterns other than
# _NAME_HERE, what comes between the cue and the name is one to nine of the
# _NAME_GAP characters ("my husband, Tom", "name: Jo", "Love -\nAnn"), and a cue
# ends with a letter or "é" ("my fiancé Jo"). The longest cue ("their
# 12-year-old great-granddaughter-in-law") has 53 characters, and no attempt
# reads 200 characters past its start (cue, gap, three 26-letter words).
# The capital is followed by a letter, "'" or "-" (a name word has two
# letters or more), and the cue's last word, the letters (and "é", "'") before
# the gap, is one of _NAME_CUE_LAST_WORDS. Which part of the letters before the
# gap is that word is not known (the look-behind of a cue lets "é" or "'" come
# right before it), so every ending of them is looked up.
_NAME_CUE_LAST_WORDS = frozenset(
    [
        # _RELATION
        *(
            prefix + grand + base
            for prefix in ("", "step", "half")
            for grand in ("", "grand")
            for base in [
                "mother",
                "father",
                "son",
                "daughter",
                "child",
                "children",
                "kid",
                "mom",
                "mum",
                "mommy",
                "mama",
                "dad",
                "daddy",
                "papa",
                "sister",
                "brother",
            ]
        ),
        *[
            "law",
            "grandma",
            "grandpa",
            "granny",
            "nana",
            "grandson",
            "granddaughter",
            "grandchild",
            "husband",
            "wife",
            "spouse",
            "partner",
            "fiancé",
            "fiancée",
            "fiance",
            "fiancee",
            "boyfriend",
            "girlfriend",
            "friend",
            "neighbor",
            "neighbour",
            "roommate",
            "aunt",
            "auntie",
            "uncle",
            "cousin",
            "niece",
            "nephew",
            "twin",
            "baby",
            "caregiver",
            "godmother",
            "godfather",
            "godson",
            "goddaughter",
            "companion",
            "sweetheart",
        ],
        # the other cues of _NAME_STRONG, then _NAME_WEAK's, then _NAME_SIGNOFF's
        *["is", "nameis", "name", "'s", "named"],
        *["am", "'m", "im"],
        *[
            "sincerely",
            "regards",
            "warmly",
            "respectfully",
            "cheers",
            "love",
            "signed",
            "best",
            "gratefully",
            "gratitude",
            "thanks",
            "you",
            "much",
            "again",
            "all",
            "everyone",
            "everything",
            "help",
            "listening",
        ],
    ]
)
_NAME_CUE_WORD_MAX = max(map(len, _NAME_CUE_LAST_WORDS))
# So _CUE_BEFORE_CAPITAL, run on the reversed text, where the capital comes
# first (a fast scan), finds every capital that can start such a name: group 1
# is the gap, group 2 the reversed letters before it.
_CUE_BEFORE_CAPITAL = re.compile(
    f"[{_UPPER}](?<=[{_LOWER}'\\-{_UPPER}][{_UPPER}])"
    + rf"(?=([ \t\n\r\x0b\x0c,:\-]{{1,12}})([A-Za-zé']{{1,{_NAME_CUE_WORD_MAX}}}))",
    _A,
)
_NAME_HERE_STARTS = ("hi", "hello", "hey", "greetings")


def _could_end_a_name_cue(letters: str) -> bool:
    return any(letters[i:] in _NAME_CUE_LAST_WORDS for i in range(len(letters)))


def _detect_name(t: _Text, config: _Config | None) -> list[_Hit]:
    work = t.work
    last = len(work) - 1
    windows = []
    for m in _CUE_BEFORE_CAPITAL.finditer(work[::-1]):
        if _could_end_a_name_cue(m.group(2)[::-1].lower()):
            cue_end = last - m.end(1)  # the letter before the gap, in ``work``
            windows.append((cue_end - 64, cue_end + 1))
    windows.reverse()
    hits = []
    for pattern, min_words in ((_NAME_STRONG, 1), (_NAME_WEAK, 2), (_NAME_SIGNOFF, 2)):
        for m in _matches_in(pattern, work, windows, 256):
            hit = _name_hit(work, m, min_words)
            if hit:
                hits.append(hit)
    if "here" in t.low:  # "Hi all, Jamal Wright here"
        for m in _matches_at(_NAME_HERE, work, t.starts(_NAME_HERE_STARTS, _LETTERS)):
            hit = _name_hit(work, m, 2)
            if hit:
                hits.append(hit)
    return hits


# --------------------------------------------------------------------------
# The screening form: the text as a reader sees it
# --------------------------------------------------------------------------
#
# An author can write an identifier so that a reader still reads it but a
# pattern does not: soft hyphens and zero-width characters inside a number,
# Arabic-Indic or Devanagari digits, full-width letters, "maria@gmail。com",
# a right-to-left override that makes "9035-768-555" display as
# "555-867-5309". So the detectors read a folded copy of the text
# (:func:`_fold`):
#
# * invisible characters are dropped: format characters (Unicode category
#   Cf: soft hyphen, zero-width space/joiner/non-joiner, word joiner, BOM,
#   bidirectional controls...), the other default-ignorable code points
#   (variation selectors, Hangul fillers...), and control characters other
#   than tab and line breaks (``core.text`` drops them from what it shows);
# * each cluster (a character and the combining marks after it) is put in
#   NFKC form: full-width and mathematical letters and digits, "＠", "．",
#   superscripts and ligatures become their plain forms;
# * any decimal digit (category Nd: Arabic-Indic, Devanagari, Bengali...)
#   becomes its ASCII digit, and the full stops of other scripts "."; a
#   combining mark on anything but a letter ("5\u20e3", "5\u0301") is dropped;
# * _NORMALISE's one-for-one replacements (spaces, dashes, quotes).
#
# The folded text can be shorter or longer than the original, so _fold keeps,
# for each folded character, the span of the original it came from, and scan
# maps every finding back: offsets always point into the original text, so
# redaction and highlighting work on what the author wrote.
#
# Display order is a second matter. A right-to-left override, or just a
# right-to-left letter or mark before some digits, makes a browser show
# characters in another order than they are stored. When a text holds any
# character that can do that, scan also reads the order a reader sees, in a
# left-to-right and in a right-to-left paragraph (:func:`_visual_order`, the
# Unicode Bidirectional Algorithm with the simplifications listed there).
#
# Cost: plain ASCII (nearly every post) is read as it is, after one check
# for control characters. Other text is searched for the characters that can
# reorder it and for those _fold cannot replace one for one (two compiled
# character classes, built on first use); the others (digits, full-width
# letters, exotic spaces) go through one str.translate, which keeps every
# offset. Only runs of the rest are folded cluster by cluster, and only text
# that can reorder is read in display order.

# Full stops of other scripts a reader takes for "." in an address (NFKC
# already maps "．", "｡", "﹒" and "︒" to "." or "。").
_FULL_STOPS = frozenset("\u3002\u06d4\u0701\u0702\u1362\u166e\u1803\u1809\u2e3c\ua4ff\ua60e\ua6f3\uff61")
# Default-ignorable code points that are not format characters: invisible,
# so dropped like them.
_IGNORABLE = frozenset(
    "\u034f\u115f\u1160\u17b4\u17b5\u3164\uffa0"
    + "".join(map(chr, range(0x180B, 0x1810)))
    + "".join(map(chr, range(0xFE00, 0xFE10)))
    + "".join(map(chr, range(0xE0100, 0xE01F0)))
)
_KEPT_CONTROLS = frozenset("\t\n\r")
# Bidirectional classes that can make a text display in another order than it
# is stored: right-to-left letters and numbers, embeddings, overrides, isolates.
_BIDI_REORDERING = frozenset(("R", "AL", "AN", "LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"))
# Printable ASCII, tab and line breaks: a text of these only is read as it is.
_PLAIN_BYTES = bytes(range(0x20, 0x7F)) + b"\t\n\r"
# Where the ranges of characters _fold treats live: every format, control,
# mark, digit and right-to-left character, and every character NFKC changes
# other than CJK compatibility ideographs (which stay ideographs), is in
# planes 0, 1 and 14. tests/core/test_phi.py checks the other planes.
_FOLD_PLANES = (range(0x0, 0x20000), range(0xE0000, 0xE1000))


def _ignorable(char: str) -> bool:
    """Invisible: a format character, a control (not tab or a line break) or another default-ignorable."""
    category = unicodedata.category(char)
    return category == "Cf" or (category == "Cc" and char not in _KEPT_CONTROLS) or char in _IGNORABLE


def _changes(char: str) -> bool:
    """Whether _fold changes ``char`` beyond _NORMALISE's one-for-one replacements."""
    if ord(char) in _NORMALISE:
        return False
    category = unicodedata.category(char)
    return (
        _ignorable(char)
        or category[0] == "M"
        or (category == "Nd" and not "0" <= char <= "9")
        or char in _FULL_STOPS
        or unicodedata.normalize("NFKC", char) != char
    )


def _reorders(char: str) -> bool:
    """Whether ``char`` can make a text display in another order than it is stored."""
    return unicodedata.bidirectional(char) in _BIDI_REORDERING


def _character_class(code_points: Iterable[int]) -> str:
    """A regular-expression character class for sorted code points, as ranges."""
    parts = []
    for _, group in itertools.groupby(enumerate(code_points), lambda pair: pair[1] - pair[0]):
        run = [cp for _, cp in group]
        first, last = re.escape(chr(run[0])), re.escape(chr(run[-1]))
        parts.append(first if len(run) == 1 else f"{first}-{last}")
    return "[" + "".join(parts) + "]"


class _FoldTables(NamedTuple):
    one_for_one: dict[int, str]  # folds to one character (a digit, a full-width letter...): str.translate
    slow: re.Pattern[str]  # runs of characters folded in context (invisible, marks, expansions)
    reorders: re.Pattern[str]  # any character that can change the display order


@functools.cache
def _fold_tables() -> _FoldTables:
    """Built on first use (a tenth of a second): a process that never scans
    non-ASCII text does not need them."""
    table = dict(_NORMALISE)
    slow, reorders = [], []
    for plane in _FOLD_PLANES:
        for cp in plane:
            char = chr(cp)
            if _reorders(char):
                reorders.append(cp)
            if not _changes(char):
                continue
            folded, marked = _fold_cluster(char)
            if len(folded) == 1 and not marked and not unicodedata.combining(char):
                table[cp] = folded
            else:
                slow.append(cp)
    return _FoldTables(table, re.compile(_character_class(slow) + "+"), re.compile(_character_class(reorders)))


class _Folded(NamedTuple):
    """The screening form of a text: ``work`` and, unless it is ``text``
    itself character for character, the ``starts[i]:ends[i]`` span of the
    original that ``work[i]`` comes from."""

    work: str
    starts: list[int] | None
    ends: list[int] | None
    reorders: bool  # holds characters that can change the display order


@functools.lru_cache(maxsize=4096)
def _fold_cluster(cluster: str) -> tuple[str, bool]:
    """A character and its combining marks, folded; and whether the result
    holds a mark (which _fold keeps only on a letter)."""
    visible = "".join(c for c in cluster if not _ignorable(c))
    if not visible:
        return "", False
    folded = []
    for char in unicodedata.normalize("NFKC", visible):
        if char > "\x7f":
            if char in _FULL_STOPS:
                char = "."
            elif unicodedata.category(char) == "Nd":
                char = str(unicodedata.decimal(char))
        folded.append(char)
    result = "".join(folded)
    return result, any(unicodedata.category(c) in ("Mn", "Me") for c in result)


def _plain(text: str) -> bool:
    """Printable ASCII, tabs and line breaks only: nothing to fold, nothing to reorder."""
    # Deleting the plain bytes is several times faster than searching for the others.
    return text.isascii() and not text.encode("ascii").translate(None, _PLAIN_BYTES)


def _fold(text: str) -> _Folded:
    """The text the detectors read (see above), with the way back to ``text``.

    Characters that fold to one character (digits, full-width letters, full
    stops, _NORMALISE's) are replaced by one ``str.translate``, which keeps
    every offset; only the runs of the others (invisible characters, marks,
    characters NFKC expands) are folded cluster by cluster.
    """
    if _plain(text):
        return _Folded(text, None, None, False)
    tables = _fold_tables()
    reordering = tables.reorders.search(text) is not None
    runs = tables.slow.finditer(text)
    first = next(runs, None)
    if first is None:
        return _Folded(text.translate(tables.one_for_one), None, None, reordering)
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pos = 0
    last = ""  # the last character put in the folded text
    combining = unicodedata.combining
    for run in itertools.chain((first,), runs):
        start, end = run.span()
        if start > pos and combining(text[start]):
            start -= 1  # a mark belongs to the character before it: fold them together
        if start > pos:
            pieces.append(text[pos:start])
            starts.extend(range(pos, start))
            ends.extend(range(pos + 1, start + 1))
            last = text[start - 1]
        i = start
        while i < end:
            j = i + 1
            while j < end and combining(text[j]):
                j += 1
            folded, marked = _fold_cluster(text[i:j])
            if marked:
                for char in folded:
                    if unicodedata.category(char) in ("Mn", "Me") and not last.isalpha():
                        continue  # a mark on a digit or a symbol: "5\u20e3" reads "5"
                    pieces.append(char)
                    starts.append(i)
                    ends.append(j)
                    last = char
            elif folded:
                pieces.append(folded)
                starts.extend([i] * len(folded))
                ends.extend([j] * len(folded))
                last = folded[-1]
            i = j
        pos = end
    if pos < len(text):
        pieces.append(text[pos:])
        starts.extend(range(pos, len(text)))
        ends.extend(range(pos + 1, len(text) + 1))
    return _Folded("".join(pieces).translate(tables.one_for_one), starts, ends, reordering)


# The Unicode Bidirectional Algorithm (UAX #9), as far as it decides where a
# character is displayed. Simplified: no bracket pairs (N0), level runs stand
# for isolating run sequences, an FSI looks for the first strong character
# after it without skipping nested isolates, and a paragraph is one line. A
# reader's browser may therefore differ in rare cases; the aim is to see
# what an author arranged to be seen.

_MAX_DEPTH = 125
_NEUTRAL = frozenset(("B", "S", "WS", "ON", "LRI", "RLI", "FSI", "PDI"))
_MIRRORED = {ord(a): b for a, b in zip("()[]{}<>«»‹›", ")(][}{><»«›‹", strict=True)}


def _bidi_class(char: str) -> str:
    return unicodedata.bidirectional(char) or "L"


def _explicit_levels(classes: list[str], base: int) -> tuple[list[int], list[str], list[bool]]:
    """Rules X1-X9: the embedding level of each character, its type after
    overrides, and whether X9 removes it (embedding controls, BN)."""
    n = len(classes)
    levels, types, removed = [base] * n, list(classes), [False] * n
    next_strong = ["L"] * (n + 1)  # for FSI: the first strong class after each position
    for i in range(n - 1, -1, -1):
        next_strong[i] = classes[i] if classes[i] in ("L", "R", "AL") else next_strong[i + 1]
    stack = [(base, "", False)]  # (level, override "L"/"R"/"", isolate)
    overflow_isolates = overflow_embeddings = valid_isolates = 0
    for i, kind in enumerate(classes):
        level, override, _ = stack[-1]
        if kind in ("RLE", "LRE", "RLO", "LRO"):
            removed[i] = True
            levels[i] = level
            new = (level + 1) | 1 if kind[0] == "R" else (level + 2) & ~1
            if new <= _MAX_DEPTH and not overflow_isolates and not overflow_embeddings:
                stack.append((new, kind[0] if kind[2] == "O" else "", False))
            elif not overflow_isolates:
                overflow_embeddings += 1
        elif kind in ("RLI", "LRI", "FSI"):
            levels[i] = level
            if override:
                types[i] = override
            rtl = kind == "RLI" or (kind == "FSI" and next_strong[i + 1] in ("R", "AL"))
            new = (level + 1) | 1 if rtl else (level + 2) & ~1
            if new <= _MAX_DEPTH and not overflow_isolates and not overflow_embeddings:
                valid_isolates += 1
                stack.append((new, "", True))
            else:
                overflow_isolates += 1
        elif kind == "PDI":
            if overflow_isolates:
                overflow_isolates -= 1
            elif valid_isolates:
                overflow_embeddings = 0
                while not stack[-1][2]:
                    stack.pop()
                stack.pop()
                valid_isolates -= 1
            level, override, _ = stack[-1]
            levels[i] = level
            if override:
                types[i] = override
        elif kind == "PDF":
            removed[i] = True
            levels[i] = level
            if overflow_isolates:
                pass
            elif overflow_embeddings:
                overflow_embeddings -= 1
            elif not stack[-1][2] and len(stack) > 1:
                stack.pop()
        elif kind == "B":
            levels[i] = base
        elif kind == "BN":
            removed[i] = True
            levels[i] = level
        else:
            levels[i] = level
            if override:
                types[i] = override
    return levels, types, removed


def _resolve_run(types: list[str], seq: list[int], sos: str, eos: str, level: int) -> None:
    """Rules W1-W7 and N1-N2 on one level run (``seq``: its positions)."""
    prev = sos
    for k in seq:  # W1
        if types[k] == "NSM":
            types[k] = "ON" if prev in ("LRI", "RLI", "FSI", "PDI") else prev
        prev = types[k]
    strong = sos
    for k in seq:  # W2, W3
        kind = types[k]
        if kind in ("L", "R", "AL"):
            strong = kind
            if kind == "AL":
                types[k] = "R"
        elif kind == "EN" and strong == "AL":
            types[k] = "AN"
    for a, b, c in zip(seq, seq[1:], seq[2:], strict=False):  # W4
        if types[b] == "ES" and types[a] == types[c] == "EN":
            types[b] = "EN"
        elif types[b] == "CS" and types[a] == types[c] and types[a] in ("EN", "AN"):
            types[b] = types[a]
    m = len(seq)
    x = 0
    while x < m:  # W5, W6
        if types[seq[x]] != "ET":
            if types[seq[x]] in ("ES", "CS"):
                types[seq[x]] = "ON"
            x += 1
            continue
        y = x
        while y < m and types[seq[y]] == "ET":
            y += 1
        joined = (x and types[seq[x - 1]] == "EN") or (y < m and types[seq[y]] == "EN")
        for z in range(x, y):
            types[seq[z]] = "EN" if joined else "ON"
        x = y
    strong = sos
    for k in seq:  # W7
        if types[k] in ("L", "R"):
            strong = types[k]
        elif types[k] == "EN" and strong == "L":
            types[k] = "L"
    embedding = "R" if level % 2 else "L"
    x = 0
    while x < m:  # N1, N2
        if types[seq[x]] not in _NEUTRAL:
            x += 1
            continue
        y = x
        while y < m and types[seq[y]] in _NEUTRAL:
            y += 1
        before = sos if x == 0 else ("L" if types[seq[x - 1]] == "L" else "R")
        after = eos if y == m else ("L" if types[seq[y]] == "L" else "R")
        direction = before if before == after else embedding
        for z in range(x, y):
            types[seq[z]] = direction
        x = y


def _paragraph_levels(classes: list[str], base: int) -> list[int]:
    """The resolved level of each character of one paragraph (X1-I2, L1)."""
    n = len(classes)
    levels, types, removed = _explicit_levels(classes, base)
    explicit = levels[:]
    kept = [i for i in range(n) if not removed[i]]
    x = 0
    while x < len(kept):
        y = x
        level = explicit[kept[x]]
        while y < len(kept) and explicit[kept[y]] == level:
            y += 1
        before = explicit[kept[x - 1]] if x else base
        after = explicit[kept[y]] if y < len(kept) else base
        seq = kept[x:y]
        _resolve_run(types, seq, "R" if max(level, before) % 2 else "L", "R" if max(level, after) % 2 else "L", level)
        for k in seq:  # I1, I2
            kind = types[k]
            if level % 2 == 0:
                levels[k] += 1 if kind == "R" else 2 if kind in ("AN", "EN") else 0
            elif kind in ("L", "EN", "AN"):
                levels[k] += 1
        x = y
    # L1: separators, and whitespace before them or at the end, at the paragraph level.
    trailing = True
    for i in range(n - 1, -1, -1):
        kind = classes[i]
        if kind in ("S", "B"):
            levels[i] = base
            trailing = True
        elif trailing and (kind in ("WS", "LRI", "RLI", "FSI", "PDI") or removed[i]):
            levels[i] = base
        else:
            trailing = False
    for i in range(n):  # removed characters take their neighbour's level (they are dropped anyway)
        if removed[i] and classes[i] not in ("S", "B"):
            levels[i] = levels[i - 1] if i else base
    return levels


def _reorder(levels: list[int], offset: int) -> list[int]:
    """Rule L2: the positions (plus ``offset``) in display order. A run of
    levels at least k is reversed once for every k from the highest level
    down to the lowest odd level. With few levels that is done as written;
    with many (deep nesting), a tree of nested runs counts how often each is
    reversed, so that an author cannot buy a pass over the text per level."""
    odd = [level for level in levels if level % 2]
    if not odd:
        return list(range(offset, offset + len(levels)))
    lowest, highest = min(odd), max(levels)
    if highest - lowest < 8:
        # Few passes (nearly every text): reverse the runs of two characters
        # or more that each pass finds, at the speed of slicing.
        order = list(range(offset, offset + len(levels)))
        data = bytes(levels)
        for level in range(highest, lowest - 1, -1):
            for run in re.finditer(b"[" + re.escape(bytes((level,))) + b"-\x7f]{2,}", data):
                a, b = run.span()
                order[a:b] = order[a:b][::-1]
        return order
    # A node: [level, parent level, children]; a child is a node or a (start, end) run.
    root: list = [-1, -1, []]
    stack = [root]
    i, n = 0, len(levels)
    while i < n:
        j = i
        while j < n and levels[j] == levels[i]:
            j += 1
        level = levels[i]
        popped = None
        while stack[-1][0] > level:
            popped = stack.pop()
        if stack[-1][0] < level:
            node = [level, stack[-1][0], []]
            if popped is not None:
                stack[-1][2].pop()
                popped[1] = level
                node[2].append(popped)
            stack[-1][2].append(node)
            stack.append(node)
        stack[-1][2].append((i + offset, j + offset))
        i = j
    order: list[int] = []

    def emit(node: list, flipped: bool) -> None:
        level, parent, children = node
        reversals = level - max(parent + 1, lowest) + 1
        if reversals > 0 and reversals % 2:
            flipped = not flipped
        for child in reversed(children) if flipped else children:
            if child.__class__ is tuple:
                order.extend(range(child[1] - 1, child[0] - 1, -1) if flipped else range(*child))
            else:
                emit(child, flipped)

    emit(root, False)
    return order


def _visual_order(text: str, base: int) -> tuple[list[int], list[int]]:
    """The positions of ``text`` in the order a reader sees them in a
    paragraph of direction ``base`` (0 left-to-right, 1 right-to-left), and
    the resolved level of each position."""
    classes = [_bidi_class(c) for c in text]
    order: list[int] = []
    levels: list[int] = []
    start = 0
    # Each paragraph on its own; its separator stays at its end. A paragraph
    # without a character that reorders is read in place.
    for end in itertools.chain((i for i, kind in enumerate(classes) if kind == "B"), (len(text),)):
        if end > start and any(kind in _BIDI_REORDERING for kind in classes[start:end]):
            paragraph = _paragraph_levels(classes[start:end], base)
            order += _reorder(paragraph, start)
            levels += paragraph
        elif end > start:
            order += range(start, end)
            levels += [0] * (end - start)  # nothing reversed, nothing mirrored
        if end < len(text):
            order.append(end)
            levels.append(base)
        start = end + 1
    return order, levels


def _visual_texts(text: str) -> Iterable[tuple[str, list[int]]]:
    """``text`` as displayed in a left-to-right and in a right-to-left
    paragraph (mirrored brackets included), each with its display order,
    when that differs from the stored order."""
    seen = set()
    for base in (0, 1):
        order, levels = _visual_order(text, base)
        shown = "".join(text[k].translate(_MIRRORED) if levels[k] % 2 else text[k] for k in order)
        if shown != text and shown not in seen:
            seen.add(shown)
            yield shown, order


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------

#: Detector per kind family; each takes the normalised text and returns
#: ``(kind, start, end)`` tuples that may overlap. Exposed for tests.
DETECTORS: dict[str, Detector] = {
    "phone": detect_phone,
    "email": detect_email,
    "ssn": detect_ssn,
    "mrn": detect_mrn,
    "member_id": detect_member_id,
    "account_number": detect_account_number,
    "license": detect_license,
    "vehicle": detect_vehicle,
    "device": detect_device,
    "date": detect_date,
    "age": detect_age,
    "address": detect_address,
    "zip": detect_zip,
    "ip_address": detect_ip_address,
    "url": detect_url,
    "handle": detect_handle,
    "name": detect_name,
}


# What scan() runs: the same detectors, sharing one _Text per scan.
_SCAN_DETECTORS: tuple[Callable[[_Text, _Config], list[_Hit]], ...] = (
    _detect_phone,
    _detect_email,
    _detect_ssn,
    _detect_mrn,
    _detect_member_id,
    _detect_account_number,
    _detect_license,
    _detect_vehicle,
    _detect_device,
    _detect_date,
    _detect_age,
    _detect_address,
    _detect_zip,
    _detect_ip_address,
    _detect_url,
    _detect_handle,
    _detect_name,
)


def normalise(text: str) -> str:
    """The text the detectors read (the screening form): invisible characters
    dropped, NFKC, every decimal digit and full stop made ASCII, exotic spaces
    and dashes made plain. It may be shorter or longer than ``text``; :func:`scan`
    maps its findings back to ``text``."""
    return _fold(text).work


def _resolve(hits: list[_Hit]) -> list[_Hit]:
    """Sort and merge overlapping hits: the union of the spans, labelled with
    the longest hit's kind (the more specific kind on a tie). Merging rather
    than dropping means a redaction never leaves part of an identifier."""
    hits = [h for h in hits if h[2] > h[1]]
    hits.sort(key=lambda h: (h[1], h[1] - h[2], _PRIORITY[h[0]]))
    merged: list[list] = []
    for kind, start, end in hits:
        if merged and start < merged[-1][2]:
            last = merged[-1]
            if (end - start, -_PRIORITY[kind]) > (last[3], -_PRIORITY[last[0]]):
                last[0], last[3] = kind, end - start
            last[2] = max(last[2], end)
        else:
            merged.append([kind, start, end, end - start])
    return [(k, s, e) for k, s, e, _ in merged]


def _detect(work: str, config: _Config) -> list[_Hit]:
    t = _Text(work)
    hits: list[_Hit] = []
    for detector in _SCAN_DETECTORS:
        hits.extend(detector(t, config))
    return hits


def scan(text: str) -> list[Finding]:
    """Find PHI in ``text``: findings sorted by start, never overlapping.

    The detectors read the screening form of the text (:func:`normalise`) and,
    when the text holds characters that change the display order, the order a
    reader sees too; offsets always point into ``text`` itself.
    """
    if not isinstance(text, str):
        raise TypeError(f"scan() expects str, not {type(text).__name__}")
    if not text:
        return []
    config = _config()
    if _plain(text):  # nearly every post
        return [Finding(kind, start, end, text[start:end]) for kind, start, end in _resolve(_detect(text, config))]
    folded = _fold(text)
    hits = _detect(folded.work, config)
    if folded.starts is not None:
        starts, ends = folded.starts, folded.ends
        hits = [(kind, starts[start], ends[end - 1]) for kind, start, end in hits if end > start]
    if folded.reorders:
        for shown, order in _visual_texts(text):
            view = _fold(shown)
            for kind, start, end in _detect(view.work, config):
                if end <= start:
                    continue
                if view.starts is not None:
                    start, end = view.starts[start], view.ends[end - 1]
                positions = order[start:end]
                hits.append((kind, min(positions), max(positions) + 1))
    return [Finding(kind, start, end, text[start:end]) for kind, start, end in _resolve(hits)]


def marker(kind: str) -> str:
    """The text that replaces a finding: "[phone removed]"."""
    return gettext("[%(label)s removed]") % {"label": LABELS.get(kind, kind)}


def redact(text: str, findings: Sequence[Finding] | None = None) -> str:
    """``text`` with every finding replaced by its marker (scans when
    ``findings`` is None). Findings must come from this very text."""
    if findings is None:
        findings = scan(text)
    parts, pos = [], 0
    for finding in sorted(findings, key=lambda f: (f.start, -f.end)):
        if not (0 <= finding.start <= finding.end <= len(text)) or text[finding.start : finding.end] != finding.text:
            raise ValueError(f"finding {finding.kind!r} at {finding.start}:{finding.end} does not match the text")
        if finding.end <= pos:
            continue  # inside a span already replaced
        if finding.start >= pos:
            parts.append(text[pos : finding.start])
            parts.append(marker(finding.kind))
        pos = finding.end
    parts.append(text[pos:])
    return "".join(parts)
