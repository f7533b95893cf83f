"""Review invitations' periodic work: one task that runs the whole cycle and queues its next run.

``run_invitations`` pulls new visits, sends what is due and expires lapsed
links (``actions.invitations.run``), then queues itself ``INTERVAL`` later.
One chain runs at a time: each run first moves the shared "next run" mark
forward with a conditional update, and a run that finds the mark already
ahead of it (another chain is going) stops without queueing. Start the
chain with ``manage.py portal_social_review_invitations schedule``; running
``manage.py portal_social_review_invitations run`` from cron instead (every
15 minutes) does the same work without a task worker.
"""

from __future__ import annotations

import datetime
import logging

from django.utils import timezone
from django_tasks import task

logger = logging.getLogger("portal_social.profiles")

INTERVAL = datetime.timedelta(minutes=15)
MARK = "next_run"


def _claim(now: datetime.datetime) -> bool:
    """Move the "next run" mark to ``now + INTERVAL`` if it is due; True when this run may go ahead."""
    from portal_social.profiles.invitation_models import VisitPull

    slack = datetime.timedelta(seconds=30)
    if VisitPull.objects.filter(name=MARK, pulled_through__lte=now + slack).update(pulled_through=now + INTERVAL):
        return True
    _row, created = VisitPull.objects.get_or_create(name=MARK, defaults={"pulled_through": now + INTERVAL})
    return created


def schedule(when: datetime.datetime | None = None) -> bool:
    """Queue the next run (``INTERVAL`` from now); False when the task backend cannot defer."""
    when = when or timezone.now() + INTERVAL
    backend = run_invitations.get_backend()
    if not backend.supports_defer:
        return False
    run_invitations.using(run_after=when).enqueue()
    return True


@task()
def run_invitations() -> dict:
    from portal_social.profiles.actions import invitations

    now = timezone.now()
    if not _claim(now):
        return {"skipped": "another run is scheduled"}
    result = invitations.run(now=now)
    try:
        schedule(now + INTERVAL)
    except Exception as exc:  # the queue is down: cron's "run" catches up
        logger.warning("review invitations: next run not queued (%s)", type(exc).__name__)
    return {"new": result["pull"].new, "send": result["send"], "expired": result["expired"]}
