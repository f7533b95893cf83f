"""Demo data for review invitations: completed visits, and what the invitation cycle made of them.

The visits go into the ``Visit`` table, where the default adapter reads completed encounters from. The
cycle then runs over them as the task worker would have: each visit is pulled and its invitation sent at the
time it fell due (09:00 the day after the visit), so the invitations carry believable dates, the oldest one
has lapsed, and the real rules decide what is not sent (patient2 opted out of every invitation first; a
behavioural-health visit, an NPI no clinician page has, a clinician the patient reviewed this year, and
patient1's monthly limit). One invitation is opened, and one is answered with a review written through it.

Everything goes through ``portal_social.profiles.actions``; visits are keyed by their encounter id (a keyed
digest), and each step looks before it acts, so a second run of ``seed_demo`` writes nothing twice.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

DEFAULT_SITE = "Riverside Main Campus"
#: A valid NPI (Luhn over 80840) that no demo clinician page has: its visit is reported, never invited.
UNKNOWN_NPI = "1003000183"
#: encounter id, days ago, patient, clinician ("First Last", or None for UNKNOWN_NPI), site, service line.
#: In date order: each is pulled and sent when it fell due, after those before it.
VISITS = [
    # Sent 39 days ago and never answered: expired.
    ("DEMO-ENC-0001", 40, "patient1", "Sofia Alvarez", "Riverside Heart Center", "Cardiology"),
    # Sent, waiting for an answer.
    ("DEMO-ENC-0002", 20, "reviewer01", "Minh Tran", "Riverside Main Campus", "Primary Care"),
    # Sent, opened and answered with a review (COMPLETED).
    ("DEMO-ENC-0003", 16, "reviewer02", "Lucia Hernandez", "Riverside Heart Center", "Cardiology"),
    # Not sent: patient2 opted out of every invitation.
    ("DEMO-ENC-0004", 12, "patient2", "Priya Raman", "Riverside Heart Center", "Cardiology"),
    # Not sent: a service line that is never invited.
    ("DEMO-ENC-0005", 10, "reviewer03", "David Okafor", "Riverside Northside Clinic", "Behavioral Health"),
    # Not sent: no clinician page has this NPI.
    ("DEMO-ENC-0006", 8, "reviewer04", None, "Riverside Main Campus", "Primary Care"),
    # Sent and opened, not answered yet (OPENED).
    ("DEMO-ENC-0007", 7, "patient1", "Lucia Hernandez", "Riverside Heart Center", "Cardiology"),
    # Not sent: reviewer05 reviewed Dr. Raman in the last 12 months.
    ("DEMO-ENC-0008", 6, "reviewer05", "Priya Raman", "Riverside Heart Center", "Cardiology"),
    # Sent, waiting for an answer.
    ("DEMO-ENC-0009", 4, "patient1", "David Okafor", "Riverside Northside Clinic", "Primary Care"),
    # Not sent: patient1 already had two invitations in 30 days (the monthly limit).
    ("DEMO-ENC-0010", 3, "patient1", "Priya Raman", "Riverside Heart Center", "Cardiology"),
    # Not sent: patient2 opted out.
    ("DEMO-ENC-0011", 2, "patient2", "David Okafor", "Riverside Northside Clinic", "Primary Care"),
    # Sent, waiting for an answer.
    ("DEMO-ENC-0012", 2, "reviewer06", "David Okafor", "Riverside Northside Clinic", "Primary Care"),
]
#: Patients who asked for no review invitations at all, before any was sent.
OPTED_OUT = ["patient2"]
#: Opened a day after it was sent, not answered.
OPENED = "DEMO-ENC-0007"
#: Answered through the invitation: (encounter id, stars for every question, comment).
COMPLETED = ("DEMO-ENC-0003", 5, "Dr. Hernandez explained the new plan for my heart clearly and unhurriedly.")


def seed_invitations(users) -> None:
    from portal_social.profiles.actions import invitations
    from portal_social.profiles.invitation_models import InvitationOptOut, ReviewInvitation

    now = timezone.now()
    for username in OPTED_OUT:
        patient = users[username]
        if not InvitationOptOut.objects.filter(patient=patient, clinician__isnull=True).exists():
            invitations.opt_out(patient)
    today = timezone.localdate(now)
    pulled = False
    for spec in VISITS:
        visit = _visit(users, today, *spec)
        if visit is None:
            continue
        if ReviewInvitation.objects.filter(encounter_digest__in=invitations.encounter_digests(spec[0])).exists():
            continue
        # The worker's cycle when this visit fell due (the visits after it are not made yet).
        due, _expires = invitations.schedule_for(visit.visit_date)
        when = min(due, now)
        invitations.pull_visits(now=when)
        invitations.send_due(now=when)
        invitations.expire(now=when)
        pulled = True
    if pulled:
        invitations.run(now=now)  # and the cycle now: the oldest invitation has lapsed
    _open(OPENED, now)
    _complete(*COMPLETED, now=now)


def _npi(clinician: str | None) -> str:
    from portal_social.profiles.models import ClinicianPage

    if clinician is None:
        return UNKNOWN_NPI
    first, last = clinician.split(" ", 1)
    page = ClinicianPage.objects.filter(first_name=first, last_name=last).order_by("pk").first()
    return page.npi if page is not None else ""


def _site(name: str) -> str:
    from portal_social.profiles.models import Location

    return name if Location.objects.filter(name=name).exists() else DEFAULT_SITE


def _visit(users, today, encounter_id, days_ago, username, clinician, site, service_line):
    """The demo visit for ``encounter_id`` (made if missing), or None when its patient or clinician is absent."""
    from django.contrib.auth import get_user_model

    from portal_social.profiles.actions import invitations
    from portal_social.profiles.invitation_models import Visit

    digests = invitations.encounter_digests(encounter_id)
    visit = Visit.objects.filter(encounter_digest__in=digests).first()
    if visit is not None:
        return visit
    patient = users.get(username) or get_user_model().objects.filter(username=username).first()
    npi = _npi(clinician)
    if patient is None or not npi:
        return None
    return Visit.objects.create(
        encounter_id=encounter_id,
        encounter_digest=digests[0],
        patient=patient,
        clinician_npi=npi,
        site=_site(site),
        visit_date=today - datetime.timedelta(days=days_ago),
        service_line=service_line,
    )


def _invitation(encounter_id):
    from portal_social.profiles.actions import invitations
    from portal_social.profiles.invitation_models import ReviewInvitation

    return (
        ReviewInvitation.objects.select_related("patient", "clinician")
        .filter(encounter_digest__in=invitations.encounter_digests(encounter_id))
        .first()
    )


def _open(encounter_id, now) -> None:
    from portal_social.profiles.actions import invitations
    from portal_social.profiles.invitation_models import ReviewInvitation

    invitation = _invitation(encounter_id)
    if invitation is None or invitation.status != ReviewInvitation.Status.SENT:
        return
    invitations.open_invitation(invitation, now=min(invitation.sent_at + datetime.timedelta(days=1), now))


def _complete(encounter_id, stars, comment, *, now) -> None:
    """The review written through the invitation, unless the patient reviewed the clinician this year."""
    from portal_social.conf import app_settings
    from portal_social.profiles import reviews
    from portal_social.profiles.actions import submit_review
    from portal_social.profiles.invitation_models import ReviewInvitation

    invitation = _invitation(encounter_id)
    if (
        invitation is None
        or invitation.clinician is None
        or invitation.review_id is not None
        or invitation.status not in (ReviewInvitation.Status.SENT, ReviewInvitation.Status.OPENED)
        or invitation.expires_at <= now
        or reviews.recent_review(invitation.patient, invitation.clinician, now) is not None
    ):
        return
    _open(encounter_id, now)
    submit_review(
        author=invitation.patient,
        clinician=invitation.clinician,
        ratings={key: stars for key, _label in app_settings.REVIEW_QUESTIONS},
        comment=comment,
        invitation=invitation,
    )
