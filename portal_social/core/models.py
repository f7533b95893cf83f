"""Cross-cutting models: portal-wide permissions and caregiver (proxy) links."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from portal_social.core.crypto import EncryptedTextField


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
    #: Free text about the patient's family or legal situation, so encrypted at rest.
    relationship = EncryptedTextField(
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


class AuditEventQuerySet(models.QuerySet):
    """Audit events are append-only: bulk updates and deletes are refused."""

    def update(self, **kwargs):
        raise AuditLogIsAppendOnly("Audit events cannot be updated.")

    def delete(self):
        raise AuditLogIsAppendOnly("Audit events cannot be deleted.")

    def bulk_update(self, *args, **kwargs):
        raise AuditLogIsAppendOnly("Audit events cannot be updated.")

    def bulk_create(self, *args, **kwargs):
        raise AuditLogIsAppendOnly("Audit events are written one at a time by portal_social.core.audit.record().")


class AuditLogIsAppendOnly(Exception):
    pass


class AuditEvent(models.Model):
    """One hash-chained entry of the audit trail. Never holds PHI.

    ``hash`` is HMAC-SHA256, under the audit key named by ``key_id``, over the
    previous event's hash and this event's canonical content, so editing or
    removing any row breaks every hash after it, and nobody without the key
    can compute a replacement chain; ``portal_social_audit verify`` finds the
    first broken row. Written only by ``portal_social.core.audit.record``; on
    PostgreSQL and SQLite a database trigger refuses any other change.
    """

    class Severity(models.TextChoices):
        INFO = "info", _("Info")
        NOTICE = "notice", _("Notice")
        HIGH = "high", _("High")

    sequence = models.PositiveBigIntegerField(unique=True, editable=False)
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    occurred_at = models.DateTimeField(db_index=True, editable=False)
    # Stored as plain ids, not foreign keys: deleting a user must not rewrite
    # (and so break) the audit trail.
    actor_id = models.BigIntegerField(null=True, blank=True, db_index=True, editable=False)
    actor_label = models.CharField(max_length=150, blank=True, editable=False)
    action = models.CharField(max_length=64, db_index=True, editable=False)
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.INFO, editable=False)
    target_type = models.CharField(max_length=100, blank=True, editable=False)
    target_id = models.CharField(max_length=64, blank=True, editable=False)
    #: The patient whose information was involved, for "who looked at my record".
    patient_id = models.BigIntegerField(null=True, blank=True, db_index=True, editable=False)
    ip_address = models.GenericIPAddressField(null=True, blank=True, editable=False)
    user_agent = models.CharField(max_length=300, blank=True, editable=False)
    reason = models.CharField(max_length=200, blank=True, editable=False)
    details = models.JSONField(default=dict, blank=True, editable=False)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, unique=True, editable=False)
    #: Fingerprint of the audit key that signed ``hash`` (never the key), so
    #: events signed before a key rotation still verify.
    key_id = models.CharField(max_length=16, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["sequence"]
        default_permissions = ("view",)
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.action} #{self.sequence}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AuditLogIsAppendOnly("Audit events cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditLogIsAppendOnly("Audit events cannot be deleted.")


class AuditChainHead(models.Model):
    """The single row that serialises writers of the audit chain.

    ``record()`` updates this row first inside its transaction: a row lock on
    PostgreSQL, the database write lock on SQLite. Concurrent writers therefore
    queue, and every event links to the one before it.

    ``seal`` is an HMAC over ``sequence`` and ``last_hash`` under the audit key
    named by ``key_id``: someone who removes the newest events cannot move the
    head back to match without the key.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    sequence = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)
    key_id = models.CharField(max_length=16, blank=True, default="")
    seal = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"Audit chain head at {self.sequence}"


class BreakGlassGrant(models.Model):
    """Time-limited emergency access by one staff member to one PHI object.

    The written reason may itself mention clinical details, so it is encrypted
    at rest and never copied into the audit trail (which refers to the grant).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="break_glass_grants")
    target_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.CASCADE)
    target_id = models.CharField(max_length=64)
    reason = EncryptedTextField()
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        default_permissions = ("view",)
        indexes = [models.Index(fields=["user", "target_type", "target_id", "expires_at"])]

    def __str__(self) -> str:
        return f"Break-the-glass grant {self.pk}"

    @property
    def is_active(self) -> bool:
        return self.expires_at > timezone.now()


class CaregiverRelationUserObjectPermission(UserObjectPermissionBase):
    """Per-link grants to a person (direct foreign key, not guardian's generic table)."""

    content_object = models.ForeignKey(CaregiverRelation, on_delete=models.CASCADE)


class CaregiverRelationGroupObjectPermission(GroupObjectPermissionBase):
    """Per-link grants to a group."""

    content_object = models.ForeignKey(CaregiverRelation, on_delete=models.CASCADE)


class CareTeamLink(models.Model):
    """A clinician who is on a patient's care team.

    The default evidence of an established relationship (reviews, and care
    team messaging later). Hosts usually keep it in step with the EHR, or
    override ``PortalAdapter.has_care_relationship`` instead.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="care_team_links")
    clinician_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="care_team_patients"
    )
    since = models.DateField(default=timezone.localdate)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient", "clinician_user"], name="portal_social_one_care_team_link")
        ]

    def __str__(self) -> str:
        return f"Care team link {self.pk}"


def _private_storage():
    from portal_social.core.files import private_storage

    return private_storage()


class StoredFile(models.Model):
    """A file someone sent (a message's attachment, a case's screenshot, a file shared in a clinician space):
    checked by its bytes (``core.files.check_upload``), encrypted on disk under a random name, offered only
    as a download to who may see what it belongs to. Each feature's model adds what the file belongs to."""

    #: A random name in the private, encrypted storage (``core.files``): it says nothing about the file.
    file = models.FileField(storage=_private_storage, max_length=200)
    #: The sender's file name (made safe): it may name a patient, so it is encrypted.
    filename = EncryptedTextField(max_length=120)
    #: Detected from the bytes, never taken from the sender.
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()

    class Meta:
        abstract = True
