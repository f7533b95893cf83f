"""Scheduled audit work: anchoring the chain head outside the database.

The Django Tasks API runs tasks but does not schedule them; a host enqueues
``anchor_audit_head`` from its scheduler (cron, a systemd timer, rq-scheduler,
Celery beat…), or runs ``manage.py portal_social_audit anchor`` directly::

    # crontab: every hour, on one machine
    0 * * * *  cd /srv/portal && python manage.py portal_social_audit anchor

    # or, from any scheduler that can run Python in the portal's process
    from portal_social.core.audit_tasks import anchor_audit_head
    anchor_audit_head.enqueue()
"""

from __future__ import annotations

from django_tasks import task

from portal_social.core import audit


@task()
def anchor_audit_head() -> dict[str, int | str]:
    """Hand the sealed chain head to ``PortalAdapter.anchor_audit_head``.

    Raises ``audit.ChainBroken`` (so the task fails, visibly) instead of
    anchoring a head whose seal or newest event does not verify.
    """
    sequence, head_hash = audit.anchor_head()
    return {"sequence": sequence, "head_hash": head_hash}
