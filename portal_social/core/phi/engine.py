"""The scanning engine: findings, the text a scan reads, shared pattern
building blocks, the detector registry, and how overlapping hits merge.

A detector family registers each detector once with :func:`register`; the
:func:`portal_social.core.phi.scan` entry point runs every registered detector
over one shared :class:`_Text`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy

from portal_social.core.phi.config import _Config


@dataclass(frozen=True, slots=True)
class Finding:
    """One identifier found in a text: ``text == source[start:end]``.

    ``reason`` says why it was flagged: the detector family and, where one
    decided it, the cue or library (``"cue:member_id:medicaid"``,
    ``"phonenumbers"``, ``"name:gazetteer"``). It is for moderators and
    tuning, never shown to the author; it does not take part in equality.
    """

    kind: str
    start: int
    end: int
    text: str
    reason: str = field(default="", compare=False)


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


_A = re.ASCII
_AI = re.ASCII | re.IGNORECASE

#: ``(kind, start, end)`` or ``(kind, start, end, reason)``.
_Hit = tuple
Detector = Callable[[str, "_Config | None"], list[_Hit]]
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
# The detector registry
# --------------------------------------------------------------------------

ScanDetector = Callable[[_Text, "_Config"], list[_Hit]]
#: Every registered detector, by the kind family it was registered under, in
#: registration order. Each reads a shared :class:`_Text` and returns
#: ``(kind, start, end)`` tuples that may overlap.
REGISTERED: dict[str, ScanDetector] = {}


def register(family: str) -> Callable[[ScanDetector], ScanDetector]:
    """Register ``func(t, config)`` as the detector for ``family``; once only."""

    def decorator(func: ScanDetector) -> ScanDetector:
        if family in REGISTERED:
            raise ValueError(f"a PHI detector is already registered for {family!r}")
        REGISTERED[family] = func
        return func

    return decorator


def _resolve(hits: list[_Hit]) -> list[tuple[str, int, int, str]]:
    """Sort and merge overlapping hits: the union of the spans, labelled with
    the longest hit's kind and reason (the more specific kind on a tie).
    Merging rather than dropping means a redaction never leaves part of an
    identifier. Hits without a reason get ``""``."""
    hits = [h if len(h) > 3 else (*h, "") for h in hits if h[2] > h[1]]
    hits.sort(key=lambda h: (h[1], h[1] - h[2], _PRIORITY[h[0]]))
    merged: list[list] = []
    for kind, start, end, reason in hits:
        if merged and start < merged[-1][2]:
            last = merged[-1]
            if (end - start, -_PRIORITY[kind]) > (last[3], -_PRIORITY[last[0]]):
                last[0], last[3], last[4] = kind, end - start, reason
            last[2] = max(last[2], end)
        else:
            merged.append([kind, start, end, end - start, reason])
    return [(k, s, e, r) for k, s, e, _, r in merged]


def _detect(work: str, config: _Config) -> list[tuple[str, int, int, str]]:
    """Every registered detector's hits as ``(kind, start, end, reason)``; a
    detector that gives no reason is named by its family."""
    t = _Text(work)
    hits: list[tuple[str, int, int, str]] = []
    for family, detector in REGISTERED.items():
        for hit in detector(t, config):
            hits.append(hit if len(hit) > 3 else (*hit, family))
    return hits
