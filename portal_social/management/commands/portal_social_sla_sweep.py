"""Feedback's safety net: escalate every case whose SLA deadline passed while no task caught it.

python manage.py portal_social_sla_sweep     # every few minutes, from cron or a scheduler
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from portal_social.feedback import tasks


class Command(BaseCommand):
    help = "Escalate feedback cases whose SLA deadlines passed (a safety net for the deferred tasks)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--limit", type=int, default=500, help="At most this many cases per run (default 500).")

    def handle(self, *args, limit: int, **options) -> None:
        escalated = tasks.sweep(limit=max(1, limit))
        self.stdout.write(f"feedback cases escalated: {escalated}")
