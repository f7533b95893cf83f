"""Reviews and clinician profiles, write side: every change goes through a function here.

Each action (house rule 1) checks permission and raises a
``PermissionDenied`` subclass, validates and raises ``ValidationError`` with
messages by field, changes data in one transaction (nothing half-saved),
writes its audit event and its notifications (``core.notify`` rows) in
that transaction, and defers side effects (delivering those notifications,
signals) until it commits.

No action logs, audits or notifies with the text of a comment, a response
or a reason: audit details hold ids, statuses, codes and counts only.

Split by concern: :mod:`.submit` (a patient's review), :mod:`.moderation`
(approve, reject, redact), :mod:`.invitations` (review invitations after a
visit), :mod:`.appeals` (a clinician's appeal and its
decision), :mod:`.responses` (staff responses and reports), :mod:`.profile`
(a clinician's own profile changes), :mod:`.refusals` (why an action says
no). Import from here: ``from portal_social.profiles import actions``.
"""

from portal_social.profiles.actions._common import (
    APPEAL_MAX_LENGTH,
    REASON_MAX_LENGTH,
    lock_clinicians,
    refresh_aggregates,
)
from portal_social.profiles.actions.appeals import appeal_review, resolve_appeal
from portal_social.profiles.actions.invitations import InvitationUnusable, opt_in, opt_out
from portal_social.profiles.actions.moderation import approve_review, redact_review, reject_review
from portal_social.profiles.actions.profile import (
    BIO_MAX_LENGTH,
    PROFILE_TEXT_FIELDS,
    PRONOUNS_MAX_LENGTH,
    defer_workflow_submission_emails,
    submit_profile_changes,
)
from portal_social.profiles.actions.refusals import (
    AppealDenied,
    ModerationDenied,
    ProfileChangesDenied,
    ReportDenied,
    ResponseDenied,
    ReviewNotAllowed,
)
from portal_social.profiles.actions.responses import report_review, respond_to_review
from portal_social.profiles.actions.submit import screen_comment, submit_review

__all__ = [
    "APPEAL_MAX_LENGTH",
    "BIO_MAX_LENGTH",
    "PROFILE_TEXT_FIELDS",
    "PRONOUNS_MAX_LENGTH",
    "REASON_MAX_LENGTH",
    "AppealDenied",
    "InvitationUnusable",
    "ModerationDenied",
    "ProfileChangesDenied",
    "ReportDenied",
    "ResponseDenied",
    "ReviewNotAllowed",
    "appeal_review",
    "approve_review",
    "defer_workflow_submission_emails",
    "lock_clinicians",
    "opt_in",
    "opt_out",
    "redact_review",
    "refresh_aggregates",
    "reject_review",
    "report_review",
    "resolve_appeal",
    "respond_to_review",
    "screen_comment",
    "submit_profile_changes",
    "submit_review",
]
