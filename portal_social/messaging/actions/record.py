"""Filing a closed conversation to the medical record: a transcript, as text and PDF, through the adapter."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from portal_social.adapter import get_adapter
from portal_social.conf import app_settings
from portal_social.core import access
from portal_social.messaging import events, rules
from portal_social.messaging.models import (
    Conversation,
    Message,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

#: Readers of a conversation follow its stream: a new message, a retraction, a read receipt.
from portal_social.messaging.actions._common import (
    MessagingDenied,
    topic_label,
)

# The record ------------------------------------------------------------------------------------


def transcript(conversation: Conversation) -> str:
    """The conversation as plain text for the medical record: who wrote what, on which side, and when.

    Retracted messages appear as retracted, without their text; attachments by name, type and size.
    """
    from django.utils.formats import date_format

    def name(user) -> str:
        if user is None:
            return gettext("a former account")
        return (user.get_full_name() or user.get_username()).strip()

    def when(moment) -> str:
        return date_format(timezone.localtime(moment), "Y-m-d H:i T") if moment else ""

    lines = [
        gettext("Secure conversation — %(organisation)s") % {"organisation": app_settings.ORGANISATION_NAME},
        gettext("Patient: %(name)s") % {"name": name(conversation.patient)},
        gettext("Care team: %(team)s") % {"team": conversation.pool.name},
        gettext("Topic: %(topic)s") % {"topic": topic_label(conversation.topic)},
        gettext("Subject: %(subject)s") % {"subject": conversation.subject},
        gettext("Started: %(when)s") % {"when": when(conversation.created_at)},
    ]
    if conversation.closed_at:
        lines.append(gettext("Closed: %(when)s") % {"when": when(conversation.closed_at)})
    if conversation.confidential:
        lines.append(gettext("The patient kept this conversation private from their caregivers."))
    lines.append("")
    messages = conversation.messages.select_related("author").prefetch_related("attachments").order_by("seq")
    for message in messages:
        lines.append(f"[{when(message.created_at)}] {name(message.author)} ({message.get_side_display()}):")
        if message.retracted_at:
            lines.append(gettext("(Retracted by the sender at %(when)s.)") % {"when": when(message.retracted_at)})
        else:
            lines.append(message.body_source)
            for attachment in message.attachments.all():
                lines.append(
                    gettext("Attached: %(name)s (%(type)s, %(size)d bytes)")
                    % {"name": attachment.filename, "type": attachment.content_type, "size": attachment.size}
                )
        lines.append("")
    return "\n".join(lines)


def file_to_record(*, actor: AbstractBaseUser, conversation: Conversation, request: HttpRequest | None = None) -> str:
    """Export a closed conversation (text and PDF) through ``PortalAdapter.file_to_record``; returns the reference.

    Care-team members of the conversation only; filing twice returns the first reference.
    """
    from portal_social.core import pdf

    access.require(actor, "view", conversation, request=request)
    if rules.side_of(actor, conversation) != Message.Side.CARE_TEAM:
        raise MessagingDenied(gettext("Only the care team can file a conversation to the record."))
    if conversation.status != Conversation.Status.CLOSED:
        raise MessagingDenied(gettext("Close the conversation before filing it to the record."))
    if conversation.filed_at is not None:
        return conversation.filed_reference
    text_version = transcript(conversation)
    document = pdf.text_pdf(text_version, title=gettext("Secure conversation"))
    reference = str(get_adapter(request).file_to_record(conversation, text=text_version, pdf=document) or "")[:200]
    now = timezone.now()
    with transaction.atomic():
        updated = Conversation.objects.filter(pk=conversation.pk, filed_at__isnull=True).update(
            filed_at=now, filed_by=actor, filed_reference=reference
        )
        if updated:
            conversation.filed_at, conversation.filed_by, conversation.filed_reference = now, actor, reference
            events.conversation_event(
                events.FILED, actor=actor, conversation=conversation, request=request, details={"bytes": len(document)}
            )
        else:
            conversation.refresh_from_db(fields=["filed_at", "filed_by", "filed_reference"])
    return conversation.filed_reference
