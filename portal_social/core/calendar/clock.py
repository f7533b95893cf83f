"""Business-time arithmetic on a loaded ``Schedule``.

Business time is real elapsed time (what a stopwatch measures) while the
calendar is open: inside its local opening hours, not on a public holiday,
not during a closure and not during a pause. On the night clocks spring
forward a 00:00-24:00 day counts 23 hours and on the night they fall back 25;
a 08:00-17:00 day counts 9 hours on both, because the change happens while it
is closed.

Days are visited one at a time (never minute by minute) and at most
``MAX_SPAN`` of calendar time is searched, so every call ends quickly, even
on a calendar that is never open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

from portal_social.core.calendar.schedule import UTC, Interval, Schedule, merge, overlapping, subtract

#: How far from its start a calculation may reach (five years of calendar time).
MAX_SPAN = dt.timedelta(days=5 * 366)
_FOREVER = dt.datetime.max.replace(tzinfo=UTC)

#: A pause: (start, end) aware datetimes; ``end`` None means it has not ended.
Pause = tuple[dt.datetime, dt.datetime | None]


class NaiveDatetimeError(ValueError):
    """A datetime without a time zone was given; business time needs real instants."""


class BeyondHorizonError(ValueError):
    """The answer lies more than ``MAX_SPAN`` from the start."""


def aware(value: dt.datetime, name: str) -> dt.datetime:
    """``value`` in UTC; a naive datetime raises ``NaiveDatetimeError``."""
    if not isinstance(value, dt.datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}.")
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetimeError(
            f"{name} is a naive datetime; pass a timezone-aware one, such as django.utils.timezone.now()."
        )
    return value.astimezone(UTC)


def normalise_pauses(pauses: Iterable[Pause] | None) -> tuple[Interval, ...]:
    """Pauses as merged UTC intervals; an unfinished pause (end None) never ends."""
    intervals = []
    for number, pause in enumerate(pauses or ()):
        start, end = pause
        start = aware(start, f"pause {number} start")
        end = _FOREVER if end is None else aware(end, f"pause {number} end")
        if end < start:
            raise ValueError(f"pause {number} ends before it starts.")
        intervals.append((start, end))
    return merge(intervals)


def counting_intervals(
    schedule: Schedule, since: dt.datetime, pauses: tuple[Interval, ...], until: dt.datetime | None = None
) -> Iterator[Interval]:
    """The intervals that count as business time from ``since`` on, in order, up to ``until`` or ``MAX_SPAN``."""
    pause_ends = [end for _, end in pauses]
    day = schedule.local_date(since)
    last_day = schedule.local_date(since + MAX_SPAN if until is None else until)
    one_day = dt.timedelta(days=1)
    while day <= last_day:
        pieces = schedule.opening_intervals(day)
        if pieces and pauses:
            pieces = subtract(pieces, overlapping(pauses, pause_ends, pieces[0][0], pieces[-1][1]))
        for start, end in pieces:
            if end > since:
                yield max(start, since), end
        day += one_day


def add(schedule: Schedule, start: dt.datetime, duration: dt.timedelta, pauses: Iterable[Pause] | None = None):
    """See ``portal_social.core.calendar.add_business_time``."""
    since = aware(start, "start")
    if not isinstance(duration, dt.timedelta):
        raise TypeError(f"duration must be a timedelta, not {type(duration).__name__}.")
    if duration < dt.timedelta(0):
        raise ValueError("duration must not be negative.")
    remaining = duration
    for piece_start, piece_end in counting_intervals(schedule, since, normalise_pauses(pauses)):
        available = piece_end - piece_start
        # Strictly less: time used up exactly at a closing rolls forward to
        # the next opening, so a result is always a moment the calendar counts.
        if remaining < available:
            return (piece_start + remaining).astimezone(schedule.time_zone)
        remaining -= available
    raise BeyondHorizonError(
        f"{duration} of business time does not fit within {MAX_SPAN.days} days after {start.isoformat()} "
        f"on calendar {schedule.name!r}; check that it has opening hours."
    )


def between(schedule: Schedule, a: dt.datetime, b: dt.datetime, pauses: Iterable[Pause] | None = None):
    """See ``portal_social.core.calendar.business_time_between``."""
    a, b = aware(a, "a"), aware(b, "b")
    if b < a:
        return -between(schedule, b, a, pauses)
    if b - a > MAX_SPAN:
        raise BeyondHorizonError(f"{a.isoformat()} and {b.isoformat()} are more than {MAX_SPAN.days} days apart.")
    total = dt.timedelta(0)
    for piece_start, piece_end in counting_intervals(schedule, a, normalise_pauses(pauses), until=b):
        if piece_start >= b:
            break
        total += min(piece_end, b) - piece_start
    return total
