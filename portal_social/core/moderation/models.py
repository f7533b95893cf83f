"""The moderation queue's tables: one row per piece of content waiting for a person, and why.

Modelled on Discourse's reviewables. A :class:`ModerationItem` points at its
target (a review, a post, a message, a user, a case) through the content
types framework, so one table and one admin screen serve every feature. Its
:class:`ModerationReason` rows are the "scores" that put it there: what
screening found, a reader's flag, a clinician's appeal, a moderator's
escalation, each with who added it and, for people, why in their own words.

Nothing here holds the content itself. The one free-text column is a
reason's ``note`` (a reader explaining a flag may quote the PHI they are
flagging), and it is encrypted at rest like every other user-written column.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal_social.core.crypto import EncryptedTextField

#: The longest note a person may attach to a flag, an appeal or an escalation.
NOTE_MAX_LENGTH = 2000


class ModerationItem(models.Model):
    """One piece of content in the queue, with its decision once a moderator makes one.

    At most one item per target is pending at a time (a database
    constraint); a flag on content that was already decided opens a new
    item, so each decision keeps its own history. ``version`` grows by one
    on every change, and each operation names the version it was shown: a
    moderator acting on a stale screen is told, instead of overwriting a
    colleague's decision (optimistic locking). ``claimed_by`` says who is
    working the item; others may not decide it until it is released.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for a decision")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        IGNORED = "ignored", _("Closed without action")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    #: The registered content kind (``core.moderation.registry``), e.g. ``"review"``.
    kind = models.CharField(max_length=40, db_index=True)
    target_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    #: The target's primary key as text (UUIDs and integers alike).
    target_id = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    #: The sum of the reasons' weights: how strongly the queue thinks this needs a person.
    score = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    #: Urgent items come first: crisis language, or a moderator escalated it.
    urgent = models.BooleanField(default=False)
    #: The permission a reviewer must hold through a role (``app_label.codename``).
    reviewer_permission = models.CharField(max_length=100)
    #: Where the content lives, for filtering: a community or space slug; blank for none.
    space = models.CharField(max_length=100, blank=True, default="")
    #: Whose content it is: the patient the queue's audit names when a moderator opens it.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_permissions = ()
        verbose_name = _("moderation item")
        constraints = [
            models.UniqueConstraint(
                fields=["target_type", "target_id"],
                condition=Q(status="pending"),
                name="ps_moderation_one_pending_per_target",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-urgent", "created_at"], name="ps_moderation_queue_idx"),
            models.Index(fields=["target_type", "target_id"], name="ps_moderation_target_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} item {self.pk}"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING


class ModerationReason(models.Model):
    """One reason an item is in the queue, and how much it adds to the item's score.

    ``code`` is a fixed word (``phi``, ``language``, ``crisis``,
    ``new_account``, ``flag``, ``appeal``, ``escalated``…), never a sentence;
    ``details`` holds codes only (the PHI kinds found, a flag's category).
    ``added_by`` is empty for screening's own reasons.
    """

    item = models.ForeignKey(ModerationItem, on_delete=models.CASCADE, related_name="reasons")
    code = models.CharField(max_length=40)
    weight = models.DecimalField(max_digits=6, decimal_places=2, default=1)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: Clear by construction: codes and kinds, never text anyone wrote.
    details = models.JSONField(default=dict, blank=True)
    #: A person's own words for why (a flag's explanation, an appeal): may quote PHI, so encrypted.
    note = EncryptedTextField(max_length=NOTE_MAX_LENGTH, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        default_permissions = ()
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["code"], name="ps_moderation_reason_code_idx")]

    def __str__(self) -> str:
        return f"{self.code} on {self.item_id}"
