"""One register of every text field people write, and the screening each gets.

Every ``CharField``/``TextField`` (rich text and stream fields included) of
every portal_social model is in exactly one of two lists here:

* **registered** with a *destination* — where its text goes and so what the
  PHI screen does with it (:data:`DESTINATIONS`): a review comment is held
  for a moderator, a public profile or a staff reply is refused, a
  moderator's note or a record that is itself PHI is stored as written;
* **declared not user-written**, with a one-line reason (a status the code
  sets, rendered HTML, an editor's page field, an audit hash).

``tests/core/test_user_text.py`` walks every concrete model of the app and
fails for a field in neither list, so a new field cannot reach a page
unscreened by being forgotten. A feature adds its fields to
:func:`_declare` below.

Forms and actions screen through :func:`screen_form`, :func:`validate` and
:func:`screen`; the PHI scanner reads the text as a reader sees it (see
``core.phi``), and for a destination rendered from Markdown the rendered
text is screened as well, so character references ("&#53;") and Markdown
("555\\-867\\-5309") cannot disguise an identifier.

Usage::

    from portal_social.core import user_text

    user_text.validate(ClinicianPage, {"pronouns": value})  # ValidationError when refused
    result = user_text.screen(comment, destination="review_comment")
    if result.held: ...

This register is the first piece of the shared screening step
(``core.screening``): destinations, and the fields that feed them.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils.html import strip_tags
from django.utils.translation import gettext_lazy as _

from portal_social.core import phi, public_reply

if TYPE_CHECKING:
    from django import forms
    from django.db import models
    from django.utils.functional import Promise

__all__ = [
    "DESTINATIONS",
    "Destination",
    "Screening",
    "destination_of",
    "exemption_of",
    "not_user_written",
    "register",
    "screen",
    "screen_field",
    "screen_form",
    "screen_instance",
    "validate",
]

HOLD, REFUSE, ALLOW = "hold", "refuse", "allow"


@dataclass(frozen=True)
class Destination:
    """Where a field's text goes, and what PHI in it means there."""

    name: str
    #: ``"hold"`` for a moderator, ``"refuse"`` with a form error, or ``"allow"`` (stored as written).
    phi: str
    #: Rendered from Markdown by ``core.text.render``: screen the rendered text too.
    markdown: bool
    description: str
    #: The form error for a refusal; ``%(kinds)s`` names what was found, ``%(what)s`` says it in phrases.
    refusal: Promise | str = ""
    #: The stricter rules of ``core.public_reply`` on top of ``phi.scan``: ``"reply"`` (staff
    #: replies: names, dates, care), ``"biography"`` (a particular patient) or ``""`` (none).
    strict: str = ""


DESTINATIONS: dict[str, Destination] = {
    d.name: d
    for d in (
        Destination(
            "review_comment",
            phi=HOLD,
            markdown=True,
            description="A patient's review comment: public once published, so PHI holds it for a moderator.",
        ),
        Destination(
            "public_profile",
            phi=REFUSE,
            markdown=False,
            description="A clinician's public profile (self-service): never holds PHI, never names or "
            "describes a patient.",
            refusal=_(
                "Your profile is public, so it cannot include personal details (found: %(kinds)s). "
                "Do not name or describe a particular patient. "
                "Clinic phone numbers and addresses belong in Locations, which an administrator manages."
            ),
            strict="biography",
        ),
        Destination(
            "staff_public_reply",
            phi=REFUSE,
            markdown=True,
            description="Staff's public reply to a patient: must not disclose or confirm anything about care.",
            refusal=_(
                "Responses are public, so they must not contain personal or health details. Remove %(what)s. "
                "Do not confirm that the writer is a patient; invite them to contact you privately instead."
            ),
            strict="reply",
        ),
        Destination(
            "community_post",
            phi=HOLD,
            markdown=True,
            description="A member's community post or thread title: read by the community, so PHI holds it.",
        ),
        Destination(
            "moderation_note",
            phi=ALLOW,
            markdown=False,
            description="Read by moderators only and encrypted at rest: a report, an appeal, a rejection reason.",
        ),
        Destination(
            "phi_record",
            phi=ALLOW,
            markdown=False,
            description="Part of a patient's record, encrypted and access-audited: PHI is expected.",
        ),
        Destination(
            "message",
            phi=ALLOW,
            markdown=True,
            description="A secure message to the care team: PHI is expected; encrypted at rest.",
        ),
    )
}


# --------------------------------------------------------------------------- the register

_registered: dict[tuple[str, str], Destination] = {}
_exempt: dict[tuple[str, str], str] = {}


def _label(model: type[models.Model] | str) -> str:
    return model if isinstance(model, str) else model._meta.label


def register(model: type[models.Model] | str, field_name: str, *, destination: str) -> None:
    """Declare ``model.field_name`` user-written, headed for ``destination``.

    ``model`` is a model class or its label ("portal_social.Review"); the
    label of the model that *declares* the field (for an inherited field,
    the parent).
    """
    if destination not in DESTINATIONS:
        raise ImproperlyConfigured(f"Unknown text destination {destination!r}; known: {', '.join(DESTINATIONS)}.")
    key = (_label(model), field_name)
    if key in _exempt:
        raise ImproperlyConfigured(f"{key[0]}.{field_name} is already declared not user-written.")
    _registered[key] = DESTINATIONS[destination]


def not_user_written(model: type[models.Model] | str, field_name: str, *, reason: str) -> None:
    """Declare that people never write ``model.field_name`` directly; ``reason`` says who does."""
    key = (_label(model), field_name)
    if key in _registered:
        raise ImproperlyConfigured(f"{key[0]}.{field_name} is already registered as user-written.")
    if not reason.strip():
        raise ImproperlyConfigured(f"Say why {key[0]}.{field_name} is not user-written.")
    _exempt[key] = reason


def _owner(model: type[models.Model] | str, field_name: str) -> str:
    """The label of the model that declares ``field_name`` (a parent page, for an inherited field)."""
    if isinstance(model, str):
        return model
    try:
        return model._meta.get_field(field_name).model._meta.label
    except Exception:  # a field the model does not have: looked up under the model itself
        return model._meta.label


def destination_of(model: type[models.Model] | str, field_name: str) -> Destination | None:
    """The destination registered for a field, or None."""
    return _registered.get((_owner(model, field_name), field_name))


def exemption_of(model: type[models.Model] | str, field_name: str) -> str | None:
    """Why a field is not user-written, or None."""
    return _exempt.get((_owner(model, field_name), field_name))


def registered_fields(model: type[models.Model]) -> list[str]:
    """The names of ``model``'s fields registered as user-written, in field order."""
    return [f.name for f in model._meta.get_fields() if destination_of(model, f.name) is not None]


def entries() -> tuple[dict[tuple[str, str], Destination], dict[tuple[str, str], str]]:
    """Copies of both lists, keyed by (model label, field name): for the coverage test."""
    return dict(_registered), dict(_exempt)


# --------------------------------------------------------------------------- screening


@dataclass(frozen=True)
class Screening:
    """What the screen made of one text at one destination."""

    destination: Destination
    #: Findings in the text as given (offsets into it: for highlighting and redaction).
    findings: list[phi.Finding] = field(default_factory=list)
    #: Findings only the rendered text shows (Markdown destinations), offsets into that text.
    shown: list[phi.Finding] = field(default_factory=list)

    @property
    def kinds(self) -> list[str]:
        """The kinds found, in ``phi.KINDS`` order, then ``public_reply.KINDS``."""
        found = {f.kind for f in (*self.findings, *self.shown)}
        return [kind for kind in (*phi.KINDS, *public_reply.KINDS) if kind in found]

    @property
    def held(self) -> bool:
        """True when this text would be held or refused at its destination."""
        return self.destination.phi != ALLOW and bool(self.findings or self.shown)

    @property
    def refused(self) -> bool:
        """True when the destination refuses this text outright."""
        return self.destination.phi == REFUSE and self.held

    def message(self) -> str:
        """The refusal, naming only the kinds found, never the text."""
        labels = ", ".join(str(phi.LABELS.get(kind) or public_reply.LABELS.get(kind, kind)) for kind in self.kinds)
        phrases = public_reply.describe(self.kinds)
        what = "; ".join(phrases[:-1]) + (_("; and ") if len(phrases) > 1 else "") + phrases[-1] if phrases else ""
        return str(self.destination.refusal or _("This cannot include personal details (found: %(kinds)s).")) % {
            "kinds": labels,
            "what": what,
        }

    @property
    def guidance(self) -> tuple:
        """How to write for this destination instead (staff replies: the public-response steps)."""
        return public_reply.GUIDANCE if self.destination.strict == "reply" and self.held else ()


def screen(value: str, *, destination: str) -> Screening:
    """Screen ``value`` for ``destination`` (a key of :data:`DESTINATIONS`).

    The PHI pass is the screening step's own (``core.screening.phi_pass``):
    the text as written, the destination's stricter rules on it and on its
    reading form, and for Markdown the text a reader sees once rendered.
    """
    from portal_social.core.screening import phi_pass

    target = DESTINATIONS[destination]
    if target.phi == ALLOW or not isinstance(value, str) or not value:
        return Screening(target)
    scanned = phi_pass.scan(value, strict=target.strict, markdown=target.markdown)
    return Screening(target, scanned.findings, scanned.shown)


def _as_text(model_field, value) -> str:
    from wagtail.fields import RichTextField

    if not isinstance(value, str):
        return ""
    if isinstance(model_field, RichTextField):
        return html.unescape(strip_tags(value.replace("</p>", "</p>\n").replace("<br/>", "\n")))
    return value


def screen_field(model: type[models.Model], field_name: str, value) -> Screening:
    """Screen ``value`` as written into ``model.field_name`` (which must be registered)."""
    destination = destination_of(model, field_name)
    if destination is None:
        raise ImproperlyConfigured(
            f"{model._meta.label}.{field_name} is not registered in portal_social.core.user_text."
        )
    try:
        model_field = model._meta.get_field(field_name)
    except Exception:
        model_field = None
    return screen(_as_text(model_field, value), destination=destination.name)


def validate(model: type[models.Model], values: Mapping[str, object]) -> dict[str, Screening]:
    """Screen each ``{field name: value}``; raise ``ValidationError`` keyed by
    field for any a destination refuses. Returns every screening (for holds)."""
    results = {name: screen_field(model, name, value) for name, value in values.items()}
    errors = {name: [result.message()] for name, result in results.items() if result.refused}
    if errors:
        raise ValidationError(errors, code="phi")
    return results


def screen_instance(instance: models.Model) -> dict[str, Screening]:
    """Screen every registered field of ``instance``, by field name."""
    model = type(instance)
    return {name: screen_field(model, name, getattr(instance, name, "")) for name in registered_fields(model)}


def screen_form(
    form: forms.Form, model: type[models.Model], fields: Mapping[str, str] | Iterable[str]
) -> dict[str, Screening]:
    """Screen a validated form's fields that feed ``model``'s registered fields.

    ``fields`` maps form field names to model field names (or lists names
    that are the same in both). A refused field gets a form error; its
    cleaned value is left for the author to fix. Returns the screenings by
    form field name.
    """
    mapping = dict(fields) if isinstance(fields, Mapping) else {name: name for name in fields}
    results = {}
    for form_name, model_name in mapping.items():
        if form_name not in form.cleaned_data:
            continue  # already invalid
        result = screen_field(model, model_name, form.cleaned_data[form_name])
        results[form_name] = result
        if result.refused:
            form.add_error(form_name, ValidationError(result.message(), code="phi"))
    return results


# --------------------------------------------------------------------------- the fields


def _declare() -> None:
    """Every text field of portal_social's models, and what it is."""
    editorial = "editorial: written by editors in the Wagtail admin and published by them; never patient text"
    # Clinician profiles and reviews.
    register("portal_social.Review", "comment_source", destination="review_comment")
    register("portal_social.ReviewResponse", "body_source", destination="staff_public_reply")
    register("portal_social.ClinicianPage", "pronouns", destination="public_profile")
    register("portal_social.ClinicianPage", "bio", destination="public_profile")
    register("portal_social.Review", "rejection_reason", destination="moderation_note")
    register("portal_social.ReviewAppeal", "reason", destination="moderation_note")
    register("portal_social.ReviewReport", "reason", destination="moderation_note")
    not_user_written("portal_social.Review", "status", reason="a choice set by the review actions")
    not_user_written("portal_social.Review", "comment_html", reason="rendered by core.text from comment_source")
    not_user_written("portal_social.ReviewResponse", "body_html", reason="rendered by core.text from body_source")
    not_user_written("portal_social.ReviewRating", "question", reason="a key of PORTAL_SOCIAL_REVIEW_QUESTIONS")
    for name in ("first_name", "last_name", "credentials", "education", "board_certifications"):
        not_user_written("portal_social.ClinicianPage", name, reason=editorial)
    not_user_written("portal_social.ClinicianPage", "npi", reason="a public identifier checked by its Luhn digit")
    not_user_written("portal_social.ClinicianIndexPage", "intro", reason=editorial)
    # Review invitations: the host's visit records, never shown to anyone, and what the cycle decided.
    host = "the host's visit record (adapter or CSV import), never shown on a page"
    for name in ("encounter_id", "service_line", "site", "clinician_npi"):
        not_user_written("portal_social.Visit", name, reason=host)
    for model in ("portal_social.Visit", "portal_social.ReviewInvitation"):
        not_user_written(model, "encounter_digest", reason="a keyed digest of the encounter id")
    for name in ("site", "clinician_npi"):
        not_user_written("portal_social.ReviewInvitation", name, reason="copied from the host's visit record")
    for name in ("status", "not_sent_reason"):
        not_user_written("portal_social.ReviewInvitation", name, reason="a choice set by the invitation actions")
    not_user_written("portal_social.VisitPull", "name", reason="a fixed name")
    not_user_written("portal_social.CommunityPage", "intro", reason=editorial + " (Wagtail rich text)")
    for model in ("portal_social.Specialty", "portal_social.Condition", "portal_social.Language"):
        not_user_written(model, "name", reason=editorial)
        not_user_written(model, "slug", reason="derived from the name for URLs")
    for name in ("name", "address", "phone", "map_url"):
        not_user_written("portal_social.Location", name, reason=editorial + " (a clinic's public details)")
    not_user_written("portal_social.Location", "slug", reason="derived from the name for URLs")
    # Wagtail's own page fields, inherited by the directory pages.
    for name in ("title", "draft_title", "seo_title", "search_description"):
        not_user_written("wagtailcore.Page", name, reason=editorial)
    for name in ("path", "slug", "url_path"):
        not_user_written("wagtailcore.Page", name, reason="Wagtail's page tree position and URL")
    # Access, audit and emergency access.
    register("portal_social.BreakGlassGrant", "reason", destination="phi_record")
    register("portal_social.CaregiverRelation", "relationship", destination="phi_record")
    not_user_written("portal_social.BreakGlassGrant", "target_id", reason="the primary key of the opened object")
    for name in ("actor_label", "action", "severity", "target_type", "target_id", "reason"):
        not_user_written(
            "portal_social.AuditEvent", name, reason="written by core.audit from ids, codes and fixed sentences"
        )
    not_user_written("portal_social.AuditEvent", "user_agent", reason="the request's User-Agent header, for audit")
    for name in ("prev_hash", "hash", "key_id"):
        not_user_written("portal_social.AuditEvent", name, reason="the audit chain's hashes and key id")
    for name in ("last_hash", "key_id", "seal"):
        not_user_written("portal_social.AuditChainHead", name, reason="the audit chain's hashes and key id")
    # Notifications: a template key and counts or declared choices, never text anyone wrote.
    not_user_written("portal_social.Notification", "key", reason="a registered notification template key")
    not_user_written("portal_social.Notification", "status", reason="a choice set by core.notify")
    not_user_written("portal_social.Notification", "last_error", reason="a delivery error's class name, never its text")
    not_user_written("portal_social.NotificationPreference", "frequency", reason="a choice")
    not_user_written("portal_social.RealtimeStream", "key", reason="a keyed hash naming a live-update stream")
    # Communities: members' titles and posts are screened and encrypted; the rest is editorial or a choice.
    register("portal_social.Thread", "title", destination="community_post")
    # A case discussion's patient (an MRN the clinician typed): health information by design, encrypted.
    register("portal_social.Thread", "patient_reference", destination="phi_record")
    not_user_written("portal_social.Community", "kind", reason="a choice: patient community or clinician space")
    not_user_written("portal_social.Thread", "referral_urgency", reason="a choice: routine, soon or urgent")
    register("portal_social.Post", "body_source", destination="community_post")
    register("portal_social.Post", "rejection_reason", destination="moderation_note")
    not_user_written("portal_social.Post", "body_html", reason="rendered by core.text from body_source")
    not_user_written("portal_social.Post", "status", reason="a choice set by the community actions")
    for name in ("name", "slug", "description", "guidelines"):
        not_user_written("portal_social.Community", name, reason=editorial)
    not_user_written("portal_social.Community", "visibility", reason="a choice")
    not_user_written(
        "portal_social.CommunityProfile",
        "handle",
        reason="a public name the member chooses: letters, digits and .-_ only, never an email, number or id",
    )
    for name in ("role", "status", "source"):
        not_user_written("portal_social.Membership", name, reason="a choice set by the community actions")
    not_user_written("portal_social.PostFlag", "reason", reason="a choice")
    register("portal_social.PostRevision", "body_source", destination="community_post")
    register("portal_social.Community", "slow_mode_reason", destination="moderation_note")
    register("portal_social.Thread", "slow_mode_reason", destination="moderation_note")
    register("portal_social.Penalty", "reason", destination="moderation_note")
    not_user_written("portal_social.Membership", "notifications", reason="a choice")
    not_user_written("portal_social.Reaction", "kind", reason="a key of PORTAL_SOCIAL_COMMUNITY_REACTIONS")
    not_user_written("portal_social.MemberBadge", "badge", reason="a key of PORTAL_SOCIAL_COMMUNITY_BADGES")
    not_user_written("portal_social.Penalty", "kind", reason="a choice")
    # Secure messaging: subjects and messages reach the care team as written, encrypted at rest.
    register("portal_social.Conversation", "subject", destination="message")
    register("portal_social.Message", "body_source", destination="message")
    not_user_written("portal_social.Message", "body_html", reason="rendered by core.text from body_source")
    for name in ("name", "slug", "description"):
        not_user_written("portal_social.CarePool", name, reason="a care team's public name, set up by staff")
    not_user_written("portal_social.Conversation", "topic", reason="a key of PORTAL_SOCIAL_MESSAGING_TOPICS")
    not_user_written("portal_social.Conversation", "status", reason="a choice set by the messaging actions")
    not_user_written("portal_social.Message", "side", reason="a choice set by the messaging actions")
    not_user_written("portal_social.ReadState", "side", reason="a choice set by the messaging actions")
    register("portal_social.Attachment", "filename", destination="message")
    not_user_written(
        "portal_social.Conversation", "filed_reference", reason="the record system's reference for a filed document"
    )
    not_user_written("portal_social.Attachment", "content_type", reason="detected from the file's bytes")
    # Files shared in clinician spaces: the name is screened with the post (space rules), encrypted like it.
    register("portal_social.PostFile", "filename", destination="community_post")
    not_user_written("portal_social.PostFile", "content_type", reason="detected from the file's bytes")
    # Feedback cases: what people told the health system, read by its patient-experience staff; encrypted.
    for name in ("summary", "description_source", "contact_details", "post_url", "handle", "how_learned"):
        register("portal_social.Case", name, destination="phi_record")
    not_user_written("portal_social.Case", "description_html", reason="rendered by core.text from description_source")
    register("portal_social.CaseEvent", "note", destination="phi_record")
    register("portal_social.CaseAttachment", "filename", destination="phi_record")
    not_user_written("portal_social.CaseAttachment", "content_type", reason="detected from the file's bytes")
    for name in ("steps", "results"):
        register("portal_social.GrievanceResponse", name, destination="phi_record")
    # A public reply template is published as the organisation speaking: the staff public-reply rules apply.
    register("portal_social.ResponseTemplate", "body", destination="staff_public_reply")
    for model, names, why in (
        ("Team", ("name", "slug"), "a patient-experience team's name, set up by administrators"),
        ("Category", ("name", "slug"), "the feedback taxonomy, set up by administrators"),
        ("ServiceLine", ("name", "slug"), "a service line, set up by administrators"),
        ("RoutingRule", ("name", "min_severity"), "a routing rule, set up by administrators"),
        ("CaseEvent", ("kind",), "a timeline entry's kind, set by the feedback actions"),
        ("RecoveryAction", ("kind",), "a choice"),
        ("IntakeKey", ("name", "source", "prefix", "key_hash"), "an integration's name, and a hash of its key"),
        ("LetterTemplate", ("name", "body"), "editorial: the wording of grievance letters, with placeholders"),
        ("ResponseTemplate", ("name", "use"), "editorial: a public reply template's name and use"),
        ("GrievanceResponse", ("contact_person",), "a staff member's name and work phone"),
    ):
        for name in names:
            not_user_written(f"portal_social.{model}", name, reason=why)
    for name, why in (
        ("reference", "the case reference the feedback actions number (PX-2026-000123)"),
        ("channel", "a choice"),
        ("type", "a choice"),
        ("severity", "a choice"),
        ("contact_method", "a choice"),
        ("platform", "a choice"),
        ("source_type", "the label of the model a case came from"),
        ("source_id", "the primary key of the review or post a case came from"),
        ("source_cause", "a signal's cause code"),
        ("external_source", "an integration's name, set up by administrators"),
        ("external_id", "an integration's own id for the item"),
        ("status", "a choice set by the feedback actions"),
        ("risk_source", "a code: category, screening or staff"),
        ("outcome", "a choice"),
    ):
        not_user_written("portal_social.Case", name, reason=why)
    # The blind search index: keyed hashes of words, never the words (core.search).
    for name, why in (
        ("scope", "a registered search scope"),
        ("object_id", "the primary key of the indexed object"),
        ("part", "a fixed part name or a post's primary key"),
        ("key_id", "a fingerprint of the key the terms are hashed under"),
    ):
        not_user_written("portal_social.SearchTerm", name, reason=why)
    # The moderation queue: registered kinds, ids, codes and choices; a person's note is encrypted.
    register("portal_social.ModerationReason", "note", destination="moderation_note")
    not_user_written("portal_social.ModerationReason", "code", reason="a registered reason code")
    for name, why in (
        ("kind", "a registered moderation kind"),
        ("target_id", "the primary key of the queued content"),
        ("status", "a choice set by core.moderation"),
        ("reviewer_permission", "a registered kind's permission"),
        ("space", "the slug of a community or space, set by the feature that queued the content"),
    ):
        not_user_written("portal_social.ModerationItem", name, reason=why)


_declare()
