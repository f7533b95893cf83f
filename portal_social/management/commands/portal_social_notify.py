"""Deliver notifications the background tasks left behind, and send daily summaries.

python manage.py portal_social_notify sweep     # every few minutes: retries and lost tasks
python manage.py portal_social_notify digest    # once a day: summaries for people who chose them
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from portal_social.core import notify


class Command(BaseCommand):
    help = "Deliver due notifications (sweep) or send the daily summaries (digest)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("what", choices=["sweep", "digest"])
        parser.add_argument("--limit", type=int, default=500, help="At most this many per run (default 500).")

    def handle(self, *args, what: str, limit: int, **options) -> None:
        if what == "sweep":
            tried = notify.sweep(limit=limit)
            self.stdout.write(f"notifications tried: {tried}")
        else:
            sent = notify.send_digests(limit=limit)
            self.stdout.write(f"daily summaries sent: {sent}")
