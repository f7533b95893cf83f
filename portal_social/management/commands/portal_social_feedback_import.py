"""Import historical feedback cases from a CSV file (see docs/feedback.md, "Importing historical cases").

python manage.py portal_social_feedback_import cases.csv --dry-run
python manage.py portal_social_feedback_import cases.csv --actor px1
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from portal_social.core.accounts import by_username
from portal_social.core.csv_import import import_file
from portal_social.feedback import rules
from portal_social.feedback.actions import FeedbackDenied
from portal_social.feedback.importing import import_cases


class Command(BaseCommand):
    help = "Import historical feedback cases from a CSV file; each row on its own, bad rows reported by line."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", help="The CSV file (UTF-8, with a header row).")
        parser.add_argument("--dry-run", action="store_true", help="Check every row and write nothing.")
        parser.add_argument("--actor", help="The username of the PX staff member recorded as importing the cases.")

    def handle(self, *args, path: str, dry_run: bool, actor: str | None, **options) -> None:
        user = None
        if actor:
            user = by_username(actor)
            if user is None or not rules.is_staff(user):
                raise CommandError(f"--actor {actor}: no active patient-experience staff member has this username.")
        try:
            import_file(self, path, lambda stream: import_cases(stream, actor=user, dry_run=dry_run))
        except FeedbackDenied as refused:
            raise CommandError(str(refused)) from None
