"""The write paths of feedback and service recovery (see ARCHITECTURE.md, rule 1).

Every function checks permission, validates, writes in one transaction with
its timeline line and audit event, and defers notices and live updates until
commit.
"""

from portal_social.feedback.actions._common import CASES_STREAM, FeedbackDenied
from portal_social.feedback.actions.classify import classify_case
from portal_social.feedback.actions.intake import (
    PORTAL_TYPES,
    STAFF_CHANNELS,
    case_from_content,
    record_case,
    submit_feedback,
)
from portal_social.feedback.actions.integrations import receive_item
from portal_social.feedback.actions.letters import (
    mark_letter_sent,
    render_letter,
    response_templates_for,
    template_refusal,
    usable_response_template,
    write_grievance_response,
)
from portal_social.feedback.actions.working import (
    TRANSITIONS,
    acknowledge_case,
    add_note,
    answer_survey,
    assign_case,
    bulk_assign,
    change_status,
    flag_medical_risk,
    log_public_reply,
    record_recovery,
    resolve_case,
)

__all__ = [
    "CASES_STREAM",
    "PORTAL_TYPES",
    "STAFF_CHANNELS",
    "TRANSITIONS",
    "FeedbackDenied",
    "acknowledge_case",
    "add_note",
    "answer_survey",
    "assign_case",
    "bulk_assign",
    "case_from_content",
    "change_status",
    "classify_case",
    "flag_medical_risk",
    "log_public_reply",
    "mark_letter_sent",
    "receive_item",
    "record_case",
    "record_recovery",
    "render_letter",
    "resolve_case",
    "response_templates_for",
    "submit_feedback",
    "template_refusal",
    "usable_response_template",
    "write_grievance_response",
]
