"""A case's timeline in words for staff: each event's codes turned into the labels people read."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from portal_social.feedback.models import Case, CaseEvent, RecoveryAction

_CLOCKS = {"first_reply": "First public reply", "acknowledge": "Acknowledge", "resolve": "Resolve"}
_RESULTS = {"reached": "reached", "no_answer": "no answer", "left_message": "left a message"}


@dataclass(frozen=True)
class Line:
    event: CaseEvent
    label: str
    text: str


def _label(choices, value) -> str:
    return str(dict(choices).get(value, value))


def describe(event: CaseEvent) -> str:
    """What happened, from the event's codes (never from anyone's words: those are in ``event.note``)."""
    d = event.details or {}
    parts = []
    if "to" in d:
        parts.append(f"{_label(Case.Status.choices, d.get('from'))} → {_label(Case.Status.choices, d['to'])}")
    if d.get("outcome"):
        parts.append(_("outcome: %(outcome)s") % {"outcome": _label(Case.Outcome.choices, d["outcome"])})
    if d.get("clock"):
        parts.append(_(_CLOCKS.get(d["clock"], d["clock"])))
    if d.get("recovery"):
        parts.append(_label(RecoveryAction.Kind.choices, d["recovery"]))
    if d.get("method"):
        parts.append(f"{_label(Case.ContactMethod.choices, d['method'])}: {_(_RESULTS.get(d.get('result'), ''))}")
    if d.get("letter"):
        parts.append(_("written response sent") if d["letter"] == "sent" else _("written response saved"))
    if d.get("changed"):
        parts.append(", ".join(str(part) for part in d["changed"]))
    if d.get("channel") and event.kind == CaseEvent.Kind.RECEIVED:
        parts.append(_label(Case.Channel.choices, d["channel"]))
    if d.get("source") and event.kind == CaseEvent.Kind.RISK:
        parts.append(
            {"category": _("by category"), "screening": _("found in the words"), "staff": _("by staff")}.get(
                d["source"], d["source"]
            )
        )
    if d.get("score"):
        parts.append(_("answered %(score)s of 5") % {"score": d["score"]})
    return "; ".join(parts)


def lines(events) -> list[Line]:
    return [Line(event, event.get_kind_display(), describe(event)) for event in events]
