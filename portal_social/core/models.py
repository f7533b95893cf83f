"""Cross-cutting models: portal-wide permissions and caregiver (proxy) links."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Access(models.Model):
    """Holds portal-wide permissions that belong to no single model.

    No table: it exists so the permissions have a content type, as Wagtail's
    ``wagtailadmin.Admin`` does for ``access_admin``.
    """

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_phi", "Can view protected health information"),
            ("break_glass", "Can break the glass for emergency access to PHI"),
            ("message_patients", "Can message patients as a member of a care team"),
            ("message_care_team", "Can message their care team"),
            ("participate_community", "Can take part in patient communities"),
            ("mentor_community", "Can act as a community mentor"),
            ("moderate_community", "Can moderate communities"),
            ("moderate_reviews", "Can moderate clinician reviews"),
            ("use_clinician_spaces", "Can use clinician-only collaboration spaces"),
            ("edit_own_profile", "Can edit their own clinician profile"),
            ("review_clinician", "Can review clinicians"),
            ("respond_to_reviews", "Can post public responses to reviews"),
            ("submit_feedback", "Can submit feedback"),
            ("work_feedback_cases", "Can work feedback cases"),
            ("view_feedback_reports", "Can view feedback reports"),
            ("receive_escalations", "Can receive escalated cases"),
            ("view_audit_log", "Can view the audit log"),
            ("manage_roles", "Can grant and revoke portal roles"),
            ("manage_caregivers", "Can link and unlink caregivers"),
        ]

    def __str__(self) -> str:
        return "Portal access"


class CaregiverRelationQuerySet(models.QuerySet):
    def active(self, on=None):
        """Links in force on date ``on`` (default today)."""
        on = on or timezone.localdate()
        return self.filter(revoked_at__isnull=True, starts_on__lte=on).filter(
            Q(ends_on__isnull=True) | Q(ends_on__gte=on)
        )

    def current_or_future(self, on=None):
        """Links not revoked and not yet over: in force now or starting later."""
        on = on or timezone.localdate()
        return self.filter(revoked_at__isnull=True).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=on))

    def with_scope(self, scope: str):
        if scope not in CaregiverRelation.SCOPES:
            raise ValueError(f"Unknown caregiver scope {scope!r}")
        return self.filter(**{f"scope_{scope}": True})


class CaregiverRelation(models.Model):
    """A caregiver acting for a patient (a proxy), within scopes and dates.

    Messaging, feedback and community code ask ``is_proxy_for`` before letting
    a caregiver act for the patient. Changes go through
    ``portal_social.core.caregivers``.
    """

    SCOPES = ("messaging", "feedback", "community")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    caregiver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="caregiver_links_as_caregiver"
    )
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="caregiver_links_as_patient"
    )
    relationship = models.CharField(
        _("relationship"), max_length=60, blank=True, help_text=_("For example: daughter, spouse, legal guardian.")
    )
    scope_messaging = models.BooleanField(_("may message the care team"), default=False)
    scope_feedback = models.BooleanField(_("may give feedback"), default=False)
    scope_community = models.BooleanField(_("may join communities on the patient's behalf"), default=False)
    starts_on = models.DateField(_("starts on"), default=timezone.localdate)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    #: Set when a link is withdrawn before it started; it then never applies.
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = CaregiverRelationQuerySet.as_manager()

    class Meta:
        verbose_name = _("caregiver link")
        constraints = [
            models.CheckConstraint(
                condition=~Q(caregiver=models.F("patient")), name="portal_social_caregiver_not_self"
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="portal_social_caregiver_dates_ordered",
            ),
        ]
        indexes = [models.Index(fields=["caregiver", "patient"])]

    def __str__(self) -> str:
        return f"Caregiver link {self.pk}"

    @property
    def scopes(self) -> list[str]:
        return [scope for scope in self.SCOPES if getattr(self, f"scope_{scope}")]
