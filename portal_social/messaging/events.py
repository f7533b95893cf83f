"""Messaging audit events, one function each (see ``core.audit_events``).

Details hold ids, sides, topics and counts: never a subject or a message.
Opening a conversation is recorded by the access policy itself (``phi.read``,
naming the patient), on every route that opens one.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from portal_social.core.audit_events import Severity, register

STARTED = register("message.conversation_start", _("Secure conversation started"))
SENT = register("message.send", _("Secure message sent"))
RETRACTED = register("message.retract", _("Secure message retracted by its sender"))
CLOSED = register("message.conversation_close", _("Secure conversation closed"))
REOPENED = register("message.conversation_reopen", _("Secure conversation reopened by a new message"))
CLAIMED = register("message.conversation_assign", _("Secure conversation claimed or assigned"))
CONFIDENTIAL = register("message.conversation_confidential", _("Secure conversation confidentiality changed"))
POOL = register("message.pool", _("Care-team pool set up, changed or removed"), Severity.NOTICE)
POOL_MEMBERS = register("message.pool_member", _("Care-team pool membership changed"), Severity.NOTICE)
POOL_PATIENTS = register("message.pool_patient", _("Patient linked to or unlinked from a care-team pool"))
OUT_OF_OFFICE = register("message.out_of_office", _("Out of office set or ended"))
ESCALATED = register("message.escalate", _("Unanswered secure message escalated to the pool lead"))
INBOX_LISTED = register("message.inbox_list", _("Care-team inbox listed (patients and subjects shown)"))
FILED = register("message.file_to_record", _("Secure conversation filed to the medical record"), Severity.NOTICE)


def conversation_event(event_type, *, actor, conversation, request=None, details: dict[str, Any] | None = None):
    """The conversation is the object; its patient is the patient."""
    return event_type.record(
        actor=actor,
        target=conversation,
        patient=conversation.patient_id,
        request=request,
        details={"pool": str(conversation.pool_id), **(details or {})},
    )


def message_event(event_type, *, actor, message, request=None, details: dict[str, Any] | None = None):
    return event_type.record(
        actor=actor,
        target=message,
        patient=message.conversation.patient_id,
        request=request,
        details={"conversation": str(message.conversation_id), "side": message.side, **(details or {})},
    )
