"""SLA clocks for feedback cases, on the business calendars of ``core.calendar``.

Three clocks, each met by an event:

* ``first_reply``: a first public reply to a public item (a social-media
  post, a review); met when a public reply is logged.
* ``acknowledge``: the patient is told their feedback was received and who
  is handling it; met by ``acknowledge_case``.
* ``resolve``: the case is resolved (for a grievance: its written response
  is sent); met by ``resolve_case``.

Policies are ``PORTAL_SOCIAL_FEEDBACK_SLA``: ``{key: {clock: duration}}``
where a key is ``"*"``, a case type (``"complaint"``) or a type and a
severity (``"complaint:critical"``); more specific keys override. A duration
is a number and a unit: ``bh`` business hours, ``bd`` business days (to the
close of business on that day), ``cd`` calendar days, ``h`` real hours::

    {"*": {"first_reply": "1bh"},
     "complaint": {"acknowledge": "1bd", "resolve": "3bd"},
     "grievance": {"acknowledge": "1bd", "resolve": "7cd"}}

Clocks pause while a case awaits the patient: each deadline moves on by the
time spent paused, in the clock's own units (business time for business
clocks, real time for calendar ones). The team's calendar is used, or the
portal's default.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from portal_social.core import calendar

FIRST_REPLY, ACKNOWLEDGE, RESOLVE = "first_reply", "acknowledge", "resolve"
CLOCKS = (FIRST_REPLY, ACKNOWLEDGE, RESOLVE)
#: The field that holds each clock's deadline, and the one that says it was met.
DUE_FIELD = {FIRST_REPLY: "first_reply_due_at", ACKNOWLEDGE: "acknowledge_due_at", RESOLVE: "resolve_due_at"}
MET_FIELD = {FIRST_REPLY: "first_replied_at", ACKNOWLEDGE: "acknowledged_at", RESOLVE: "resolved_at"}

DEFAULT_POLICIES: dict[str, dict[str, str]] = {
    "*": {FIRST_REPLY: "1bh"},
    "question": {ACKNOWLEDGE: "1bd", RESOLVE: "3bd"},
    "complaint": {ACKNOWLEDGE: "1bd", RESOLVE: "3bd"},
    "complaint:critical": {ACKNOWLEDGE: "2bh", RESOLVE: "1bd"},
    "grievance": {ACKNOWLEDGE: "1bd", RESOLVE: "7cd"},
    "suggestion": {ACKNOWLEDGE: "2bd"},
    "compliment": {ACKNOWLEDGE: "2bd"},
}

_DURATION = re.compile(r"^\s*(\d{1,4})\s*(bh|bd|cd|h)\s*$")


@dataclass(frozen=True)
class Duration:
    amount: int
    unit: str  # "bh", "bd", "cd", "h"

    @property
    def business(self) -> bool:
        return self.unit in ("bh", "bd")

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


def parse_duration(value: str) -> Duration:
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration such as '1bh', '3bd', '7cd' or '24h'")
    return Duration(int(match.group(1)), match.group(2))


def policies() -> dict[str, dict[str, Duration]]:
    """The configured policies, parsed; a bad setting raises ``ImproperlyConfigured`` naming the key."""
    from portal_social.conf import app_settings

    configured = app_settings.FEEDBACK_SLA
    if configured is None:
        configured = DEFAULT_POLICIES
    parsed: dict[str, dict[str, Duration]] = {}
    try:
        items = dict(configured).items()
    except (TypeError, ValueError):
        raise ImproperlyConfigured("PORTAL_SOCIAL_FEEDBACK_SLA must be a dict; see docs/feedback.md.") from None
    for key, clocks in items:
        try:
            clocks = dict(clocks)
        except (TypeError, ValueError):
            raise ImproperlyConfigured(f"PORTAL_SOCIAL_FEEDBACK_SLA[{key!r}] must be a dict of clocks.") from None
        unknown = set(clocks) - set(CLOCKS)
        if unknown:
            raise ImproperlyConfigured(
                f"PORTAL_SOCIAL_FEEDBACK_SLA[{key!r}]: unknown clock {', '.join(sorted(unknown))}; "
                f"known: {', '.join(CLOCKS)}."
            )
        try:
            parsed[str(key)] = {clock: parse_duration(value) for clock, value in clocks.items() if value}
        except ValueError as error:
            raise ImproperlyConfigured(f"PORTAL_SOCIAL_FEEDBACK_SLA[{key!r}]: {error}.") from None
    return parsed


def policy_for(case_type: str, severity: str) -> dict[str, Duration]:
    """The clocks for a case of ``case_type`` and ``severity``: ``"*"``, then the type, then type:severity."""
    configured = policies()
    merged: dict[str, Duration] = {}
    for key in ("*", case_type, f"{case_type}:{severity}"):
        merged.update(configured.get(key, {}))
    return merged


def applies(case, clock: str) -> bool:
    """The first-reply clock runs only for items the public can see (a review, a public post entered by staff
    or sent by an integration)."""
    if clock != FIRST_REPLY:
        return True
    return case.channel == "review" or (case.channel in ("social", "api") and case.post_public is not False)


def _pauses(case, now: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    spans = [(p.started_at, p.ended_at or now) for p in case.pauses.all()]
    if case.paused_since is not None and not any(p[0] == case.paused_since for p in spans):
        spans.append((case.paused_since, now))
    return spans


def deadline(
    start: dt.datetime,
    duration: Duration,
    cal=None,
    pauses: Iterable[tuple[dt.datetime, dt.datetime]] = (),
) -> dt.datetime:
    """When a clock of ``duration`` started at ``start`` runs out, after ``pauses`` (closed spans)."""
    pauses = [(a, b) for a, b in pauses if b > a]
    schedule = calendar.load_calendar(cal, since=start)
    if duration.unit == "bh":
        return calendar.add_business_time(start, dt.timedelta(hours=duration.amount), schedule, pauses=pauses)
    if duration.unit == "bd":
        base = calendar.business_day_deadline(start, duration.amount, schedule)
        if not pauses:
            return base
        # The business time the clock allows, counted again around every pause
        # (one that starts after the first deadline still counts while the clock runs).
        allowed = calendar.business_time_between(start, base, schedule)
        due = calendar.add_business_time(start, allowed, schedule, pauses=pauses)
        return base if calendar.business_time_between(base, due, schedule) <= dt.timedelta(0) else due
    # A calendar day ends at the same local time in the calendar's zone; hours and pauses are real
    # time, added in UTC, so the answer never depends on the zone ``start`` is written in.
    if duration.unit == "cd":
        local = start.astimezone(schedule.time_zone)
        due = (local + dt.timedelta(days=duration.amount)).astimezone(dt.UTC)
    else:
        due = start.astimezone(dt.UTC) + dt.timedelta(hours=duration.amount)
    for a, b in _merged(pauses):
        a = max(a, start)
        if a >= due:
            break
        if b > a:
            due += b - a
    return due.astimezone(schedule.time_zone)


def _merged(pauses: Iterable[tuple[dt.datetime, dt.datetime]]) -> list[tuple[dt.datetime, dt.datetime]]:
    """Pauses in order, overlapping ones joined (time paused twice counts once)."""
    joined: list[list[dt.datetime]] = []
    for a, b in sorted((a.astimezone(dt.UTC), b.astimezone(dt.UTC)) for a, b in pauses):
        if joined and a <= joined[-1][1]:
            joined[-1][1] = max(joined[-1][1], b)
        else:
            joined.append([a, b])
    return [(a, b) for a, b in joined]


def compute(case, *, now: dt.datetime | None = None) -> dict[str, dt.datetime | None]:
    """Each clock's deadline for ``case`` (None for a clock its policy does not have)."""
    now = now or timezone.now()
    policy = policy_for(case.type, case.severity)
    cal = case.team.calendar if case.team_id and case.team is not None else None
    pauses = _pauses(case, now)
    due = {}
    for clock in CLOCKS:
        duration = policy.get(clock)
        if not duration or not applies(case, clock):
            due[DUE_FIELD[clock]] = None
            continue
        # A reopened case's resolve clock runs again from the reopening, counting only later pauses.
        start = case.received_at
        if clock == RESOLVE and getattr(case, "resolve_started_at", None) is not None:
            start = case.resolve_started_at
        counted = [(a, b) for a, b in pauses if b > start]
        due[DUE_FIELD[clock]] = deadline(start, duration, cal, counted)
    return due


def running(case) -> list[str]:
    """The clocks still running: set, not met, and the case open and not paused."""
    if not case.is_open or case.paused:
        return []
    return [
        clock
        for clock in CLOCKS
        if getattr(case, DUE_FIELD[clock]) is not None and getattr(case, MET_FIELD[clock]) is None
    ]


def missed(case, now: dt.datetime) -> list[str]:
    """The running clocks whose deadline has passed and that were not yet recorded as breached."""
    return [
        clock
        for clock in running(case)
        if getattr(case, DUE_FIELD[clock]) <= now and clock not in (case.breaches or [])
    ]


def next_deadline(case) -> dt.datetime | None:
    """The earliest deadline still running (when the deadline task should look again)."""
    dues = [getattr(case, DUE_FIELD[clock]) for clock in running(case) if clock not in (case.breaches or [])]
    return min(dues) if dues else None


def check_setting(**kwargs):
    """System check: ``PORTAL_SOCIAL_FEEDBACK_SLA`` parses."""
    from django.core import checks

    try:
        policies()
    except ImproperlyConfigured as error:
        return [
            checks.Error(
                str(error),
                hint='Write durations as "1bh", "3bd", "7cd" or "24h"; see docs/feedback.md.',
                id="portal_social.E060",
            )
        ]
    return []
