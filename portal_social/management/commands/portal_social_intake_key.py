"""Keys for the feedback intake API (social-media management tools such as Sprinklr).

python manage.py portal_social_intake_key create --name Sprinklr --source sprinklr
python manage.py portal_social_intake_key revoke --source sprinklr
python manage.py portal_social_intake_key list

``create`` prints the key once; only its hash and first characters are kept.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from portal_social.feedback.actions.integrations import create_intake_key, revoke_intake_keys
from portal_social.feedback.models import IntakeKey


class Command(BaseCommand):
    help = "Create, revoke and list intake API keys."

    def add_arguments(self, parser) -> None:
        commands = parser.add_subparsers(dest="command", required=True)
        create = commands.add_parser("create", help="Issue a key for a tool; it is printed once.")
        create.add_argument("--name", required=True, help="The tool, such as Sprinklr.")
        create.add_argument("--source", required=True, help="A slug its cases record, such as sprinklr.")
        revoke = commands.add_parser("revoke", help="Refuse a tool's key from now on.")
        revoke.add_argument("--source", required=True)
        commands.add_parser("list", help="Every key: name, source, first characters, state, last use.")

    def handle(self, *args, command: str, **options) -> None:
        if command == "create":
            try:
                row, key = create_intake_key(name=options["name"], source=options["source"])
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from None
            self.stdout.write(f"Key for {row.name} (source {row.source}). It is shown once; store it in the tool:")
            self.stdout.write(key)
        elif command == "revoke":
            if not revoke_intake_keys(source=options["source"]):
                raise CommandError(f"No active key for source {options['source']}.")
            self.stdout.write(f"Revoked the key for source {options['source']}.")
        else:
            rows = IntakeKey.objects.order_by("name")
            if not rows:
                self.stdout.write("No intake keys.")
            for row in rows:
                used = row.last_used_at.isoformat(timespec="seconds") if row.last_used_at else "never used"
                state = "active" if row.active else "revoked"
                self.stdout.write(f"{row.name}\t{row.source}\t{row.prefix}…\t{state}\t{used}")
