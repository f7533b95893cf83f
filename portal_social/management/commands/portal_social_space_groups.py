"""Clinician spaces by department group (see docs/clinician-spaces.md, "Members by department group").

python manage.py portal_social_space_groups cardiology-case-review --group "Cardiology department"
python manage.py portal_social_space_groups cardiology-case-review --clear
python manage.py portal_social_space_groups --sync        # every space, e.g. nightly after a directory sync
"""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from portal_social.community.actions import space_groups
from portal_social.community.models import Community
from portal_social.core import roles


class Command(BaseCommand):
    help = "Name a clinician space's department groups, or bring every space in line with its groups."

    def add_arguments(self, parser):
        parser.add_argument("space", nargs="?", help="The space's slug.")
        parser.add_argument("--group", action="append", default=[], help="A group's name (repeat for several).")
        parser.add_argument("--clear", action="store_true", help="The space has no department groups.")
        parser.add_argument("--sync", action="store_true", help="Bring every space in line with its groups.")

    def handle(self, *args, space, group, clear, sync, **options):
        if sync:
            added, removed = space_groups.sync()
            self.stdout.write(f"added {added}, removed {removed}")
            return
        if not space or not (group or clear):
            raise CommandError("Name a space and --group (or --clear), or use --sync.")
        found = Community.objects.filter(slug=space, kind=Community.Kind.SPACE).first()
        if found is None:
            raise CommandError(f"No clinician space has the address {space!r}.")
        role_groups = {definition.group_name for definition in roles.ROLES.values()}
        chosen = []
        for name in group:
            if name in role_groups:
                raise CommandError(f"{name!r} is a portal role, not a department: name a department's group.")
            match = Group.objects.filter(name=name).first()
            if match is None:
                raise CommandError(f"No group is named {name!r}.")
            chosen.append(match)
        added, removed = space_groups.set_groups(space=found, groups=chosen)
        names = ", ".join(g.name for g in chosen) or "none"
        self.stdout.write(f"{found.name}: department groups {names}; added {added}, removed {removed}")
