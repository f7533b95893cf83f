"""Send the leaders' feedback digest: counts only, never what anyone wrote.

python manage.py portal_social_feedback_digest --days 7     # weekly, from cron
python manage.py portal_social_feedback_digest --days 30    # monthly
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from portal_social.feedback import digest


class Command(BaseCommand):
    help = "Send team leads and report readers the feedback numbers for the last N days."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--days", type=int, default=7, help="How many days back from yesterday (default 7).")

    def handle(self, *args, days: int, **options) -> None:
        told = digest.send(days)
        self.stdout.write(f"feedback digest sent to {told} people")
