"""Speed of business-time arithmetic over long spans.

Run from the repository root::

    .venv/bin/python bench/business_calendar.py

Calendars are built in memory (no database), so the figures are the
arithmetic alone; loading a stored calendar adds one query for its closures.
Each line is the median of several runs of one call. (Not named
``calendar.py``: run as a script, that would hide the standard library's
``calendar`` module.)
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import time
import zoneinfo
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "example_site")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from portal_social.core.calendar import add_business_time, business_time_between  # noqa: E402
from portal_social.core.calendar.hours import WEEKDAYS, parse_week  # noqa: E402
from portal_social.core.calendar.schedule import Schedule, holiday_dates, merge, wall_time_instant  # noqa: E402

HOUR = dt.timedelta(hours=1)
ZONE = zoneinfo.ZoneInfo("America/New_York")
START = dt.datetime(2026, 1, 5, 9, tzinfo=ZONE)


def office(closures=()) -> Schedule:
    return Schedule(
        name="office",
        time_zone=ZONE,
        hours=parse_week({day: "08:00-12:00, 13:00-17:00" for day in ("mon", "tue", "wed", "thu", "fri")}),
        country="US",
        subdivision="NY",
        closures=merge(closures),
    )


def weekly_closures(weeks: int):
    for week in range(weeks):
        day = dt.date(2026, 1, 7) + dt.timedelta(weeks=week)
        yield wall_time_instant(day, 0, ZONE), wall_time_instant(day + dt.timedelta(days=1), 0, ZONE)


def median_ms(call, runs: int = 7) -> float:
    call()  # warm the holiday cache
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def main() -> None:
    plain = office()
    closed_weekly = office(weekly_closures(260))
    always = Schedule(
        name="always",
        time_zone=ZONE,
        hours=parse_week({day: "00:00-24:00" for day in WEEKDAYS}),
    )
    pauses = [(START + dt.timedelta(days=3 * n), START + dt.timedelta(days=3 * n, hours=5)) for n in range(120)]
    year_end = add_business_time(START, 2000 * HOUR, plain)
    cases = [
        ("8 h SLA (one call, typical)", lambda: add_business_time(START, 8 * HOUR, plain)),
        ("2000 h = about 1 calendar year, split days", lambda: add_business_time(START, 2000 * HOUR, plain)),
        ("same, 260 weekly closures", lambda: add_business_time(START, 2000 * HOUR, closed_weekly)),
        ("same, 120 pauses", lambda: add_business_time(START, 2000 * HOUR, plain, pauses=pauses)),
        ("1 year of business time, open 24/7", lambda: add_business_time(START, 365 * 24 * HOUR, always)),
        ("between over 1 year", lambda: business_time_between(START, year_end, plain)),
        ("5 years (the limit), 24/7", lambda: business_time_between(START, START + dt.timedelta(days=1820), always)),
    ]
    holiday_dates.cache_clear()
    started = time.perf_counter()
    add_business_time(START, 2000 * HOUR, plain)
    cold = (time.perf_counter() - started) * 1000
    print(f"{'case':48} {'median ms':>10}")
    print(f"{'2000 h, first call (holiday years built)':48} {cold:10.2f}")
    for label, call in cases:
        print(f"{label:48} {median_ms(call):10.2f}")


if __name__ == "__main__":
    main()
