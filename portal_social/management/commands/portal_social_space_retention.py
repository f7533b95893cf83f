"""Delete clinician-space threads past their space's retention period (daily, from cron or a scheduler).

python manage.py portal_social_space_retention

Each space's purge is audited with counts only.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from portal_social.community.actions import spaces


class Command(BaseCommand):
    help = "Delete clinician-space threads whose last post is older than their space's retention period."

    def handle(self, *args, **options) -> None:
        totals = spaces.purge_expired()
        self.stdout.write(
            f"spaces with a retention period: {totals['spaces']}; "
            f"threads deleted: {totals['threads']}; posts deleted: {totals['posts']}"
        )
