"""Idempotent demo data for the Riverside Health example portal.

    python example_site/manage.py seed_demo

Creates the demo users in their roles (with verified email addresses and, for
staff, no MFA yet: each staff user enrols TOTP on first sign-in), a caregiver
link, the home page content, the clinician directory with reviews, and three
communities with members, a mentor, threads, replies and reactions, a solved
thread, and in the moderation queue a post held for a phone number, an
urgent one and two that members flagged, and secure messaging: two care-team
pools, conversations between patient1 and clinician1's team, one caregiver1
wrote for patient1, one patient1 keeps private from caregiver1, and
clinician2 out of office with nurse1 answering, and review invitations:
visits, invitations sent, opened, answered, expired and not sent, and
patient2 opted out of them. Running it again changes nothing that exists.
"""

from __future__ import annotations

import os
import uuid

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from wagtail.models import Site
from wagtail.search import index as search_index

from hospital.models import HomePage, StandardPage
from hospital.seed_feedback import seed_feedback
from hospital.seed_invitations import seed_invitations
from hospital.seed_spaces import seed_spaces
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
        self._texts(users)
        self._pages()
        seed_clinicians(users)
        seed_reviews(users, password)
        seed_communities(users)
        seed_community_page()
        seed_spaces(users)
        seed_messaging(users)
        seed_feedback(users)
        seed_invitations(users)
        # Search indexing normally runs in the task worker; index the demo now so
        # searching works from the first page view.
        for clinician in ClinicianPage.objects.all():
            search_index.insert_or_update_object(clinician)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write("Wagtail admin: http://127.0.0.1:8000/cms/  (user: admin)")
        self.stdout.write(
            "Staff users (clinicians, nurse, moderator, PX, risk, admin) are asked to set up an "
            "authenticator app on first sign-in."
        )
        # The logins come last, so they are what `make demo` leaves on screen before serving.
        self.stdout.write("Sign in at http://127.0.0.1:8000/accounts/login/ with any of these usernames:")
        for username, (_, _, held, _) in DEMO_USERS.items():
            self.stdout.write(f"  {username:<11} {', '.join(roles.GROUP_NAMES[r] for r in held)}")
        self.stdout.write(f"Password for every demo user: {password}")

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
                scopes=["messaging", "feedback", "community"],
                relationship="Daughter",
            )
        # Demo data from before communities knew caregivers: the link takes part in communities too,
        # so caregiver1's posts carry the caregiver mark.
        CaregiverRelation.objects.filter(caregiver=caregiver, patient=patient).update(scope_community=True)

    def _texts(self, users):
        """patient1's record holds a (fictional, 555-01xx) mobile number and patient1 asked for texts too:
        the dev server prints each text, number masked, beside the emails."""
        from hospital.models import MobileNumber
        from portal_social.core.notify.models import NotificationPreference

        patient = users["patient1"]
        MobileNumber.objects.update_or_create(user=patient, defaults={"number": "+1 555 010 0147"})
        NotificationPreference.objects.update_or_create(user=patient, defaults={"by_text": True})

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


PRAISE = [
    "Dr. Raman explained my test results clearly and never rushed me.",
    "Very thorough and kind. The follow-up plan made sense.",
    "",
    "Listened to all my questions and answered them patiently.",
    "Great care, though the wait in the lobby was long.",
    "",
    "I always leave feeling I understand what comes next.",
]


def _reviewer(username: str, password: str):
    import datetime

    from django.utils import timezone

    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "email": f"{username}@example.org",
            "first_name": "Demo",
            "last_name": "Reviewer",
            # Older than the new-account hold, as real long-standing patients are.
            "date_joined": timezone.now() - datetime.timedelta(days=400),
        },
    )
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
        EmailAddress.objects.get_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
        roles.grant_role(user=user, role=roles.PATIENT)
    return user


def _review(author, page, stars, comment=""):
    from portal_social.conf import app_settings
    from portal_social.profiles import actions
    from portal_social.profiles.models import Review

    existing = Review.objects.filter(author=author, clinician=page).first()
    if existing is not None:
        return existing, False
    CareTeamLink.objects.get_or_create(patient=author, clinician_user=page.user)
    ratings = {key: stars for key, _ in app_settings.REVIEW_QUESTIONS}
    return actions.submit_review(author=author, clinician=page, ratings=ratings, comment=comment), True


def seed_reviews(users, password):
    """Reviews in every state: published, held for PHI, rejected, appealed, reported, answered.

    Dr. Raman (clinician1) gets 29 ratings: one short of the 30 needed before
    stars are shown, so the next patient's review makes them appear.
    """
    from portal_social.profiles import actions

    raman = ClinicianPage.objects.get(user=users["clinician1"])
    okafor = ClinicianPage.objects.get(user=users["clinician2"])
    for n in range(1, 29):
        author = _reviewer(f"reviewer{n:02d}", password)
        _review(author, raman, 5 if n % 3 else 4, PRAISE[n % len(PRAISE)])
    # Held: the comment carries a phone number; a moderator must redact it.
    _review(users["patient2"], raman, 4, "Dr. Raman called me back the same day. Reach me at 413-555-0199 anytime.")

    moderator = users["moderator1"]
    rejected, created = _review(
        _reviewer("reviewer29", password), okafor, 1, "This damn clinic lost my referral twice."
    )
    if created:
        actions.reject_review(moderator=moderator, review=rejected, reason="Profanity; stars still count.")
    appealed, created = _review(
        _reviewer("reviewer30", password), okafor, 2, "Dr. Okafor seemed distracted and ignored my concerns."
    )
    if created:
        actions.appeal_review(
            clinician_user=users["clinician2"],
            review=appealed,
            reason="This patient was seen by a colleague that day, not by me.",
        )
    reported, created = _review(_reviewer("reviewer31", password), okafor, 3, "Average visit. Nothing special.")
    if created:
        actions.report_review(reporter=users["patient1"], review=reported, reason="Not about the clinician's care.")
    answered, created = _review(
        _reviewer("reviewer32", password), okafor, 2, "The front desk was rude when I asked about my bill."
    )
    if created:
        actions.respond_to_review(
            staff=users["px1"],
            review=answered,
            body="We are sorry about your experience. Our patient-experience team would like to hear more: "
            "please use the Feedback page so we can follow up.",
        )
    _review(_reviewer("reviewer33", password), okafor, 5, "Dr. Okafor helped me get my blood pressure under control.")


COMMUNITIES = [
    (
        "heart-health",
        "Heart health",
        "public",
        "Living well with heart failure, high blood pressure and recovery after a heart procedure.",
    ),
    (
        "living-with-diabetes",
        "Living with diabetes",
        "members",
        "Food, medicines, monitors and the everyday of type 1 and type 2 diabetes.",
    ),
    (
        "caregivers-circle",
        "Caregivers' circle",
        "private",
        "A private space for people who care for a family member or friend.",
    ),
]
GUIDELINES = (
    "Be kind. Share experiences, not medical advice. Never post your own or anyone else's health "
    "details, names, phone numbers or addresses: a moderator reads such posts first and hides them."
)
#: username -> community name (handle); others see this, never the legal name.
HANDLES = {"patient1": "riverside_walker", "patient2": "steady_beat", "caregiver1": "caring_daughter"}
#: username -> communities joined. The private one is joined on request, then approved by staff.
MEMBERSHIPS = {
    "patient1": ["heart-health", "living-with-diabetes"],
    "patient2": ["heart-health", "living-with-diabetes"],
    "caregiver1": ["heart-health", "caregivers-circle"],
}
#: The demo has no mentor account: patient2 mentors Heart health.
MENTORS = [("patient2", "heart-health")]
#: caregiver1 moderates Caregivers' circle only (join requests, pin, lock, slow mode there).
COMMUNITY_MODERATORS = [("caregiver1", "caregivers-circle")]
#: community, key, author, title, opening post, [(key, author, reply)]: every post published by moderator1.
THREADS = [
    (
        "heart-health",
        "walking",
        "patient1",
        "Getting back to walking after a heart failure diagnosis",
        "My cardiologist wants me walking every day. Some days I manage twenty minutes, some days five. "
        "How did you build up without overdoing it?",
        [
            (
                "walking-1",
                "patient2",
                "I started with two short walks a day instead of one long one, and added a minute each week. "
                "Keeping a simple log helped me see progress on the bad days.",
            ),
            (
                "walking-2",
                "caregiver1",
                "My mother walks the mall in the morning when it is quiet and there are benches. "
                "It took the fear out of getting tired far from home.",
            ),
            ("walking-3", "patient1", "Two short walks is a great idea. I will try that this week, thank you."),
        ],
    ),
    (
        "heart-health",
        "salt",
        "patient2",
        "Low-salt cooking that still tastes like something",
        "Lemon, garlic and a lot of pepper have saved my dinners. What are your go-to swaps?",
        [
            (
                "salt-1",
                "patient1",
                "Toasted cumin and smoked paprika on roast vegetables. I stopped missing the salt after a month.",
            ),
        ],
    ),
    (
        "living-with-diabetes",
        "sensor",
        "patient2",
        "First month with a glucose sensor",
        "Seeing the numbers all day was stressful at first. It got easier once I stopped checking every hour.",
        [
            (
                "sensor-1",
                "patient1",
                "Same here. Turning off the high alert at night (with my care team's agreement) helped my sleep.",
            ),
        ],
    ),
    (
        "caregivers-circle",
        "rest",
        "caregiver1",
        "Finding time to rest",
        "I look after my mother most evenings. How do you make room for your own rest without feeling guilty?",
        [],
    ),
]
#: Waiting in the moderation queue: a reply that carries a phone number (the author chose to post anyway).
HELD_PHONE = (
    "living-with-diabetes",
    "sensor",
    "held-phone",
    "patient1",
    "I would love to compare notes on sensors. Call me at 413-555-0186 any evening.",
)
#: Waiting in the moderation queue, urgent: crisis language.
HELD_CRISIS = (
    "caregivers-circle",
    "rest",
    "held-crisis",
    "caregiver1",
    "Some nights I am so tired I feel there is nothing to live for. I do not know who to talk to.",
)
#: Published, then flagged by members for the moderators: (community, thread, key, author, post, [(flagger, reason)]).
#: The demo members are new (trust level 0, half a flag each), so the posts stay up and wait in the queue.
FLAGGED = [
    (
        "heart-health",
        "salt",
        "flagged-spam",
        "caregiver1",
        "Does anyone know a good plumber? Our kitchen sink has been leaking for a week.",
        [("patient1", "off_topic"), ("patient2", "spam")],
    ),
    (
        "living-with-diabetes",
        "sensor",
        "flagged-advice",
        "patient2",
        "Honestly the sensor makes insulin optional. I skip mine at weekends and feel fine.",
        [("patient1", "misinformation")],
    ),
]
#: (community, thread, post key or "" for the opening post, person, reaction): rows made directly.
REACTIONS = [
    ("heart-health", "walking", "", "patient2", "hug"),
    ("heart-health", "walking", "", "caregiver1", "hug"),
    ("heart-health", "walking", "walking-1", "patient1", "helpful"),
    ("heart-health", "walking", "walking-1", "caregiver1", "helpful"),
    ("heart-health", "walking", "walking-2", "patient1", "like"),
    ("heart-health", "salt", "", "patient1", "like"),
    ("heart-health", "salt", "salt-1", "patient2", "helpful"),
    ("living-with-diabetes", "sensor", "sensor-1", "patient2", "helpful"),
]
#: (community, thread, the reply that answered it): the thread's author marked it solved.
SOLVED = [("heart-health", "walking", "walking-1")]
SUBMISSIONS = uuid.UUID("6f1d7c3e-2a4b-4c5d-9e8f-0a1b2c3d4e5f")


def _submission(key: str) -> uuid.UUID:
    """A fixed token per demo post: posting it again returns the post that exists."""
    return uuid.uuid5(SUBMISSIONS, key)


def seed_communities(users):
    """Three communities (public, members only, private), handles, memberships, threads and replies.

    Every post goes through the community actions, so it is screened and
    audited like a member's. The demo authors' accounts are new, so their
    posts are held; moderator1 publishes them, as a moderator would from the
    queue. Posts stay in the queue: one with a phone number, one with
    crisis language (urgent), and two published posts that members flagged.
    Reactions and the solved thread are rows made directly.
    """
    from portal_social.community import actions
    from portal_social.community.models import Community, CommunityProfile, Membership, Post, PostFlag

    communities = {}
    for slug, name, visibility, description in COMMUNITIES:
        # Staff create communities in the Wagtail admin; the demo creates the rows the same way.
        communities[slug], _created = Community.objects.get_or_create(
            slug=slug,
            defaults={"name": name, "visibility": visibility, "description": description, "guidelines": GUIDELINES},
        )
    for username, handle in HANDLES.items():
        if not CommunityProfile.objects.filter(user=users[username]).exists():
            actions.set_handle(user=users[username], handle=handle)
    for username, slugs in MEMBERSHIPS.items():
        for slug in slugs:
            user, community = users[username], communities[slug]
            if Membership.objects.filter(user=user, community=community).exists():
                continue
            membership = actions.join(user=user, community=community)
            if membership.status == Membership.Status.REQUESTED:
                # A private community: staff approve the request in the admin.
                membership.status = Membership.Status.ACTIVE
                membership.save(update_fields=["status"])
    for username, slug in MENTORS:
        Membership.objects.filter(user=users[username], community=communities[slug]).update(role=Membership.Role.MENTOR)

    moderator = users["moderator1"]
    for username, slug in COMMUNITY_MODERATORS:
        membership = Membership.objects.get(user=users[username], community=communities[slug])
        actions.set_community_moderator(actor=moderator, membership=membership, moderator=True)

    def published(post):
        if post.status == Post.Status.HELD:
            actions.approve_post(moderator=moderator, post=post)
        return post

    threads, posts = {}, {}
    for slug, key, author, title, body, replies in THREADS:
        opening = published(
            actions.start_thread(
                author=users[author],
                community=communities[slug],
                title=title,
                body=body,
                submission=_submission(f"{slug}/{key}"),
            )
        )
        thread = opening.thread
        thread.refresh_from_db()
        threads[(slug, key)] = thread
        posts[(slug, key, "")] = opening
        for reply_key, reply_author, reply_body in replies:
            posts[(slug, key, reply_key)] = published(
                actions.reply(
                    author=users[reply_author],
                    thread=thread,
                    body=reply_body,
                    submission=_submission(f"{slug}/{reply_key}"),
                )
            )
    for slug, key, reply_key, author, body in (HELD_PHONE, HELD_CRISIS):
        thread = threads[(slug, key)]
        thread.refresh_from_db()
        actions.reply(
            author=users[author],
            thread=thread,
            body=body,
            confirm_phi=True,
            submission=_submission(f"{slug}/{reply_key}"),
        )
    for slug, key, post_key, author, body, flags in FLAGGED:
        thread = threads[(slug, key)]
        thread.refresh_from_db()
        post = published(
            actions.reply(author=users[author], thread=thread, body=body, submission=_submission(f"{slug}/{post_key}"))
        )
        for flagger, reason in flags:
            if not PostFlag.objects.filter(post=post, flagger=users[flagger]).exists():
                actions.flag_post(user=users[flagger], post=post, reason=reason)
    _seed_reactions(users, posts)
    _seed_solved(threads, posts)
    _seed_badges(users)


def seed_community_page():
    """The heart-health community in the page tree too, at /heart-health-community/, in the home page's menu."""
    from portal_social.community.models import Community, CommunityPage

    home = HomePage.objects.first()
    community = Community.objects.filter(slug="heart-health").first()
    if home is None or community is None or CommunityPage.objects.filter(community=community).exists():
        return
    page = CommunityPage(
        title="Heart health community",
        slug="heart-health-community",
        community=community,
        show_in_menus=True,
        intro=(
            "<p>Our cardiology nurses set up this group for people living with a heart condition and those "
            "who care for them. Moderators read it every day; for anything about your own care, "
            "message your care team.</p>"
        ),
    )
    home.add_child(instance=page)
    page.save_revision().publish()


def _seed_reactions(users, posts):
    """Reactions on the demo posts, made as rows; kinds the portal does not offer are left out."""
    from portal_social.community.models import Reaction
    from portal_social.conf import app_settings

    known = {key for key, _label in getattr(app_settings, "COMMUNITY_REACTIONS", ())}
    for slug, key, post_key, username, kind in REACTIONS:
        if known and kind not in known:
            continue  # the portal's settings name other reactions
        Reaction.objects.get_or_create(post=posts[(slug, key, post_key)], user=users[username], kind=kind)


def _seed_solved(threads, posts):
    """The thread's author chose the reply that answered it."""
    from django.utils import timezone

    from portal_social.community.models import Thread

    for slug, key, post_key in SOLVED:
        thread = threads[(slug, key)]
        Thread.objects.filter(pk=thread.pk, solved_post__isnull=True).update(
            solved_post=posts[(slug, key, post_key)], solved_by=thread.author_id, solved_at=timezone.now()
        )


def _seed_badges(users):
    """Earned badges, given by the real rules now that the demo's reactions and answers are in place
    (publishing already gave first posts): patient2's reply answered the walking thread."""
    from portal_social.community.actions import badges

    for username in HANDLES:
        badges.award_badges(users[username])


#: slug -> (name, lead, members, patients, reply within business days)
DEMO_POOLS = {
    "cardiology-raman": (
        "Cardiology — Dr. Raman's team",
        "clinician1",
        ["clinician1", "nurse1"],
        ["patient1"],
        2,
    ),
    "primary-care-okafor": (
        "Primary care — Dr. Okafor's team",
        "clinician2",
        ["clinician2", "nurse1"],
        ["patient1", "patient2"],
        1,
    ),
}

#: key -> (sender, patient, pool, topic, subject, confidential, assigned to, [(key, author, text)])
DEMO_CONVERSATIONS = {
    "bp-medicine": (
        "patient1",
        "patient1",
        "cardiology-raman",
        "medical_question",
        "Dizzy since the new blood pressure pill",
        False,
        "clinician1",
        [
            (
                "bp-1",
                "patient1",
                "Since I started the new blood pressure pill last week I feel dizzy when I stand up. "
                "Should I keep taking it?",
            ),
            (
                "bp-2",
                "clinician1",
                "Thank you for telling us. Keep taking it, stand up slowly, and drink plenty of water. "
                "Please check your blood pressure each morning this week and send us the readings.",
            ),
            ("bp-3", "patient1", "Thank you. This morning it was 118 over 76, and I felt a little better."),
        ],
    ),
    "refill-lisinopril": (
        "caregiver1",
        "patient1",
        "cardiology-raman",
        "prescription_renewal",
        "Refill for Mum's lisinopril",
        False,
        None,
        [
            (
                "refill-1",
                "caregiver1",
                "Hello, I help my mother with her medicines. She has five days of lisinopril left. "
                "Could the team send a renewal to her usual pharmacy?",
            ),
        ],
    ),
    "private-question": (
        "patient1",
        "patient1",
        "primary-care-okafor",
        "medical_question",
        "A private question",
        True,
        None,
        [("private-1", "patient1", "I would like to talk about something I have not told my family yet.")],
    ),
    "appointment-okafor": (
        "patient2",
        "patient2",
        "primary-care-okafor",
        "appointment",
        "Moving my check-up",
        False,
        "clinician2",
        [("appt-1", "patient2", "Could I move my check-up next month to an afternoon?")],
    ),
}


def seed_messaging(users):
    """Care-team pools, care relationships, conversations (through the actions), and an absence.

    Messages go through ``messaging.actions``, so they are encrypted,
    audited and counted like any other; a one-use submission token per
    message keeps a second run from sending them again.
    """
    import datetime

    from django.utils import timezone

    from portal_social.messaging import actions
    from portal_social.messaging.models import CarePool, OutOfOffice, PoolMember, PoolPatient

    pools = {}
    for slug, (name, lead, members, patients, days) in DEMO_POOLS.items():
        pool, _created = CarePool.objects.get_or_create(
            slug=slug, defaults={"name": name, "lead": users[lead], "response_days": days}
        )
        pools[slug] = pool
        for username in members:
            PoolMember.objects.get_or_create(pool=pool, user=users[username])
        for username in patients:
            PoolPatient.objects.get_or_create(pool=pool, patient=users[username])
    for key, (sender, patient, pool, topic, subject, confidential, assignee, messages) in DEMO_CONVERSATIONS.items():
        first_key, first_author, first_text = messages[0]
        conversation = actions.start_conversation(
            sender=users[sender],
            patient=users[patient],
            pool=pools[pool],
            topic=topic,
            subject=subject,
            body=first_text,
            confidential=confidential,
            submission=_submission("conversation:" + key),
        )
        if assignee and conversation.assigned_to_id is None:
            actions.assign_conversation(actor=users[assignee], conversation=conversation, assignee=users[assignee])
        for message_key, author, text in messages[1:]:
            actions.send_message(
                sender=users[author],
                conversation=conversation,
                body=text,
                submission=_submission("message:" + message_key),
            )
    now = timezone.now()
    if not OutOfOffice.objects.filter(user=users["clinician2"], ends_at__gt=now).exists():
        actions.set_out_of_office(
            actor=users["clinician2"],
            delegate=users["nurse1"],
            starts_at=now,
            ends_at=now + datetime.timedelta(days=7),
        )
