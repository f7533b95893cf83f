"""Feedback audit events, one function each (see ``core.audit_events``).

Details hold ids, codes and counts: never a description, a contact detail or
a note. Opening a case is recorded by the access policy itself (``phi.read``).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from portal_social.core.audit_events import Severity, register

RECEIVED = register("feedback.case_receive", _("Feedback case received"))
ROUTED = register("feedback.case_route", _("Feedback case routed or assigned"))
STATUS = register("feedback.case_status", _("Feedback case status changed"))
NOTE = register("feedback.case_note", _("Note or contact attempt added to a feedback case"))
RECOVERY = register("feedback.case_recovery", _("Service-recovery action recorded"))
CLASSIFIED = register("feedback.case_classify", _("Feedback case classified"))
RISK = register("feedback.case_risk", _("Feedback case flagged as medical risk"), Severity.NOTICE)
BREACH = register("feedback.case_breach", _("Feedback case missed an SLA deadline"), Severity.NOTICE)
QUEUE_LISTED = register("feedback.queue_list", _("Feedback queue listed (patients shown)"))
LOCATION_ALERT = register("feedback.location_alert", _("On-site feedback: the site's on-duty contact alerted"))
LETTER = register("feedback.case_letter", _("Grievance written response written or sent"))
TIPS_READ = register("feedback.tips_read", _("Feedback tip sheet opened (anonymised quotes shown)"))
SETUP = register("feedback.setup", _("Feedback teams, categories, routing or templates changed"), Severity.NOTICE)
KEY_ISSUED = register("feedback.intake_key_issue", _("Intake API key issued"), Severity.NOTICE)
KEY_REVOKED = register("feedback.intake_key_revoke", _("Intake API key revoked"), Severity.NOTICE)


def case_event(event_type, *, actor, case, request=None, details: dict[str, Any] | None = None):
    """The case is the object; its patient (when known) is the patient."""
    return event_type.record(
        actor=actor,
        target=case,
        patient=case.patient_id,
        request=request,
        details={"reference": case.reference, **(details or {})},
    )
