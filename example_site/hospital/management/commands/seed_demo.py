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
from portal_social.core.models import CaregiverRelation, CareTeamLink
from portal_social.profiles.models import ClinicianIndexPage, ClinicianPage, Condition, Language, Location, Specialty
from portal_social.profiles.workflow import ensure_profile_workflow

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
        seed_clinicians(users)
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


SPECIALTIES = ["Cardiology", "Family medicine", "Endocrinology", "Pediatrics", "Oncology", "Orthopedics"]
CONDITIONS = ["Heart failure", "High blood pressure", "Type 2 diabetes", "Asthma", "Back pain", "Breast cancer"]
LANGUAGES = ["English", "Spanish", "Vietnamese", "Mandarin", "Haitian Creole"]
LOCATIONS = [
    ("Riverside Main Campus", "100 River Road, Springfield, MA 01103", "(413) 555-0100"),
    ("Riverside Northside Clinic", "2200 Summit Avenue, Springfield, MA 01104", "(413) 555-0142"),
    ("Riverside Heart Center", "45 Elm Street, Springfield, MA 01103", "(413) 555-0177"),
]
#: username or None, first, last, credentials, specialties, conditions, languages, locations, accepting, telehealth
CLINICIANS = [
    (
        "clinician1",
        "Priya",
        "Raman",
        "MD, FACC",
        ["Cardiology"],
        ["Heart failure", "High blood pressure"],
        ["English", "Spanish"],
        ["Riverside Heart Center"],
        True,
        True,
    ),
    (
        "clinician2",
        "David",
        "Okafor",
        "MD",
        ["Family medicine"],
        ["Type 2 diabetes", "High blood pressure", "Asthma"],
        ["English"],
        ["Riverside Main Campus", "Riverside Northside Clinic"],
        True,
        False,
    ),
    (
        None,
        "Lucia",
        "Hernandez",
        "MD",
        ["Cardiology"],
        ["Heart failure"],
        ["English", "Spanish"],
        ["Riverside Heart Center"],
        False,
        True,
    ),
    (
        None,
        "Minh",
        "Tran",
        "DO",
        ["Endocrinology"],
        ["Type 2 diabetes"],
        ["English", "Vietnamese"],
        ["Riverside Main Campus"],
        True,
        True,
    ),
    (
        None,
        "Wei",
        "Chen",
        "MD, PhD",
        ["Oncology"],
        ["Breast cancer"],
        ["English", "Mandarin"],
        ["Riverside Main Campus"],
        True,
        False,
    ),
    (
        None,
        "Marie",
        "Joseph",
        "NP",
        ["Pediatrics"],
        ["Asthma"],
        ["English", "Haitian Creole"],
        ["Riverside Northside Clinic"],
        True,
        True,
    ),
    (
        None,
        "Robert",
        "Sullivan",
        "MD",
        ["Orthopedics"],
        ["Back pain"],
        ["English"],
        ["Riverside Main Campus"],
        False,
        False,
    ),
    (
        None,
        "Sofia",
        "Alvarez",
        "MD",
        ["Cardiology"],
        ["High blood pressure"],
        ["English"],
        ["Riverside Heart Center"],
        True,
        False,
    ),
]
#: Valid NPIs (Luhn over 80840) reserved for the demo.
DEMO_NPIS = [
    "1234567893",
    "1245319599",
    "1003000126",
    "1003000134",
    "1003000142",
    "1003000159",
    "1003000167",
    "1003000175",
]


def _slug(name: str) -> str:
    from django.utils.text import slugify

    return slugify(name)


def _named(model, name):
    return model.objects.get_or_create(slug=_slug(name), defaults={"name": name})[0]


def seed_clinicians(users):
    """The directory, its taxonomies, eight clinicians and the demo patients' care teams."""
    home = HomePage.objects.first()
    directory = ClinicianIndexPage.objects.first()
    if directory is None:
        directory = ClinicianIndexPage(
            title="Find a clinician",
            slug="clinicians",
            intro="Search our clinicians by specialty, location and language, and read verified patient reviews.",
        )
        home.add_child(instance=directory)
        directory.save_revision().publish()
    ensure_profile_workflow(directory)
    for name in SPECIALTIES:
        _named(Specialty, name)
    for name in CONDITIONS:
        _named(Condition, name)
    for name in LANGUAGES:
        _named(Language, name)
    for name, address, phone in LOCATIONS:
        Location.objects.get_or_create(
            slug=_slug(name),
            defaults={
                "name": name,
                "address": address,
                "phone": phone,
                "map_url": "https://www.openstreetmap.org/search?query=" + address.replace(" ", "+"),
            },
        )
    for npi, spec in zip(DEMO_NPIS, CLINICIANS, strict=True):
        username, first, last, creds, specialties, conditions, languages, locations, accepting, telehealth = spec
        if ClinicianPage.objects.filter(npi=npi).exists():
            continue
        page = ClinicianPage(
            title=f"{first} {last}, {creds}",
            slug=_slug(f"{first} {last}"),
            first_name=first,
            last_name=last,
            credentials=creds,
            npi=npi,
            user=users.get(username) if username else None,
            accepting_new_patients=accepting,
            telehealth=telehealth,
            bio=f"<p>Dr. {last} has cared for patients at Riverside Health for many years.</p>",
            board_certifications=", ".join(f"American Board of {s}" for s in specialties),
        )
        page.specialties = [_named(Specialty, n) for n in specialties]
        page.conditions = [_named(Condition, n) for n in conditions]
        page.languages = [_named(Language, n) for n in languages]
        page.locations = [Location.objects.get(slug=_slug(n)) for n in locations]
        directory.add_child(instance=page)
        page.save_revision().publish()
    for patient, clinician in (("patient1", "clinician1"), ("patient2", "clinician1"), ("patient1", "clinician2")):
        CareTeamLink.objects.get_or_create(patient=users[patient], clinician_user=users[clinician])
