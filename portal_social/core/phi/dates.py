"""Detectors for dates tied to a person (birth, death, admission, appointments) and ages of 90 or more."""

from __future__ import annotations

import bisect
import datetime
import re
from collections import deque
from collections.abc import Iterable

from portal_social.core.phi.config import _Config
from portal_social.core.phi.engine import (
    _A,
    _AI,
    _ASCII_WS,
    _SENTENCE_BREAK,
    _Hit,
    _matches_at,
    _matches_in,
    _Text,
    register,
)

# --------------------------------------------------------------------------
# Dates and ages
# --------------------------------------------------------------------------

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
    r"|enero|febrero|marzo|abril|mayo|junio|julio|agosto|sep?tiembre|octubre|noviembre|diciembre)"
)
_DATE = re.compile(
    r"(?<![\w/.-])(?:"
    r"(?P<n1>\d{1,2})(?P<ns>[/.-])(?P<n2>\d{1,2})(?:(?P=ns)(?P<ny>\d{4}|\d{2}))?(?![\w/]|[.-]\d)"
    r"|(?P<iy>\d{4})-(?P<im>\d{1,2})-(?P<id>\d{1,2})(?![\w-]|\.\d)"
    r"|(?:the\s{1,3})?(?P<d1>\d{1,2})(?:st|nd|rd|th)?\s{1,3}(?:(?:of|de)\s{1,3})?(?P<m1>" + _MONTH + r")\.?"
    r"(?:,?\s{1,3}(?:de(?:l)?\s{1,3})?(?P<y1>\d{4}))?(?![\w])"
    r"|(?P<m2>" + _MONTH + r")\.?\s{1,3}(?P<d2>\d{1,2})(?:st|nd|rd|th)?(?:,?\s{1,3}(?P<y2>\d{4}))?(?![\w])"
    r"|(?P<mm>\d{1,2})/(?P<my>\d{4})(?![\w/]|[.-]\d)"
    r"|(?P<m3>" + _MONTH + r")\.?,?\s{1,3}(?P<y3>\d{4})(?![\w])"
    r")",
    _AI,
)
# Necessary for a date with a month name (see _detect_date); "\Z" is the
# position searched up to.
_MONTH_AFTER = re.compile(r"(?:st|nd|rd|th)?\s{1,3}(?:(?:of|de)\s{1,3})?" + _MONTH, _AI)
_MONTH_BEFORE = re.compile(_MONTH + r"\.?,?\s{1,3}\Z", _AI)
_BIRTH_DEATH_STAY = (
    r"d\.?o\.?b\.?|date\s{1,3}of\s{1,3}(?:birth|death|admission|discharge)|birth\s{0,2}(?:date|day)s?|b-?days?"
    r"|born|admit(?:ted)?|admission|discharged?|died|death|passed(?:\s{1,3}away)?|deceased"
    r"|fecha\s{1,3}de\s{1,3}nacimiento|f\.\s{0,2}nac\.?|naci[óo]|nacid[oa]|naci|cumpleaños|cumple"
    r"|turns?\s{1,3}\d{1,3}(?:\s{1,3}(?:years?\s{1,3}old))?\s{1,3}on"
)
_BIRTH = re.compile(r"d\.?o\.?b|birth|b-?day|born|nac|cumple|turns?\s", _AI)
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


# January 1, 1900: the date records use when the real one is unknown.
_PLACEHOLDER_DATE = re.compile(r"0?1[/.-]0?1[/.-]1900|1900-0?1-0?1", _A)
_PARAGRAPH = re.compile(r"\n\s*\n")


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


@register("date")
def _detect_date(t: _Text, config: _Config | None) -> list[_Hit]:
    """Dates of birth (with "tied" dates, also death, admission, discharge or
    appointment) by context within 40 characters of the same sentence; birth
    years implying age 90+."""
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
    dated = []
    birth_ends = []
    birth_only = config is None or config.dates == "birth"
    oldest = datetime.date.today().year - 90
    for m in _matches_in(_DATE, work, windows, 64):
        if not _valid_date(m) or _PLACEHOLDER_DATE.fullmatch(m.group()):
            continue
        dated.append(m)
        start, end = m.span()
        window = 20 if m.group("n1") and not m.group("ny") else 40
        lo = max(0, start - window)
        cue = _last(_DATE_CUE_BEFORE.finditer(work, lo, start))
        if cue is None or _SENTENCE_BREAK.search(work, cue.end(), start):
            cue = _DATE_CUE_AFTER.search(work, end, min(len(work), end + 30))
            if cue is not None and _SENTENCE_BREAK.search(work, end, cue.start()):
                cue = None
        if cue is None:
            continue
        birth = bool(_BIRTH.search(cue.group()))
        if birth and birth_only and (m.group("mm") or m.group("m3")) and int(m.group("my") or m.group("y3")) > oldest:
            continue  # "born in March 1940": a month and a year is not a date of birth (below 90 years)
        if birth or not birth_only:
            hits.append(("date", start, end, "date:birth" if birth else "date:" + cue.group().lower().split()[0]))
        if birth:
            birth_ends.append(end)
    # "DOB as 12/01/1960; ours says 01/12/1960": a second full date soon
    # after a date of birth is one too (conflicting values for one person).
    if birth_ends:
        hit_starts = {h[1] for h in hits}
        for m in dated:
            start, end = m.span()
            if start in hit_starts or not (m.group("ny") or m.group("iy") or m.group("y1") or m.group("y2")):
                continue
            i = bisect.bisect_right(birth_ends, start) - 1  # the nearest date of birth before
            if i >= 0 and start - birth_ends[i] <= 80 and not _PARAGRAPH.search(work, birth_ends[i], start):
                hits.append(("date", start, end, "date:after-date-of-birth"))
    low = t.low
    if t.maxrun < 4 or not ("born" in low or "birth" in low or "year" in low):
        return hits
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


@register("age")
def _detect_age(t: _Text, config: _Config | None) -> list[_Hit]:
    """Ages of 90 and over stated as ages ("93-year-old", "Dad is 96", "Mom (92)")."""
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
