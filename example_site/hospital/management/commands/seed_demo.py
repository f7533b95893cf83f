"""Idempotent demo data for the Riverside Health example portal.

    python example_site/manage.py seed_demo

Creates the demo users in their roles (with verified email addresses and, for
staff, no MFA yet: each staff user enrols TOTP on first sign-in), a caregiver
link and the home page content. Running it again changes nothing that exists.
"""

from __future__ import annotations

import os

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from wagtail.models import Site

from hospital.models import HomePage, StandardPage
from portal_social.core import caregivers, roles
from portal_social.core.models import CaregiverRelation

DEMO_PASSWORD_ENV = "PORTAL_DEMO_PASSWORD"
DEFAULT_DEMO_PASSWORD = "riverside-demo-2026"

#: username -> (first name, last name, roles, superuser)
DEMO_USERS = {
    "patient1": ("Maria", "Lopez", [roles.PATIENT], False),
    "patient2": ("James", "Carter", [roles.PATIENT], False),
    "caregiver1": ("Ana", "Lopez", [roles.CAREGIVER], False),
    "clinician1": ("Priya", "Raman", [roles.CLINICIAN], False),
    "clinician2": ("David", "Okafor", [roles.CLINICIAN], False),
    "nurse1": ("Grace", "Kim", [roles.CARE_TEAM], False),
    "moderator1": ("Sam", "Taylor", [roles.COMMUNITY_MODERATOR], False),
    "px1": ("Olivia", "Brooks", [roles.PATIENT_EXPERIENCE], False),
    "risk1": ("Henry", "Nguyen", [roles.RISK_MANAGER], False),
    "admin": ("Portal", "Administrator", [roles.PORTAL_ADMINISTRATOR], True),
}


class Command(BaseCommand):
    help = "Create (or top up) the demo users and content. Safe to run repeatedly."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            default=os.environ.get(DEMO_PASSWORD_ENV, DEFAULT_DEMO_PASSWORD),
            help=f"Password for new demo users (default: ${DEMO_PASSWORD_ENV} or the built-in demo password).",
        )

    @transaction.atomic
    def handle(self, *args, password: str, **options):
        users = {username: self._user(username, password, *spec) for username, spec in DEMO_USERS.items()}
        self._caregiver_link(users)
        self._pages()
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write("Sign in at http://127.0.0.1:8000/accounts/login/ with any of these usernames:")
        for username, (_, _, held, _) in DEMO_USERS.items():
            self.stdout.write(f"  {username:<11} {', '.join(roles.GROUP_NAMES[r] for r in held)}")
        self.stdout.write(f"Password for every demo user: {password}")
        self.stdout.write(
            "Staff users (clinicians, nurse, moderator, PX, risk, admin) are asked to set up an "
            "authenticator app on first sign-in."
        )
        self.stdout.write("Wagtail admin: http://127.0.0.1:8000/cms/  (user: admin)")

    def _user(self, username, password, first_name, last_name, held, superuser):
        User = get_user_model()
        email = f"{username}@example.org"
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "email": email,
                "first_name": first_name,
                "last_name": last_name,
                "is_staff": superuser,
                "is_superuser": superuser,
            },
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
        EmailAddress.objects.get_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
        for role in held:
            roles.grant_role(user=user, role=role)
        return user

    def _caregiver_link(self, users):
        patient, caregiver = users["patient1"], users["caregiver1"]
        if not CaregiverRelation.objects.filter(caregiver=caregiver, patient=patient).exists():
            caregivers.link_caregiver(
                actor=patient,
                caregiver=caregiver,
                patient=patient,
                scopes=["messaging", "feedback"],
                relationship="Daughter",
            )

    def _pages(self):
        home = HomePage.objects.first()
        if home is None:
            return
        if not home.intro:
            home.intro = (
                "Your care, your clinicians, your voice. Find a clinician, message your care team, "
                "join a community and tell us how we did."
            )
            home.save_revision().publish()
        if not StandardPage.objects.filter(slug="community-guidelines").exists():
            home.add_child(
                instance=StandardPage(
                    title="Community guidelines",
                    slug="community-guidelines",
                    body=(
                        "<p>Be kind. Share experiences, not medical advice. Never post your own or anyone "
                        "else's health details, names, phone numbers or addresses: moderators remove them.</p>"
                    ),
                )
            )
        Site.objects.filter(is_default_site=True).update(site_name="Riverside Health")
