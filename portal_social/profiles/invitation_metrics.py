"""Review invitation figures: counts and averages, aggregated in SQL, never a patient.

Definitions (also in docs/clinician-profiles.md):

* **Sent, opened, completed** count invitations by the month they were
  sent: opened once the patient followed the link (signed in), completed
  once a review was written through it.
* **Response rate**: completed / sent.
* **Share of reviews from invitations**: of the reviews written in the
  month (those whose stars count), the share written through an invitation.
* **Average rating, invited and uninvited**: the mean overall stars of
  each kind of review in the month; the difference is the bias between them.

Every figure is a few grouped queries whatever the number of rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from portal_social.profiles.invitation_models import ReviewInvitation
from portal_social.profiles.models import ClinicianPage, Review


@dataclass
class Figures:
    sent: int = 0
    opened: int = 0
    completed: int = 0
    reviews: int = 0
    invited_reviews: int = 0
    invited_total: Decimal = Decimal(0)
    uninvited_total: Decimal = Decimal(0)

    @property
    def response_rate(self) -> int | None:
        return round(100 * self.completed / self.sent) if self.sent else None

    @property
    def invited_share(self) -> int | None:
        return round(100 * self.invited_reviews / self.reviews) if self.reviews else None

    @property
    def invited_average(self) -> Decimal | None:
        return _mean(self.invited_total, self.invited_reviews)

    @property
    def uninvited_average(self) -> Decimal | None:
        return _mean(self.uninvited_total, self.reviews - self.invited_reviews)

    def add(self, other: Figures) -> None:
        for name in ("sent", "opened", "completed", "reviews", "invited_reviews", "invited_total", "uninvited_total"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _mean(total: Decimal, count: int) -> Decimal | None:
    return (Decimal(total) / count).quantize(Decimal("0.01")) if count else None


@dataclass
class Row:
    month: dt.date
    clinician: str
    site: str
    figures: Figures


@dataclass
class Summary:
    start: dt.datetime
    end: dt.datetime
    total: Figures = field(default_factory=Figures)
    #: Invitations by month, clinician and site.
    by_site: list[Row] = field(default_factory=list)
    #: Reviews and invitations by month and clinician.
    by_clinician: list[Row] = field(default_factory=list)
    not_sent: dict[str, int] = field(default_factory=dict)
    unknown_clinicians: int = 0


def _month(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def build(
    start: dt.datetime, end: dt.datetime, *, clinician: ClinicianPage | None = None, names: bool = True
) -> Summary:
    """Figures for invitations sent and reviews written in ``[start, end)`` (one clinician's, when given)."""
    summary = Summary(start=start, end=end)
    invitations = ReviewInvitation.objects.filter(sent_at__gte=start, sent_at__lt=end)
    reviews = Review.objects.counted().filter(created_at__gte=start, created_at__lt=end)
    if clinician is not None:
        invitations = invitations.filter(clinician=clinician)
        reviews = reviews.filter(clinician=clinician)
    titles: dict = {}
    sent_rows = (
        invitations.annotate(month=TruncMonth("sent_at"))
        .values("month", "clinician_id", "site")
        .annotate(
            sent=Count("pk"),
            opened=Count("pk", filter=Q(opened_at__isnull=False)),
            completed=Count("pk", filter=Q(completed_at__isnull=False)),
        )
        .order_by("month", "clinician_id", "site")
    )
    review_rows = (
        reviews.annotate(month=TruncMonth("created_at"))
        .values("month", "clinician_id")
        .annotate(
            reviews=Count("pk"),
            invited=Count("pk", filter=Q(invitation__isnull=False)),
            invited_total=Sum("overall", filter=Q(invitation__isnull=False)),
            uninvited_total=Sum("overall", filter=Q(invitation__isnull=True)),
        )
        .order_by("month", "clinician_id")
    )
    sent_rows, review_rows = list(sent_rows), list(review_rows)
    ids = {row["clinician_id"] for row in sent_rows} | {row["clinician_id"] for row in review_rows}
    if names:
        titles = dict(ClinicianPage.objects.filter(pk__in=[i for i in ids if i]).values_list("pk", "title"))
    per_clinician: dict[tuple, Figures] = {}
    for row in sent_rows:
        figures = Figures(sent=row["sent"], opened=row["opened"], completed=row["completed"])
        summary.by_site.append(
            Row(_month(row["month"]), titles.get(row["clinician_id"], ""), row["site"] or "", figures)
        )
        per_clinician.setdefault((_month(row["month"]), row["clinician_id"]), Figures()).add(figures)
    for row in review_rows:
        invited = row["invited"]
        figures = Figures(
            reviews=row["reviews"],
            invited_reviews=invited,
            invited_total=Decimal(row["invited_total"] or 0),
            uninvited_total=Decimal(row["uninvited_total"] or 0),
        )
        per_clinician.setdefault((_month(row["month"]), row["clinician_id"]), Figures()).add(figures)
    for (month, clinician_id), figures in sorted(per_clinician.items(), key=lambda item: (item[0][0], str(item[0][1]))):
        summary.by_clinician.append(Row(month, titles.get(clinician_id, ""), "", figures))
        summary.total.add(figures)
    not_sent = ReviewInvitation.objects.filter(
        status=ReviewInvitation.Status.NOT_SENT, created_at__gte=start, created_at__lt=end
    )
    if clinician is not None:
        not_sent = not_sent.filter(clinician=clinician)
    labels = dict(ReviewInvitation.Reason.choices)
    for reason, count in not_sent.values_list("not_sent_reason").annotate(n=Count("pk")).order_by("not_sent_reason"):
        summary.not_sent[str(labels.get(reason, reason))] = count
        if reason == ReviewInvitation.Reason.UNKNOWN_CLINICIAN:
            summary.unknown_clinicians = count
    return summary


def last_months(months: int = 12, *, now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    now = now or timezone.now()
    return now - dt.timedelta(days=round(months * 30.44)), now + dt.timedelta(seconds=1)


def rows_for_export(summary: Summary) -> list[tuple[str, str, object]]:
    """The figures as (section, item, value) rows, for the feedback report's CSV and XLSX."""
    t = summary.total
    rows: list[tuple[str, str, object]] = [
        ("review invitations", "sent", t.sent),
        ("review invitations", "opened", t.opened),
        ("review invitations", "completed", t.completed),
        ("review invitations", "response rate %", t.response_rate),
        ("review invitations", "share of reviews from invitations %", t.invited_share),
        ("review invitations", "average rating, invited", t.invited_average),
        ("review invitations", "average rating, uninvited", t.uninvited_average),
    ]
    rows += [("review invitations not sent", reason, count) for reason, count in summary.not_sent.items()]
    for row in summary.by_clinician:
        f, section = row.figures, f"review invitations, {row.month:%Y-%m}"
        rows += [
            (section, f"{row.clinician}: sent", f.sent),
            (section, f"{row.clinician}: completed", f.completed),
            (section, f"{row.clinician}: reviews", f.reviews),
            (section, f"{row.clinician}: from invitations", f.invited_reviews),
            (section, f"{row.clinician}: average invited", f.invited_average),
            (section, f"{row.clinician}: average uninvited", f.uninvited_average),
        ]
    rows += [
        (f"review invitations, {row.month:%Y-%m}", f"{row.clinician} at {row.site or '—'}: sent", row.figures.sent)
        for row in summary.by_site
    ]
    return rows
