"""What the messaging actions share: streams, the refusal, topics, reply times, input checks."""

from __future__ import annotations

import datetime
import uuid
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from portal_social.conf import app_settings
from portal_social.core import access, calendar, files, realtime, text
from portal_social.core.errors import Denied
from portal_social.messaging import notifications as _notifications  # noqa: F401  (registers the templates)
from portal_social.messaging import rules
from portal_social.messaging.models import (
    Attachment,
    CarePool,
    Conversation,
    Message,
    OutOfOffice,
)

if TYPE_CHECKING:
    pass

#: Readers of a conversation follow its stream: a new message, a retraction, a read receipt.

CONVERSATION_STREAM = "messaging.conversation"
#: A pool's members follow its inbox: a conversation started, answered, claimed or closed.
POOL_STREAM = "messaging.pool"
realtime.register_stream(CONVERSATION_STREAM, Conversation, action="view")
realtime.register_stream(POOL_STREAM, CarePool, action="view_inbox")


class MessagingDenied(Denied):
    default_message = gettext_lazy("You cannot send this message.")
    code = "messaging_denied"


@access.rule(CarePool, "view_inbox")
def _member_sees_inbox(user, pool) -> bool:
    return pool.pk in rules.pool_ids(user)


def topics() -> dict[str, Any]:
    """The topic keys and labels of ``PORTAL_SOCIAL_MESSAGING_TOPICS``, in order."""
    return dict(app_settings.MESSAGING_TOPICS)


def topic_label(key: str) -> str:
    return str(topics().get(key, gettext("Other")))


# Response times ----------------------------------------------------------------------------------


def reply_due(pool: CarePool, sent_at: datetime.datetime) -> datetime.datetime:
    """When a reply to a patient's message sent at ``sent_at`` is due: the close of business on the
    pool's ``response_days``-th business day, on the pool's calendar (``core.calendar``)."""
    return calendar.business_day_deadline(sent_at, pool.response_days, pool.calendar)


def away(user_id, at: datetime.datetime | None = None) -> OutOfOffice | None:
    """The out-of-office period running for ``user_id`` now (or at ``at``), if any."""
    if user_id is None:
        return None
    at = at or timezone.now()
    return (
        OutOfOffice.objects.filter(user_id=user_id, starts_at__lte=at, ends_at__gt=at)
        .select_related("delegate")
        .order_by("-ends_at")
        .first()
    )


def _seen_or_404(actor, conversation: Conversation) -> None:
    """``access.NotFound`` (404) unless ``actor`` may see ``conversation``.

    A write is recorded by its own audit event; this asks without recording a read as well (the page
    that shows the conversation records that).
    """
    if not access.can(actor, "view", conversation):
        raise access.NotFound()


# Writing -----------------------------------------------------------------------------------------


def _clean_body(body: Any) -> tuple[str, str]:
    if not isinstance(body, str):
        raise ValidationError({"body": gettext("Write your message.")}, code="required")
    source = text.normalise(body)
    if text.is_blank(source):
        raise ValidationError({"body": gettext("Write your message.")}, code="required")
    try:
        rendered = text.render(source)
    except text.TextTooLong as exc:
        raise ValidationError({"body": exc.messages}, code="too_long") from None
    return source, rendered


def screened_text(body: str, subject: str = "") -> str:
    """What urgency screening reads of a message: its body, and for a conversation's first message its
    subject too ("Chest pain since this morning" with a body of "see subject")."""
    return "\n\n".join(part for part in (subject, body) if part)


def _source_or_none(body: Any) -> str | None:
    """What :func:`_clean_body` would keep of ``body``, or None when it would refuse it."""
    return text.normalise(body) if isinstance(body, str) else None


def _clean_submission(value: Any) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value)) if value and len(str(value)) <= 36 else None
    except ValueError:
        return None


def _attach(message: Message, checked: list[files.CheckedFile], stored: list[str]) -> None:
    """Store each checked file encrypted and record it on ``message`` (``stored`` collects the names, so a
    write that does not commit removes them)."""
    for file in checked:
        name = files.store(file, f"messages/{message.conversation_id.hex[:2]}")
        stored.append(name)
        Attachment.objects.create(
            message=message, file=name, filename=file.filename, content_type=file.content_type, size=file.size
        )


def _check_attachments(attachments=(), attachment=None) -> list[files.CheckedFile]:
    """The files sent with a message, checked together (``core.files.check_uploads``): ``attachments`` is a
    sequence of uploads, ``attachment`` one more (the one-file form of the actions' API)."""
    uploads = [upload for upload in (*(attachments or ()), attachment) if upload is not None]
    if not uploads:
        return []
    if not files.allowed_types():
        raise ValidationError({"attachment": [gettext("Files cannot be sent with messages here.")]}, code="off")
    return files.check_uploads(uploads)
