"""What the feedback actions share: the refusal, references, the timeline, clocks, routing, live updates."""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from portal_social.conf import app_settings
from portal_social.core import access, notify, realtime, text
from portal_social.core.errors import Denied
from portal_social.feedback import events, rules, sla
from portal_social.feedback import notifications as _notifications  # noqa: F401  (registers the templates)
from portal_social.feedback.models import Case, CaseCounter, CaseEvent
from portal_social.feedback.routing import route

logger = logging.getLogger("portal_social.feedback")

#: The PX workspace follows one stream: a case arrived or changed (ids and codes only).
CASES_STREAM = "feedback.cases"
realtime.register_stream(CASES_STREAM, permission=rules.WORK)


class FeedbackDenied(Denied):
    default_message = gettext_lazy("You cannot do this to this case.")
    code = "feedback_denied"


def signed_in(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def require_work(actor, case: Case) -> None:
    """404 for a case ``actor`` may not even see; ``FeedbackDenied`` for one they see but may not work."""
    if not signed_in(actor) or not access.can(actor, "view_summary", case):
        raise access.NotFound()
    if not access.can(actor, "work", case):
        raise FeedbackDenied()


def locked(case: Case) -> Case:
    """``case`` read again under a row lock (inside the action's transaction)."""
    return Case.objects.select_for_update(of=("self",)).select_related("team").get(pk=case.pk)


def next_reference(now: datetime.datetime) -> str:
    """``PX-<year>-<number>``: numbers count up per year, one at a time, under a row lock."""
    year = timezone.localtime(now).year
    CaseCounter.objects.get_or_create(year=year)
    counter = CaseCounter.objects.select_for_update().get(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{app_settings.FEEDBACK_REFERENCE_PREFIX}-{year}-{counter.last:06d}"


def clean_text(value: Any, *, field: str, required: bool, max_length: int) -> tuple[str, str]:
    """(source, rendered HTML) for a person's words; a clear ``ValidationError`` otherwise."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError({field: gettext("Enter text.")}, code="invalid")
    source = text.stripped(text.normalise(value))
    if required and not source:
        raise ValidationError({field: gettext("This field is required.")}, code="required")
    if len(source) > max_length:
        raise ValidationError(
            {field: gettext("Keep this under %(limit)s characters.") % {"limit": f"{max_length:,}"}}, code="too_long"
        )
    return source, (text.render(source) if source else "")


def log(case: Case, kind: str, *, actor=None, details: dict | None = None, note: str = "", at=None) -> CaseEvent:
    """Add a line to the case's timeline."""
    return CaseEvent.objects.create(
        case=case,
        kind=kind,
        actor=actor if signed_in(actor) else None,
        details=details or {},
        note=note,
        at=at or timezone.now(),
    )


def publish(case: Case, change: str) -> None:
    """Tell open workspaces that ``case`` arrived or changed (after commit; its id and a code only)."""
    realtime.publish_to_stream(CASES_STREAM, None, {"kind": "case", "case": str(case.pk), "change": change})


def set_deadlines(case: Case, *, now: datetime.datetime | None = None) -> list[str]:
    """Compute the clocks' deadlines from the policy, pauses and calendar; returns the fields changed."""
    due = sla.compute(case, now=now)
    changed = [name for name, value in due.items() if getattr(case, name) != value]
    for name in changed:
        setattr(case, name, due[name])
    return changed


def queue_deadline_check(case: Case) -> None:
    """After commit: a deferred check at the next deadline (the sweep covers a lost task)."""
    from portal_social.feedback import tasks

    tasks.queue_check(case)


def assign(case: Case, *, team, owner_id, actor=None, rule=None, reason: str, request=None) -> None:
    """Set the team and owner (saved by the caller), with a timeline line, an audit event and a notice."""
    previous = case.owner_id
    case.team = team
    case.owner_id = owner_id
    if rule is not None or reason in ("risk", "fallback", "none"):
        case.routed_by = rule
    details = {
        "team": str(team.pk) if team else None,
        "owner": owner_id,
        "previous_owner": previous,
        "reason": reason,
    }
    log(case, CaseEvent.Kind.ROUTED if actor is None else CaseEvent.Kind.ASSIGNED, actor=actor, details=details)
    events.case_event(events.ROUTED, actor=actor, case=case, request=request, details=details)
    if owner_id is not None and owner_id != previous and (actor is None or owner_id != actor.pk):
        from django.contrib.auth import get_user_model

        owner = get_user_model().objects.filter(pk=owner_id, is_active=True).first()
        if owner is not None:
            notify.notify(owner, "feedback.assigned", params={"case": case.pk})


def route_case(case: Case, *, category_ids: set[int] | None = None, request=None) -> None:
    """Route ``case`` by the rules (no actor: the system did it)."""
    found = route(case, category_ids)
    assign(case, team=found.team, owner_id=found.owner_id, rule=found.rule, reason=found.reason, request=request)


def tell_risk_team(case: Case) -> None:
    """Every member of the risk-management team (or every risk manager without one) hears of ``case``."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(is_active=True)
    if case.team is not None and case.team.risk_management:
        members = users.filter(px_team_memberships__team=case.team)
    else:
        members = users.filter(groups__permissions__codename="receive_escalations").distinct()
    notify.notify_many(members, "feedback.risk", params={"case": case.pk})


__all__ = [
    "CASES_STREAM",
    "FeedbackDenied",
    "assign",
    "clean_text",
    "locked",
    "log",
    "next_reference",
    "publish",
    "queue_deadline_check",
    "require_work",
    "route_case",
    "rules",
    "set_deadlines",
    "signed_in",
    "tell_risk_team",
    "transaction",
]
