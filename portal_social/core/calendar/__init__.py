"""Business hours: when SLA clocks and expected response times run.

A *calendar* is a time zone, weekly opening hours, the public holidays of a
country (and optional subdivision, from the ``holidays`` package) and local
closures. Features ask two questions of it::

    from portal_social.core import calendar

    due = calendar.add_business_time(received_at, timedelta(hours=8), "patient-relations")
    used = calendar.business_time_between(received_at, now, "patient-relations", pauses=waits)

``calendar`` may be a ``BusinessCalendar``, its slug, an already loaded
``Schedule`` (see ``load_calendar``), or None for the default calendar of
``PORTAL_SOCIAL_BUSINESS_CALENDAR``. Business time is real elapsed time while
the calendar is open: see ``portal_social.core.calendar.clock`` for the rules
and docs/calendar.md for examples.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured, ValidationError

from portal_social.core.calendar import clock
from portal_social.core.calendar.clock import MAX_SPAN, BeyondHorizonError, NaiveDatetimeError, Pause
from portal_social.core.calendar.hours import parse_week
from portal_social.core.calendar.schedule import Schedule, validate_holiday_region, validate_time_zone

if TYPE_CHECKING:
    from portal_social.core.calendar_models import BusinessCalendar

__all__ = [
    "MAX_SPAN",
    "BeyondHorizonError",
    "NaiveDatetimeError",
    "Schedule",
    "add_business_time",
    "business_day_deadline",
    "business_time_between",
    "check_default_calendar",
    "default_schedule",
    "is_open",
    "load_calendar",
]

#: The default calendar when ``PORTAL_SOCIAL_BUSINESS_CALENDAR`` leaves a key out.
DEFAULT_CALENDAR = {
    "name": "Business hours",
    "country": "US",
    "subdivision": "",
    "hours": {day: "09:00-17:00" for day in ("mon", "tue", "wed", "thu", "fri")},
}

_default_cache: dict[str, Schedule] = {}


def _default_setting() -> dict:
    from portal_social.conf import app_settings

    try:
        configured = app_settings.BUSINESS_CALENDAR
    except (TypeError, ValueError):
        raise ImproperlyConfigured("PORTAL_SOCIAL_BUSINESS_CALENDAR must be a dict; see docs/calendar.md.") from None
    return {"time_zone": settings.TIME_ZONE or "UTC", **DEFAULT_CALENDAR, **configured}


def _build_default(values: dict) -> Schedule:
    unknown = set(values) - {"name", "time_zone", "country", "subdivision", "hours"}
    if unknown:
        raise ValidationError(f"unknown keys {', '.join(sorted(unknown))}")
    validate_time_zone(values["time_zone"])
    validate_holiday_region(values["country"] or "", values["subdivision"] or "")
    return Schedule(
        name=str(values["name"]),
        time_zone=zoneinfo.ZoneInfo(values["time_zone"]),
        hours=parse_week(values["hours"] or {}),
        country=values["country"] or "",
        subdivision=values["subdivision"] or "",
    )


def default_schedule() -> Schedule:
    """The calendar of ``PORTAL_SOCIAL_BUSINESS_CALENDAR``: no database, no admin set-up.

    Default: Monday to Friday 09:00-17:00 in ``TIME_ZONE``, closed on US
    federal holidays. A wrong setting raises ``ImproperlyConfigured`` (and is
    reported by ``check_default_calendar`` at start-up).
    """
    values = _default_setting()
    key = repr(sorted(values.items()))
    if key not in _default_cache:
        try:
            _default_cache[key] = _build_default(values)
        except ValidationError as error:
            raise ImproperlyConfigured(
                f"PORTAL_SOCIAL_BUSINESS_CALENDAR: {'; '.join(error.messages)} See docs/calendar.md."
            ) from None
        except (TypeError, AttributeError, ValueError):
            raise ImproperlyConfigured(
                "PORTAL_SOCIAL_BUSINESS_CALENDAR: hours must be a dict such as "
                '{"mon": "09:00-17:00"}. See docs/calendar.md.'
            ) from None
    return _default_cache[key]


def check_default_calendar(**kwargs) -> list[checks.CheckMessage]:
    """System check: the default calendar setting can be loaded."""
    try:
        default_schedule()
    except ImproperlyConfigured as error:
        return [
            checks.Error(
                str(error),
                hint="Give time_zone as an IANA name, country and subdivision as codes the holidays "
                'package supports, and hours as {"mon": "09:00-17:00", ...}.',
                id="portal_social.E030",
            )
        ]
    return []


def load_calendar(
    calendar: Schedule | BusinessCalendar | str | None = None, *, since: dt.datetime | None = None
) -> Schedule:
    """A ``Schedule`` for ``calendar`` (a ``BusinessCalendar``, its slug, a ``Schedule`` or None).

    A database calendar costs one query for its closures (two with a slug);
    pass the result to many calls to pay that once. ``since`` skips closures
    that ended before it.
    """
    if isinstance(calendar, Schedule):
        return calendar
    if calendar is None:
        return default_schedule()
    from portal_social.core.calendar_models import BusinessCalendar

    if isinstance(calendar, str):
        calendar = BusinessCalendar.objects.get(slug=calendar)
    if not isinstance(calendar, BusinessCalendar):
        raise TypeError(f"Not a business calendar: {type(calendar).__name__}.")
    return calendar.schedule(since=since)


def add_business_time(
    start: dt.datetime,
    duration: dt.timedelta,
    calendar: Schedule | BusinessCalendar | str | None = None,
    *,
    pauses: Iterable[Pause] | None = None,
) -> dt.datetime:
    """The moment ``duration`` of business time has passed after ``start``.

    A start outside opening hours counts from the next opening; a zero
    duration gives that opening (or ``start`` itself when open). Time used up
    exactly at a closing rolls forward to the next opening, so the answer is
    always a moment the calendar counts: Friday 16:00 plus one hour on a
    09:00-17:00 calendar is Monday 09:00. ``pauses`` are ``(start, end)``
    pairs of aware datetimes that do not count (``end`` None: still paused).

    Returns an aware datetime in the calendar's time zone. Raises
    ``NaiveDatetimeError`` for a naive ``start``, ``ValueError`` for a
    negative duration and ``BeyondHorizonError`` when the answer is more than
    ``MAX_SPAN`` (about five years) away.
    """
    return clock.add(load_calendar(calendar, since=_aware_or_none(start)), start, duration, pauses)


def business_time_between(
    a: dt.datetime,
    b: dt.datetime,
    calendar: Schedule | BusinessCalendar | str | None = None,
    *,
    pauses: Iterable[Pause] | None = None,
) -> dt.timedelta:
    """Business time from ``a`` to ``b``, pauses excluded.

    Negative when ``b`` is before ``a`` (``between(a, b) == -between(b, a)``),
    so the time left before a deadline goes below zero once it is missed.
    Raises ``NaiveDatetimeError`` for naive datetimes and ``BeyondHorizonError``
    when they are more than ``MAX_SPAN`` apart.
    """
    ends = [value for value in (_aware_or_none(a), _aware_or_none(b)) if value is not None]
    since = min(ends) if len(ends) == 2 else None
    return clock.between(load_calendar(calendar, since=since), a, b, pauses)


def business_day_deadline(
    start: dt.datetime, days: int, calendar: Schedule | BusinessCalendar | str | None = None
) -> dt.datetime:
    """The close of business on the ``days``-th business day after ``start``'s local date.

    What "a reply within 2 business days" promises: a message sent on a
    Friday (or a Saturday) on a Monday-to-Friday calendar is due by Tuesday's
    closing. A business day is a local date with opening hours left after
    holidays and closures. ``days`` below 1 counts as 1. Returns an aware
    datetime in the calendar's time zone; raises ``NaiveDatetimeError`` for a
    naive ``start`` and ``BeyondHorizonError`` when no such day comes within
    ``MAX_SPAN``.
    """
    start = clock.aware(start, "start")
    schedule = load_calendar(calendar, since=start)
    day = start.astimezone(schedule.time_zone).date()
    wanted, counted = max(1, int(days)), 0
    for _step in range(MAX_SPAN.days + 1):
        day += dt.timedelta(days=1)
        intervals = schedule.opening_intervals(day)
        if intervals:
            counted += 1
            if counted == wanted:
                return intervals[-1][1].astimezone(schedule.time_zone)
    raise BeyondHorizonError(f"no {wanted} business days within {MAX_SPAN.days} days")


def is_open(at: dt.datetime, calendar: Schedule | BusinessCalendar | str | None = None) -> bool:
    """Whether business time is counting at ``at`` (open, not a holiday or closure)."""
    return add_business_time(at, dt.timedelta(0), calendar) == at


def _aware_or_none(value):
    # Validation (with its clear error) happens in the arithmetic; here a
    # bad value only means no closure filter.
    if isinstance(value, dt.datetime) and value.utcoffset() is not None:
        return value
    return None
