"""Open a clinician space and name its first owner: ``manage.py portal_social_space --name ... --owner ...``.

The owner then adds colleagues and names other owners on the space's member page
(``/community/spaces/<slug>/members/``). Opening a space is recorded in the audit trail.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.text import slugify

from portal_social.community import rules
from portal_social.community.actions import spaces as space_actions
from portal_social.community.models import Community, Membership
from portal_social.core import access


class Command(BaseCommand):
    help = "Open a clinician space (optionally for case discussion) with its first owner."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="The space's name, e.g. 'Cardiology case review'.")
        parser.add_argument("--slug", default="", help="Its address under /community/ (default: from the name).")
        parser.add_argument("--owner", required=True, help="The first owner's email address or username.")
        parser.add_argument("--description", default="", help="What the space is for.")
        parser.add_argument(
            "--case-discussion",
            action="store_true",
            help="Members may discuss patients: every reading of a thread is recorded as a PHI read.",
        )

    def handle(self, *args, name, slug, owner, description, case_discussion, **options):
        User = get_user_model()
        person = User.objects.filter(email__iexact=owner, is_active=True).first() or (
            User.objects.filter(username=owner, is_active=True).first()
        )
        if person is None:
            raise CommandError(f"No active account has the email address or username {owner!r}.")
        if not access.holds(person, rules.USE_SPACES):
            raise CommandError("The owner must be a clinician or care-team staff (use_clinician_spaces).")
        space = Community(
            name=name.strip(),
            slug=slug or slugify(name)[:120],
            description=description,
            kind=Community.Kind.SPACE,
            phi_permitted=case_discussion,
        )
        try:
            space.full_clean()
        except ValidationError as exc:
            raise CommandError("; ".join(f"{field}: {' '.join(errors)}" for field, errors in exc.message_dict.items()))
        with transaction.atomic():
            space.save()
            Membership.objects.create(community=space, user=person, role=Membership.Role.OWNER)
            space_actions.MEMBER_ADDED.record(
                actor=None, target=space, details={"member": str(person.pk), "role": Membership.Role.OWNER}
            )
        kind = "a case-discussion space" if case_discussion else "a space"
        self.stdout.write(
            self.style.SUCCESS(f"Opened {kind} at /community/{space.slug}/ owned by {person.get_username()}.")
        )
