"""Written responses: a grievance's letter (42 CFR 482.13(a)(2)), and the public-response templates.

**Grievance letters.** A grievance gets a written response that names a
person to contact, the steps taken to investigate, the results and the date
the work was completed. Staff write those four parts
(:func:`write_grievance_response`); :func:`render_letter` fills them, with the
case's reference, the patient's name, the date received and the
organisation's name, into a ``LetterTemplate`` (the one chosen, else the one
marked default, else :data:`DEFAULT_LETTER`). Placeholders are replaced by a
plain lookup, never ``str.format``: ``{case.patient.password}`` or
``{0.__class__}`` in a template stays as written, and what staff wrote is
never read as a placeholder.

**Public-response templates.** A ``ResponseTemplate`` is published as the
organisation speaking, so it passes ``core.screening`` at the
``staff_public_reply`` destination (personal or health details, any name,
date or wording that confirms care, watched words) before it is saved
(:func:`template_refusal`), and again each time it is shown
(:func:`response_templates_for`), since the watched words may have changed.
"""

from __future__ import annotations

import datetime
import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext

from portal_social.conf import app_settings
from portal_social.core import phi, screening, text, user_text
from portal_social.core.errors import refusal
from portal_social.feedback import events
from portal_social.feedback.actions._common import clean_text, locked, log, publish, require_work
from portal_social.feedback.models import Case, CaseEvent, GrievanceResponse, LetterTemplate, ResponseTemplate

CONTACT_MAX_LENGTH = 200
PART_MAX_LENGTH = 5000

#: Every placeholder a letter template may use.
PLACEHOLDERS = (
    "reference",
    "patient_name",
    "received_on",
    "contact_person",
    "steps",
    "results",
    "completed_on",
    "organisation",
)
#: What 42 CFR 482.13(a)(2) asks every written response to say.
REQUIRED_PLACEHOLDERS = ("contact_person", "steps", "results", "completed_on")

#: The wording used when no letter template is chosen or marked default.
DEFAULT_LETTER = """{organisation}

Our reference: {reference}

Dear {patient_name},

Thank you for telling us about your concerns, which we received on {received_on}. We handled them as a \
grievance, and this letter is our written response.

What we did to look into your grievance:
{steps}

What we found, and what we are doing about it:
{results}

We completed our investigation on {completed_on}.

If you have any questions about this letter, or you are not satisfied with our response, please contact \
{contact_person}, quoting the reference above. You also have the right to contact your state's health \
department or the Quality Improvement Organization for your area, whether or not you have used our process.

Yours sincerely,

Patient Experience
{organisation}
"""

#: ``{{`` and ``}}`` (a literal brace), or ``{name}`` with a name of letters and underscores only.
_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_]{1,40})\}")


def fill(template: str, values: dict[str, str]) -> str:
    """``template`` with each ``{name}`` in ``values`` replaced, in one pass.

    Like ``str.format_map`` with a mapping that leaves unknown names as they
    are, but nothing is evaluated: no attribute or index access, no
    conversion or format spec (``{0.__class__}``, ``{steps!r}``,
    ``{steps:>99999}`` stay as written), and a value is never read again as a
    template. ``{{`` and ``}}`` write a single brace.
    """

    def one(match: re.Match) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        return values.get(match.group(1), token)

    return _TOKEN.sub(one, template)


def placeholders_in(template: str) -> set[str]:
    """The ``{name}`` placeholders ``template`` uses."""
    return {m.group(1) for m in _TOKEN.finditer(template) if m.group(1)}


def _braced(names) -> str:
    return ", ".join("{" + name + "}" for name in names)


def letter_template_problems(body: str) -> list[str]:
    """Why a letter template cannot be used: unknown placeholders, or a part the rule requires missing."""
    found = placeholders_in(body or "")
    problems = []
    unknown = sorted(found - set(PLACEHOLDERS))
    if unknown:
        problems.append(
            gettext("Unknown placeholders: %(names)s. Use only %(known)s.")
            % {"names": _braced(unknown), "known": _braced(PLACEHOLDERS)}
        )
    missing = [name for name in REQUIRED_PLACEHOLDERS if name not in found]
    if missing:
        problems.append(gettext("A grievance's written response must give %(names)s.") % {"names": _braced(missing)})
    return problems


def _date(value: datetime.date) -> str:
    return formats.date_format(value, "j F Y")


def letter_template_for(response: GrievanceResponse | None) -> str:
    """The wording to use: the template chosen, else the one marked default, else :data:`DEFAULT_LETTER`."""
    chosen = response.template if response is not None and response.template_id else None
    chosen = chosen or LetterTemplate.objects.filter(default=True).order_by("name").first()
    return chosen.body if chosen is not None else DEFAULT_LETTER


def render_letter(case: Case, response: GrievanceResponse | None = None) -> str:
    """The grievance's written response as plain text, every placeholder filled.

    ``response`` defaults to the case's saved one; without one the letter cannot be written yet.
    """
    from portal_social.adapter import get_adapter

    if response is None:
        response = GrievanceResponse.objects.filter(case=case).select_related("template").first()
    if response is None:
        raise refusal(gettext("Write the response first."), "no_response")
    patient = case.patient
    values = {
        "reference": case.reference,
        "patient_name": (get_adapter().patient_label(patient) if patient is not None else "") or gettext("the patient"),
        "received_on": _date(timezone.localdate(case.received_at)),
        "contact_person": response.contact_person,
        "steps": response.steps,
        "results": response.results,
        "completed_on": _date(response.completed_on),
        "organisation": str(app_settings.ORGANISATION_NAME),
    }
    return fill(letter_template_for(response), values)


def _not_grievance() -> ValidationError:
    return refusal(
        gettext("Only a grievance gets a written response. Classify the case as a grievance first."),
        "not_grievance",
    )


def _date_error(message: str, code: str) -> ValidationError:
    return ValidationError({"completed_on": [ValidationError(message, code=code)]})


def _completed_on(value, case: Case) -> datetime.date:
    if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
        raise _date_error(gettext("Enter the date the work was completed."), "required")
    if value < timezone.localdate(case.received_at):
        raise _date_error(gettext("This cannot be before the grievance was received."), "before_received")
    if value > timezone.localdate():
        raise _date_error(gettext("This cannot be in the future."), "future")
    return value


def write_grievance_response(
    *, actor, case: Case, contact_person, steps, results, completed_on, template=None, request=None
) -> GrievanceResponse:
    """Write (or rewrite) a grievance's written response: who to contact, the steps taken, the results,
    the date completed, and optionally the ``LetterTemplate`` to word it with.

    Only for a case of type grievance (else a refusal, code ``"not_grievance"``);
    ``ValidationError`` naming the field for a missing part or a completion
    date before the grievance was received or in the future. The timeline
    and the audit log record that it was written, never what it says.
    Writing it does not resolve the case: that stays a status change.
    """
    require_work(actor, case)
    if case.type != Case.Type.GRIEVANCE:
        raise _not_grievance()
    contact, _html = clean_text(contact_person, field="contact_person", required=True, max_length=CONTACT_MAX_LENGTH)
    contact = " ".join(contact.split())
    steps_source, _html = clean_text(steps, field="steps", required=True, max_length=PART_MAX_LENGTH)
    results_source, _html = clean_text(results, field="results", required=True, max_length=PART_MAX_LENGTH)
    completed = _completed_on(completed_on, case)
    if template is not None and not isinstance(template, LetterTemplate):
        raise ValidationError({"template": gettext("Choose a letter from the list.")}, code="invalid")
    with transaction.atomic():
        case = locked(case)
        if case.type != Case.Type.GRIEVANCE:
            raise _not_grievance()
        response, created = GrievanceResponse.objects.update_or_create(
            case=case,
            defaults={
                "contact_person": contact,
                "steps": steps_source,
                "results": results_source,
                "completed_on": completed,
                "template": template,
                "written_by": actor,
            },
        )
        details = {"letter": "written" if created else "updated", "template": template.pk if template else None}
        log(case, CaseEvent.Kind.LETTER, actor=actor, details=details)
        events.case_event(events.LETTER, actor=actor, case=case, request=request, details=details)
        publish(case, "letter")
    return response


def mark_letter_sent(*, actor, case: Case, request=None) -> GrievanceResponse:
    """Record that the written response was sent to the person (the date is shown on the case).

    The case is not resolved by this: resolving stays a status change, with its outcome.
    """
    require_work(actor, case)
    with transaction.atomic():
        case = locked(case)
        response = GrievanceResponse.objects.select_for_update().filter(case=case).first()
        if case.type != Case.Type.GRIEVANCE:
            raise _not_grievance()
        if response is None:
            raise refusal(gettext("Write the response first."), "no_response")
        if response.sent_at is not None:
            raise refusal(gettext("The letter is already recorded as sent."), "already_sent")
        response.sent_at = timezone.now()
        response.save(update_fields=["sent_at"])
        details = {"letter": "sent"}
        log(case, CaseEvent.Kind.LETTER, actor=actor, details=details)
        events.case_event(events.LETTER, actor=actor, case=case, request=request, details=details)
        publish(case, "letter")
    return response


# --------------------------------------------------------------------------- public-response templates


def template_refusal(body: str) -> str | None:
    """Why ``body`` cannot be a public reply (naming the kinds found, never the text), or None.

    The ``staff_public_reply`` screen of ``core.screening``: PHI, any name,
    date or wording that confirms care, and watched words held or blocked there.
    """
    source = text.stripped(text.normalise(body or ""))
    if not source:
        return None
    result = screening.screen(source, destination=screening.policy.STAFF_PUBLIC_REPLY)
    if not result.held:
        return None
    held = (screening.policy.OUTCOME_HOLD, screening.policy.OUTCOME_BLOCK)
    kinds = (screening.policy.PHI, screening.policy.DISCLOSURE)
    found = [f for f in result.findings if f.kind in kinds and f.outcome in held]
    if found:
        worded = user_text.Screening(
            user_text.destination_of(ResponseTemplate, "body"),
            shown=[phi.Finding(f.detail, 0, 0, "") for f in found],
        )
        return worded.message()
    return gettext("Replies are public, so they cannot include language that our policy does not allow.")


def response_templates_for(case: Case) -> list[dict]:
    """The active templates for ``case``'s channel (a public social-media post or a review), each screened again now:
    ``{"template", "body", "refused"}``, where ``body`` is empty when ``refused`` says why not."""
    use = {Case.Channel.SOCIAL: ResponseTemplate.Use.SOCIAL, Case.Channel.REVIEW: ResponseTemplate.Use.REVIEW}.get(
        case.channel
    )
    if use is None or case.handle_discreetly:
        return []  # a private post is followed up privately, never answered on the platform
    shown = []
    for template in ResponseTemplate.objects.filter(active=True, use=use).order_by("name"):
        refused = template_refusal(template.body)
        shown.append({"template": template, "body": "" if refused else template.body, "refused": refused or ""})
    return shown


def usable_response_template(template: ResponseTemplate) -> str:
    """The text of ``template`` if it may be used now; ``ValidationError`` saying why not otherwise."""
    if not template.active:
        raise refusal(gettext("This template is not in use."), "inactive")
    refused = template_refusal(template.body)
    if refused:
        raise ValidationError({"body": [refused]}, code="phi")
    return template.body


__all__ = [
    "DEFAULT_LETTER",
    "PLACEHOLDERS",
    "REQUIRED_PLACEHOLDERS",
    "fill",
    "letter_template_for",
    "letter_template_problems",
    "mark_letter_sent",
    "placeholders_in",
    "render_letter",
    "response_templates_for",
    "template_refusal",
    "usable_response_template",
    "write_grievance_response",
]
