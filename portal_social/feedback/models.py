"""Feedback and service recovery: cases, how they are classified and routed, and their timelines.

A **case** is one piece of feedback from any channel (the portal form, a
low review, a community post flagged as a complaint about care, a social
media post, a phone call, a letter, an integration, an import). It has a
reference people can read aloud (``PX-2026-000123``), a type, categories,
a severity, a site and service line, an owning team and person, SLA clocks
(``feedback.sla``) and a timeline of every event (``CaseEvent``).

What a person wrote (the description, contact details, a social-media
handle or post address, notes) is encrypted at rest. Classification,
clocks and counts stay in the clear, so reports aggregate in SQL.

Configuration (teams, categories, service lines, routing rules) lives here
too and is edited in the Wagtail admin by portal administrators.
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

DESCRIPTION_MAX_LENGTH = 5000
SUMMARY_MAX_LENGTH = 150


class Team(models.Model):
    """A patient-experience team that owns cases: a site's PX office, or risk management."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=120, unique=True)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("team lead"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Told when one of the team's cases misses a deadline."),
    )
    calendar = models.ForeignKey(
        "portal_social.BusinessCalendar",
        verbose_name=_("business calendar"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The hours the team's SLA clocks run. Empty: the portal's default calendar."),
    )
    risk_management = models.BooleanField(
        _("risk management"),
        default=False,
        help_text=_("Cases with medical risk go to this team, and only its members read their details."),
    )
    fallback = models.BooleanField(
        _("fallback queue"), default=False, help_text=_("Takes cases no routing rule matches.")
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("patient-experience team")

    def __str__(self) -> str:
        return self.name


class TeamMember(models.Model):
    """A staff member who works a team's cases; ``on_duty`` members are alerted for on-site feedback."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="px_team_memberships")
    takes_cases = models.BooleanField(
        _("takes new cases"), default=True, help_text=_("Included when cases are shared out fairly.")
    )
    on_duty = models.BooleanField(_("on duty"), default=False)

    class Meta:
        verbose_name = _("team member")
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="ps_px_member_once")]

    def __str__(self) -> str:
        return f"Team member {self.pk}"


class Category(models.Model):
    """A theme of feedback (communication, billing, wait time…), configurable by administrators."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    medical_risk = models.BooleanField(
        _("medical risk"), default=False, help_text=_("A case in this category goes to risk management at once.")
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("feedback category")
        verbose_name_plural = _("feedback categories")

    def __str__(self) -> str:
        return self.name


class ServiceLine(models.Model):
    """A service line (cardiovascular, women's health, emergency…) cases are reported by."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("service line")

    def __str__(self) -> str:
        return self.name


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


SEVERITY_RANK = {Severity.LOW: 0, Severity.MEDIUM: 1, Severity.HIGH: 2, Severity.CRITICAL: 3}


class RoutingRule(models.Model):
    """Where a case goes: the first active rule (lowest ``position``) whose conditions all match.

    An empty condition matches anything. ``owner`` names a person; without
    one the case goes to the team member with the fewest open cases (or, for
    a repeat patient, the person who owned their last case, when they are
    still in the team).
    """

    position = models.PositiveIntegerField(_("order"), default=100)
    name = models.CharField(_("name"), max_length=120)
    site = models.ForeignKey(
        "portal_social.Location", verbose_name=_("site"), null=True, blank=True, on_delete=models.CASCADE
    )
    service_line = models.ForeignKey(
        ServiceLine, verbose_name=_("service line"), null=True, blank=True, on_delete=models.CASCADE
    )
    category = models.ForeignKey(Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.CASCADE)
    min_severity = models.CharField(
        _("severity at least"), max_length=10, choices=Severity.choices, blank=True, default=""
    )
    team = models.ForeignKey(Team, verbose_name=_("team"), on_delete=models.CASCADE, related_name="rules")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Empty: share out fairly within the team."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("routing rule")

    def __str__(self) -> str:
        return self.name


class CaseCounter(models.Model):
    """The last case number given out in a year (``PX-<year>-<number>``)."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"Case numbers for {self.year}"


class Case(models.Model):
    """One piece of feedback, worked by the patient-experience team until it is closed."""

    class Channel(models.TextChoices):
        PORTAL = "portal", _("Portal feedback form")
        REVIEW = "review", _("Clinician review")
        COMMUNITY = "community", _("Community post")
        SOCIAL = "social", _("Social media")
        API = "api", _("Integration")
        PHONE = "phone", _("Phone call")
        LETTER = "letter", _("Letter")
        EMAIL = "email", _("Email")
        IN_PERSON = "in_person", _("In person")
        IMPORT = "import", _("Imported")

    class Type(models.TextChoices):
        COMPLIMENT = "compliment", _("Compliment")
        SUGGESTION = "suggestion", _("Suggestion")
        QUESTION = "question", _("Question")
        COMPLAINT = "complaint", _("Complaint")
        GRIEVANCE = "grievance", _("Grievance")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        INVESTIGATING = "investigating", _("Investigating")
        AWAITING_PATIENT = "awaiting_patient", _("Awaiting patient")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    OPEN_STATUSES = (Status.NEW, Status.ACKNOWLEDGED, Status.INVESTIGATING, Status.AWAITING_PATIENT)

    class Priority(models.IntegerChoices):
        NORMAL = 0, _("Normal")
        HIGH = 1, _("High")
        URGENT = 2, _("Urgent")

    class Platform(models.TextChoices):
        FACEBOOK = "facebook", "Facebook"
        X = "x", "X"
        INSTAGRAM = "instagram", "Instagram"
        GOOGLE = "google", "Google"
        YELP = "yelp", "Yelp"
        OTHER = "other", _("Other")

    class ContactMethod(models.TextChoices):
        PORTAL = "portal", _("A secure message in the portal")
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("Email")
        POST = "post", _("Letter")

    class Outcome(models.TextChoices):
        RESOLVED = "resolved", _("Resolved to the patient's satisfaction")
        OFFLINE = "offline", _("Took it offline")
        REVIEW_UPDATED = "review_updated", _("Reviewer updated their review")
        EXPLAINED = "explained", _("Explained; patient not satisfied")
        NO_RESPONSE = "no_response", _("No response from the patient")
        NOT_ACTIONABLE = "not_actionable", _("No action possible")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(max_length=20, unique=True, editable=False)
    channel = models.CharField(max_length=12, choices=Channel.choices)
    type = models.CharField(max_length=12, choices=Type.choices)
    categories = models.ManyToManyField(Category, blank=True, related_name="cases")
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    site = models.ForeignKey("portal_social.Location", null=True, blank=True, on_delete=models.SET_NULL)
    service_line = models.ForeignKey(ServiceLine, null=True, blank=True, on_delete=models.SET_NULL)
    clinicians = models.ManyToManyField("portal_social.ClinicianPage", blank=True, related_name="feedback_cases")
    #: About an earlier visit, reported apart from current experience.
    past_experience = models.BooleanField(default=False)

    #: Whose care it is about (None: anonymous, or not known).
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="feedback_cases"
    )
    #: Who sent it through the portal (the patient, or a caregiver acting for them); staff for staff entry.
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: The submitter follows the case in the portal (portal intake by a signed-in person).
    shared_with_submitter = models.BooleanField(default=False)

    #: A short title in the writer's words; encrypted like the description.
    summary = EncryptedTextField(max_length=SUMMARY_MAX_LENGTH, blank=True)
    description_source = EncryptedTextField(blank=True)
    description_html = EncryptedTextField(blank=True, editable=False)
    contact_requested = models.BooleanField(default=False)
    contact_method = models.CharField(max_length=10, choices=ContactMethod.choices, blank=True, default="")
    #: Name, phone, email or address to reach the person: encrypted.
    contact_details = EncryptedTextField(blank=True)
    #: "I am at one of your locations right now": the site's on-duty contact was alerted.
    on_site_now = models.BooleanField(default=False)

    # Social media: where it was seen, and how discreetly to follow up.
    platform = models.CharField(max_length=12, choices=Platform.choices, blank=True, default="")
    post_url = EncryptedTextField(blank=True)
    handle = EncryptedTextField(blank=True)
    post_public = models.BooleanField(null=True, blank=True)
    how_learned = EncryptedTextField(blank=True)
    #: Seen in a private post: follow up without revealing how the organisation learned of it.
    handle_discreetly = models.BooleanField(default=False)

    #: The review or post a case came from (``content_needs_attention``): its model and id.
    source_type = models.CharField(max_length=40, blank=True, default="")
    source_id = models.CharField(max_length=40, blank=True, default="")
    source_cause = models.CharField(max_length=30, blank=True, default="")
    #: An integration's own id for the item (``IntakeKey``): the same item is recorded once.
    external_source = models.CharField(max_length=60, blank=True, default="")
    external_id = models.CharField(max_length=120, blank=True, default="")

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_cases"
    )
    routed_by = models.ForeignKey(RoutingRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    medical_risk = models.BooleanField(default=False)
    #: How risk was found: "category", "screening", "staff" (a code, never the words).
    risk_source = models.CharField(max_length=20, blank=True, default="")

    received_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    first_reply_due_at = models.DateTimeField(null=True, blank=True)
    acknowledge_due_at = models.DateTimeField(null=True, blank=True)
    resolve_due_at = models.DateTimeField(null=True, blank=True)
    first_replied_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    #: A reopened case's resolve clock counts from here (None: from ``received_at``).
    resolve_started_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    #: Awaiting the patient since (clocks paused); None while the clocks run.
    paused_since = models.DateTimeField(null=True, blank=True)
    #: Which clocks were missed: codes "first_reply", "acknowledge", "resolve".
    breaches = models.JSONField(default=list, blank=True)
    #: In the escalation queue since.
    escalated_at = models.DateTimeField(null=True, blank=True)

    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True, default="")
    survey_sent_at = models.DateTimeField(null=True, blank=True)
    #: The submitter's answer to "How well did we put things right?" (1-5), once.
    survey_score = models.PositiveSmallIntegerField(null=True, blank=True)
    #: One submission, one case: the form's one-use token, unique per submitter.
    submission = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-received_at", "pk"]
        indexes = [
            models.Index(fields=["status", "owner"], name="ps_case_owner_idx"),
            models.Index(fields=["status", "team"], name="ps_case_team_idx"),
            models.Index(fields=["received_at"], name="ps_case_received_idx"),
            models.Index(fields=["patient", "received_at"], name="ps_case_patient_idx"),
            models.Index(fields=["source_type", "source_id"], name="ps_case_source_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["submitted_by", "submission"],
                condition=Q(submission__isnull=False),
                name="ps_case_submitted_once",
            ),
            models.UniqueConstraint(
                fields=["external_source", "external_id"],
                condition=~Q(external_id=""),
                name="ps_case_external_once",
            ),
        ]

    def __str__(self) -> str:
        return self.reference or f"Case {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def paused(self) -> bool:
        return self.paused_since is not None


class CasePause(models.Model):
    """A stretch while the case awaited the patient: no SLA clock counted it."""

    id = models.BigAutoField(primary_key=True)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="pauses")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_permissions = ()
        ordering = ["started_at"]

    def __str__(self) -> str:
        return f"Pause {self.pk}"


class CaseEvent(models.Model):
    """One line of a case's timeline: what happened, who did it, when.

    ``details`` holds codes, ids and counts (statuses, team and owner ids,
    recovery kinds); anything a person wrote is in ``note`` (encrypted).
    """

    class Kind(models.TextChoices):
        RECEIVED = "received", _("Received")
        ROUTED = "routed", _("Routed")
        ASSIGNED = "assigned", _("Assigned")
        STATUS = "status", _("Status changed")
        NOTE = "note", _("Internal note")
        CONTACT = "contact", _("Contact attempt")
        RECOVERY = "recovery", _("Service recovery")
        RISK = "risk", _("Medical risk")
        BREACH = "breach", _("Deadline missed")
        CLASSIFIED = "classified", _("Classified")
        PUBLIC_REPLY = "public_reply", _("Public reply")
        SURVEY = "survey", _("Survey sent")
        LETTER = "letter", _("Written response")

    id = models.BigAutoField(primary_key=True)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    details = models.JSONField(default=dict, blank=True)
    note = EncryptedTextField(blank=True)

    class Meta:
        default_permissions = ()
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["case", "at"], name="ps_case_event_idx")]

    def __str__(self) -> str:
        return f"Case event {self.pk}"


class RecoveryAction(models.Model):
    """Something done to put things right: an apology, a bill review, a call back, a gift."""

    class Kind(models.TextChoices):
        APOLOGY = "apology", _("Apology")
        BILL_REVIEW = "bill_review", _("Bill review or adjustment")
        FOLLOW_UP_CALL = "follow_up_call", _("Follow-up call")
        GIFT = "gift", _("Gift or voucher")
        OTHER = "other", _("Other")

    id = models.BigAutoField(primary_key=True)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="recovery_actions")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        default_permissions = ()
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"Recovery action {self.pk}"


class IntakeKey(models.Model):
    """A social-media management tool's key for the intake API. Only a hash of the key is kept.

    ``source`` is what its cases record as ``Case.external_source``; an item it sends twice (same
    external id) is recorded once.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=80, unique=True, help_text=_("The tool, such as Sprinklr."))
    source = models.SlugField(_("source"), max_length=60, unique=True)
    #: The first characters of the key, to tell keys apart in lists (never enough to use it).
    prefix = models.CharField(max_length=12, editable=False)
    #: SHA-256 of the key, hex.
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("intake API key")

    def __str__(self) -> str:
        return self.name


class LetterTemplate(models.Model):
    """The editable wording of a grievance's written response (42 CFR 482.13(a)(2)).

    ``body`` uses placeholders filled from the case and its ``GrievanceResponse``: {reference},
    {patient_name}, {received_on}, {contact_person}, {steps}, {results}, {completed_on},
    {organisation}. Editorial text, written by administrators: it holds no patient's details.
    """

    name = models.CharField(_("name"), max_length=120, unique=True)
    body = models.TextField(_("letter"), max_length=10000)
    default = models.BooleanField(_("default"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("grievance letter template")

    def __str__(self) -> str:
        return self.name


class GrievanceResponse(models.Model):
    """What a grievance's written response says: contact person, steps taken, results, completion date."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="grievance_response")
    template = models.ForeignKey(LetterTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    #: A staff member's name and work phone: who the patient may contact.
    contact_person = models.CharField(max_length=200)
    steps = EncryptedTextField()
    results = EncryptedTextField()
    completed_on = models.DateField()
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"Grievance response {self.pk}"


class ResponseTemplate(models.Model):
    """A public reply for a social-media post or a review: thanks, an apology, the PX contact, an offer to talk
    privately, and nothing about anyone's care. Screened as a staff public reply before it is saved."""

    class Use(models.TextChoices):
        SOCIAL = "social", _("Social media")
        REVIEW = "review", _("Review reply")

    name = models.CharField(_("name"), max_length=120, unique=True)
    use = models.CharField(_("for"), max_length=10, choices=Use.choices, default=Use.SOCIAL)
    body = models.TextField(_("reply"), max_length=1000)
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["use", "name"]
        verbose_name = _("public response template")

    def __str__(self) -> str:
        return self.name


#: Historical migrations name the storage by this path.
_private_storage = _core_private_storage


class CaseAttachment(StoredFile):
    """A file kept with a case, such as a screenshot of a social-media post: checked by content,
    encrypted on disk under a random name, served only to staff who may read the case."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        default_permissions = ()
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Case attachment {self.pk}"
