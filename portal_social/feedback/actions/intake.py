"""How cases arrive: the portal form, staff entry (phone, letter, email, social media), reviews and posts."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from portal_social.core import access, files, notify, ratelimit, screening, submissions
from portal_social.feedback import events
from portal_social.feedback.actions._common import (
    FeedbackDenied,
    clean_text,
    log,
    next_reference,
    publish,
    queue_deadline_check,
    route_case,
    rules,
    set_deadlines,
    signed_in,
    tell_risk_team,
)
from portal_social.feedback.models import (
    DESCRIPTION_MAX_LENGTH,
    SUMMARY_MAX_LENGTH,
    Case,
    CaseAttachment,
    CaseEvent,
    Category,
    Severity,
)
from portal_social.profiles.actions import lock_clinicians

#: What the portal form offers: a patient chooses the kind of feedback; grievances are a staff decision.
PORTAL_TYPES = (Case.Type.COMPLIMENT, Case.Type.COMPLAINT, Case.Type.SUGGESTION, Case.Type.QUESTION)
#: Channels staff enter by hand.
STAFF_CHANNELS = (
    Case.Channel.PHONE,
    Case.Channel.LETTER,
    Case.Channel.EMAIL,
    Case.Channel.IN_PERSON,
    Case.Channel.SOCIAL,
)
CONTACT_MAX_LENGTH = 500
URL_MAX_LENGTH = 500


def _choice(value: Any, choices, field: str, message: str) -> str:
    if not isinstance(value, str) or value not in {str(c) for c in choices}:
        raise ValidationError({field: message}, code="invalid_choice")
    return value


def _categories(values) -> list[Category]:
    ids = []
    for value in values or ():
        try:
            ids.append(int(getattr(value, "pk", value)))
        except (TypeError, ValueError):
            raise ValidationError({"categories": gettext("Choose categories from the list.")}, code="invalid") from None
    found = list(Category.objects.filter(pk__in=ids, active=True))
    if len(found) != len(set(ids)):
        raise ValidationError({"categories": gettext("Choose categories from the list.")}, code="invalid")
    return found


def _risk(case: Case, categories: list[Category], words: str) -> str:
    """Why the case is medical risk ("category", "screening"), or ""."""
    if any(c.medical_risk for c in categories):
        return "category"
    if screening.medical_risk(words):
        return "screening"
    return ""


def number_and_save(case: Case, categories: list[Category], words: str, *, numbered_at) -> str:
    """Give a new case its reference (of ``numbered_at``'s year), mark medical risk, save it with its
    categories. Returns how risk was found ("category", "screening") or ""."""
    case.reference = next_reference(numbered_at)
    risk = _risk(case, categories, words)
    if risk:
        case.medical_risk, case.risk_source = True, risk
        case.priority = max(case.priority, Case.Priority.HIGH)
    case.save()
    if categories:
        case.categories.set(categories)
    return risk


def _open(case: Case, categories: list[Category], *, actor, request, words: str) -> Case:
    """Number, classify for risk, route, set the clocks, and record a new case (inside a transaction)."""
    now = timezone.now()
    case.created_at = now
    risk = number_and_save(case, categories, words, numbered_at=now)
    log(case, CaseEvent.Kind.RECEIVED, actor=actor, details={"channel": case.channel, "type": case.type}, at=now)
    events.case_event(
        events.RECEIVED, actor=actor, case=case, request=request, details={"channel": case.channel, "type": case.type}
    )
    if risk:
        log(case, CaseEvent.Kind.RISK, details={"source": risk})
        events.case_event(events.RISK, actor=None, case=case, request=request, details={"source": risk})
    route_case(case, category_ids={c.pk for c in categories}, request=request)
    set_deadlines(case, now=now)
    case.save()
    if risk:
        tell_risk_team(case)
    publish(case, "received")
    queue_deadline_check(case)
    return case


def submit_feedback(
    *,
    user,
    type: str,
    description: str,
    summary: str = "",
    patient=None,
    anonymous: bool = False,
    contact_requested: bool = False,
    contact_method: str = "",
    contact_details: str = "",
    site=None,
    on_site_now: bool = False,
    past_experience: bool = False,
    categories=(),
    submission: uuid.UUID | None = None,
    request=None,
) -> Case:
    """A patient's (or caregiver's, or a signed-out visitor's) feedback from the portal form.

    ``anonymous`` keeps no link to who sent it (a signed-out visitor is always
    anonymous): the submitter cannot follow it in the portal, and it cannot be
    followed up unless they leave contact details. A caregiver gives feedback
    for ``patient`` only with a current link in the feedback scope.
    """
    is_person = signed_in(user)
    if is_person and not access.holds(user, rules.SUBMIT):
        raise FeedbackDenied(gettext("Your account cannot send feedback here."))
    anonymous = bool(anonymous) or not is_person
    if (
        patient is not None
        and is_person
        and patient.pk != user.pk
        and patient.pk not in rules.proxied_patient_ids(user)
    ):
        raise access.NotFound()
    type = _choice(type, PORTAL_TYPES, "type", gettext("Choose what kind of feedback this is."))
    summary_source, _ = clean_text(summary, field="summary", required=False, max_length=SUMMARY_MAX_LENGTH)
    source, html = clean_text(description, field="description", required=True, max_length=DESCRIPTION_MAX_LENGTH)
    contact_source, _ = clean_text(
        contact_details, field="contact_details", required=False, max_length=CONTACT_MAX_LENGTH
    )
    if contact_requested:
        contact_method = _choice(
            contact_method, Case.ContactMethod.values, "contact_method", gettext("Choose how we should contact you.")
        )
        if anonymous and contact_method == Case.ContactMethod.PORTAL:
            raise ValidationError(
                {"contact_method": gettext("We cannot message you in the portal about anonymous feedback.")},
                code="anonymous_portal",
            )
        if contact_method != Case.ContactMethod.PORTAL and not contact_source:
            raise ValidationError(
                {"contact_details": gettext("Tell us the phone number, email or address to use.")}, code="required"
            )
    else:
        contact_method, contact_source = "", ""
    if on_site_now and site is None:
        raise ValidationError({"site": gettext("Choose the location you are at.")}, code="required")
    category_rows = _categories(categories)
    if not anonymous and submission is not None:
        twin = Case.objects.filter(submitted_by=user, submission=submission).first()
        if twin is not None:
            if (twin.description_source, twin.summary) == (source, summary_source):
                return twin
            submission = None  # submissions.resent_elsewhere
    ratelimit.check("feedback", request=request, user=user if is_person else None)

    subject = None if anonymous else (patient or user)
    sender = user if is_person else None

    def write() -> Case:
        case = Case(
            channel=Case.Channel.PORTAL,
            type=type,
            patient=subject,
            submitted_by=None if anonymous else sender,
            shared_with_submitter=not anonymous,
            summary=summary_source,
            description_source=source,
            description_html=html,
            contact_requested=bool(contact_requested),
            contact_method=contact_method,
            contact_details=contact_source,
            site=site,
            on_site_now=bool(on_site_now),
            past_experience=bool(past_experience),
            severity=Severity.MEDIUM,
            submission=submission if not anonymous else None,
        )
        case = _open(case, category_rows, actor=None if anonymous else sender, request=request, words=source)
        if on_site_now:
            _alert_site(case, request)
        if not anonymous:
            notify.notify(sender, "feedback.received", params={"case": case.pk})
        return case

    def existing() -> Case | None:
        if anonymous or submission is None:
            return None
        return Case.objects.filter(submitted_by=sender, submission=submission).first()

    return submissions.once(write, existing)


def _alert_site(case: Case, request) -> None:
    """Tell the on-duty contacts of teams routing this site's cases that someone is there now."""
    from django.contrib.auth import get_user_model

    where = Q(px_team_memberships__on_duty=True, px_team_memberships__team__rules__site=case.site_id)
    if case.team_id:
        where |= Q(px_team_memberships__on_duty=True, px_team_memberships__team=case.team_id)
    on_duty = get_user_model().objects.filter(where, is_active=True)
    recipients = list(on_duty.distinct())
    notify.notify_many(recipients, "feedback.on_site", params={"case": case.pk})
    case.priority = Case.Priority.URGENT
    Case.objects.filter(pk=case.pk).update(priority=case.priority)
    events.case_event(events.LOCATION_ALERT, actor=None, case=case, request=request, details={"told": len(recipients)})


def record_case(
    *,
    actor,
    channel: str,
    type: str,
    description: str,
    summary: str = "",
    severity: str = Severity.MEDIUM,
    patient=None,
    contact_details: str = "",
    contact_method: str = "",
    site=None,
    service_line=None,
    categories=(),
    clinicians=(),
    past_experience: bool = False,
    received_at=None,
    platform: str = "",
    post_url: str = "",
    handle: str = "",
    post_public: bool | None = None,
    how_learned: str = "",
    medical_risk: bool = False,
    screenshot=None,
    request=None,
) -> Case:
    """Staff enter a case heard by phone, letter, email, in person, or seen on social media.

    A social-media item names the platform and whether the post was public; a
    private one is marked "handle discreetly". ``screenshot`` (an uploaded file,
    such as a picture of the post) is checked by its content and kept encrypted
    with the case (``core.files``); a case that is not saved keeps no file.
    """
    if not signed_in(actor) or not rules.is_staff(actor):
        raise FeedbackDenied()
    channel = _choice(channel, STAFF_CHANNELS, "channel", gettext("Choose how this feedback reached us."))
    type = _choice(type, Case.Type.values, "type", gettext("Choose what kind of feedback this is."))
    severity = _choice(severity, Severity.values, "severity", gettext("Choose a severity."))
    summary_source, _ = clean_text(summary, field="summary", required=False, max_length=SUMMARY_MAX_LENGTH)
    source, html = clean_text(description, field="description", required=True, max_length=DESCRIPTION_MAX_LENGTH)
    contact_source, _ = clean_text(
        contact_details, field="contact_details", required=False, max_length=CONTACT_MAX_LENGTH
    )
    if contact_method:
        contact_method = _choice(
            contact_method, Case.ContactMethod.values, "contact_method", gettext("Choose a method.")
        )
    social: dict[str, Any] = {}
    if channel == Case.Channel.SOCIAL:
        platform = _choice(platform, Case.Platform.values, "platform", gettext("Choose the platform."))
        if post_public is None:
            raise ValidationError(
                {"post_public": gettext("Say whether the post was public or private.")}, code="required"
            )
        url_source, _ = clean_text(post_url, field="post_url", required=False, max_length=URL_MAX_LENGTH)
        if url_source and not url_source.lower().startswith(("https://", "http://")):
            raise ValidationError(
                {"post_url": gettext("Enter the post's web address, starting https://.")}, code="invalid"
            )
        handle_source, _ = clean_text(handle, field="handle", required=False, max_length=120)
        learned, _ = clean_text(how_learned, field="how_learned", required=False, max_length=CONTACT_MAX_LENGTH)
        social = {
            "platform": platform,
            "post_url": url_source,
            "handle": handle_source,
            "post_public": bool(post_public),
            "how_learned": learned,
            "handle_discreetly": not post_public,
        }
    received = received_at or timezone.now()
    if received > timezone.now():
        raise ValidationError({"received_at": gettext("This cannot be in the future.")}, code="future")
    category_rows = _categories(categories)
    checked = files.check_upload(screenshot, field="screenshot") if screenshot else None
    stored: list[str] = []
    try:
        return _record(
            actor,
            checked,
            stored,
            request=request,
            clinicians=clinicians,
            category_rows=category_rows,
            medical_risk=medical_risk,
            fields=dict(
                channel=channel,
                type=type,
                severity=severity,
                patient=patient,
                submitted_by=actor,
                summary=summary_source,
                description_source=source,
                description_html=html,
                contact_requested=bool(contact_source or contact_method),
                contact_method=contact_method,
                contact_details=contact_source,
                site=site,
                service_line=service_line,
                past_experience=bool(past_experience),
                received_at=received,
                **social,
            ),
            words=source,
        )
    except BaseException:
        for name in stored:
            files.remove(name)
        raise


def _record(actor, checked, stored, *, request, clinicians, category_rows, medical_risk, fields, words) -> Case:
    with transaction.atomic():
        lock_clinicians(clinicians)
        case = Case(**fields)
        if medical_risk:
            case.medical_risk, case.risk_source = True, "staff"
        case = _open(case, category_rows, actor=actor, request=request, words=words)
        if clinicians:
            case.clinicians.set(clinicians)
        if checked is not None:
            name = files.store(checked, f"feedback/{case.pk.hex[:2]}")
            stored.append(name)
            CaseAttachment.objects.create(
                case=case,
                file=name,
                filename=checked.filename,
                content_type=checked.content_type,
                size=checked.size,
                added_by=actor,
            )
    return case


def case_from_content(*, model_label: str, target, cause: str, author_id: int | None) -> Case | None:
    """A case for a low or reported review, or a post flagged as a complaint about care (once per item and cause).

    The case links back to the content by model and id; it holds no copy of the
    words (staff read them where they are, under that content's own access rules).
    """
    source_id = str(target.pk)
    existing = Case.objects.filter(source_type=model_label, source_id=source_id, source_cause=cause).first()
    if existing is not None:
        return existing
    channel = Case.Channel.REVIEW if model_label.endswith("review") else Case.Channel.COMMUNITY
    severity = Severity.MEDIUM
    clinician = getattr(target, "clinician", None) if channel == Case.Channel.REVIEW else None
    with transaction.atomic():
        lock_clinicians([clinician] if clinician is not None else [])
        case = Case(
            channel=channel,
            type=Case.Type.COMPLAINT,
            severity=severity,
            patient_id=author_id,
            source_type=model_label,
            source_id=source_id,
            source_cause=cause,
            received_at=timezone.now(),
        )
        words = getattr(target, "comment_source", "") or getattr(target, "body_source", "") or ""
        case = _open(case, [], actor=None, request=None, words=words)
        if clinician is not None:
            case.clinicians.add(clinician)
    return case


__all__ = ["PORTAL_TYPES", "STAFF_CHANNELS", "case_from_content", "record_case", "submit_feedback"]
