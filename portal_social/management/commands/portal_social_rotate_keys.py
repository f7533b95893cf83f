"""Re-encrypt everything under the first key of PORTAL_SOCIAL_ENCRYPTION_KEYS.

Put the new key first, keep the old keys after it, run this command, then
remove the old keys. It works in batches, each in its own transaction, and
skips values already under the current key, so an interrupted run is resumed
by running it again. Each run is recorded in the audit trail as
``keys.rotated``, with the counts and the keys' fingerprints (never the keys).
The work is ``portal_social.core.crypto.rotate_keys``.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from portal_social.core.crypto import rotate_keys


class Command(BaseCommand):
    help = "Re-encrypt encrypted fields under the current key, in resumable batches."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size: int, **options):
        rows = rotate_keys(
            batch_size=batch_size,
            progress=lambda label, count: self.stdout.write(f"{label}: {count} rows re-encrypted"),
        )
        self.stdout.write(self.style.SUCCESS(f"done: {sum(rows.values())} rows re-encrypted"))
