"""The notification outbox and each person's notification preference."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """One notification for one person: written in the transaction of the
    change it announces (so it exists exactly when the change does), then
    delivered by a background task. Holds a template key and small PHI-free
    parameters (counts, fixed choices), never text anyone wrote."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        DIGEST = "digest", _("Waiting for the daily digest")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Not sent: notifications are off")
        FAILED = "failed", _("Failed after every retry")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=64)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    #: The class of the last delivery error (never its message: it may quote an address).
    last_error = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_permissions = ()
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="ps_notification_due"),
            models.Index(fields=["recipient", "status"], name="ps_notification_recipient"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"


class NotificationPreference(models.Model):
    """How often a person hears from the portal. No row: immediately."""

    class Frequency(models.TextChoices):
        IMMEDIATELY = "immediately", _("Tell me straight away")
        DAILY = "daily", _("One summary a day")
        OFF = "off", _("Do not tell me (security notices still arrive)")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portal_social_notification_preference"
    )
    frequency = models.CharField(max_length=12, choices=Frequency.choices, default=Frequency.IMMEDIATELY)
    #: Also a text message, to the number the host holds (``PortalAdapter.sms_number``), never stored here.
    by_text = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return self.frequency
