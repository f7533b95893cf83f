"""Working a case: status changes (with pauses), assignment, notes, contact attempts, recovery, risk, reopening."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from portal_social.core import access, notify
from portal_social.core.errors import refusal
from portal_social.feedback import events, sla
from portal_social.feedback.actions._common import (
    FeedbackDenied,
    assign,
    clean_text,
    locked,
    log,
    publish,
    queue_deadline_check,
    require_work,
    rules,
    set_deadlines,
    signed_in,
    tell_risk_team,
)
from portal_social.feedback.models import Case, CaseEvent, CasePause, RecoveryAction, TeamMember
from portal_social.feedback.routing import pick_owner, risk_team

S = Case.Status
#: Where each status may go next. Resolving needs an outcome; closing follows resolving (or
#: dismisses a new case, such as a duplicate); a resolved or closed case may be reopened.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.NEW: (S.ACKNOWLEDGED, S.INVESTIGATING, S.AWAITING_PATIENT, S.RESOLVED, S.CLOSED),
    S.ACKNOWLEDGED: (S.INVESTIGATING, S.AWAITING_PATIENT, S.RESOLVED),
    S.INVESTIGATING: (S.AWAITING_PATIENT, S.RESOLVED),
    S.AWAITING_PATIENT: (S.INVESTIGATING, S.RESOLVED),
    S.RESOLVED: (S.CLOSED, S.INVESTIGATING),
    S.CLOSED: (S.INVESTIGATING,),
}
NOTE_MAX_LENGTH = 5000


def _why_not(current: str, wanted: str) -> str:
    labels = dict(S.choices)
    if current == wanted:
        return gettext("The case is already %(status)s.") % {"status": labels[current].lower()}
    if wanted == S.CLOSED and current != S.NEW:
        return gettext("Resolve the case, with its outcome, before closing it.")
    if wanted in (S.ACKNOWLEDGED, S.NEW):
        return gettext("Only a new case can be acknowledged.")
    if current in (S.RESOLVED, S.CLOSED) and wanted != S.INVESTIGATING:
        return gettext("Reopen the case first.")
    return gettext("A case that is %(current)s cannot become %(wanted)s.") % {
        "current": labels[current].lower(),
        "wanted": labels[wanted].lower(),
    }


def change_status(*, actor, case: Case, status: str, outcome: str = "", note: str = "", request=None) -> Case:
    """Move ``case`` to ``status``; an invalid move raises ``ValidationError`` saying why.

    Leaving "new" acknowledges the case (meets the acknowledge clock).
    "Awaiting patient" pauses every clock; leaving it moves the deadlines on
    by the time paused. Resolving needs an ``outcome`` and sends the
    submitter the satisfaction survey. Reopening restarts the resolve clock.
    """
    require_work(actor, case)
    if status not in S.values:
        raise ValidationError({"status": gettext("Choose a status from the list.")}, code="invalid_choice")
    note_source, _ = clean_text(note, field="note", required=False, max_length=NOTE_MAX_LENGTH)
    now = timezone.now()
    with transaction.atomic():
        case = locked(case)
        current = case.status
        if status not in TRANSITIONS[current]:
            raise refusal(_why_not(current, status), "invalid_transition")
        if status == S.RESOLVED:
            if outcome not in Case.Outcome.values:
                raise ValidationError({"outcome": gettext("Choose the outcome before resolving.")}, code="required")
            case.outcome = outcome
        if current == S.NEW and case.acknowledged_at is None:
            case.acknowledged_at = now
        if current == S.AWAITING_PATIENT:
            CasePause.objects.filter(case=case, ended_at__isnull=True).update(ended_at=now)
            case.paused_since = None
        if status == S.AWAITING_PATIENT:
            CasePause.objects.create(case=case, started_at=now)
            case.paused_since = now
        reopening = current in (S.RESOLVED, S.CLOSED)
        if reopening:
            _reopen(case, now)
        if status == S.RESOLVED:
            case.resolved_at = now
        if status == S.CLOSED:
            case.closed_at = now
            if current == S.NEW:
                case.outcome = case.outcome or Case.Outcome.NOT_ACTIONABLE
        case.status = status
        if reopening:
            case.resolve_started_at = now  # the full resolve time again, from now
        if current == S.AWAITING_PATIENT or reopening:
            set_deadlines(case, now=now)
        case.save()
        details = {"from": current, "to": status}
        if outcome and status == S.RESOLVED:
            details["outcome"] = outcome
        log(case, CaseEvent.Kind.STATUS, actor=actor, details=details, note=note_source)
        events.case_event(events.STATUS, actor=actor, case=case, request=request, details=details)
        _tell_submitter(case, current, status, now)
        publish(case, "status")
        queue_deadline_check(case)
    return case


def _reopen(case: Case, now) -> None:
    case.resolved_at = None
    case.closed_at = None
    case.outcome = ""
    case.breaches = [code for code in case.breaches if code != sla.RESOLVE]


def _tell_submitter(case: Case, current: str, status: str, now) -> None:
    if not case.shared_with_submitter or case.submitted_by_id is None:
        return
    recipient = case.submitted_by
    if current == S.NEW and status != S.CLOSED:
        notify.notify(recipient, "feedback.acknowledged", params={"case": case.pk})
    if status == S.RESOLVED and case.survey_sent_at is None:
        notify.notify(recipient, "feedback.resolved", params={"case": case.pk})
        case.survey_sent_at = now
        Case.objects.filter(pk=case.pk).update(survey_sent_at=now)
        log(case, CaseEvent.Kind.SURVEY, details={})


def acknowledge_case(*, actor, case: Case, note: str = "", request=None) -> Case:
    return change_status(actor=actor, case=case, status=S.ACKNOWLEDGED, note=note, request=request)


def resolve_case(*, actor, case: Case, outcome: str, note: str = "", request=None) -> Case:
    return change_status(actor=actor, case=case, status=S.RESOLVED, outcome=outcome, note=note, request=request)


def assign_case(*, actor, case: Case, owner=None, team=None, request=None) -> Case:
    """Give ``case`` to ``owner`` (a member of the case's team, or of ``team``); None: back to the team queue."""
    require_work(actor, case)
    with transaction.atomic():
        case = locked(case)
        target_team = team or case.team
        if target_team is None:
            raise ValidationError({"team": gettext("Choose a team first.")}, code="required")
        if case.medical_risk and not target_team.risk_management:
            raise refusal(gettext("A medical-risk case stays with risk management."), "risk_team_only")
        if (
            owner is not None
            and not TeamMember.objects.filter(team=target_team, user=owner, user__is_active=True).exists()
        ):
            raise ValidationError({"owner": gettext("Choose someone in the case's team.")}, code="not_member")
        if owner is not None and case.medical_risk and not rules.is_risk(owner):
            raise ValidationError(
                {"owner": gettext("Only a risk manager can own a medical-risk case.")}, code="not_risk"
            )
        if owner is not None and owner.pk == case.owner_id and target_team.pk == case.team_id:
            return case
        assign(
            case, team=target_team, owner_id=owner.pk if owner else None, actor=actor, reason="manual", request=request
        )
        set_deadlines(case)
        case.save()
        publish(case, "assigned")
        queue_deadline_check(case)
    return case


def bulk_assign(*, actor, cases, owner, request=None) -> int:
    """Assign each of ``cases`` to ``owner``; returns how many changed. Each case is its own decision."""
    changed = 0
    for case in cases:
        before = case.owner_id
        done = assign_case(actor=actor, case=case, owner=owner, request=request)
        changed += int(done.owner_id != before)
    return changed


def add_note(*, actor, case: Case, note: str, contact: str = "", request=None) -> CaseEvent:
    """An internal note, or (``contact`` = a method code and "reached"/"no_answer") a logged contact attempt."""
    require_work(actor, case)
    source, _ = clean_text(note, field="note", required=not contact, max_length=NOTE_MAX_LENGTH)
    details: dict = {}
    kind = CaseEvent.Kind.NOTE
    if contact:
        method, _sep, result = contact.partition(":")
        if method not in Case.ContactMethod.values or result not in ("reached", "no_answer", "left_message"):
            raise ValidationError({"contact": gettext("Choose how you tried to reach them, and what happened.")})
        kind, details = CaseEvent.Kind.CONTACT, {"method": method, "result": result}
    with transaction.atomic():
        case = locked(case)
        event = log(case, kind, actor=actor, details=details, note=source)
        events.case_event(events.NOTE, actor=actor, case=case, request=request, details={"kind": kind, **details})
        publish(case, kind)
    return event


def record_recovery(*, actor, case: Case, kind: str, note: str = "", request=None) -> RecoveryAction:
    """An apology, a bill review, a follow-up call, a gift: what was done to put things right."""
    require_work(actor, case)
    if kind not in RecoveryAction.Kind.values:
        raise ValidationError({"kind": gettext("Choose what was done.")}, code="invalid_choice")
    source, _ = clean_text(note, field="note", required=False, max_length=NOTE_MAX_LENGTH)
    with transaction.atomic():
        case = locked(case)
        action = RecoveryAction.objects.create(case=case, kind=kind, by=actor)
        log(case, CaseEvent.Kind.RECOVERY, actor=actor, details={"recovery": kind}, note=source)
        events.case_event(events.RECOVERY, actor=actor, case=case, request=request, details={"recovery": kind})
        publish(case, "recovery")
    return action


def log_public_reply(*, actor, case: Case, request=None) -> Case:
    """The public reply (to a post or review) was made: meets the first-reply clock."""
    require_work(actor, case)
    with transaction.atomic():
        case = locked(case)
        if case.first_replied_at is not None:
            raise refusal(gettext("The first public reply is already recorded."), "already_replied")
        case.first_replied_at = timezone.now()
        case.save(update_fields=["first_replied_at"])
        log(case, CaseEvent.Kind.PUBLIC_REPLY, actor=actor)
        events.case_event(events.STATUS, actor=actor, case=case, request=request, details={"public_reply": True})
        publish(case, "public_reply")
    return case


def flag_medical_risk(*, actor, case: Case, request=None) -> Case:
    """Staff send a case to risk management: it moves to the risk team, and other PX staff lose its details."""
    if not signed_in(actor) or not access.can(actor, "view_summary", case):
        raise access.NotFound()
    if not access.can(actor, "flag_risk", case):
        raise FeedbackDenied(gettext("This case is already with risk management."))
    with transaction.atomic():
        case = locked(case)
        if case.medical_risk:
            raise refusal(gettext("This case is already with risk management."), "already_risk")
        case.medical_risk, case.risk_source = True, "staff"
        case.priority = max(case.priority, Case.Priority.HIGH)
        log(case, CaseEvent.Kind.RISK, actor=actor, details={"source": "staff"})
        events.case_event(events.RISK, actor=actor, case=case, request=request, details={"source": "staff"})
        team = risk_team()
        if team is not None:
            assign(case, team=team, owner_id=pick_owner(team, case), reason="risk", request=request)
        else:
            case.owner = None
        set_deadlines(case)
        case.save()
        tell_risk_team(case)
        publish(case, "risk")
        queue_deadline_check(case)
    return case


def answer_survey(*, user, case: Case, score, request=None) -> Case:
    """The submitter's one answer to "How well did we put things right?" (1-5)."""
    if not signed_in(user) or not rules.is_submitter(user, case):
        raise access.NotFound()
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        raise ValidationError({"score": gettext("Choose from 1 to 5.")}, code="invalid")
    with transaction.atomic():
        case = locked(case)
        if case.survey_sent_at is None:
            raise refusal(gettext("We will ask once your feedback has been looked into."), "not_yet")
        if case.survey_score is not None:
            raise refusal(gettext("Thank you: you already answered."), "already_answered")
        case.survey_score = score
        case.save(update_fields=["survey_score"])
        log(case, CaseEvent.Kind.SURVEY, actor=user, details={"score": score})
    return case
