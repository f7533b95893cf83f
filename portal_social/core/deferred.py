"""Deferred tasks for deadlines: queued after commit to run at a moment, never failing the action that asks.

Features that promise something by a deadline (an SLA clock, a reply time) queue a task for that moment
with :func:`run_at`. The task decides again from the database when it runs, so a lost or late task is
harmless: each feature also has a sweep command that does the same work as a safety net. When the task
backend cannot defer (``supports_defer`` is false) or the queue is down, nothing is queued and the sweep
catches up.
"""

from __future__ import annotations

import datetime
import logging

from django.db import transaction

logger = logging.getLogger("portal_social.tasks")


def run_at(task, when: datetime.datetime | None, *args, what: str = "deadline check") -> None:
    """After the current transaction commits, queue ``task(*args)`` to run at ``when`` (None: nothing)."""
    if when is None:
        return

    def enqueue() -> None:
        try:
            if task.get_backend().supports_defer:
                task.using(run_after=when).enqueue(*args)
        except Exception as exc:  # the queue is down: the sweep does the work
            logger.warning("%s not queued (%s); the sweep will do it", what, type(exc).__name__)

    transaction.on_commit(enqueue, robust=True)
