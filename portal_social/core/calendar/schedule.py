"""A loaded business calendar: time zone, weekly hours, public holidays, closures.

``Schedule`` is plain data, built from the settings' default calendar or from
a ``BusinessCalendar`` row with its closures (``portal_social.core.calendar``
does both). The arithmetic in ``portal_social.core.calendar.clock`` reads
nothing else, so a schedule loaded once can answer any number of questions
without touching the database.

Opening hours are local wall-clock times: a clinic that opens at 08:00 opens
at 08:00 on both sides of a daylight-saving change. An opening time that the
clock skips (02:30 on the night clocks spring forward) means the moment the
clock jumps past it; a time the clock shows twice (01:30 when clocks fall
back) means its first occurrence.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import re
import zoneinfo
from dataclasses import dataclass

import holidays
from django.core.exceptions import ValidationError

from portal_social.core.calendar.hours import DayHours, WeeklyHours

UTC = dt.UTC

#: A half-open interval of real time, [start, end), both aware and in UTC.
Interval = tuple[dt.datetime, dt.datetime]


# --------------------------------------------------------------------------- time zones


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def time_zone_choices() -> list[tuple[str, str]]:
    """Every IANA time zone name, sorted, as form choices."""
    return [(name, name) for name in sorted(_zone_names())]


def validate_time_zone(value: str) -> None:
    """Accept an IANA time zone name such as ``"America/New_York"``."""
    if value not in _zone_names():
        raise ValidationError(
            "%(value)r is not an IANA time zone name, such as America/New_York or Europe/London.",
            code="invalid_time_zone",
            params={"value": value},
        )


def wall_time_instant(day: dt.date, minutes: int, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """The first instant (UTC) at which the local clock in ``zone`` reads ``day`` plus ``minutes`` or later.

    For a wall time that exists once this is that time. For one the clock
    shows twice it is the first occurrence. For one the clock skips it is the
    moment of the jump, so the mapping never runs backwards and an opening
    interval never has negative length.
    """
    naive = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minutes)
    instant = naive.replace(tzinfo=zone).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == naive:
        return instant
    # ``naive`` falls in a gap. With fold=1 it maps before the jump, with
    # fold=0 after it; transitions fall on whole seconds, so halve the
    # seconds in between until the jump is found.
    low = int(naive.replace(tzinfo=zone, fold=1).timestamp()) - 1
    high = int(instant.timestamp()) + 1
    while high - low > 1:
        middle = (low + high) // 2
        local = dt.datetime.fromtimestamp(middle, zone).replace(tzinfo=None)
        if local >= naive:
            high = middle
        else:
            low = middle
    return dt.datetime.fromtimestamp(high, UTC)


# --------------------------------------------------------------------------- public holidays


@functools.cache
def supported_countries() -> dict[str, tuple[str, ...]]:
    """Country codes the ``holidays`` package knows, each with its subdivision codes."""
    return {
        code: tuple(subdivisions)
        for code, subdivisions in holidays.list_supported_countries(include_aliases=False).items()
    }


@functools.cache
def country_choices() -> list[tuple[str, str]]:
    """``(code, "Name (code)")`` for every supported country, by name."""
    names = {}
    for class_name, code, *_ in holidays.registry.COUNTRIES.values():
        if code in supported_countries():
            names[code] = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", class_name)
    return sorted(((code, f"{name} ({code})") for code, name in names.items()), key=lambda choice: choice[1])


def validate_holiday_region(country: str, subdivision: str) -> None:
    """Accept a country (and optional subdivision) the ``holidays`` package supports.

    An empty country means no public holidays, only closures.
    """
    if not country:
        if subdivision:
            raise ValidationError(
                {"subdivision": "A subdivision needs a country."},
                code="invalid_subdivision",
            )
        return
    countries = supported_countries()
    if country not in countries:
        raise ValidationError(
            {"country": f"{country!r} is not a country code the holidays package supports (ISO 3166-1, like US)."},
            code="invalid_country",
        )
    if subdivision and subdivision not in countries[country]:
        known = ", ".join(countries[country]) or "none"
        raise ValidationError(
            {"subdivision": f"{subdivision!r} is not a subdivision of {country}. Known: {known}."},
            code="invalid_subdivision",
        )


@functools.lru_cache(maxsize=512)
def holiday_dates(country: str, subdivision: str, year: int) -> frozenset[dt.date]:
    """Public holiday dates (observed days included) of one region in one year."""
    if not country:
        return frozenset()
    return frozenset(holidays.country_holidays(country, subdiv=subdivision or None, years=year).keys())


# --------------------------------------------------------------------------- intervals


def merge(intervals) -> tuple[Interval, ...]:
    """Sort intervals and join those that overlap or touch; empty ones are dropped."""
    merged: list[list[dt.datetime]] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((start, end) for start, end in merged)


def subtract(pieces: list[Interval], blocks: tuple[Interval, ...]) -> list[Interval]:
    """``pieces`` minus ``blocks`` (both sorted; blocks merged)."""
    if not blocks or not pieces:
        return pieces
    result = []
    for start, end in pieces:
        for block_start, block_end in blocks:
            if block_end <= start:
                continue
            if block_start >= end:
                break
            if block_start > start:
                result.append((start, block_start))
            start = max(start, block_end)
            if start >= end:
                break
        if start < end:
            result.append((start, end))
    return result


def overlapping(blocks: tuple[Interval, ...], ends: list[dt.datetime], first, last) -> tuple[Interval, ...]:
    """The merged ``blocks`` (with their sorted ``ends``) that overlap [first, last)."""
    index = bisect.bisect_right(ends, first)
    near = []
    for block in blocks[index:]:
        if block[0] >= last:
            break
        near.append(block)
    return tuple(near)


# --------------------------------------------------------------------------- the schedule


@dataclass(frozen=True)
class Schedule:
    """A business calendar ready for arithmetic.

    ``closures`` are real-time intervals (UTC, sorted, merged) during which
    the calendar does not count, on top of weekends and public holidays.
    """

    name: str
    time_zone: zoneinfo.ZoneInfo
    hours: WeeklyHours
    country: str = ""
    subdivision: str = ""
    closures: tuple[Interval, ...] = ()
    slug: str = ""

    def is_holiday(self, day: dt.date) -> bool:
        return day in holiday_dates(self.country, self.subdivision, day.year)

    def day_hours(self, day: dt.date) -> DayHours:
        """Local opening hours on ``day``: none on a public holiday."""
        hours = self.hours[day.weekday()]
        # Holidays are looked up only for days that have hours: a closed day needs no holiday year built.
        if hours and self.is_holiday(day):
            return ()
        return hours

    def opening_intervals(self, day: dt.date) -> list[Interval]:
        """Real-time intervals (UTC) the calendar is open on local date ``day``, closures excluded."""
        pieces = [
            (wall_time_instant(day, opens, self.time_zone), wall_time_instant(day, closes, self.time_zone))
            for opens, closes in self.day_hours(day)
        ]
        pieces = [(start, end) for start, end in pieces if start < end]
        return subtract(pieces, self._closures_near(pieces))

    def _closures_near(self, pieces: list[Interval]) -> tuple[Interval, ...]:
        if not self.closures or not pieces:
            return ()
        return overlapping(self.closures, self._closure_ends, pieces[0][0], pieces[-1][1])

    @functools.cached_property
    def _closure_ends(self) -> list[dt.datetime]:
        # Merged closures do not overlap, so their ends are sorted too.
        return [end for _, end in self.closures]

    def local_date(self, instant: dt.datetime) -> dt.date:
        return instant.astimezone(self.time_zone).date()
