"""A clinician's own profile changes, sent through Wagtail's approval workflow."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction

from portal_social.core import access, audit_events, text, user_text
from portal_social.profiles.actions._common import signed_in
from portal_social.profiles.actions.refusals import ProfileChangesDenied
from portal_social.profiles.models import ClinicianPage

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

__all__ = [
    "BIO_MAX_LENGTH",
    "PRONOUNS_MAX_LENGTH",
    "PROFILE_TEXT_FIELDS",
    "defer_workflow_submission_emails",
    "submit_profile_changes",
]

#: The longest biography and pronouns a clinician may write (the form shows the same limits).
BIO_MAX_LENGTH = 5000
PRONOUNS_MAX_LENGTH = 40
#: The free-text fields a clinician writes, each a registered ``ClinicianPage`` field of the same name.
PROFILE_TEXT_FIELDS = ("pronouns", "bio")


_workflow_emails_deferred = False


def _deferring(notifier):
    """``notifier`` run once the surrounding transaction commits (at once outside one)."""

    def deferred(sender=None, **kwargs):
        transaction.on_commit(lambda: notifier(sender=sender, **kwargs), robust=True)

    deferred.__wrapped__ = notifier
    return deferred


def defer_workflow_submission_emails() -> None:
    """Send Wagtail's "submitted for approval" emails after commit, never from a rolled-back submission.

    Wagtail sends them from inside ``Workflow.start``; this swaps its two
    receivers (same ``dispatch_uid``) for ones that wait for the commit.
    Idempotent; call it once Wagtail's admin app is ready.
    """
    global _workflow_emails_deferred
    if _workflow_emails_deferred:
        return
    from wagtail.admin import signal_handlers
    from wagtail.models import TaskState, WorkflowState
    from wagtail.signals import task_submitted, workflow_submitted

    for signal, sender, uid, notifier in (
        (
            workflow_submitted,
            WorkflowState,
            "workflow_state_submitted_email_notification",
            signal_handlers.workflow_submission_email_notifier,
        ),
        (
            task_submitted,
            TaskState,
            "group_approval_task_submitted_email_notification",
            signal_handlers.task_submission_email_notifier,
        ),
    ):
        signal.disconnect(sender=sender, dispatch_uid=uid)
        signal.connect(_deferring(notifier), sender=sender, dispatch_uid=uid, weak=False)
    _workflow_emails_deferred = True


def _bio_html(bio: str) -> str:
    """The biography as the page's rich text: rendered once by ``core.text`` (Markdown, sanitised)."""
    try:
        return text.render(bio) if bio else ""
    except text.TextTooLong as exc:
        raise ValidationError({"bio": exc.messages}) from None


def submit_profile_changes(
    *, clinician_user: AbstractBaseUser, page: ClinicianPage, data: dict, request: HttpRequest | None = None
):
    """Save ``data`` as a new draft revision of ``page`` and submit it to the approval workflow.

    Nothing reaches the public page until an approver approves the draft in
    the Wagtail admin. A submission still waiting is replaced by this one.

    Preconditions: ``access.can(clinician_user, "edit_profile", page)`` —
    the account linked to the page, holding the clinician role — else
    ``ProfileChangesDenied`` (views answer 404, as for a missing page);
    ``pronouns`` (up to 40 characters) and ``bio`` (up to 5,000) pass the
    ``public_profile`` screen of ``core.user_text`` (PHI, and any particular
    patient) — else ``ValidationError`` by field, naming only the kind found.
    ``data`` also holds ``accepting_new_patients``, ``telehealth``,
    ``languages`` and ``conditions``. The biography is rendered by
    ``core.text``. Writes ``profile.submit_changes``; Wagtail's emails to
    approvers go after commit. Returns the revision.
    """
    if not signed_in(clinician_user) or not access.can(clinician_user, "edit_profile", page):
        raise ProfileChangesDenied()
    pronouns = text.clean_plain(
        data.get("pronouns", ""), field="pronouns", required=False, max_length=PRONOUNS_MAX_LENGTH
    )
    bio = text.clean_plain(data.get("bio", ""), field="bio", required=False, max_length=BIO_MAX_LENGTH)
    # The same public_profile screen the form runs, here too: the action is the gate, the form a courtesy.
    user_text.validate(ClinicianPage, {"pronouns": pronouns, "bio": bio})
    bio_html = _bio_html(bio)
    defer_workflow_submission_emails()
    with transaction.atomic():
        draft = page.get_latest_revision_as_object()
        draft.pronouns = pronouns
        draft.bio = bio_html
        draft.accepting_new_patients = bool(data.get("accepting_new_patients"))
        draft.telehealth = bool(data.get("telehealth"))
        draft.languages = list(data.get("languages") or ())
        draft.conditions = list(data.get("conditions") or ())
        revision = draft.save_revision(user=clinician_user, log_action=True)
        state = page.current_workflow_state
        if state is not None:
            state.cancel(user=clinician_user)
        workflow = page.get_workflow()
        if workflow is not None:
            workflow.start(page, clinician_user)
        audit_events.profile_changes_submitted(
            actor=clinician_user,
            page=page,
            request=request,
            details={"revision": revision.pk, "workflow": workflow is not None},
        )
    return revision
