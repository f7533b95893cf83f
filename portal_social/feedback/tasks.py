"""Feedback's background work: a missed deadline escalates the case.

Every change to a case's clocks queues a deferred task (``run_after``) for
its next deadline. When a running clock's deadline has passed, the case
records the breach once per clock (``Case.breaches``): its priority rises,
it joins the escalation queue (``escalated_at``), the owning team's lead is
told (every team member when there is no lead), and the timeline and audit
log say so.

The task only decides again from the database, so running it twice, late
or never is safe: ``manage.py portal_social_sla_sweep`` (every few minutes)
does the same for whatever a lost task or a stopped worker left behind.
"""

from __future__ import annotations

import datetime
import logging

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

logger = logging.getLogger("portal_social.feedback")


@task()
def check_deadlines(case_id: str) -> list[str]:
    """Record any missed deadline of the case. Returns the clocks newly breached."""
    return breach(case_id)


def queue_check(case) -> None:
    """After commit: a deferred :func:`check_deadlines` at the case's next deadline."""
    from portal_social.core import deferred
    from portal_social.feedback import sla

    deferred.run_at(check_deadlines, sla.next_deadline(case), str(case.pk), what="deadline check")


def breach(case_id, *, now: datetime.datetime | None = None) -> list[str]:
    from portal_social.core import notify
    from portal_social.feedback import events, sla
    from portal_social.feedback.actions._common import log, publish
    from portal_social.feedback.models import Case, CaseEvent

    now = now or timezone.now()
    with transaction.atomic():
        case = (
            Case.objects.select_for_update(of=("self",)).select_related("team", "team__lead").filter(pk=case_id).first()
        )
        if case is None:
            return []
        missed = sla.missed(case, now)
        if not missed:
            return []
        case.breaches = [*case.breaches, *missed]
        case.priority = min(Case.Priority.URGENT, case.priority + 1)
        first = case.escalated_at is None
        case.escalated_at = case.escalated_at or now
        case.save(update_fields=["breaches", "priority", "escalated_at"])
        for clock in missed:
            late = int((now - getattr(case, sla.DUE_FIELD[clock])).total_seconds() // 60)
            details = {"clock": clock, "late_by_minutes": late}
            log(case, CaseEvent.Kind.BREACH, details=details, at=now)
            events.case_event(events.BREACH, actor=None, case=case, details=details)
        if first or missed:
            lead = case.team.lead if case.team is not None else None
            if lead is not None and lead.is_active:
                notify.notify(lead, "feedback.breach", params={"case": case.pk})
            elif case.team is not None:
                from django.contrib.auth import get_user_model

                members = get_user_model().objects.filter(px_team_memberships__team=case.team, is_active=True)
                notify.notify_many(members, "feedback.breach", params={"case": case.pk})
        publish(case, "breach")
    queue_check(case)
    return missed


def sweep(*, now: datetime.datetime | None = None, limit: int = 500) -> int:
    """Record every missed deadline the tasks left behind; returns how many cases escalated."""
    from portal_social.feedback import sla
    from portal_social.feedback.models import Case

    now = now or timezone.now()
    late = (
        Q(acknowledge_due_at__lte=now, acknowledged_at__isnull=True)
        | Q(first_reply_due_at__lte=now, first_replied_at__isnull=True)
        | Q(resolve_due_at__lte=now, resolved_at__isnull=True)
    )
    candidates = (
        Case.objects.filter(status__in=Case.OPEN_STATUSES, paused_since__isnull=True)
        .filter(late)
        .order_by("received_at")
        .only("status", "paused_since", "breaches", *sla.DUE_FIELD.values(), *sla.MET_FIELD.values())
    )
    # Cases whose late clocks are all recorded already stay late until they are worked: skip them here,
    # or a backlog of them would fill ``limit`` and hide every newer miss.
    due = [case.pk for case in candidates if sla.missed(case, now)][:limit]
    return sum(1 for pk in due if breach(pk, now=now))


__all__ = ["breach", "check_deadlines", "queue_check", "sweep"]
