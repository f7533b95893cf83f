"""Rebuild the blind search index (``portal_social.core.search``) from what readers may see.

Every findable object of every registered scope (today: community threads,
their titles and published posts) is indexed again in batches, each in its
own transaction, and rows of anything no longer findable are removed. Safe to
run at any time and to run again: the result is the same. Run it after
``portal_social_rotate_keys`` (the index is keyed by the current encryption
key; until it is rebuilt, searches still look under the older keys too), and
after restoring a database backup taken before search existed.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from portal_social.core import search


class Command(BaseCommand):
    help = "Rebuild the search index of community threads (idempotent, in batches)."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=200, help="Objects per transaction (default 200).")
        parser.add_argument("--scope", action="append", default=[], help="Only this scope (repeatable).")

    def handle(self, *args, batch_size: int, scope: list[str], **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        known = {entry.scope for entry in search.registered()}
        unknown = sorted(set(scope) - known)
        if unknown:
            raise CommandError(f"Unknown scope {', '.join(unknown)}; known: {', '.join(sorted(known))}.")
        for name in scope or sorted(known):
            result = search.rebuild(
                name,
                batch_size=batch_size,
                progress=lambda label, count: self.stdout.write(f"{label}: {count} indexed"),
            )
            summary = f"{result['objects']} indexed, {result['rows']} terms, {result['removed']} stale terms removed"
            self.stdout.write(self.style.SUCCESS(f"{name}: {summary}"))
