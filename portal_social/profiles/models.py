"""Clinician profiles (Wagtail pages), their taxonomies, and patient reviews."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalManyToManyField
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import RichTextField
from wagtail.models import Page
from wagtail.search import index

from portal_social.core.crypto import EncryptedTextField
from portal_social.profiles.npi import validate_npi

RICH_TEXT_FEATURES = ["bold", "italic", "link", "ul", "ol"]


class _Named(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Specialty(_Named):
    """A medical specialty (Cardiology, Family medicine…), managed as a snippet."""

    class Meta(_Named.Meta):
        verbose_name = _("specialty")
        verbose_name_plural = _("specialties")


class Condition(_Named):
    """A condition treated (Heart failure, Diabetes…), managed as a snippet."""

    class Meta(_Named.Meta):
        verbose_name = _("condition treated")
        verbose_name_plural = _("conditions treated")


class Language(_Named):
    """A language spoken with patients."""

    class Meta(_Named.Meta):
        verbose_name = _("language")


class Location(models.Model):
    """A public practice site: address, public phone and map link.

    Stored in the clear: editors write it in the Wagtail admin to publish it,
    and it describes a clinic, never a patient.
    """

    name = models.CharField(_("name"), max_length=150, unique=True)
    slug = models.SlugField(_("slug"), max_length=150, unique=True)
    address = models.TextField(_("address"), max_length=500)
    phone = models.CharField(_("public phone"), max_length=40, blank=True)
    map_url = models.URLField(_("map link"), blank=True)

    panels = [FieldPanel("name"), FieldPanel("slug"), FieldPanel("address"), FieldPanel("phone"), FieldPanel("map_url")]

    class Meta:
        ordering = ["name"]
        verbose_name = _("location")

    def __str__(self) -> str:
        return self.name


class ClinicianIndexPage(Page):
    """The clinician directory: search and filters over its ClinicianPage children."""

    intro = models.CharField(_("introduction"), max_length=300, blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    subpage_types = ["portal_social.ClinicianPage"]
    max_count = 1
    template = "portal_social/profiles/directory.html"

    class Meta:
        verbose_name = _("clinician directory")

    def get_context(self, request, *args, **kwargs):
        from portal_social.profiles.directory import directory_context

        context = super().get_context(request, *args, **kwargs)
        context.update(directory_context(request, self))
        return context


class ClinicianPage(RoutablePageMixin, Page):
    """One clinician's public profile.

    Public by design: nothing here is PHI. Ratings are not page fields: they
    live in ``ClinicianRating`` (``rating_summary``), outside page revisions,
    so publishing an older revision cannot write old star counts back.

    Its text fields stay in the clear because they are public and clean by
    construction: every one is published on the profile, the directory
    searches, filters and orders on them (an encrypted column cannot be
    searched), and they describe the clinician, never a patient. The two
    fields a clinician writes through self-service (``pronouns``, ``bio``)
    pass the PHI scanner before a draft revision is saved, so neither the
    page table, its revisions (``wagtailcore_revision.content``) nor the
    search index receives text the scanner flags; the other fields are
    written by editors in the Wagtail admin, and an approver reads every
    self-service change before it is published.
    """

    first_name = models.CharField(_("first name"), max_length=80)
    last_name = models.CharField(_("last name"), max_length=80)
    credentials = models.CharField(_("credentials"), max_length=80, blank=True, help_text=_("For example: MD, FACC"))
    pronouns = models.CharField(_("pronouns"), max_length=40, blank=True)
    photo = models.ForeignKey("wagtailimages.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    specialties = ParentalManyToManyField(Specialty, blank=True, related_name="clinicians")
    conditions = ParentalManyToManyField(Condition, blank=True, related_name="clinicians")
    locations = ParentalManyToManyField(Location, blank=True, related_name="clinicians")
    languages = ParentalManyToManyField(Language, blank=True, related_name="clinicians")
    accepting_new_patients = models.BooleanField(_("accepting new patients"), default=True)
    telehealth = models.BooleanField(_("offers telehealth"), default=False)
    bio = RichTextField(_("biography"), blank=True, features=RICH_TEXT_FEATURES)
    education = RichTextField(_("education and training"), blank=True, features=RICH_TEXT_FEATURES)
    board_certifications = models.TextField(_("board certifications"), blank=True, max_length=2000)
    npi = models.CharField(
        _("NPI"),
        max_length=10,
        unique=True,
        validators=[validate_npi],
        help_text=_("10-digit National Provider Identifier"),
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="clinician_page",
        help_text=_("The clinician's portal account, which may edit this page."),
    )

    content_panels = Page.content_panels + [
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("first_name"), FieldPanel("last_name")]),
                FieldRowPanel([FieldPanel("credentials"), FieldPanel("pronouns")]),
                FieldPanel("photo"),
                FieldPanel("npi"),
                FieldPanel("user"),
            ],
            heading=_("Identity"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("specialties"),
                FieldPanel("conditions"),
                FieldPanel("locations"),
                FieldPanel("languages"),
                FieldRowPanel([FieldPanel("accepting_new_patients"), FieldPanel("telehealth")]),
            ],
            heading=_("Practice"),
        ),
        FieldPanel("bio"),
        FieldPanel("education"),
        FieldPanel("board_certifications"),
    ]

    search_fields = Page.search_fields + [
        index.SearchField("first_name"),
        index.SearchField("last_name"),
        index.SearchField("bio"),
        index.SearchField("board_certifications"),
        index.RelatedFields("specialties", [index.SearchField("name")]),
        index.RelatedFields("conditions", [index.SearchField("name")]),
        index.FilterField("accepting_new_patients"),
        index.FilterField("telehealth"),
        index.FilterField("last_name"),
    ]

    parent_page_types = ["portal_social.ClinicianIndexPage"]
    template = "portal_social/profiles/clinician.html"

    class Meta:
        verbose_name = _("clinician")
        indexes = [models.Index(fields=["last_name", "first_name"])]

    @property
    def rating_summary(self) -> ClinicianRating:
        """This clinician's star aggregates; an unsaved zero row when nobody has rated them yet.

        Reads ``self.rating`` (one query, or none after ``select_related("rating")``).
        """
        try:
            return self.rating
        except ClinicianRating.DoesNotExist:
            return ClinicianRating(clinician_id=self.pk)

    @property
    def display_name(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return f"{name}, {self.credentials}" if self.credentials else name

    def clean(self):
        super().clean()
        if self.npi:
            self.npi = self.npi.strip()
            clash = ClinicianPage.objects.filter(npi=self.npi).exclude(pk=self.pk)
            if clash.exists():
                raise ValidationError({"npi": _("Another clinician already has this NPI.")})

    def get_context(self, request, *args, **kwargs):
        from portal_social.profiles.reviews import profile_context

        context = super().get_context(request, *args, **kwargs)
        context.update(profile_context(request, self))
        return context

    # Sub-pages: /clinicians/<slug>/review/ and so on. No ids in these URLs;
    # reviews are addressed by their UUID.

    @path("review/", name="review")
    def review_route(self, request):
        from portal_social.profiles import views

        return views.write_review(request, self)

    @path("reviews/<uuid:review_id>/report/", name="report_review")
    def report_route(self, request, review_id):
        from portal_social.profiles import views

        return views.report_review(request, self, review_id)

    @path("reviews/<uuid:review_id>/appeal/", name="appeal_review")
    def appeal_route(self, request, review_id):
        from portal_social.profiles import views

        return views.appeal_review(request, self, review_id)

    @path("edit/", name="edit_profile")
    def edit_route(self, request):
        from portal_social.profiles import self_service

        return self_service.edit_profile(request, self)


class ClinicianRating(models.Model):
    """A clinician's star aggregates: one row per ``ClinicianPage``, numbers only.

    Kept out of the page on purpose. A Wagtail page's fields are copied into
    every revision, and publishing a revision (the self-service approval
    workflow publishes the clinician's draft, saved before later ratings)
    writes them all back; aggregates stored on the page would be reset to
    the values of the day the draft was saved. Written only by
    ``actions.refresh_aggregates``, under this row's lock, from the counted
    reviews. No row means no ratings yet.
    """

    clinician = models.OneToOneField(
        ClinicianPage, primary_key=True, on_delete=models.CASCADE, related_name="rating", editable=False
    )
    count = models.PositiveIntegerField(default=0, editable=False)
    average = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("clinician rating")
        indexes = [models.Index(fields=["average"], name="portal_soc_rating_avg_idx")]

    def __str__(self) -> str:
        return f"Rating of {self.clinician_id}"


class ReviewQuerySet(models.QuerySet):
    def published(self):
        """Shown publicly: published and not replaced by the author's later review."""
        return self.filter(status=Review.Status.PUBLISHED, superseded_by__isnull=True)

    def counted(self):
        """Reviews whose stars count: published or held (stars are never held back), not replaced."""
        return self.filter(status__in=Review.COUNTED, superseded_by__isnull=True)


class Review(models.Model):
    """A patient's ratings of a clinician, with an optional screened comment.

    Stars count as soon as they are given (they carry no PHI, and only
    patients with a care relationship may review); the comment is shown only
    after screening — automatically when nothing is found, or by a moderator.
    One review per patient per clinician in a rolling 12 months: a second one
    within 12 months is refused, and a review after that replaces this one in
    the aggregates (``superseded_by``).
    """

    class Status(models.TextChoices):
        HELD = "held", _("Held for review")
        PUBLISHED = "published", _("Published")
        REJECTED = "rejected", _("Rejected")
        APPEALED = "appealed", _("Under appeal")

    COUNTED = (Status.HELD, Status.PUBLISHED, Status.APPEALED, Status.REJECTED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    clinician = models.ForeignKey(ClinicianPage, on_delete=models.CASCADE, related_name="reviews")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="clinician_reviews")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.HELD, db_index=True)
    #: Why it is held, as codes: ``[{"code": "phi", "kinds": ["phone"]}, {"code": "language"}]``;
    #: never the PHI itself, nor a sentence (``reviews.describe_hold_reason`` words each
    #: reason when shown, in the reader's language). Clear by construction: written only
    #: by ``actions.screen_comment`` from codes and PHI kinds, never from the comment.
    hold_reasons = models.JSONField(default=list, blank=True)
    #: The comment as written, PHI and all, for the author's record and for
    #: moderators: encrypted at rest. The public only ever sees ``comment_html``.
    comment_source = EncryptedTextField(blank=True)
    #: Spans of ``comment_source`` a moderator hid: ``[{"start", "end", "kind"}]``.
    #: Clear by construction: character offsets and a PHI kind, never the hidden text.
    redactions = models.JSONField(default=list, blank=True)
    #: Rendered, sanitised HTML with any redactions applied; what pages show.
    #: Encrypted like the source: until a moderator decides, and for good when
    #: the comment is rejected, it holds the comment's PHI as written.
    comment_html = EncryptedTextField(blank=True, editable=False)
    overall = models.DecimalField(max_digits=3, decimal_places=2)
    superseded_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    moderated_at = models.DateTimeField(null=True, blank=True)
    #: A moderator's note for the record; it may quote the comment, so it is encrypted.
    rejection_reason = EncryptedTextField(max_length=300, blank=True)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["clinician", "status", "-created_at"])]

    def __str__(self) -> str:
        return f"Review {self.pk}"


class ReviewRating(models.Model):
    """Stars (1–5) for one configured question of a review.

    ``question`` is a key from ``PORTAL_SOCIAL_REVIEW_QUESTIONS``, never user text.
    """

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="ratings")
    question = models.CharField(max_length=40)
    stars = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["review", "question"], name="portal_social_one_rating_per_question"),
            models.CheckConstraint(condition=Q(stars__gte=1) & Q(stars__lte=5), name="portal_social_stars_1_to_5"),
        ]

    def __str__(self) -> str:
        return f"{self.question}: {self.stars}"


class ReviewResponse(models.Model):
    """The one public response patient-experience staff may post to a review.

    Encrypted although it is public: the PHI scanner that screens it is a
    net, not a proof (a patient's name without a cue passes it), and staff
    write it in reply to a patient.
    """

    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="response")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    body_source = EncryptedTextField()
    body_html = EncryptedTextField(editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Response to {self.review_id}"


class ReviewAppeal(models.Model):
    """A clinician's appeal of a comment; the comment stays hidden while open.

    The reason is encrypted: a clinician explaining a review may name the
    patient or their care.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="appeals")
    clinician_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = EncryptedTextField(max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    upheld = models.BooleanField(null=True)

    def __str__(self) -> str:
        return f"Appeal {self.pk}"


class ReviewReport(models.Model):
    """Someone reported a published review (abuse, PHI, not a real patient…).

    The reason is a fixed choice followed by the reporter's own words, which
    may repeat the PHI they are reporting, so it is encrypted.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = EncryptedTextField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["review", "reporter"], name="portal_social_one_report_each")]

    def __str__(self) -> str:
        return f"Report {self.pk}"
