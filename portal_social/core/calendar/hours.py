"""Weekly opening hours: one list of intervals per weekday, written as text.

An administrator writes a day's hours the way they are posted on a clinic's
door, ``"08:00-12:00, 13:00-17:00"``; an empty day is closed. ``24:00`` closes
at the end of the day, so ``"00:00-24:00"`` is open all day. Intervals stay
within their day: overnight opening is written as two days.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError

#: Weekday keys in ``datetime.date.weekday()`` order.
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60

#: One day's hours: (opens, closes) as minutes after local midnight, sorted,
#: not overlapping, each opening before it closes.
DayHours = tuple[tuple[int, int], ...]
#: Seven ``DayHours``, Monday first.
WeeklyHours = tuple[DayHours, ...]

_CLOCK = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")


def _minutes(text: str, day_text: str) -> int:
    match = _CLOCK.match(text.strip())
    if not match:
        raise ValidationError(
            "%(text)r is not a time of day; write hours as HH:MM-HH:MM, for example 08:00-17:00.",
            code="invalid_hours",
            params={"text": text.strip() or day_text},
        )
    minutes = int(match[1]) * 60 + int(match[2])
    if minutes > MINUTES_PER_DAY:
        raise ValidationError("%(text)r is later than 24:00.", code="invalid_hours", params={"text": text.strip()})
    return minutes


def parse_day(value: str | Iterable | None) -> DayHours:
    """One day's hours from text (``"08:00-12:00, 13:00-17:00"``) or pairs.

    Pairs may be ``("08:00", "12:00")`` strings or minute counts. Touching
    intervals are joined; overlapping or backwards ones raise
    ``ValidationError`` with a message an administrator can act on.
    """
    if value is None:
        return ()
    if isinstance(value, str):
        pieces = [piece for piece in re.split(r"[,;]", value) if piece.strip()]
        pairs = []
        for piece in pieces:
            ends = re.split(r"\s*[-–—]\s*|\s+to\s+", piece.strip())
            if len(ends) != 2:
                raise ValidationError(
                    "%(text)r is not an interval; write hours as HH:MM-HH:MM, for example 08:00-17:00.",
                    code="invalid_hours",
                    params={"text": piece.strip()},
                )
            pairs.append((_minutes(ends[0], piece), _minutes(ends[1], piece)))
    else:
        pairs = [
            tuple(end if isinstance(end, int) else _minutes(str(end), str(pair)) for end in pair) for pair in value
        ]
    intervals: list[tuple[int, int]] = []
    for pair in sorted(pairs):
        if len(pair) != 2:
            raise ValidationError("Each interval needs an opening and a closing time.", code="invalid_hours")
        opens, closes = pair
        if not 0 <= opens < closes <= MINUTES_PER_DAY:
            raise ValidationError(
                "%(interval)s closes before it opens; overnight hours are written as two days.",
                code="invalid_hours",
                params={"interval": f"{format_minutes(opens)}-{format_minutes(closes)}"},
            )
        if intervals and opens < intervals[-1][1]:
            raise ValidationError(
                "%(first)s and %(second)s overlap.",
                code="invalid_hours",
                params={
                    "first": format_day((intervals[-1],)),
                    "second": format_day(((opens, closes),)),
                },
            )
        if intervals and opens == intervals[-1][1]:
            intervals[-1] = (intervals[-1][0], closes)
        else:
            intervals.append((opens, closes))
    return tuple(intervals)


def parse_week(hours: Mapping[str, str | Iterable | None]) -> WeeklyHours:
    """Seven days of hours from a mapping keyed ``"mon"`` … ``"sun"``; a missing day is closed."""
    unknown = set(hours) - set(WEEKDAYS)
    if unknown:
        raise ValidationError(
            "Unknown weekday %(keys)s; use %(weekdays)s.",
            code="invalid_hours",
            params={"keys": ", ".join(sorted(map(str, unknown))), "weekdays": ", ".join(WEEKDAYS)},
        )
    return tuple(parse_day(hours.get(day)) for day in WEEKDAYS)


def validate_day_hours(value: str) -> None:
    """Model-field validator for one day's hours text."""
    parse_day(value)


def format_minutes(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def format_day(day: DayHours) -> str:
    """``"08:00-12:00, 13:00-17:00"``; empty for a closed day."""
    return ", ".join(f"{format_minutes(opens)}-{format_minutes(closes)}" for opens, closes in day)
