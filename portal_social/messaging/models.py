"""Secure messaging: care-team pools, conversations, their messages and who has read them.

A patient (or a caregiver acting for them) writes to a **pool**, a care team
such as "Cardiology — Dr. Rivera's team", never to one person. The pool's
members share its inbox: they claim a conversation, or a patient's replies
go straight to one of them ("reply directly to me").

Subjects and message bodies (source and rendered HTML) are encrypted at rest
(``EncryptedTextField``). Every URL names a conversation or message by a
random id. A message is never edited: its author may retract it for a short
while, and the retraction stays visible.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal_social.core.crypto import EncryptedTextField
from portal_social.core.models import StoredFile
from portal_social.core.models import _private_storage as _core_private_storage

SUBJECT_MAX_LENGTH = 120


class CarePool(models.Model):
    """A care team patients write to, with the business calendar of its site.

    ``response_days`` is the promise shown to patients: a reply within that
    many business days of the pool's calendar (``core.calendar``).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=120, help_text=_("What patients see, such as a team's name."))
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    calendar = models.ForeignKey(
        "portal_social.BusinessCalendar",
        verbose_name=_("business calendar"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Opening hours and holidays of the team's site. Empty: the portal's default calendar."),
    )
    response_days = models.PositiveSmallIntegerField(
        _("reply within (business days)"),
        default=2,
        help_text=_("Patients are told to expect a reply within this many business days."),
    )
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("pool lead"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Told when a patient's message waits past the expected reply time."),
    )
    active = models.BooleanField(_("takes new conversations"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("care-team pool")

    def __str__(self) -> str:
        return self.name


class PoolMember(models.Model):
    """A staff member who answers a pool's inbox."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    pool = models.ForeignKey(CarePool, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="care_pool_memberships")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("care-team member")
        constraints = [models.UniqueConstraint(fields=["pool", "user"], name="ps_pool_member_once")]

    def __str__(self) -> str:
        return f"Pool member {self.pk}"


class PoolPatient(models.Model):
    """An established care relationship: the patient may write to the pool.

    Configured by staff (or kept in step with the EHR); the default
    ``PortalAdapter.can_message`` asks for one.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    pool = models.ForeignKey(CarePool, on_delete=models.CASCADE, related_name="patient_links")
    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="care_pool_links")
    since = models.DateField(default=timezone.localdate)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("care relationship")
        constraints = [models.UniqueConstraint(fields=["pool", "patient"], name="ps_pool_patient_once")]

    def __str__(self) -> str:
        return f"Care relationship {self.pk}"


class OutOfOffice(models.Model):
    """A clinician away between two moments, with a colleague answering for them.

    While it runs, a conversation assigned to ``user`` is answered by
    ``delegate``, and the patient is told when a reply can be expected.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="out_of_office")
    delegate = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="delegated_to_me")
    starts_at = models.DateTimeField(_("away from"), default=timezone.now)
    ends_at = models.DateTimeField(_("back on"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        default_permissions = ()
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="ps_ooo_ends_after_start"),
            models.CheckConstraint(condition=~Q(delegate=models.F("user")), name="ps_ooo_delegate_not_self"),
        ]
        indexes = [models.Index(fields=["user", "ends_at"], name="ps_ooo_user_idx")]

    def __str__(self) -> str:
        return f"Out of office {self.pk}"


class Conversation(models.Model):
    """A patient's conversation with one pool: a subject, a topic, its messages."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="conversations")
    pool = models.ForeignKey(CarePool, on_delete=models.PROTECT, related_name="conversations")
    #: The patient's own words: encrypted at rest like the messages.
    subject = EncryptedTextField(max_length=SUBJECT_MAX_LENGTH)
    #: A key of ``PORTAL_SOCIAL_MESSAGING_TOPICS``.
    topic = models.CharField(max_length=40)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    #: Hidden from every caregiver (proxy) of the patient; only the patient may set or clear it.
    confidential = models.BooleanField(default=False)
    #: Screening found crisis language or urgent symptoms in a patient-side message: first in staff inboxes.
    urgent = models.BooleanField(default=False)
    #: The pool member answering it (claimed, assigned, or "reply directly to me").
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_message_at = models.DateTimeField(default=timezone.now)
    #: The newest message's number (``Message.seq``); read receipts compare with it.
    last_seq = models.PositiveIntegerField(default=0)
    #: When the patient side is owed a reply (set by a patient-side message, cleared by a staff reply).
    reply_due_at = models.DateTimeField(null=True, blank=True)
    #: The pool lead was told the reply is late (once per waiting message).
    escalated_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: One submission, one conversation: the compose form's token, unique per author.
    submission = models.UUIDField(null=True, blank=True, editable=False)
    #: Filed to the medical record (``PortalAdapter.file_to_record``): when, by whom, and where it went.
    filed_at = models.DateTimeField(null=True, blank=True, editable=False)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    #: The record system's reference for the filed document: an identifier, so encrypted.
    filed_reference = EncryptedTextField(max_length=200, blank=True, editable=False)

    class Meta:
        ordering = ["-last_message_at", "pk"]
        indexes = [
            models.Index(fields=["pool", "status", "last_message_at"], name="ps_conv_pool_idx"),
            models.Index(fields=["patient", "last_message_at"], name="ps_conv_patient_idx"),
            models.Index(fields=["status", "reply_due_at"], name="ps_conv_due_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "submission"],
                condition=Q(submission__isnull=False),
                name="ps_conv_submitted_once",
            )
        ]

    def __str__(self) -> str:
        return f"Conversation {self.pk}"


class Message(models.Model):
    """One message: who wrote it, for whom, its text (encrypted), and whether it was retracted."""

    class Side(models.TextChoices):
        PATIENT = "patient", _("Patient")
        CAREGIVER = "caregiver", _("Caregiver")
        CARE_TEAM = "care_team", _("Care team")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    #: 1, 2, 3… within the conversation, in the order messages were committed.
    seq = models.PositiveIntegerField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    side = models.CharField(max_length=12, choices=Side.choices)
    body_source = EncryptedTextField()
    body_html = EncryptedTextField(editable=False)
    urgent = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    retracted_at = models.DateTimeField(null=True, blank=True)
    #: The patient was reminded of this care-team message they had not read (once).
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)
    submission = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["conversation", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "seq"], name="ps_message_seq_once"),
            models.UniqueConstraint(
                fields=["author", "submission"], condition=Q(submission__isnull=False), name="ps_message_submitted_once"
            ),
        ]

    def __str__(self) -> str:
        return f"Message {self.pk}"

    @property
    def retracted(self) -> bool:
        return self.retracted_at is not None


#: Historical migrations name the storage by this path.
_private_storage = _core_private_storage


class Attachment(StoredFile):
    """A file sent with a message: checked by content, encrypted on disk, served only to who sees the message."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"Attachment {self.pk}"


class ReadState(models.Model):
    """How far one person has read one conversation (``last_read_seq``): unread counts and receipts."""

    id = models.BigAutoField(primary_key=True)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="read_states")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    #: The reader's side, so "read by the care team" is one comparison.
    side = models.CharField(max_length=12, choices=Message.Side.choices)
    last_read_seq = models.PositiveIntegerField(default=0)
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["conversation", "user"], name="ps_read_state_once")]
        indexes = [models.Index(fields=["user", "conversation"], name="ps_read_state_user_idx")]

    def __str__(self) -> str:
        return f"Read state {self.pk}"
