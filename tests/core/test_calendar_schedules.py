"""Business calendars the calendar tests share, built without the database."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from portal_social.core.calendar.hours import parse_week
from portal_social.core.calendar.schedule import Schedule, merge

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
LONDON = zoneinfo.ZoneInfo("Europe/London")
JERUSALEM = zoneinfo.ZoneInfo("Asia/Jerusalem")

WEEKDAYS_9_TO_5 = {day: "09:00-17:00" for day in ("mon", "tue", "wed", "thu", "fri")}


def make_schedule(zone, hours, country="", subdivision="", closures=(), name="test") -> Schedule:
    return Schedule(
        name=name,
        time_zone=zone if isinstance(zone, zoneinfo.ZoneInfo) else zoneinfo.ZoneInfo(zone),
        hours=parse_week(hours),
        country=country,
        subdivision=subdivision,
        closures=merge(closures),
    )


def local(zone, *args, fold=0) -> dt.datetime:
    return dt.datetime(*args, tzinfo=zone, fold=fold)


#: Monday to Friday 09:00-17:00 in New York, US federal holidays.
NY_OFFICE = make_schedule(NEW_YORK, WEEKDAYS_9_TO_5, "US", name="ny-office")

#: A split day in London with English bank holidays and a snowstorm closure.
LONDON_CLINIC = make_schedule(
    LONDON,
    {day: "08:00-12:00, 13:00-17:30" for day in ("mon", "tue", "wed", "thu", "fri")},
    "GB",
    "ENG",
    closures=[
        (local(LONDON, 2026, 1, 14, 10).astimezone(dt.UTC), local(LONDON, 2026, 1, 16, 12).astimezone(dt.UTC)),
        (local(LONDON, 2027, 2, 1).astimezone(dt.UTC), local(LONDON, 2027, 2, 2).astimezone(dt.UTC)),
    ],
    name="london-clinic",
)

#: Sunday to Thursday, as in Israel: Sundays are working days.
JERUSALEM_OFFICE = make_schedule(
    JERUSALEM,
    {day: "08:00-16:00" for day in ("sun", "mon", "tue", "wed", "thu")},
    "IL",
    name="jerusalem-office",
)

#: Open around the clock in New York, no holidays: daylight-saving gaps and
#: repeated hours fall inside opening hours.
NY_ALWAYS = make_schedule(NEW_YORK, {day: "00:00-24:00" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})

#: Night hours in New York whose edges sit on the 01:00-03:00 changes.
NY_NIGHTS = make_schedule(
    NEW_YORK,
    {day: "00:30-01:30, 02:30-04:00, 22:00-24:00" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    "US",
)

ALL_SCHEDULES = (NY_OFFICE, LONDON_CLINIC, JERUSALEM_OFFICE, NY_ALWAYS, NY_NIGHTS)

#: Local dates on which clocks change in the test zones, 2024-2028.
DST_DAYS = (
    dt.date(2024, 3, 10),
    dt.date(2024, 11, 3),
    dt.date(2025, 3, 9),
    dt.date(2025, 11, 2),
    dt.date(2026, 3, 8),
    dt.date(2026, 3, 27),  # Jerusalem
    dt.date(2026, 3, 29),  # London
    dt.date(2026, 10, 25),  # Jerusalem, London
    dt.date(2026, 11, 1),
    dt.date(2027, 3, 14),
    dt.date(2027, 11, 7),
)


def test_every_listed_change_day_is_one():
    """The property tests lean on these days; each must really change a test zone's clocks."""
    for day in DST_DAYS:
        changes = [
            zone
            for zone in (NEW_YORK, LONDON, JERUSALEM)
            if local(zone, day.year, day.month, day.day).utcoffset()
            != local(zone, day.year, day.month, day.day, 23).utcoffset()
        ]
        assert changes, day
