"""PHI at rest: every field a person writes, then a search of the whole database's bytes.

A patient, a clinician, a moderator and patient-experience staff type
distinctive identifiers (phone, SSN, MRN, email, street address, a person's
name) into every field they can fill, through the real pages and actions.
After the journey has committed, the SQLite database (raw pages and a
``VACUUM INTO`` file) or a real ``pg_dump`` of PostgreSQL must not contain
any of them, in any encoding: not in the feature tables, Wagtail's
revisions or search index, the task queue, the sessions or the audit log.
Control values written to clear columns *are* found, so the search really
sees the data. Sessions, the messages cookie, emails and log records are
searched too.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field

import pytest
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.sessions.models import Session
from django.core import mail
from django.db import connection
from django.http import HttpRequest
from django.test import Client

from portal_social.conf import app_settings
from portal_social.core import access, breakglass, caregivers, moderation
from portal_social.core.crypto import TOKEN_PREFIX, EncryptedTextField
from portal_social.core.models import CaregiverRelation
from portal_social.profiles.models import ClinicianPage, Review, ReviewResponse
from portal_social.profiles.workflow import ensure_profile_workflow
from tests.factories import sign_in
from tests.privacy.plaintext import (
    Canary,
    cache_bytes,
    contains,
    find_plaintext,
    pg_dump_bytes,
    phi_values,
    sqlite_bytes,
)

ON_POSTGRES = bool(os.environ.get("DATABASE_URL"))

QUEUE = "/cms/portal-social/moderation/"

#: A username in a clear column: the dump must show it, or the search is blind.
CONTROL_USERNAME = "canary-control-user-90417"
#: A clean biography saved as a draft revision (JSON in wagtailcore_revision):
#: SQLite keeps it as "Montr\u00e9al", PostgreSQL as "Montréal"; either must be found.
CONTROL_BIO = "Sails on weekends near Montréal, canary-bio-control-55310."

# Every user-written field, each with its own values, so a find names the field.
HELD = Canary("review comment held for PHI", phi_values(11, "held", "Quillfeather"))
REJECTED = Canary("review comment rejected", phi_values(12, "rejected", "Marchbanks"))
REJECTION = Canary("moderator's rejection reason", phi_values(13, "rejection", "Thistlewood"))
REDACTED = Canary("review comment redacted and published", phi_values(14, "redacted", "Oyelaran"))
REPORT = Canary("report details", phi_values(15, "report", "Pennywhistle"))
PX_REFUSED = Canary("PX response refused for PHI", phi_values(16, "pxrefused", "Brackenridge"))
#: The scanner flags names only after a cue, so this public response is saved: it must be encrypted.
PX_SAVED = Canary("PX response saved", {"name": "Philippa Wolstenholme"})
APPEAL = Canary("clinician's appeal reason", phi_values(18, "appeal", "Higginbottom"))
BIO = Canary("self-service biography", phi_values(19, "bio", "Featherstonehaugh"))
PRONOUNS = Canary("self-service pronouns", {"mrn": "MRN 88412920", "phone": "(617) 555-0120"})
BREAK_GLASS = Canary("break-the-glass reason", phi_values(21, "breakglass", "Ravenscroft"))
CAREGIVER = Canary(
    "caregiver relationship", {"name": "Kettleborough", "mrn": "MRN 88412922", "phone": "(617) 555-0122"}
)

CANARIES = [
    HELD,
    REJECTED,
    REJECTION,
    REDACTED,
    REPORT,
    PX_REFUSED,
    PX_SAVED,
    APPEAL,
    BIO,
    PRONOUNS,
    BREAK_GLASS,
    CAREGIVER,
]


@dataclass
class Journey:
    """What the journey left behind, for the checks."""

    clinician: ClinicianPage
    clients: list[Client] = field(default_factory=list)


def _ratings(value: str = "4") -> dict[str, str]:
    return {f"rating_{key}": value for key, _label in app_settings.REVIEW_QUESTIONS}


def _sub(page: ClinicianPage, name: str, *args) -> str:
    return page.url + page.reverse_subpage(name, args=args)


def _decide(desk: Client, review: Review, action: str, **data):
    """A moderator's decision on the queue item pending for ``review``, at the version the queue shows."""
    item = moderation.pending_item(review)
    assert item is not None, "the review has no pending moderation item"
    response = desk.post(
        f"/cms/portal-social/moderation/{item.pk}/", {"action": action, "version": item.version, **data}
    )
    assert response.status_code == 302
    return response


def _respond(review: Review) -> str:
    return f"/cms/portal-social/reviews/{review.pk}/respond/"


def _signed_in(journey: Journey, user) -> Client:
    client = Client()
    sign_in(client, user)
    journey.clients.append(client)
    return client


def _write_review(journey: Journey, author, comment: str) -> Review:
    client = _signed_in(journey, author)
    response = client.post(_sub(journey.clinician, "review"), {**_ratings(), "comment": comment})
    assert response.status_code == 302, response.content.decode()[:2000]
    return Review.objects.get(author=author, clinician=journey.clinician)


@pytest.fixture
def phi_links():
    """Mark viewing a caregiver link as opening PHI, so break-the-glass applies to it (as in test_breakglass)."""

    def _nobody(user, obj):
        return False

    access.rule(CaregiverRelation, "view", phi=True)(_nobody)
    yield
    access._rules[(CaregiverRelation, "view")] = [
        r for r in access._rules[(CaregiverRelation, "view")] if r.rule is not _nobody
    ]


@pytest.fixture
def journey(
    phi_links, make_patient, make_user, clinician, clinician_user, moderator, px, directory_page, caplog, settings
) -> Journey:
    """Walk every place a person writes text; return what the checks need."""
    # Everything portal_social logs, and every other logger at the level the
    # portal configures (Django's own at INFO: see the check on django.template).
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="portal_social")
    # Generous limits: this journey writes more from one address than a person would.
    settings.PORTAL_SOCIAL_RATE_LIMITS = {"review": "50/d", "flag": "50/h"}
    ensure_profile_workflow(directory_page)
    journey = Journey(clinician=ClinicianPage.objects.get(pk=clinician.pk))
    page = journey.clinician
    make_user(username=CONTROL_USERNAME)

    # Patients: a comment held for PHI, one that will be rejected, one that
    # will be redacted, and a clean one that is published at once.
    held = _write_review(journey, make_patient(), f"Dr Lopez was kind. {HELD.text}")
    assert held.status == Review.Status.HELD
    rejected = _write_review(journey, make_patient(), f"Dr Lopez was late. {REJECTED.text}")
    redacted = _write_review(journey, make_patient(), f"Dr Lopez listened. {REDACTED.text}")
    clean = _write_review(journey, make_patient(), "Dr Lopez explained everything clearly.")
    assert clean.status == Review.Status.PUBLISHED

    # The moderator reads the queue (comments as written), rejects one with a
    # reason that repeats PHI, and redacts another.
    desk = _signed_in(journey, moderator)
    queue = desk.get(QUEUE)
    assert queue.status_code == 200 and HELD.values["phone"] in queue.content.decode()
    _decide(desk, rejected, "reject", reason=f"Identifies the patient: {REJECTION.text}")
    _decide(desk, redacted, "redact", all_findings="on")
    rejected.refresh_from_db()
    redacted.refresh_from_db()
    assert rejected.status == Review.Status.REJECTED and REJECTION.values["mrn"] in rejected.rejection_reason
    assert redacted.status == Review.Status.PUBLISHED and "[phone removed]" in redacted.comment_html

    # A reader reports the clean review, with details.
    reader = _signed_in(journey, make_patient(linked=False))
    response = reader.post(_sub(page, "report_review", clean.pk), {"reason": "phi", "details": REPORT.text})
    assert response.status_code == 302
    assert clean.reports.get().reason == f"phi: {REPORT.text}"

    # Patient experience staff respond: PHI is refused; a name without a cue gets through.
    staff = _signed_in(journey, px)
    refused = staff.post(_respond(clean), {"body": f"We called you. {PX_REFUSED.text}"})
    assert refused.status_code == 200 and not ReviewResponse.objects.exists()
    # A name with nothing around it to mark it as a person's passes even the
    # stricter public-reply screen, so the column must not rely on screening.
    saved_body = f"Thank you for your kind words; we passed them on to {PX_SAVED.values['name']} on our ward team."
    assert staff.post(_respond(clean), {"body": saved_body}).status_code == 302
    assert ReviewResponse.objects.get().body_source == saved_body

    # The clinician appeals the clean comment; the moderator dismisses the appeal (approve publishes again).
    own = _signed_in(journey, clinician_user)
    response = own.post(_sub(page, "appeal_review", clean.pk), {"reason": f"Not my patient. {APPEAL.text}"})
    assert response.status_code == 302
    assert clean.appeals.get().reason == f"Not my patient. {APPEAL.text}"
    _decide(desk, clean, "approve")
    clean.refresh_from_db()
    assert clean.status == Review.Status.PUBLISHED

    # The clinician's self-service form: PHI in the biography, then in the
    # pronouns, is refused; a clean change is saved as a draft revision.
    edit = _sub(page, "edit_profile")
    form = {"pronouns": "she/her", "bio": "I care for hearts.", "accepting_new_patients": "on"}
    refused_bio = own.post(edit, {**form, "bio": f"Ask my patient. {BIO.text}"})
    assert refused_bio.status_code == 200 and refused_bio.context["form"].errors.get("bio")
    own.post(edit, {**form, "pronouns": PRONOUNS.text})
    assert own.post(edit, {**form, "bio": CONTROL_BIO}).status_code == 302

    # A patient names a caregiver; a clinician breaks the glass with a reason.
    owner = make_patient()
    link = caregivers.link_caregiver(
        actor=owner, caregiver=make_user(), patient=owner, scopes=["messaging"], relationship=CAREGIVER.text
    )
    assert CaregiverRelation.objects.get(pk=link.pk).relationship == CAREGIVER.text
    breakglass.break_the_glass(
        user=clinician_user, obj=link, reason=f"Unconscious in the ED. {BREAK_GLASS.text}", patient=owner
    )

    # Patients see what they saw before: published comments, redacted, and the response.
    public = Client().get(page.url).content.decode()
    assert "Dr Lopez explained everything clearly." in public
    assert "[phone removed]" in public and PX_SAVED.values["name"] in public
    assert HELD.values["phone"] not in public and REJECTED.values["phone"] not in public
    return journey


def _assert_no_plaintext(data: bytes) -> None:
    leaks = find_plaintext(data, CANARIES)
    assert not leaks, "plaintext PHI at rest:\n" + "\n".join(leaks)


def _assert_controls_visible(data: bytes) -> None:
    # Each control lives in a clear column of a different kind: if one is
    # missing, the search is not seeing that kind of storage.
    assert contains(data, CONTROL_USERNAME), "a clear column (auth_user.username) is not visible"
    assert contains(data, CONTROL_BIO), "Wagtail's revision JSON is not visible"
    # A held review's hold reasons: a JSON column of codes and PHI kinds.
    assert contains(data, '"code": "phi"'), "a JSON column is not visible"
    assert TOKEN_PREFIX.encode() in data, "no encrypted column is visible"


def _assert_encrypted_columns_hold_only_tokens() -> None:
    from django.apps import apps

    quote = connection.ops.quote_name
    checked = 0
    for model in apps.get_app_config("portal_social").get_models():
        for column in [f.column for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {quote(column)} FROM {quote(model._meta.db_table)}")  # noqa: S608
                values = [value for (value,) in cursor.fetchall() if value]
            assert all(value.startswith(TOKEN_PREFIX) for value in values), f"{model.__name__}.{column}"
            checked += len(values)
    assert checked >= 15


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite run")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sqlite_database_file_holds_no_plaintext_phi(journey):
    assert connection.vendor == "sqlite"
    data = sqlite_bytes(connection)
    _assert_controls_visible(data)
    _assert_no_plaintext(data)
    _assert_encrypted_columns_hold_only_tokens()


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL run (DATABASE_URL)")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_pg_dump_holds_no_plaintext_phi(journey):
    assert connection.vendor == "postgresql"
    data = pg_dump_bytes(connection)
    _assert_controls_visible(data)
    _assert_no_plaintext(data)
    _assert_encrypted_columns_hold_only_tokens()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sessions_messages_cache_mail_and_logs_hold_no_phi(journey, caplog):
    sessions = [json.dumps(session.get_decoded()) for session in Session.objects.all()]
    assert sessions, "the journey's sessions are stored in the database"
    cookies = []
    for client in journey.clients:
        cookie = client.cookies.get("messages")
        if cookie is not None and cookie.value:
            cookies.append(json.dumps([str(m) for m in CookieStorage(HttpRequest())._decode(cookie.value) or []]))
    outbox = [f"{message.subject}\n{message.body}" for message in mail.outbox]
    assert outbox, "notifications were sent after commit"
    # Django logs a missing template variable at DEBUG with the whole template
    # context, comment sources included: that level must stay off.
    assert not logging.getLogger("django.template").isEnabledFor(logging.DEBUG)
    logs = [
        f"{record.getMessage()} {record.args!r} {record.__dict__!r}"
        for record in caplog.get_records("setup") + caplog.records
    ]
    assert logs, "the journey was logged"
    cached = cache_bytes()
    assert cached, "the journey's rate-limit counters are in the cache"
    for name, data in (
        ("session", "\n".join(sessions).encode()),
        ("messages cookie", "\n".join(cookies).encode()),
        ("email", "\n".join(outbox).encode()),
        ("log", "\n".join(logs).encode()),
        ("cache", cached),
    ):
        leaks = find_plaintext(data, CANARIES)
        assert not leaks, f"PHI in {name}:\n" + "\n".join(leaks)
