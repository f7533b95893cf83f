"""The leaders' digest: the week's or month's feedback numbers by notification, with no PHI at all.

Sent to team leads and to everyone holding ``view_feedback_reports`` through a role, by
``manage.py portal_social_feedback_digest --days 7`` (from cron, weekly or monthly). The
notification carries counts only; the link leads to the reports, behind sign-in and MFA.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from portal_social.core import notify
from portal_social.feedback import reports
from portal_social.feedback.models import Case, Team


def recipients():
    users = get_user_model().objects.filter(is_active=True)
    leads = Team.objects.filter(active=True, lead__isnull=False).values("lead_id")
    return users.filter(
        Q(pk__in=leads)
        | Q(
            groups__permissions__codename="view_feedback_reports",
            groups__permissions__content_type__app_label="portal_social",
        )
    ).distinct()


def figures(days: int, *, today: dt.date | None = None) -> dict[str, int]:
    today = today or timezone.localdate()
    period = reports.Period(today - dt.timedelta(days=days), today - dt.timedelta(days=1))
    report = reports.build(period)
    start, end = period.bounds()
    resolved = Case.objects.filter(resolved_at__gte=start, resolved_at__lt=end).count()
    return {
        "days": days,
        "received": report.total,
        "resolved": resolved,
        "acknowledged_on_time": report.compliance["acknowledge"][0],
        "acknowledge_due": report.compliance["acknowledge"][1],
        "resolved_on_time": report.compliance["resolve"][0],
        "resolve_due": report.compliance["resolve"][1],
        "open": report.open_now,
        "overdue": report.overdue_now,
    }


def send(days: int = 7) -> int:
    """Send the digest for the last ``days`` days (yesterday back); returns how many people it went to."""
    from portal_social.feedback import notifications  # noqa: F401  (registers the template)

    params = figures(max(1, min(days, 366)))
    sent = notify.notify_many(list(recipients()), "feedback.digest", params=params)
    return len(sent)
