"""Reading progress, typing, closing, claiming and assigning, confidentiality, unread counts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from portal_social.core import access, notify, realtime
from portal_social.messaging import events, rules
from portal_social.messaging.models import (
    Conversation,
    PoolMember,
    ReadState,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

#: Readers of a conversation follow its stream: a new message, a retraction, a read receipt.
from portal_social.messaging.actions._common import (
    CONVERSATION_STREAM,
    POOL_STREAM,
    MessagingDenied,
    _seen_or_404,
)


def mark_read(*, user: AbstractBaseUser, conversation: Conversation, seq: int | None = None) -> ReadState | None:
    """Record that ``user`` has read ``conversation`` up to ``seq`` (default: its newest message).

    Never moves backwards. The progress is pushed to the conversation's
    readers, so the other side sees "Read" without reloading.
    Returns the read state (None for someone who does not take part).
    """
    side = rules.side_of(user, conversation)
    if side is None:
        return None
    last = conversation.last_seq
    seq = last if seq is None else max(0, min(int(seq), last))
    now = timezone.now()
    with transaction.atomic():
        state, created = ReadState.objects.get_or_create(
            conversation=conversation, user=user, defaults={"side": side, "last_read_seq": seq, "read_at": now}
        )
        if not created and seq > state.last_read_seq:
            ReadState.objects.filter(pk=state.pk, last_read_seq__lt=seq).update(last_read_seq=seq, read_at=now)
            state.last_read_seq, state.read_at = seq, now
        elif not created:
            return state
        if seq:
            realtime.publish_to_stream(CONVERSATION_STREAM, conversation, {"kind": "read", "side": side, "seq": seq})
    return state


def typing(*, user: AbstractBaseUser, conversation: Conversation) -> bool:
    """Tell the conversation's open pages that ``user``'s side is writing (not kept: a missed one is no loss).

    Returns whether it was sent (False for someone who does not take part, or a closed conversation).
    """
    side = rules.side_of(user, conversation)
    if side is None or conversation.status != Conversation.Status.OPEN:
        return False
    target = str(conversation.pk)
    event = {"kind": "typing", "side": side, "stream": CONVERSATION_STREAM, "target": target}
    realtime.publish(realtime.stream_group_name(CONVERSATION_STREAM, target), {"type": "portal.event", "event": event})
    return True


def close_conversation(
    *, actor: AbstractBaseUser, conversation: Conversation, request: HttpRequest | None = None
) -> Conversation:
    """Close an open conversation (either side). A new message from the patient's side reopens it
    within ``PORTAL_SOCIAL_MESSAGING_REOPEN_DAYS``."""
    _seen_or_404(actor, conversation)
    if conversation.status == Conversation.Status.CLOSED:
        return conversation
    if not access.can(actor, "close", conversation):
        raise MessagingDenied(gettext("You cannot close this conversation."))
    now = timezone.now()
    with transaction.atomic():
        Conversation.objects.filter(pk=conversation.pk).update(
            status=Conversation.Status.CLOSED, closed_at=now, closed_by=actor, reply_due_at=None
        )
        conversation.status, conversation.closed_at, conversation.closed_by = Conversation.Status.CLOSED, now, actor
        conversation.reply_due_at = None
        events.conversation_event(
            events.CLOSED,
            actor=actor,
            conversation=conversation,
            request=request,
            details={"side": rules.side_of(actor, conversation)},
        )
        realtime.publish_to_stream(CONVERSATION_STREAM, conversation, {"kind": "closed"})
        realtime.publish_to_stream(
            POOL_STREAM, conversation.pool, {"kind": "conversation", "conversation": str(conversation.pk)}
        )
    return conversation


def _assign(conversation: Conversation, assignee, *, actor, request, how: str) -> None:
    Conversation.objects.filter(pk=conversation.pk).update(assigned_to=assignee)
    conversation.assigned_to = assignee
    events.conversation_event(
        events.CLAIMED,
        actor=actor,
        conversation=conversation,
        request=request,
        details={"how": how, "assignee": getattr(assignee, "pk", None)},
    )
    realtime.publish_to_stream(
        POOL_STREAM, conversation.pool, {"kind": "conversation", "conversation": str(conversation.pk)}
    )


def assign_conversation(
    *,
    actor: AbstractBaseUser,
    conversation: Conversation,
    assignee: AbstractBaseUser | None,
    request: HttpRequest | None = None,
) -> Conversation:
    """Claim (``assignee`` is the actor), assign to another member of the pool, or release (None)."""
    _seen_or_404(actor, conversation)
    if not access.can(actor, "claim", conversation):
        raise MessagingDenied(gettext("Only members of this team can claim or assign its conversations."))
    if assignee is not None and not (
        rules.is_staff_member(assignee)
        and PoolMember.objects.filter(pool=conversation.pool_id, user=assignee, user__is_active=True).exists()
    ):
        raise ValidationError({"assignee": gettext("Choose a member of this team.")})
    if getattr(assignee, "pk", None) == conversation.assigned_to_id:
        return conversation
    how = "release" if assignee is None else ("claim" if assignee.pk == actor.pk else "assign")
    with transaction.atomic():
        _assign(conversation, assignee, actor=actor, request=request, how=how)
        if assignee is not None and assignee.pk != actor.pk:
            notify.notify(assignee, "message.received", params={"conversation": conversation.pk})
    return conversation


def set_confidential(
    *, actor: AbstractBaseUser, conversation: Conversation, confidential: bool, request: HttpRequest | None = None
) -> Conversation:
    """The patient hides the conversation from every caregiver (or shows it again)."""
    _seen_or_404(actor, conversation)
    if not access.can(actor, "set_confidential", conversation):
        raise MessagingDenied(gettext("Only the patient can change who sees this conversation."))
    confidential = bool(confidential)
    if conversation.confidential == confidential:
        return conversation
    with transaction.atomic():
        Conversation.objects.filter(pk=conversation.pk).update(confidential=confidential)
        conversation.confidential = confidential
        events.conversation_event(
            events.CONFIDENTIAL,
            actor=actor,
            conversation=conversation,
            request=request,
            details={"confidential": confidential},
        )
        # Caregivers' open pages lose the conversation at their next request; their sockets are told now.
        if confidential:
            from portal_social.core.models import CaregiverRelation

            realtime.recheck_access_after_commit(
                CaregiverRelation.objects.filter(patient=conversation.patient_id).values_list("caregiver_id", flat=True)
            )
    return conversation


# Reading ---------------------------------------------------------------------------------------


def unread_conversations(user: AbstractBaseUser):
    """The conversations ``user`` sees with a message they have not read (a queryset, one query to count).

    Sending a message marks the conversation read up to it, so only the
    other side's messages count. For care-team staff: open conversations
    waiting on the team's reply.
    """
    from django.db.models import OuterRef, Subquery
    from django.db.models.functions import Coalesce

    if not rules._signed_in(user):
        return Conversation.objects.none()
    visible = access.visible(user, Conversation.objects.all(), break_glass=False)  # only one's own count
    if rules.is_staff_member(user) and not access.holds(user, rules.MESSAGE_CARE_TEAM):
        visible = visible.filter(status=Conversation.Status.OPEN, reply_due_at__isnull=False)
    read = ReadState.objects.filter(conversation=OuterRef("pk"), user=user).values("last_read_seq")[:1]
    return visible.annotate(read_to=Coalesce(Subquery(read), 0)).filter(last_seq__gt=F("read_to"))


def unread_count(user: AbstractBaseUser) -> int:
    """How many conversations hold messages ``user`` has not read; cached on the user for the request."""
    cached = getattr(user, "_portal_social_unread_messages", None)
    if cached is None:
        cached = unread_conversations(user).count() if rules._signed_in(user) else 0
        if rules._signed_in(user):
            user._portal_social_unread_messages = cached
    return cached
