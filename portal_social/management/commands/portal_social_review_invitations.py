"""Review invitations after a visit (see docs/clinician-profiles.md, "Review invitations").

python manage.py portal_social_review_invitations import visits.csv [--dry-run]
python manage.py portal_social_review_invitations pull      # new completed visits from the adapter
python manage.py portal_social_review_invitations send      # send what is due, expire lapsed links
python manage.py portal_social_review_invitations run       # pull, send and expire (cron: every 15 minutes)
python manage.py portal_social_review_invitations schedule  # start the self-scheduling task instead
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Import visits, pull them from the adapter, and send review invitations that are due."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        imported = sub.add_parser("import", help="Fill the Visit table from a CSV file.")
        imported.add_argument("path", help="The CSV file (UTF-8, with a header row).")
        imported.add_argument("--dry-run", action="store_true", help="Check every row and write nothing.")
        sub.add_parser("pull", help="Record new completed visits from the adapter.")
        sub.add_parser("send", help="Send due invitations and expire lapsed ones.")
        sub.add_parser("run", help="Pull, send and expire.")
        sub.add_parser("schedule", help="Queue the periodic task that does 'run' every 15 minutes.")

    def handle(self, *args, what: str, **options) -> None:
        from portal_social.profiles import tasks
        from portal_social.profiles.actions import invitations

        if what == "import":
            self._import(options["path"], options["dry_run"])
        elif what == "pull":
            self._pull(invitations.pull_visits())
        elif what == "send":
            self._send(invitations.send_due(), invitations.expire())
        elif what == "run":
            result = invitations.run()
            self._pull(result["pull"])
            self._send(result["send"], result["expired"])
        elif what == "schedule":
            if not tasks.schedule():
                raise CommandError("the task backend cannot run tasks later: run 'run' from cron instead")
            self.stdout.write(f"queued: review invitations every {int(tasks.INTERVAL.total_seconds() // 60)} minutes")

    def _import(self, path: str, dry_run: bool) -> None:
        from portal_social.core.csv_import import import_file
        from portal_social.profiles.visit_import import import_visits

        import_file(self, path, lambda stream: import_visits(stream, dry_run=dry_run))

    def _pull(self, report) -> None:
        for line in report.lines():
            self.stdout.write(line)

    def _send(self, sent: dict, expired: int) -> None:
        for outcome, count in sorted(sent.items()):
            self.stdout.write(f"{outcome} {count}")
        self.stdout.write(f"expired {expired}")
