"""Secure messaging's write path: start, send, retract, read, close, claim, confidentiality.

Each action checks permission (raising :class:`MessagingDenied`, or
``access.NotFound`` for a conversation the actor may not see), validates,
writes in one transaction with its audit event, and defers what leaves the
database (live updates, notifications) until the commit: a message is
committed before anyone is told of it, and a channel-layer outage delays a
live update but never loses a message (house rule 6).
"""

from portal_social.messaging.actions._common import (
    CONVERSATION_STREAM,
    POOL_STREAM,
    MessagingDenied,
    away,
    reply_due,
    screened_text,
    topic_label,
    topics,
)
from portal_social.messaging.actions.absences import MAX_ABSENCE, end_out_of_office, set_out_of_office
from portal_social.messaging.actions.conversations import (
    assign_conversation,
    close_conversation,
    mark_read,
    set_confidential,
    typing,
    unread_conversations,
    unread_count,
)
from portal_social.messaging.actions.pools import _recheck_member, _remember_member  # noqa: F401  (connects the signals)
from portal_social.messaging.actions.record import file_to_record, transcript
from portal_social.messaging.actions.writing import (
    may_write_for,
    patients_for_sender,
    pools_for,
    retract_message,
    send_message,
    start_conversation,
)

__all__ = [
    "CONVERSATION_STREAM",
    "MAX_ABSENCE",
    "POOL_STREAM",
    "MessagingDenied",
    "assign_conversation",
    "away",
    "close_conversation",
    "end_out_of_office",
    "file_to_record",
    "mark_read",
    "may_write_for",
    "patients_for_sender",
    "pools_for",
    "reply_due",
    "retract_message",
    "screened_text",
    "send_message",
    "set_confidential",
    "set_out_of_office",
    "start_conversation",
    "topic_label",
    "topics",
    "transcript",
    "typing",
    "unread_conversations",
    "unread_count",
]
