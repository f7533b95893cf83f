"""Secure messaging from the command line: the safety-net sweep, and care relationships in bulk.

python manage.py portal_social_messaging sweep [--limit 500]    # every few minutes
python manage.py portal_social_messaging import-care-relationships FILE [--dry-run]
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from portal_social.messaging import tasks


class Command(BaseCommand):
    help = (
        "Escalate patient messages waiting past their reply time and remind people of unread replies (sweep); "
        "add and end care relationships from a CSV file (import-care-relationships)."
    )

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        sweep = sub.add_parser("sweep", help="Escalate late replies and send unread reminders the tasks left behind.")
        sweep.add_argument("--limit", type=int, default=500, help="At most this many of each per run (default 500).")
        imported = sub.add_parser(
            "import-care-relationships",
            help="Add and end care relationships (patient and care-team pool) from a CSV file.",
        )
        imported.add_argument("path", help="The CSV file (UTF-8, with a header row: pool, patient, since, status).")
        imported.add_argument("--dry-run", action="store_true", help="Check every row and write nothing.")

    def handle(self, *args, what: str, **options) -> None:
        if what == "import-care-relationships":
            self._import(options["path"], options["dry_run"])
            return
        escalated, reminded = tasks.sweep(limit=max(1, options["limit"]))
        self.stdout.write(f"late conversations escalated: {escalated}; unread reminders sent: {reminded}")

    def _import(self, path: str, dry_run: bool) -> None:
        from portal_social.core.csv_import import import_file
        from portal_social.messaging.care_import import import_care_relationships

        # Refused rows are reported; only a file that cannot be read fails the command.
        import_file(
            self, path, lambda stream: import_care_relationships(stream, dry_run=dry_run), fail_on_row_errors=False
        )
