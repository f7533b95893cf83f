"""Secure messaging's background work: late replies escalate to the pool lead, unread messages earn a reminder.

Each patient-side message that starts a wait for the team's reply queues a
deferred task for the moment the reply is due (``reply_due_at``, in business
days of the pool's calendar). If the team has not answered by then, the pool
lead is told, once per wait (``Conversation.escalated_at``). A care-team reply
a patient has not read after ``PORTAL_SOCIAL_MESSAGING_REMINDER_HOURS`` earns
them one reminder.

The tasks only decide again from the database, so running one twice, late,
or never is safe: ``manage.py portal_social_messaging sweep`` (every few
minutes, from cron or a scheduler) does the same work for whatever a lost task
or a backend without deferred tasks left behind.
"""

from __future__ import annotations

import datetime
import logging

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_tasks import task

logger = logging.getLogger("portal_social.messaging")


@task()
def escalate_if_late(conversation_id: str) -> bool:
    """Tell the pool lead when the conversation still waits past its reply time. Returns whether it did."""
    return escalate(conversation_id)


def queue_escalation(conversation) -> None:
    """After commit: a deferred :func:`escalate_if_late` at the conversation's reply time (the sweep covers
    a backend that cannot defer, and a queue that is down)."""
    from portal_social.core import deferred

    deferred.run_at(escalate_if_late, conversation.reply_due_at, str(conversation.pk), what="late-reply check")


def escalate(conversation_id, *, now: datetime.datetime | None = None) -> bool:
    from portal_social.core import notify
    from portal_social.messaging import events
    from portal_social.messaging.models import Conversation

    now = now or timezone.now()
    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update(of=("self",))  # the lead may be empty: lock the conversation only
            .filter(
                pk=conversation_id,
                status=Conversation.Status.OPEN,
                reply_due_at__lte=now,
                escalated_at__isnull=True,
            )
            .select_related("pool", "pool__lead")
            .first()
        )
        if conversation is None:
            return False
        Conversation.objects.filter(pk=conversation.pk).update(escalated_at=now)
        conversation.escalated_at = now
        events.conversation_event(
            events.ESCALATED,
            actor=None,
            conversation=conversation,
            details={"late_by_minutes": int((now - conversation.reply_due_at).total_seconds() // 60)},
        )
        lead = conversation.pool.lead
        if lead is not None and lead.is_active:
            notify.notify(lead, "message.reply_late")
        else:  # no lead: every member hears of it
            from django.contrib.auth import get_user_model

            members = get_user_model().objects.filter(care_pool_memberships__pool=conversation.pool_id, is_active=True)
            notify.notify_many(members, "message.reply_late")
    return True


def remind_unread(*, now: datetime.datetime | None = None, limit: int = 500) -> int:
    """One reminder per person for care-team replies they have not read after the reminder delay."""
    from portal_social.conf import app_settings
    from portal_social.core import notify
    from portal_social.messaging import rules
    from portal_social.messaging.models import Message, ReadState

    hours = app_settings.MESSAGING_REMINDER_HOURS
    if not hours:
        return 0
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(hours=hours)
    # Care-team messages older than the delay, not reminded yet, in conversations the patient has not read that far.
    read_to = ReadState.objects.filter(conversation=OuterRef("conversation"), user=OuterRef("conversation__patient"))
    waiting = (
        Message.objects.filter(side=Message.Side.CARE_TEAM, created_at__lte=cutoff, reminded_at__isnull=True)
        .filter(retracted_at__isnull=True, created_at__gte=now - datetime.timedelta(days=30))
        .annotate(read_to=Coalesce(Subquery(read_to.values("last_read_seq")[:1]), 0))
        .select_related("conversation__patient")
        .order_by("created_at")[:limit]
    )
    sent = 0
    told: set[int] = set()
    with transaction.atomic():
        for message in waiting:
            Message.objects.filter(pk=message.pk).update(reminded_at=now)
            patient = message.conversation.patient
            if message.read_to >= message.seq or patient.pk in told or not patient.is_active:
                continue
            if not rules.access.holds(patient, rules.MESSAGE_CARE_TEAM):
                continue
            notify.notify(patient, "message.unread_reminder")
            told.add(patient.pk)
            sent += 1
    return sent


def sweep(*, now: datetime.datetime | None = None, limit: int = 500) -> tuple[int, int]:
    """Escalate every late conversation and send due reminders: ``(escalated, reminded)``."""
    from portal_social.messaging.models import Conversation

    now = now or timezone.now()
    late = Conversation.objects.filter(
        status=Conversation.Status.OPEN, reply_due_at__lte=now, escalated_at__isnull=True
    ).values_list("pk", flat=True)[:limit]
    escalated = sum(1 for pk in list(late) if escalate(pk, now=now))
    return escalated, remind_unread(now=now, limit=limit)


__all__ = ["escalate", "escalate_if_late", "queue_escalation", "remind_unread", "sweep"]
