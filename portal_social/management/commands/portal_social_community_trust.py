"""Set every community member's trust level to the one their activity earns, up or down.

python manage.py portal_social_community_trust     # daily: lowers level 3 after a penalty, catches up

Levels rise on their own as members read and post; this run also lowers a
level a member no longer earns (a recent penalty, changed settings). Levels
a moderator set (locked) are left alone. Safe to run again: a second run
changes nothing. Every change is audited (``community.trust``).

It also gives the earned badges that come with time (a year of membership)
and any that a changed ``PORTAL_SOCIAL_COMMUNITY_BADGES`` now gives for posts
already counted; each is audited (``community.badge_awarded``).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from portal_social.community import trust
from portal_social.community.actions import badges


class Command(BaseCommand):
    help = "Set every unlocked community member's trust level to the one they earn (promotion and demotion)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch", type=int, default=500, help="Members read per database round (default 500).")

    def handle(self, *args, batch: int, **options) -> None:
        seen, changed = trust.recompute_all(batch=max(1, batch))
        self.stdout.write(f"members: {seen}, levels changed: {changed}")
        # Earned badges whose day came (a year with us), and any a changed setting now gives.
        self.stdout.write(f"badges awarded: {badges.award_all(batch=max(1, batch))}")
