"""Feedback reports: brand health in one view, aggregated in SQL.

Everything here counts, groups and measures cases; nothing reads what
anyone wrote (the tip sheet, which quotes anonymised wording, lives in
``report_views``). Each figure is a handful of grouped queries whatever
the number of cases, so the page stays fast at hundreds of thousands of
cases (``bench/feedback.py``).

Definitions (also in docs/feedback.md):

* **Volumes** count cases received in the period, by week or month and by
  channel, category, site, service line and clinician. "Past experience"
  cases (about an earlier visit) are counted apart and left out of the
  other figures.
* **SLA compliance** for a clock: of the cases whose clock has come due
  or was met, the share met by the deadline.
* **Median time** to first reply, acknowledgement and resolution, in real
  hours from receipt.
* **Offline take-up**: of resolved public items (social media, reviews,
  community posts), the share whose outcome is "took it offline".
  **Review changed**: of resolved review cases, the share whose reviewer
  updated the review.
* **Recovery rate**: of resolved complaints and grievances, the share
  resolved to the patient's satisfaction, taken offline or with an
  updated review.
* **Top themes**: categories of complaints and grievances, most frequent
  first, with the previous period of the same length beside them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone

from portal_social.feedback import sla
from portal_social.feedback.models import Case

PUBLIC_CHANNELS = (Case.Channel.SOCIAL, Case.Channel.REVIEW, Case.Channel.COMMUNITY)
RECOVERED = (Case.Outcome.RESOLVED, Case.Outcome.OFFLINE, Case.Outcome.REVIEW_UPDATED)
GROUPINGS = ("week", "month")
#: The dimensions volumes are reported by, and where each is on a case.
DIMENSIONS = {
    "category": "categories__name",
    "site": "site__name",
    "service_line": "service_line__name",
    "clinician": "clinicians__title",
}
MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive
    grouping: str = "week"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        tz = timezone.get_current_timezone()
        start = dt.datetime.combine(self.start, dt.time.min, tzinfo=tz)
        end = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        return start, end

    def previous(self) -> Period:
        span = dt.timedelta(days=self.days)
        return Period(self.start - span, self.end - span, self.grouping)


def period_from(params, *, today: dt.date | None = None) -> Period:
    """The period a query string asks for (``from``, ``to``, ``by``), defaulting to the last 12 weeks."""
    today = today or timezone.localdate()
    end = _date(params.get("to")) or today
    start = _date(params.get("from")) or end - dt.timedelta(weeks=12) + dt.timedelta(days=1)
    if start > end:
        start, end = end, start
    if (end - start).days > MAX_DAYS:
        start = end - dt.timedelta(days=MAX_DAYS)
    grouping = params.get("by") if params.get("by") in GROUPINGS else "week"
    return Period(start, end, grouping)


def _date(value) -> dt.date | None:
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


@dataclass
class Report:
    period: Period
    total: int = 0
    past_experience: int = 0
    by_type: list[tuple[str, int]] = field(default_factory=list)
    series: list[tuple[dt.date, dict[str, int]]] = field(default_factory=list)
    by_channel: list[tuple[str, int]] = field(default_factory=list)
    by_category: list[tuple[str, int]] = field(default_factory=list)
    by_site: list[tuple[str, int]] = field(default_factory=list)
    by_service_line: list[tuple[str, int]] = field(default_factory=list)
    by_clinician: list[tuple[str, int]] = field(default_factory=list)
    #: dimension -> [(week or month, name, cases)], for the export.
    per_period: dict[str, list[tuple[dt.date, str, int]]] = field(default_factory=dict)
    compliance: dict[str, tuple[int, int]] = field(default_factory=dict)  # clock -> (met on time, due)
    medians: dict[str, float | None] = field(default_factory=dict)  # clock -> hours
    offline: tuple[int, int] = (0, 0)
    review_changed: tuple[int, int] = (0, 0)
    recovery: tuple[int, int] = (0, 0)
    themes: list[tuple[str, int, int]] = field(default_factory=list)  # category, now, previous
    open_now: int = 0
    overdue_now: int = 0


def _received(period: Period):
    start, end = period.bounds()
    return Case.objects.filter(received_at__gte=start, received_at__lt=end)


def _pairs(rows, label_of=lambda value: value) -> list[tuple[str, int]]:
    return [(str(label_of(key)), count) for key, count in rows]


def build(period: Period, *, now: dt.datetime | None = None, base=None) -> Report:
    """Every figure of the reports page for ``period`` (cases received in it). ``base`` narrows the cases."""
    now = now or timezone.now()
    received = _received(period) if base is None else base.filter(pk__in=_received(period).values("pk"))
    current = received.filter(past_experience=False)
    report = Report(period)
    totals = received.aggregate(all=Count("pk"), past=Count("pk", filter=Q(past_experience=True)))
    report.total, report.past_experience = totals["all"] - totals["past"], totals["past"]
    types = dict(Case.Type.choices)
    report.by_type = _pairs(current.values_list("type").annotate(n=Count("pk")).order_by("-n"), types.get)
    trunc = TruncWeek if period.grouping == "week" else TruncMonth
    rows = (
        current.annotate(bucket=trunc("received_at"))
        .values_list("bucket", "channel")
        .annotate(n=Count("pk"))
        .order_by("bucket", "channel")
    )
    buckets: dict[dt.date, dict[str, int]] = {}
    for bucket, channel, count in rows:
        day = bucket.date() if isinstance(bucket, dt.datetime) else bucket
        buckets.setdefault(day, {})[channel] = count
    report.series = sorted(buckets.items())
    channels = dict(Case.Channel.choices)
    report.by_channel = _pairs(current.values_list("channel").annotate(n=Count("pk")).order_by("-n"), channels.get)
    # One grouped pass per dimension gives its volumes per week or month, and the period's totals are their
    # sums; the category pass also counts complaints, which are this period's themes.
    complaints = Q(type__in=[Case.Type.COMPLAINT, Case.Type.GRIEVANCE])
    themes_now: dict[str, int] = {}
    for dimension, path in DIMENSIONS.items():
        extra = {"complaints": Count("pk", filter=complaints)} if dimension == "category" else {}
        rows = (
            current.filter(**{f"{path}__isnull": False})
            .annotate(bucket=trunc("received_at"))
            .values_list("bucket", path)
            .annotate(n=Count("pk"), **extra)
        )
        per: dict[str, dict[dt.date, int]] = {}
        for bucket, name, count, *more in rows:
            day = bucket.date() if isinstance(bucket, dt.datetime) else bucket
            per.setdefault(str(name), {})[day] = count
            if more and more[0]:
                themes_now[str(name)] = themes_now.get(str(name), 0) + more[0]
        totals = sorted(((name, sum(days.values())) for name, days in per.items()), key=lambda r: (-r[1], r[0]))
        setattr(report, f"by_{dimension}", totals[:15])
        report.per_period[dimension] = sorted((day, name, n) for name, days in per.items() for day, n in days.items())
    _sla(report, current, now)
    _outcomes(report, current)
    report.themes = themes(period, base=base, now_counts=themes_now)
    live = (
        Case.objects.filter(status__in=Case.OPEN_STATUSES)
        if base is None
        else base.filter(status__in=Case.OPEN_STATUSES)
    )
    counts = live.aggregate(
        open=Count("pk"),
        overdue=Count(
            "pk",
            filter=Q(paused_since__isnull=True)
            & (
                Q(acknowledge_due_at__lte=now, acknowledged_at__isnull=True)
                | Q(first_reply_due_at__lte=now, first_replied_at__isnull=True)
                | Q(resolve_due_at__lte=now, resolved_at__isnull=True)
            ),
        ),
    )
    report.open_now, report.overdue_now = counts["open"], counts["overdue"]
    return report


def _sla(report: Report, cases, now: dt.datetime) -> None:
    aggregates = {}
    for clock in sla.CLOCKS:
        due, met = sla.DUE_FIELD[clock], sla.MET_FIELD[clock]
        counted = Q(**{f"{due}__isnull": False}) & (Q(**{f"{met}__isnull": False}) | Q(**{f"{due}__lte": now}))
        aggregates[f"{clock}_due"] = Count("pk", filter=counted)
        aggregates[f"{clock}_met"] = Count("pk", filter=counted & Q(**{f"{met}__lte": F(due)}))
        aggregates[f"{clock}_done"] = Count("pk", filter=Q(**{f"{met}__isnull": False}))
    figures = cases.aggregate(**aggregates)
    report.compliance = {clock: (figures[f"{clock}_met"], figures[f"{clock}_due"]) for clock in sla.CLOCKS}
    for clock in sla.CLOCKS:
        report.medians[clock] = _median_hours(cases, sla.MET_FIELD[clock], figures[f"{clock}_done"])


def _median_hours(cases, met_field: str, count: int) -> float | None:
    """The median time from receipt to ``met_field`` over ``count`` cases: the middle one or two rows (any
    database)."""
    if not count:
        return None
    taken = cases.filter(**{f"{met_field}__isnull": False}).annotate(
        taken=ExpressionWrapper(F(met_field) - F("received_at"), output_field=DurationField())
    )
    low, high = (count - 1) // 2, count // 2
    middle = list(taken.order_by("taken").values_list("taken", flat=True)[low : high + 1])
    middle = [dt.timedelta(microseconds=v) if isinstance(v, (int, float)) else v for v in middle]
    return round(sum(m.total_seconds() for m in middle) / len(middle) / 3600, 1)


def _outcomes(report: Report, cases) -> None:
    resolved = cases.filter(resolved_at__isnull=False)
    figures = resolved.aggregate(
        public=Count("pk", filter=Q(channel__in=PUBLIC_CHANNELS)),
        offline=Count("pk", filter=Q(channel__in=PUBLIC_CHANNELS, outcome=Case.Outcome.OFFLINE)),
        reviews=Count("pk", filter=Q(channel=Case.Channel.REVIEW)),
        changed=Count("pk", filter=Q(channel=Case.Channel.REVIEW, outcome=Case.Outcome.REVIEW_UPDATED)),
        complaints=Count("pk", filter=Q(type__in=[Case.Type.COMPLAINT, Case.Type.GRIEVANCE])),
        recovered=Count("pk", filter=Q(type__in=[Case.Type.COMPLAINT, Case.Type.GRIEVANCE], outcome__in=RECOVERED)),
    )
    report.offline = (figures["offline"], figures["public"])
    report.review_changed = (figures["changed"], figures["reviews"])
    report.recovery = (figures["recovered"], figures["complaints"])


def themes(
    period: Period, *, limit: int = 10, base=None, now_counts: dict[str, int] | None = None
) -> list[tuple[str, int, int]]:
    """Complaint and grievance categories in ``period``, most frequent first, with the previous period's count."""

    def counts(p: Period) -> dict[str, int]:
        cases = _received(p) if base is None else base.filter(pk__in=_received(p).values("pk"))
        rows = (
            cases.filter(past_experience=False, type__in=[Case.Type.COMPLAINT, Case.Type.GRIEVANCE])
            .filter(categories__isnull=False)
            .values_list("categories__name")
            .annotate(n=Count("pk"))
        )
        return dict(rows)

    now = counts(period) if now_counts is None else now_counts
    before = counts(period.previous())
    ranked = sorted(now.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [(name, n, before.get(name, 0)) for name, n in ranked]


def percent(pair: tuple[int, int]) -> int | None:
    """``part / whole`` as a whole percentage, or None when nothing was counted."""
    part, whole = pair
    return round(100 * part / whole) if whole else None


def rows_for_export(report: Report) -> list[tuple[str, str, object]]:
    """The report as (section, item, value) rows for CSV and XLSX."""
    rows: list[tuple[str, str, object]] = [
        ("period", "from", report.period.start.isoformat()),
        ("period", "to", report.period.end.isoformat()),
        ("volume", "cases (current experience)", report.total),
        ("volume", "cases about past experience", report.past_experience),
        ("volume", "open now", report.open_now),
        ("volume", "overdue now", report.overdue_now),
    ]
    rows += [("type", label, n) for label, n in report.by_type]
    for day, channels in report.series:
        rows += [
            (f"{report.period.grouping} of {day.isoformat()}", channel, n) for channel, n in sorted(channels.items())
        ]
    rows += [("channel", label, n) for label, n in report.by_channel]
    for dimension, entries in report.per_period.items():
        label = dimension.replace("_", " ")
        rows += [(f"{report.period.grouping} of {day.isoformat()}", f"{label}: {name}", n) for day, name, n in entries]
    rows += [("category", label, n) for label, n in report.by_category]
    rows += [("site", label, n) for label, n in report.by_site]
    rows += [("service line", label, n) for label, n in report.by_service_line]
    rows += [("clinician", label, n) for label, n in report.by_clinician]
    for clock, pair in report.compliance.items():
        rows.append(("SLA compliance %", clock, percent(pair)))
        rows.append(("SLA cases due", clock, pair[1]))
    rows += [("median hours", clock, hours) for clock, hours in report.medians.items()]
    rows.append(("rate %", "offline take-up", percent(report.offline)))
    rows.append(("rate %", "review changed", percent(report.review_changed)))
    rows.append(("rate %", "recovery", percent(report.recovery)))
    rows += [("theme", name, n) for name, n, _before in report.themes]
    return rows
