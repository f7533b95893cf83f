"""Review invitations: the visits they come from, the invitations, and opt-outs.

``Visit`` is where the default adapter reads completed encounters from: the
host (or ``manage.py portal_social_review_invitations import``) fills it.
A host that reads its EHR instead overrides ``PortalAdapter.completed_visits``
and leaves it empty.

``ReviewInvitation`` holds one row per encounter pulled, whether or not an
invitation is sent for it: the row is what makes a second pull of the same
encounter a no-op, what establishes the care relationship that lets the
patient review the clinician, and what the response-rate figures count.
Encounter ids are held only as keyed digests here (``encounter_digest``);
service lines are never copied: an excluded one only shows as
``not_sent_reason="excluded"``.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal_social.core.crypto import EncryptedTextField


class Visit(models.Model):
    """A completed encounter, as the host records it for the default adapter.

    The encounter id and the service line are encrypted: together with the
    patient they say what care someone had. ``encounter_digest`` (a keyed
    digest of the id) keeps one row per encounter without storing it in the
    clear.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    encounter_id = EncryptedTextField(max_length=100)
    encounter_digest = models.CharField(max_length=64, unique=True, editable=False)
    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    #: The clinician's NPI (public): matched to a ``ClinicianPage`` when the visit is pulled.
    clinician_npi = models.CharField(max_length=10)
    #: The practice site's name, as the host writes it (a clinic, never a patient).
    site = models.CharField(max_length=150, blank=True)
    visit_date = models.DateField()
    service_line = EncryptedTextField(max_length=150, blank=True)
    #: When the host recorded it: ``completed_visits(since)`` reads rows recorded after ``since``.
    recorded_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"Visit {self.pk}"


class ReviewInvitation(models.Model):
    """One pulled encounter and the review invitation it led to (or why none was sent)."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Waiting to be sent")
        SENT = "sent", _("Sent")
        OPENED = "opened", _("Opened")
        COMPLETED = "completed", _("Reviewed")
        EXPIRED = "expired", _("Expired")
        NOT_SENT = "not_sent", _("Not sent")

    class Reason(models.TextChoices):
        NONE = "", _("—")
        UNKNOWN_CLINICIAN = "unknown_clinician", _("No clinician has this NPI")
        EXCLUDED = "excluded", _("A service line that is never invited")
        TOO_OLD = "too_old", _("The visit was too long ago")
        OPTED_OUT = "opted_out", _("The patient opted out")
        RECENT = "recent", _("Invited or reviewed this clinician in the last 12 months")
        CAPPED = "capped", _("The patient's monthly limit was reached")
        NO_ACCOUNT = "no_account", _("The patient's account is not active")
        NO_CONTACT = "no_contact", _("No way to reach the patient (no email, no other channel)")
        NOTIFICATIONS_OFF = "notifications_off", _("The patient turned notifications off")

    #: Statuses in which an invitation was sent.
    SENT_STATUSES = (Status.SENT, Status.OPENED, Status.COMPLETED, Status.EXPIRED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    #: What the link carries (signed); a random id that says nothing.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    encounter_digest = models.CharField(max_length=64, unique=True, editable=False)
    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    clinician = models.ForeignKey(
        "portal_social.ClinicianPage", null=True, blank=True, on_delete=models.SET_NULL, related_name="invitations"
    )
    #: The NPI the host gave, kept for visits whose clinician is unknown (an NPI is public).
    clinician_npi = models.CharField(max_length=10, blank=True)
    site = models.CharField(max_length=150, blank=True)
    visit_date = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    not_sent_reason = models.CharField(max_length=20, choices=Reason.choices, blank=True, default=Reason.NONE)
    send_after = models.DateTimeField()
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    review = models.OneToOneField(
        "portal_social.Review", null=True, blank=True, on_delete=models.SET_NULL, related_name="invitation"
    )

    class Meta:
        default_permissions = ()
        indexes = [
            models.Index(fields=["status", "send_after"], name="ps_invitation_due"),
            models.Index(fields=["patient", "clinician"], name="ps_invitation_pair"),
            models.Index(fields=["patient", "sent_at"], name="ps_invitation_patient_sent"),
            models.Index(fields=["clinician", "sent_at"], name="ps_invitation_clinician"),
        ]

    def __str__(self) -> str:
        return f"Review invitation {self.pk}"


class InvitationOptOut(models.Model):
    """A patient's wish to hear no more review invitations: from anyone (no clinician) or one clinician."""

    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    clinician = models.ForeignKey("portal_social.ClinicianPage", null=True, blank=True, on_delete=models.CASCADE)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "clinician"],
                condition=Q(clinician__isnull=False),
                name="ps_optout_one_per_clinician",
            ),
            models.UniqueConstraint(fields=["patient"], condition=Q(clinician__isnull=True), name="ps_optout_one_all"),
        ]

    def __str__(self) -> str:
        return f"Invitation opt-out {self.pk}"


class VisitPull(models.Model):
    """Where the last pull of completed visits got to (one row)."""

    name = models.CharField(max_length=20, primary_key=True)
    pulled_through = models.DateTimeField()

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return self.name
