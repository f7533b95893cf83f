"""Review invitations, write side: pull visits, send what is due, expire, open, complete, opt out.

The cycle (``manage.py portal_social_review_invitations run``, or the
``run_invitations`` task, which schedules its next run itself):

1. :func:`pull_visits` reads ``PortalAdapter.completed_visits(since)`` and
   writes one ``ReviewInvitation`` per new encounter (a second pull of the
   same encounter, by its keyed digest, writes nothing). The row is the
   care relationship that lets the patient review the clinician. It is
   ``scheduled`` for the configured delay after the visit, or ``not_sent``
   with a reason: an unknown clinician (reported, never dropped), an
   excluded service line, a visit too old to ask about.
2. :func:`send_due` sends each due invitation through ``core.notify``
   (email, and SMS or push when the adapter's channels say so), unless the
   patient opted out, was invited by or reviewed this clinician in the last
   12 months, or reached the monthly cap: then it is ``not_sent`` with the
   reason. The status change and the notification row are one transaction,
   and ``core.notify`` claims each delivery before sending, so a retry
   never sends twice.
3. :func:`expire` closes invitations whose link has lapsed.

A patient opens the link (:func:`open_invitation`: counted once), writes
the review (``submit_review(invitation=...)`` completes it in the review's
transaction), or opts out (:func:`opt_out`).

Nothing here logs or audits a name, a date or an encounter id: audit
details are counts and codes.
"""

from __future__ import annotations

import datetime
import logging
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from portal_social.adapter import get_adapter
from portal_social.conf import app_settings
from portal_social.core import audit_events, notify, search
from portal_social.profiles import notifications  # noqa: F401  (registers "review.invitation")
from portal_social.profiles.invitation_models import InvitationOptOut, ReviewInvitation, VisitPull
from portal_social.profiles.models import ClinicianPage, Review

logger = logging.getLogger("portal_social.profiles")

INVITATION_PULLED = audit_events.register("review_invitation.pull", _("Completed visits pulled for review invitations"))
INVITATIONS_SENT = audit_events.register("review_invitation.send", _("Review invitations sent"))
INVITATION_OPTED_OUT = audit_events.register("review_invitation.opt_out", _("Patient opted out of review invitations"))
INVITATION_OPTED_IN = audit_events.register("review_invitation.opt_in", _("Patient asked for review invitations again"))

#: An invitation per patient per clinician in this window, the same as a review's.
REPEAT_WINDOW = datetime.timedelta(days=365)
CAP_WINDOW = datetime.timedelta(days=30)
#: Each pull reads again this far behind the last one, for rows the host recorded late.
PULL_OVERLAP = datetime.timedelta(hours=1)
SEND_HOUR = 9
ENCOUNTER_ID_MAX = 100
DIGEST_SCOPE = "encounter"
NOTIFICATION = "review.invitation"
PULL_NAME = "visits"


# --------------------------------------------------------------------------- encounter ids


def encounter_digests(encounter_id: str) -> list[str]:
    """The keyed digest of ``encounter_id`` under every configured key, the current key's first."""
    return [search.term(secret, DIGEST_SCOPE, encounter_id).hex() for _key_id, secret in search.search_keys()]


def clean_encounter_id(value) -> str:
    text = str(value or "").strip()
    if not text:
        raise ValidationError(_("Give the encounter's id."), code="encounter_id")
    if len(text) > ENCOUNTER_ID_MAX:
        raise ValidationError(
            _("An encounter id is at most %(max)d characters.") % {"max": ENCOUNTER_ID_MAX}, code="encounter_id"
        )
    return text


_FOLD = re.compile(r"[\s\-_/]+")


def _fold_service_line(name: str) -> str:
    return _FOLD.sub(" ", name.casefold().replace("&", " and ")).strip()


def is_excluded_service_line(name: str) -> bool:
    if not name:
        return False
    excluded = {_fold_service_line(line) for line in app_settings.REVIEW_INVITATION_EXCLUDED_SERVICE_LINES}
    return _fold_service_line(str(name)) in excluded


def schedule_for(visit_date: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """(send after, expires at): the configured days after the visit at 09:00 local time, and the expiry after that."""
    day = visit_date + datetime.timedelta(days=app_settings.REVIEW_INVITATION_DELAY_DAYS)
    send_after = timezone.make_aware(datetime.datetime.combine(day, datetime.time(SEND_HOUR)))
    return send_after, send_after + datetime.timedelta(days=app_settings.REVIEW_INVITATION_EXPIRY_DAYS)


# --------------------------------------------------------------------------- pull


@dataclass
class PullReport:
    new: int = 0
    scheduled: int = 0
    duplicates: int = 0
    excluded: int = 0
    too_old: int = 0
    invalid: int = 0
    #: NPIs of visits whose clinician has no page here, with how many visits each.
    unknown_clinicians: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [
            f"visits new {self.new}",
            f"invitations scheduled {self.scheduled}",
            f"already pulled {self.duplicates}",
            f"excluded service line {self.excluded}",
            f"too old to invite {self.too_old}",
            f"refused (incomplete or malformed) {self.invalid}",
            f"unknown clinicians {sum(self.unknown_clinicians.values())}",
        ]
        out += [
            f"  no clinician has NPI {npi}: {count} visit(s)" for npi, count in sorted(self.unknown_clinicians.items())
        ]
        return out


def _clinician_for(visit, pages: dict[str, ClinicianPage | None]) -> ClinicianPage | None:
    if isinstance(visit.clinician, ClinicianPage):
        return visit.clinician
    npi = str(visit.clinician_npi or "").strip()
    if not npi:
        return None
    if npi not in pages:
        pages[npi] = ClinicianPage.objects.filter(npi=npi).first()
    return pages[npi]


def _valid_visit(visit, today: datetime.date) -> bool:
    patient = getattr(visit, "patient", None)
    if patient is None or getattr(patient, "pk", None) is None:
        return False
    if not isinstance(visit.visit_date, datetime.date) or isinstance(visit.visit_date, datetime.datetime):
        return False
    return visit.visit_date <= today


def record_visit(visit, *, now: datetime.datetime, report: PullReport, pages: dict) -> ReviewInvitation | None:
    """One pulled visit: its ``ReviewInvitation`` row, or None when it was pulled before or is unusable."""
    try:
        encounter_id = clean_encounter_id(visit.encounter_id)
    except ValidationError:
        report.invalid += 1
        return None
    if not _valid_visit(visit, timezone.localdate(now)):
        report.invalid += 1
        return None
    digests = encounter_digests(encounter_id)
    if ReviewInvitation.objects.filter(encounter_digest__in=digests).exists():
        report.duplicates += 1
        return None
    clinician = _clinician_for(visit, pages)
    send_after, expires_at = schedule_for(visit.visit_date)
    status, reason = ReviewInvitation.Status.SCHEDULED, ReviewInvitation.Reason.NONE
    if clinician is None:
        status, reason = ReviewInvitation.Status.NOT_SENT, ReviewInvitation.Reason.UNKNOWN_CLINICIAN
        npi = str(visit.clinician_npi or "").strip()[:10] or "(none)"
        report.unknown_clinicians[npi] = report.unknown_clinicians.get(npi, 0) + 1
    elif is_excluded_service_line(visit.service_line):
        status, reason = ReviewInvitation.Status.NOT_SENT, ReviewInvitation.Reason.EXCLUDED
        report.excluded += 1
    elif expires_at <= now:
        status, reason = ReviewInvitation.Status.NOT_SENT, ReviewInvitation.Reason.TOO_OLD
        report.too_old += 1
    try:
        with transaction.atomic():
            invitation = ReviewInvitation.objects.create(
                encounter_digest=digests[0],
                patient=visit.patient,
                clinician=clinician,
                clinician_npi=str(visit.clinician_npi or getattr(clinician, "npi", "") or "")[:10],
                site=str(visit.site or "")[:150],
                visit_date=visit.visit_date,
                status=status,
                not_sent_reason=reason,
                send_after=send_after,
                expires_at=expires_at,
                created_at=now,
            )
    except IntegrityError:  # another pull recorded the same encounter a moment ago
        report.duplicates += 1
        return None
    report.new += 1
    if status == ReviewInvitation.Status.SCHEDULED:
        report.scheduled += 1
    return invitation


def pull_visits(*, now: datetime.datetime | None = None, adapter=None) -> PullReport:
    """Record every completed visit the adapter yields since the last pull (see the module's docstring)."""
    now = now or timezone.now()
    adapter = adapter or get_adapter()
    state = VisitPull.objects.filter(name=PULL_NAME).first()
    if state is None:
        since = now - datetime.timedelta(days=app_settings.REVIEW_INVITATION_EXPIRY_DAYS + 7)
    else:
        since = state.pulled_through - PULL_OVERLAP
    report = PullReport()
    pages: dict[str, ClinicianPage | None] = {}
    for visit in adapter.completed_visits(since):
        record_visit(visit, now=now, report=report, pages=pages)
    VisitPull.objects.update_or_create(name=PULL_NAME, defaults={"pulled_through": now})
    for npi, count in sorted(report.unknown_clinicians.items()):
        logger.warning("review invitations: %d visit(s) for NPI %s, which no clinician page has", count, npi)
    if report.new or report.invalid:
        INVITATION_PULLED.record(
            actor=None,
            details={
                "new": report.new,
                "scheduled": report.scheduled,
                "excluded": report.excluded,
                "too_old": report.too_old,
                "invalid": report.invalid,
                "unknown_clinicians": sum(report.unknown_clinicians.values()),
            },
        )
    return report


# --------------------------------------------------------------------------- send


def opted_out(patient_id, clinician_id) -> bool:
    return InvitationOptOut.objects.filter(
        Q(clinician__isnull=True) | Q(clinician_id=clinician_id), patient_id=patient_id
    ).exists()


def _why_not(invitation: ReviewInvitation, now: datetime.datetime) -> str:
    """Why a due invitation must not be sent now ("" when it may)."""
    reasons = ReviewInvitation.Reason
    if not getattr(invitation.patient, "is_active", False):
        return reasons.NO_ACCOUNT
    if opted_out(invitation.patient_id, invitation.clinician_id):
        return reasons.OPTED_OUT
    sent = ReviewInvitation.objects.filter(patient_id=invitation.patient_id, sent_at__isnull=False).exclude(
        pk=invitation.pk
    )
    if sent.filter(clinician_id=invitation.clinician_id, sent_at__gt=now - REPEAT_WINDOW).exists():
        return reasons.RECENT
    if Review.objects.filter(
        author_id=invitation.patient_id, clinician_id=invitation.clinician_id, created_at__gt=now - REPEAT_WINDOW
    ).exists():
        return reasons.RECENT
    if sent.filter(sent_at__gt=now - CAP_WINDOW).count() >= app_settings.REVIEW_INVITATION_MONTHLY_CAP:
        return reasons.CAPPED
    if not get_adapter().notification_channels(invitation.patient, notify.get_template(NOTIFICATION)):
        return reasons.NO_CONTACT
    return ""


def send_one(invitation_id, *, now: datetime.datetime | None = None) -> str:
    """Send one due invitation, or record why not; returns its status. Safe to call twice."""
    return _send_one(invitation_id, now=now)[0]


def _send_one(invitation_id, *, now: datetime.datetime | None = None) -> tuple[str, str]:
    """:func:`send_one`, returning (status, reason not sent)."""
    now = now or timezone.now()
    with transaction.atomic():
        invitation = (
            ReviewInvitation.objects.select_for_update(of=("self",))
            .select_related("patient")
            .filter(pk=invitation_id, status=ReviewInvitation.Status.SCHEDULED, send_after__lte=now)
            .first()
        )
        if invitation is None:
            found = ReviewInvitation.objects.filter(pk=invitation_id).values_list("status", "not_sent_reason").first()
            return found or ("", "")
        if invitation.expires_at <= now:
            invitation.status = ReviewInvitation.Status.NOT_SENT
            invitation.not_sent_reason = ReviewInvitation.Reason.TOO_OLD
            invitation.save(update_fields=["status", "not_sent_reason"])
            return invitation.status, invitation.not_sent_reason
        # One patient's invitations are decided one at a time, so two workers cannot both pass the cap.
        list(type(invitation.patient).objects.select_for_update().filter(pk=invitation.patient_id).values("pk"))
        reason = _why_not(invitation, now)
        if not reason:
            notification = notify.notify(invitation.patient, NOTIFICATION, params={"invitation": invitation.public_id})
            if notification is None:
                reason = ReviewInvitation.Reason.NO_ACCOUNT
            elif notification.status == notification.Status.SKIPPED:
                reason = ReviewInvitation.Reason.NOTIFICATIONS_OFF
        if reason:
            invitation.status, invitation.not_sent_reason = ReviewInvitation.Status.NOT_SENT, reason
            invitation.save(update_fields=["status", "not_sent_reason"])
            return invitation.status, invitation.not_sent_reason
        invitation.status, invitation.sent_at = ReviewInvitation.Status.SENT, now
        invitation.save(update_fields=["status", "sent_at"])
    return invitation.status, invitation.not_sent_reason


def send_due(*, now: datetime.datetime | None = None, limit: int = 1000) -> dict[str, int]:
    """Send (or decide not to send) every scheduled invitation that is due; returns counts by outcome."""
    now = now or timezone.now()
    due = list(
        ReviewInvitation.objects.filter(status=ReviewInvitation.Status.SCHEDULED, send_after__lte=now)
        .order_by("send_after", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    counts: dict[str, int] = {}
    for invitation_id in due:
        status, reason = _send_one(invitation_id, now=now)
        if status == ReviewInvitation.Status.NOT_SENT:
            status = f"not_sent:{reason}"
        counts[status] = counts.get(status, 0) + 1
    if counts:
        INVITATIONS_SENT.record(actor=None, details={"counts": counts})
    return counts


def expire(*, now: datetime.datetime | None = None) -> int:
    """Close sent or opened invitations whose link has lapsed; returns how many."""
    now = now or timezone.now()
    return ReviewInvitation.objects.filter(
        status__in=(ReviewInvitation.Status.SENT, ReviewInvitation.Status.OPENED), expires_at__lte=now
    ).update(status=ReviewInvitation.Status.EXPIRED)


def run(*, now: datetime.datetime | None = None) -> dict:
    """One whole cycle: pull, send what is due, expire."""
    now = now or timezone.now()
    report = pull_visits(now=now)
    sent = send_due(now=now)
    expired = expire(now=now)
    return {"pull": report, "send": sent, "expired": expired}


# --------------------------------------------------------------------------- the patient's side


class InvitationUnusable(Exception):
    """The invitation cannot be used: ``code`` is "used" or "expired"."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def invitation_for(patient, public_id) -> ReviewInvitation | None:
    """The invitation sent to ``patient`` under ``public_id``; None for anyone else's or one never sent."""
    return (
        ReviewInvitation.objects.select_related("clinician")
        .filter(public_id=public_id, patient_id=patient.pk, status__in=ReviewInvitation.SENT_STATUSES)
        .first()
    )


def open_for(patient, *, now: datetime.datetime | None = None) -> list[ReviewInvitation]:
    """``patient``'s invitations that can still be answered, newest first (the requests page lists them).

    None from a clinician the patient asked us not to ask about, and none at
    all once they asked for no more requests: the page must not ask again.
    """
    now = now or timezone.now()
    opted = list(InvitationOptOut.objects.filter(patient_id=patient.pk).values_list("clinician_id", flat=True))
    if None in opted:
        return []
    return list(
        ReviewInvitation.objects.select_related("clinician")
        .filter(
            patient_id=patient.pk,
            status__in=(ReviewInvitation.Status.SENT, ReviewInvitation.Status.OPENED),
            expires_at__gt=now,
            clinician__live=True,
        )
        .exclude(clinician_id__in=opted)
        .order_by("-sent_at", "pk")[:20]
    )


def link_path(invitation: ReviewInvitation) -> str:
    """The invitation's signed link, as a path (for the signed-in patient's own page)."""
    from urllib.parse import urlsplit

    return urlsplit(notify.link(NOTIFICATION, {"invitation": invitation.public_id})).path


def check_usable(invitation: ReviewInvitation, *, now: datetime.datetime | None = None) -> None:
    now = now or timezone.now()
    if invitation.status == ReviewInvitation.Status.COMPLETED or invitation.review_id is not None:
        raise InvitationUnusable("used")
    if invitation.status == ReviewInvitation.Status.EXPIRED or invitation.expires_at <= now:
        raise InvitationUnusable("expired")
    if invitation.clinician is None or not invitation.clinician.live:
        raise InvitationUnusable("expired")


def open_invitation(invitation: ReviewInvitation, *, now: datetime.datetime | None = None) -> None:
    """Count the first opening of a sent invitation (a conditional update: twice counts once)."""
    now = now or timezone.now()
    opened = ReviewInvitation.objects.filter(
        pk=invitation.pk, status=ReviewInvitation.Status.SENT, opened_at__isnull=True, expires_at__gt=now
    ).update(status=ReviewInvitation.Status.OPENED, opened_at=now)
    if opened:
        invitation.status, invitation.opened_at = ReviewInvitation.Status.OPENED, now


def complete(invitation: ReviewInvitation, review: Review, *, now: datetime.datetime) -> None:
    """Inside the review's transaction: the invitation was used for ``review``; a second use raises."""
    done = ReviewInvitation.objects.filter(
        pk=invitation.pk,
        patient_id=review.author_id,
        clinician_id=review.clinician_id,
        status__in=(ReviewInvitation.Status.SENT, ReviewInvitation.Status.OPENED),
        review__isnull=True,
        expires_at__gt=now,
    ).update(
        status=ReviewInvitation.Status.COMPLETED,
        completed_at=now,
        review=review,
        opened_at=Coalesce(F("opened_at"), Value(now)),
    )
    if not done:
        raise InvitationUnusable("expired" if invitation.expires_at <= now else "used")


def opt_out(patient, *, clinician: ClinicianPage | None = None, request=None) -> bool:
    """No more invitations for ``patient`` (from ``clinician`` only, when given). False when already so."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                InvitationOptOut.objects.create(patient=patient, clinician=clinician)
        except IntegrityError:
            return False
        INVITATION_OPTED_OUT.record(
            actor=patient,
            patient=patient,
            request=request,
            details={"scope": "clinician" if clinician is not None else "all"},
        )
    return True


def opt_in(patient, *, clinician_id=None, request=None) -> bool:
    """Undo an opt-out (the one for ``clinician_id``, or the one for everyone). False when there was none."""
    with transaction.atomic():
        deleted, _rows = InvitationOptOut.objects.filter(patient=patient, clinician_id=clinician_id).delete()
        if deleted:
            INVITATION_OPTED_IN.record(
                actor=patient,
                patient=patient,
                request=request,
                details={"scope": "clinician" if clinician_id is not None else "all"},
            )
    return bool(deleted)
