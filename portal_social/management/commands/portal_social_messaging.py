"""Secure messaging's safety net: escalate late replies and send unread reminders the tasks left behind.

python manage.py portal_social_messaging sweep     # every few minutes
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from portal_social.messaging import tasks


class Command(BaseCommand):
    help = "Escalate patient messages waiting past their reply time, and remind people of unread replies."

    def add_arguments(self, parser) -> None:
        parser.add_argument("what", choices=["sweep"])
        parser.add_argument("--limit", type=int, default=500, help="At most this many of each per run (default 500).")

    def handle(self, *args, what: str, limit: int, **options) -> None:
        escalated, reminded = tasks.sweep(limit=max(1, limit))
        self.stdout.write(f"late conversations escalated: {escalated}; unread reminders sent: {reminded}")
