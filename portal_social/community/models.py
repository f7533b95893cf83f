"""Communities: moderated discussion groups for patients and caregivers.

A :class:`Community` is created by staff (a snippet in the Wagtail admin).
Members post under a :class:`CommunityProfile` handle, never their legal
name unless they choose it. A :class:`Thread` is a title and its posts; the
first :class:`Post` is the thread's opening message.

Everything a member writes (titles, posts) may carry PHI until a moderator
has read it, so it is encrypted at rest, source and rendered HTML alike,
like review comments. Posts are screened before they are saved
(``core.screening``, destination ``community_post``) and held in the shared
moderation queue (``core.moderation``) when screening says so.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path, re_path
from wagtail.fields import RichTextField
from wagtail.models import Page
from wagtail.search import index

from portal_social.core.crypto import EncryptedTextField
from portal_social.core.models import StoredFile

#: A handle: 3 to 30 letters, digits, dots, dashes or underscores, starting with a letter or digit.
HANDLE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{2,29}$"
TITLE_MAX_LENGTH = 150


#: Paths under /community/ that are pages of their own, so no community may take them as its slug.
RESERVED_SLUGS = frozenset({"name", "new", "p", "people", "search", "spaces", "t"})


def _not_reserved(value: str) -> None:
    if value in RESERVED_SLUGS:
        raise ValidationError(_("This address is used by the community pages. Choose another slug."))


class Community(models.Model):
    """A discussion group, set up by staff: a patient community, or a clinician space.

    A **space** (``kind="space"``) is private to its active members who hold
    ``use_clinician_spaces`` (clinicians and care-team staff): it never shows to
    anyone else, community moderators and superusers included. One marked for
    case discussion (``phi_permitted``) lets its members write about patients:
    screening warns instead of refusing, each reading of a thread is recorded as
    a PHI read, and nothing of it may be quoted anywhere else.
    """

    class Kind(models.TextChoices):
        COMMUNITY = "community", _("Patient community")
        SPACE = "space", _("Clinician space")

    class Visibility(models.TextChoices):
        PUBLIC = "public", _("Public: anyone reads, members post")
        MEMBERS = "members", _("Portal members only")
        PRIVATE = "private", _("Private: members only, by invitation or approved request")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=120, unique=True)
    slug = models.SlugField(
        _("slug"),
        max_length=120,
        unique=True,
        validators=[_not_reserved],
        help_text=_("The community's address: /community/<slug>/."),
    )
    description = models.TextField(_("description"), max_length=1000, blank=True)
    guidelines = models.TextField(
        _("guidelines"), max_length=4000, blank=True, help_text=_("What members agree to before they post.")
    )
    visibility = models.CharField(
        _("visibility"), max_length=10, choices=Visibility.choices, default=Visibility.MEMBERS
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.COMMUNITY, db_index=True)
    phi_permitted = models.BooleanField(
        _("case discussion (patient details permitted)"),
        default=False,
        help_text=_(
            "Clinician spaces only: members may discuss patients. Every reading of a thread is recorded, "
            "and nothing written here can be quoted elsewhere."
        ),
    )
    retention_days = models.PositiveIntegerField(
        _("keep threads for (days)"),
        null=True,
        blank=True,
        help_text=_(
            "Clinician spaces only: a thread whose last post is older than this is deleted, with its posts. "
            "Empty: threads are kept."
        ),
    )
    member_groups = models.ManyToManyField(
        "auth.Group",
        blank=True,
        related_name="+",
        verbose_name=_("department groups"),
        help_text=_(
            "Clinician spaces only: clinicians and care-team staff in these groups belong to the space while "
            "they are in one of them (manage.py portal_social_space_groups)."
        ),
    )
    review_every_post = models.BooleanField(
        _("review every post"), default=False, help_text=_("Every post waits for a moderator before it appears.")
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    #: Slow mode: a member waits this many seconds between posts here (0: off). Who set it and why, below.
    slow_mode_seconds = models.PositiveIntegerField(_("slow mode (seconds between posts)"), default=0)
    slow_mode_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    #: The moderator's reason; it may name a member or a post, so it is encrypted.
    slow_mode_reason = EncryptedTextField(max_length=300, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("community")
        verbose_name_plural = _("communities")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if self.kind == self.Kind.SPACE:
            # Members only, whatever the form said: the access rules read the kind, and this keeps any
            # code that reads only the visibility from listing a space.
            self.visibility = self.Visibility.PRIVATE
            self.review_every_post = False  # nothing of a space goes to the patient communities' queue
        else:
            self.phi_permitted = False
            self.retention_days = None
        super().save(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        if self.phi_permitted and self.kind != self.Kind.SPACE:
            raise ValidationError({"phi_permitted": _("Only a clinician space can be marked for case discussion.")})

    @property
    def is_space(self) -> bool:
        return self.kind == self.Kind.SPACE


class CommunityProfile(models.Model):
    """How a person appears in every community: a handle of their choosing, and their trust level."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="community_profile")
    handle = models.CharField(
        _("community name"),
        max_length=30,
        validators=[RegexValidator(HANDLE_PATTERN)],
        help_text=_("3 to 30 letters, digits, dots, dashes or underscores. Others see this, not your name."),
    )
    #: 0 (new) to 3 (trusted): what a member may do without a moderator reading it first.
    trust_level = models.PositiveSmallIntegerField(default=0)
    #: Set by a moderator: automatic promotion leaves this member's level alone.
    trust_level_locked = models.BooleanField(default=False)
    #: Published posts and posts read, kept by the actions so trust and member cards never count rows.
    post_count = models.PositiveIntegerField(default=0)
    posts_read = models.PositiveIntegerField(default=0)
    #: Days on which the member read or wrote something in a community, and the last of them.
    days_visited = models.PositiveIntegerField(default=0)
    last_visited_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(Lower("handle"), name="ps_community_handle_unique_ci")]

    def __str__(self) -> str:
        return self.handle


class Membership(models.Model):
    """A person's place in one community."""

    class Role(models.TextChoices):
        MEMBER = "member", _("Member")
        MENTOR = "mentor", _("Mentor")
        #: Moderates this community only (the portal role ``community_moderator`` moderates every one).
        MODERATOR = "moderator", _("Moderator")
        #: A clinician space's owner: moderates it, and names other owners.
        OWNER = "owner", _("Owner")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Member")
        REQUESTED = "requested", _("Asked to join")
        LEFT = "left", _("Left")

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="community_memberships")

    class Notify(models.TextChoices):
        IMMEDIATELY = "immediately", _("Tell me at once")
        DAILY = "daily", _("A daily digest")
        OFF = "off", _("Off")

    class Source(models.TextChoices):
        #: Added by a person (an owner, a moderator, the command that opened the space) or joined.
        PERSONAL = "personal", _("Added")
        #: A clinician space's member through one of its department groups (``Community.member_groups``).
        GROUP = "group", _("Department group")

    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.PERSONAL)
    joined_at = models.DateTimeField(default=timezone.now)
    #: Following the community: how the member hears of new threads in it ("off": not following).
    notifications = models.CharField(max_length=12, choices=Notify.choices, default=Notify.OFF)
    #: A mentor (or moderator) welcomed this member: who, and when.
    welcomed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    welcomed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["community", "user"], name="ps_one_membership_each")]
        indexes = [models.Index(fields=["user", "status"], name="ps_membership_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.community_id}"


class Thread(models.Model):
    """A conversation in a community: a title and its posts, the first of which opens it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="threads")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    #: As written; may hold PHI until its opening post is approved, so encrypted like the posts.
    title = EncryptedTextField(max_length=TITLE_MAX_LENGTH)
    created_at = models.DateTimeField(default=timezone.now)
    last_post_at = models.DateTimeField(default=timezone.now, db_index=True)
    #: Published replies, kept by the post actions so lists never count rows.
    reply_count = models.PositiveIntegerField(default=0)
    #: Shown to readers: its opening post is published.
    visible = models.BooleanField(default=False)
    pinned = models.BooleanField(default=False)
    locked = models.BooleanField(default=False)
    #: An announcement (clinician spaces): posted by the space's owners or moderators, pinned, and every
    #: member is told of it, whatever they chose for new threads.
    announcement = models.BooleanField(default=False, editable=False)
    #: The reply the author or a moderator chose as the answer: the thread is solved.
    solved_post = models.ForeignKey(
        "Post", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    solved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    solved_at = models.DateTimeField(null=True, blank=True, editable=False)
    #: Slow mode for this thread (0: the community's), who set it and why (encrypted, like the community's).
    slow_mode_seconds = models.PositiveIntegerField(default=0)
    slow_mode_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    slow_mode_reason = EncryptedTextField(max_length=300, blank=True, editable=False)
    #: In a case-discussion space: the patient the case is about, as the author gave it (an MRN). Each
    #: reading of the thread is recorded naming that patient where the portal knows them.
    patient_reference = EncryptedTextField(max_length=40, blank=True)

    class Urgency(models.TextChoices):
        ROUTINE = "routine", _("Routine")
        SOON = "soon", _("Soon (this week)")
        URGENT = "urgent", _("Urgent (today)")

    #: A referral request (clinician spaces): the specialty asked, how soon, who answers it, and when it was
    #: answered. An ordinary thread has no specialty.
    referral_specialty = models.ForeignKey(
        "portal_social.Specialty", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    referral_urgency = models.CharField(max_length=10, choices=Urgency.choices, blank=True)
    referral_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    referral_answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["community", "visible", "-pinned", "-last_post_at"], name="ps_thread_list_idx")]

    def __str__(self) -> str:
        return f"Thread {self.pk}"

    @property
    def is_referral(self) -> bool:
        return self.referral_specialty_id is not None


class PostQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Post.Status.PUBLISHED)


class Post(models.Model):
    """One message in a thread."""

    class Status(models.TextChoices):
        PUBLISHED = "published", _("Published")
        HELD = "held", _("Waiting for a moderator")
        REJECTED = "rejected", _("Not published")
        DELETED = "deleted", _("Deleted")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="posts")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    is_opening = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.HELD)
    #: Why it is held, as codes and PHI kinds (never the text): ``[{"code": "phi", "kinds": ["email"]}]``.
    hold_reasons = models.JSONField(default=list, blank=True)
    #: What screening marked for moderators without holding (a flagged word), as codes.
    marks = models.JSONField(default=list, blank=True)
    #: The post as written, for the author and moderators: encrypted at rest.
    body_source = EncryptedTextField()
    #: Rendered, sanitised HTML with any redactions applied: what readers see. Encrypted like the source.
    body_html = EncryptedTextField(editable=False)
    #: Spans of ``body_source`` a moderator hid: ``[{"start", "end", "kind"}]`` (offsets and kinds only).
    redactions = models.JSONField(default=list, blank=True)
    #: A crisis phrase was found: the author was shown crisis resources and moderators were told at once.
    urgent = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    moderated_at = models.DateTimeField(null=True, blank=True)
    #: A moderator's note for the record; it may quote the post, so it is encrypted.
    rejection_reason = EncryptedTextField(max_length=300, blank=True)
    #: One submission, one post: the form's token, unique per author, so a double submit creates nothing.
    submission = models.UUIDField(null=True, blank=True, editable=False)
    #: The post this one quotes, if any (its permalink is in the text; this keeps containment checkable).
    quoted_post = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    #: The last edit; earlier versions are :class:`PostRevision` rows, which moderators can read.
    edited_at = models.DateTimeField(null=True, blank=True, editable=False)
    #: Soft deletion: the row stays (``status`` DELETED) for moderators and the record.
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    #: Written by a caregiver acting with the community scope: the post says so beside the handle.
    by_caregiver = models.BooleanField(default=False, editable=False)

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["thread", "status", "created_at"], name="ps_post_thread_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "submission"], condition=Q(submission__isnull=False), name="ps_post_submitted_once"
            )
        ]

    def __str__(self) -> str:
        return f"Post {self.pk}"


class PostFile(StoredFile):
    """A file shared with a post in a clinician space: checked by content, encrypted on disk under a random
    name, offered only as a download to who may read the post. Patient communities take no files."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="files")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        default_permissions = ()
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Post file {self.pk}"


class PostFlag(models.Model):
    """A member flagged a published post, once per person: the reason is a fixed choice.

    The flagger's own words, if any, go with the moderation queue's reason
    (encrypted there); this row only makes the flag count once.
    """

    class Reason(models.TextChoices):
        OFF_TOPIC = "off_topic", _("Off topic")
        INAPPROPRIATE = "inappropriate", _("Inappropriate or abusive")
        SPAM = "spam", _("Spam or advertising")
        MISINFORMATION = "misinformation", _("Medical misinformation")
        PRIVACY = "privacy", _("Shares someone's personal or health details")
        CARE_COMPLAINT = "care_complaint", _("A complaint about my care")

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="flags")
    flagger = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "flagger"], name="ps_one_flag_each")]

    def __str__(self) -> str:
        return f"Flag on {self.post_id}"


class PostRevision(models.Model):
    """An earlier version of an edited post, kept for moderators: the text as it was, encrypted."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="revisions")
    #: The source as it read before the edit.
    body_source = EncryptedTextField()
    #: Who wrote that version (the author, or a moderator who redacted it).
    edited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["post", "created_at"], name="ps_post_revision_idx")]

    def __str__(self) -> str:
        return f"Revision of {self.post_id}"


class Reaction(models.Model):
    """A member's reaction to a published post, one of each kind per person
    (the kinds come from ``PORTAL_SOCIAL_COMMUNITY_REACTIONS``)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "user", "kind"], name="ps_one_reaction_each")]
        indexes = [models.Index(fields=["post", "kind"], name="ps_reaction_post_idx")]

    def __str__(self) -> str:
        return f"{self.kind} on {self.post_id}"


class Mention(models.Model):
    """A published post mentions a member by handle; they are told once."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="mentions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "user"], name="ps_one_mention_each")]

    def __str__(self) -> str:
        return f"Mention in {self.post_id}"


class ThreadFollow(models.Model):
    """A member follows a thread: they hear of new replies (at their notification frequency)."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="follows")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["thread", "user"], name="ps_one_thread_follow_each")]

    def __str__(self) -> str:
        return f"{self.user_id} follows {self.thread_id}"


class ThreadRead(models.Model):
    """How far a member has read a thread: for trust levels and "new since your last visit"."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    #: Published posts of the thread the member had seen at their last visit.
    posts_seen = models.PositiveIntegerField(default=0)
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["thread", "user"], name="ps_one_thread_read_each")]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.thread_id}"


class Penalty(models.Model):
    """A moderator silenced (read-only) or suspended (no sign-in) a member until ``ends_at``."""

    class Kind(models.TextChoices):
        SILENCE = "silence", _("Silenced: may read, not post")
        SUSPEND = "suspend", _("Suspended: may not sign in")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="community_penalties")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField()
    #: The moderator's reason, shown to the member; it may quote a post, so it is encrypted.
    reason = EncryptedTextField(max_length=500)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    #: Ended early by a moderator.
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-starts_at", "pk"]
        indexes = [models.Index(fields=["user", "kind", "ends_at"], name="ps_penalty_user_idx")]

    def __str__(self) -> str:
        return f"{self.kind} of {self.user_id}"


class MemberBadge(models.Model):
    """A badge a member earned (first post, helpful answer, a year of membership...).

    The kinds and what earns them come from ``PORTAL_SOCIAL_COMMUNITY_BADGES``;
    a badge is earned once per person and shown on their member card.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="community_badges")
    badge = models.CharField(max_length=40)
    awarded_at = models.DateTimeField(default=timezone.now)
    #: The post that earned it, where one did (a helpful answer).
    post = models.ForeignKey(Post, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["awarded_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["user", "badge"], name="ps_one_badge_each")]

    def __str__(self) -> str:
        return f"{self.badge} of {self.user_id}"


class CommunityPage(RoutablePageMixin, Page):
    """A community placed in the site's Wagtail page tree.

    With a ``community`` chosen, the page is that community's home (its
    threads, and the thread pages below it); without one, it lists every
    community the reader may see. Editors write the introduction around it;
    what members write stays in the community's own (encrypted) tables, never
    in page revisions. The same communities also answer at ``/community/``.
    """

    community = models.ForeignKey(
        Community,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="pages",
        limit_choices_to={"kind": "community"},  # a clinician space is never placed in the page tree
        help_text=_("Leave empty to list every community the reader may see."),
    )
    intro = RichTextField(_("introduction"), blank=True, features=["bold", "italic", "link", "ol", "ul"])

    content_panels = Page.content_panels + [FieldPanel("community"), FieldPanel("intro")]
    #: Editors' words only: nothing members write is a field of the page, so none of it is indexed.
    search_fields = Page.search_fields + [index.SearchField("intro")]
    # Allowed under any page. Every address below it belongs to the community (see ``community.tree``).
    subpage_types: list[str] = []
    template = "portal_social/community/community_page.html"

    class Meta:
        verbose_name = _("community page")

    # What the page serves lives in ``portal_social.community.tree``: the community views,
    # called as they are under /community/, with their addresses kept under this page.

    @path("")
    def index_route(self, request, *args, **kwargs):
        from portal_social.community import tree

        return tree.home(self, request)

    @re_path(r"^(?P<rest>.+)$", name="community")
    def community_route(self, request, rest: str):
        from portal_social.community import tree

        return tree.below(self, request, rest)

    def serve_preview(self, request, mode_name):
        from portal_social.community import tree

        return tree.preview(self, request)
