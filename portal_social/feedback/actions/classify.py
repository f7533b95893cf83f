"""Classifying a case again: its type, severity, categories, site, service line and clinicians.

Staff turn a complaint into a **grievance** here: a complaint that could not
be resolved on the spot, that came in writing, or where the person asks for
a formal response (42 CFR 482.13(a)(2)). A grievance gets a written response
(``actions.letters``) and its own clocks (by default 7 calendar days to
resolve). Changing the type or severity recomputes the deadlines; a new
category marked "medical risk" sends the case to risk management.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from portal_social.feedback import events
from portal_social.feedback.actions._common import (
    assign,
    locked,
    log,
    publish,
    queue_deadline_check,
    require_work,
    set_deadlines,
    tell_risk_team,
)
from portal_social.feedback.actions.intake import _categories, _choice
from portal_social.feedback.models import Case, CaseEvent, Severity
from portal_social.feedback.routing import pick_owner, risk_team
from portal_social.profiles.actions import lock_clinicians


def _clinician_ids(values) -> list[int]:
    from portal_social.profiles.models import ClinicianPage

    ids = []
    for value in values:
        try:
            ids.append(int(getattr(value, "pk", value)))
        except (TypeError, ValueError):
            raise ValidationError({"clinicians": gettext("Choose clinicians from the list.")}, code="invalid") from None
    if ClinicianPage.objects.filter(pk__in=ids).count() != len(set(ids)):
        raise ValidationError({"clinicians": gettext("Choose clinicians from the list.")}, code="invalid")
    return sorted(set(ids))


def classify_case(
    *,
    actor,
    case: Case,
    type: str | None = None,
    severity: str | None = None,
    categories=None,
    site=None,
    service_line=None,
    clinicians=None,
    request=None,
) -> Case:
    """Change how ``case`` is classified; ``None`` leaves a part as it is.

    ``categories`` and ``clinicians`` replace the current ones (an empty list
    clears them). A new type or severity recomputes the clocks from when the
    case was received; a category marked medical risk moves the case to risk
    management, after which other PX staff no longer read it. The timeline
    and the audit log record what changed (codes and ids only).
    """
    require_work(actor, case)
    if type is not None:
        type = _choice(type, Case.Type.values, "type", gettext("Choose what kind of feedback this is."))
    if severity is not None:
        severity = _choice(severity, Severity.values, "severity", gettext("Choose a severity."))
    category_rows = _categories(categories) if categories is not None else None
    clinician_ids = _clinician_ids(clinicians) if clinicians is not None else None
    with transaction.atomic():
        lock_clinicians(clinician_ids)
        case = locked(case)
        changed: dict = {}
        if type is not None and type != case.type:
            changed["type"] = [case.type, type]
            case.type = type
        if severity is not None and severity != case.severity:
            changed["severity"] = [case.severity, severity]
            case.severity = severity
        if site is not None and site.pk != case.site_id:
            changed["site"] = [case.site_id, site.pk]
            case.site = site
        if service_line is not None and service_line.pk != case.service_line_id:
            changed["service_line"] = [case.service_line_id, service_line.pk]
            case.service_line = service_line
        if category_rows is not None:
            before = sorted(case.categories.values_list("pk", flat=True))
            after = sorted(c.pk for c in category_rows)
            if before != after:
                changed["categories"] = [before, after]
                case.categories.set(category_rows)
        if clinician_ids is not None:
            before = sorted(case.clinicians.values_list("pk", flat=True))
            if before != clinician_ids:
                changed["clinicians"] = [before, clinician_ids]
                case.clinicians.set(clinician_ids)
        if not changed:
            return case
        log(case, CaseEvent.Kind.CLASSIFIED, actor=actor, details={"changed": changed})
        events.case_event(events.CLASSIFIED, actor=actor, case=case, request=request, details={"changed": changed})
        now_risk = category_rows is not None and not case.medical_risk and any(c.medical_risk for c in category_rows)
        if now_risk:
            case.medical_risk, case.risk_source = True, "category"
            case.priority = max(case.priority, Case.Priority.HIGH)
            log(case, CaseEvent.Kind.RISK, actor=actor, details={"source": "category"})
            events.case_event(events.RISK, actor=actor, case=case, request=request, details={"source": "category"})
            team = risk_team()
            if team is not None:
                assign(case, team=team, owner_id=pick_owner(team, case), reason="risk", request=request)
            else:
                case.owner = None
        if "type" in changed or "severity" in changed or now_risk:
            set_deadlines(case)
        case.save()
        if now_risk:
            tell_risk_team(case)
        publish(case, "classified")
        queue_deadline_check(case)
    return case


__all__ = ["classify_case"]
