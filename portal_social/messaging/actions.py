"""Secure messaging's write path: start, send, retract, read, close, claim, confidentiality.

Each action checks permission (raising :class:`MessagingDenied`, or
``access.NotFound`` for a conversation the actor may not see), validates,
writes in one transaction with its audit event, and defers what leaves the
database (live updates, notifications) until the commit: a message is
committed before anyone is told of it, and a channel-layer outage delays a
live update but never loses a message (house rule 6).
"""

from __future__ import annotations

import datetime
import uuid
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, signals
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from portal_social.adapter import get_adapter
from portal_social.conf import app_settings
from portal_social.core import access, calendar, files, notify, ratelimit, realtime, screening, submissions, text
from portal_social.core.errors import Denied
from portal_social.messaging import events, rules
from portal_social.messaging import notifications as _notifications  # noqa: F401  (registers the templates)
from portal_social.messaging.models import (
    SUBJECT_MAX_LENGTH,
    Attachment,
    CarePool,
    Conversation,
    Message,
    OutOfOffice,
    PoolMember,
    ReadState,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

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


# Who may write to whom ---------------------------------------------------------------------------


def patients_for_sender(sender: AbstractBaseUser) -> list[AbstractBaseUser]:
    """The patients ``sender`` may write for: themselves (a patient), and those they are a current
    messaging proxy for. The sender's own record comes first."""
    from django.contrib.auth import get_user_model

    from portal_social.core import roles

    if not rules._signed_in(sender) or not access.holds(sender, rules.MESSAGE_CARE_TEAM):
        return []
    found = [sender] if roles.has_role(sender, roles.PATIENT) else []
    proxied = rules.proxied_patient_ids(sender)
    if proxied:
        found += list(get_user_model().objects.filter(pk__in=proxied, is_active=True).order_by("first_name", "pk"))
    return found


def may_write_for(sender: AbstractBaseUser, patient: AbstractBaseUser) -> Message.Side | None:
    """The side ``sender`` writes on for ``patient`` (patient or caregiver), or None."""
    if not rules._signed_in(sender) or patient is None or not access.holds(sender, rules.MESSAGE_CARE_TEAM):
        return None
    if sender.pk == patient.pk:
        from portal_social.core import roles

        return Message.Side.PATIENT if roles.has_role(sender, roles.PATIENT) else None
    return Message.Side.CAREGIVER if patient.pk in rules.proxied_patient_ids(sender) else None


def pools_for(sender: AbstractBaseUser, patient: AbstractBaseUser) -> list[CarePool]:
    """The pools ``sender`` may start a conversation with about ``patient`` (``PortalAdapter.can_message``)."""
    if may_write_for(sender, patient) is None:
        return []
    adapter = get_adapter()
    return [pool for pool in CarePool.objects.filter(active=True) if adapter.can_message(sender, pool, patient=patient)]


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
    if not source.strip():
        raise ValidationError({"body": gettext("Write your message.")}, code="required")
    try:
        rendered = text.render(source)
    except text.TextTooLong as exc:
        raise ValidationError({"body": exc.messages}, code="too_long") from None
    return source, rendered


def _clean_submission(value: Any) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value)) if value and len(str(value)) <= 36 else None
    except ValueError:
        return None


def _attach(message: Message, checked: files.CheckedFile | None, stored: list[str]) -> None:
    if checked is None:
        return
    name = files.store(checked, f"messages/{message.conversation_id.hex[:2]}")
    stored.append(name)
    Attachment.objects.create(
        message=message, file=name, filename=checked.filename, content_type=checked.content_type, size=checked.size
    )


def _check_attachment(attachment) -> files.CheckedFile | None:
    if attachment is None:
        return None
    if not files.allowed_types():
        raise ValidationError({"attachment": [gettext("Files cannot be sent with messages here.")]}, code="off")
    return files.check_upload(attachment)


def _add_message(
    *,
    conversation: Conversation,
    sender: AbstractBaseUser,
    side: str,
    source: str,
    rendered: str,
    submission: uuid.UUID | None,
    request: HttpRequest | None,
) -> Message:
    """Inside the caller's transaction: the next message of ``conversation``, its counters, audit and pushes."""
    now = timezone.now()
    locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
    result = screening.screen(source, destination=screening.policy.MESSAGE, author=sender)
    patient_side = side != Message.Side.CARE_TEAM
    urgent = result.urgent and patient_side
    seq = locked.last_seq + 1
    message = Message.objects.create(
        conversation=locked,
        seq=seq,
        author=sender,
        side=side,
        body_source=source,
        body_html=rendered,
        urgent=urgent,
        created_at=now,
        submission=submission,
    )
    changes: dict[str, Any] = {"last_seq": seq, "last_message_at": now}
    if patient_side:
        if locked.reply_due_at is None:
            changes["reply_due_at"] = reply_due(locked.pool, now)
            changes["escalated_at"] = None
            from portal_social.messaging.tasks import queue_escalation

            locked.reply_due_at = changes["reply_due_at"]
            queue_escalation(locked)
        if urgent:
            changes["urgent"] = True
    else:
        changes.update(reply_due_at=None, escalated_at=None)
    Conversation.objects.filter(pk=locked.pk).update(**changes)
    for name, value in changes.items():
        setattr(locked, name, value)
        setattr(conversation, name, value)
    ReadState.objects.update_or_create(
        conversation=locked, user=sender, defaults={"side": side, "last_read_seq": seq, "read_at": now}
    )
    message.conversation = locked
    realtime.publish_to_stream(CONVERSATION_STREAM, locked, {"kind": "message", "message": str(message.pk)})
    realtime.publish_to_stream(POOL_STREAM, locked.pool, {"kind": "conversation", "conversation": str(locked.pk)})
    _tell_the_other_side(locked, message)
    # Last: the audit chain's head stays locked from this write to the commit, so other senders wait less.
    events.message_event(
        events.SENT, actor=sender, message=message, request=request, details={"seq": seq, "urgent": urgent}
    )
    return message


def _tell_the_other_side(conversation: Conversation, message: Message) -> None:
    """Notifications in generic words: the patient side hears of a care-team reply; the care team of a
    patient-side message (the assignee, or their delegate while they are away, or else the whole pool),
    and every pool member at once when it is urgent."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    params = {"conversation": conversation.pk}
    if message.side == Message.Side.CARE_TEAM:
        patient = users.filter(pk=conversation.patient_id, is_active=True).first()
        if patient is not None:
            notify.notify(patient, "message.received", params=params)
        if not conversation.confidential:
            # Caregivers who have written in this conversation follow it.
            writers = ReadState.objects.filter(conversation=conversation, side=Message.Side.CAREGIVER).values("user_id")
            proxies = [
                person
                for person in users.filter(pk__in=writers, is_active=True)
                if conversation.patient_id in rules.proxied_patient_ids(person)
            ]
            notify.notify_many(proxies, "message.received", params=params)
        return
    members = list(users.filter(care_pool_memberships__pool=conversation.pool_id, is_active=True))
    if message.urgent:
        notify.notify_many(members, "message.urgent")
        return
    if conversation.assigned_to_id is not None:
        period = away(conversation.assigned_to_id)
        target = period.delegate if period is not None else users.filter(pk=conversation.assigned_to_id).first()
        if target is not None:
            notify.notify(target, "message.received", params=params)
            return
    notify.notify_many(members, "message.pool_received")


def start_conversation(
    *,
    sender: AbstractBaseUser,
    patient: AbstractBaseUser,
    pool: CarePool,
    topic: str,
    subject: str,
    body: str,
    confidential: bool = False,
    submission: Any = None,
    attachment=None,
    request: HttpRequest | None = None,
) -> Conversation:
    """A new conversation with ``pool`` about ``patient``, and its first message.

    Refused (``MessagingDenied``) unless the sender writes for the patient
    (the patient, or a caregiver with a current messaging link) and
    ``PortalAdapter.can_message`` allows the pool. Only the patient may mark
    it confidential. ``ValidationError`` for an unknown topic, an empty or
    long subject, an empty or long body. The same ``submission`` token twice
    returns the first conversation.
    """
    side = may_write_for(sender, patient)
    if (
        side is None
        or not isinstance(pool, CarePool)
        or not get_adapter(request).can_message(sender, pool, patient=patient)
    ):
        raise MessagingDenied(gettext("You cannot start a conversation with this team."))
    errors: dict[str, list[str]] = {}
    if topic not in topics():
        errors["topic"] = [gettext("Choose what your message is about.")]
    subject = text.normalise(subject) if isinstance(subject, str) else ""
    subject = " ".join(subject.split())
    if not subject:
        errors["subject"] = [gettext("Give your message a subject.")]
    elif len(subject) > SUBJECT_MAX_LENGTH:
        errors["subject"] = [gettext("Keep the subject to %(limit)d characters.") % {"limit": SUBJECT_MAX_LENGTH}]
    try:
        source, rendered = _clean_body(body)
    except ValidationError as exc:
        errors.update({key: list(value) for key, value in exc.message_dict.items()})
    checked = None
    try:
        checked = _check_attachment(attachment)
    except ValidationError as exc:
        errors.update({key: list(value) for key, value in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    stored: list[str] = []
    submission = _clean_submission(submission)
    if confidential and side != Message.Side.PATIENT:
        confidential = False  # a caregiver cannot hide a conversation from other caregivers on the patient's behalf

    def existing() -> Conversation | None:
        if submission is None:
            return None
        return Conversation.objects.filter(created_by=sender, submission=submission).first()

    again = existing()
    if again is not None:
        return again
    ratelimit.check("message", request=request, user=sender)

    def write() -> Conversation:
        now = timezone.now()
        conversation = Conversation.objects.create(
            patient=patient,
            pool=pool,
            subject=subject,
            topic=topic,
            confidential=bool(confidential),
            created_by=sender,
            created_at=now,
            last_message_at=now,
            submission=submission,
        )
        events.conversation_event(
            events.STARTED,
            actor=sender,
            conversation=conversation,
            request=request,
            details={"topic": topic, "side": side, "confidential": conversation.confidential},
        )
        message = _add_message(
            conversation=conversation,
            sender=sender,
            side=side,
            source=source,
            rendered=rendered,
            submission=None,
            request=request,
        )
        _attach(message, checked, stored)
        return conversation

    return submissions.once(write, existing, cleanup=submissions.remove_all(stored, files.remove))


def send_message(
    *,
    sender: AbstractBaseUser,
    conversation: Conversation,
    body: str,
    submission: Any = None,
    reply_directly: bool = False,
    attachment=None,
    request: HttpRequest | None = None,
) -> Message:
    """Add a message to ``conversation``.

    ``access.NotFound`` when the sender cannot see it. A closed conversation
    is reopened by a message from the patient's side within
    ``PORTAL_SOCIAL_MESSAGING_REOPEN_DAYS`` of closing; after that, or from
    the care team, ``MessagingDenied``. ``reply_directly`` (care team only)
    assigns the conversation to the sender, so the patient's replies come to
    them. The same ``submission`` token twice returns the first message.
    """
    _seen_or_404(sender, conversation)
    side = rules.side_of(sender, conversation)
    submission = _clean_submission(submission)

    def existing() -> Message | None:
        if submission is None:
            return None
        return Message.objects.filter(author=sender, submission=submission).select_related("conversation").first()

    again = existing()
    if again is not None:
        return again
    if not access.can(sender, "reply", conversation):
        raise MessagingDenied(gettext("This conversation is closed. Start a new conversation to write again."))
    reopening = conversation.status == Conversation.Status.CLOSED
    if reopening:
        window = datetime.timedelta(days=app_settings.MESSAGING_REOPEN_DAYS)
        if conversation.closed_at is None or timezone.now() - conversation.closed_at > window:
            raise MessagingDenied(
                gettext("This conversation was closed a while ago. Start a new conversation to write again.")
            )
    source, rendered = _clean_body(body)
    checked = _check_attachment(attachment)
    ratelimit.check("message", request=request, user=sender)
    stored: list[str] = []

    def write() -> Message:
        if reopening:
            Conversation.objects.filter(pk=conversation.pk).update(
                status=Conversation.Status.OPEN, closed_at=None, closed_by=None
            )
            conversation.status, conversation.closed_at, conversation.closed_by = Conversation.Status.OPEN, None, None
            events.conversation_event(events.REOPENED, actor=sender, conversation=conversation, request=request)
        if reply_directly and side == Message.Side.CARE_TEAM and conversation.assigned_to_id != sender.pk:
            _assign(conversation, sender, actor=sender, request=request, how="reply_directly")
        message = _add_message(
            conversation=conversation,
            sender=sender,
            side=side,
            source=source,
            rendered=rendered,
            submission=submission,
            request=request,
        )
        _attach(message, checked, stored)
        return message

    return submissions.once(write, existing, cleanup=submissions.remove_all(stored, files.remove))


def retract_message(*, actor: AbstractBaseUser, message: Message, request: HttpRequest | None = None) -> Message:
    """Retract ``actor``'s own message within ``PORTAL_SOCIAL_MESSAGING_RETRACT_SECONDS`` of sending.

    The message stays, marked "retracted", with its text no longer shown to
    anyone (the record keeps it). Retracting twice is a no-op.
    """
    _seen_or_404(actor, message.conversation)
    if message.retracted_at is not None and message.author_id == actor.pk:
        return message
    if not access.can(actor, "retract", message):
        raise MessagingDenied(gettext("Only the sender can retract a message."))
    window = datetime.timedelta(seconds=app_settings.MESSAGING_RETRACT_SECONDS)
    if timezone.now() - message.created_at > window:
        raise MessagingDenied(
            gettext("A message can be retracted only in the first %(minutes)s after sending.")
            % {"minutes": _minutes(window)}
        )
    with transaction.atomic():
        updated = Message.objects.filter(pk=message.pk, retracted_at__isnull=True).update(retracted_at=timezone.now())
        message.refresh_from_db(fields=["retracted_at"])
        if updated:
            events.message_event(events.RETRACTED, actor=actor, message=message, request=request)
            realtime.publish_to_stream(
                CONVERSATION_STREAM, message.conversation, {"kind": "retracted", "message": str(message.pk)}
            )
    return message


def _minutes(window: datetime.timedelta) -> str:
    from django.utils.translation import ngettext

    minutes = max(1, round(window.total_seconds() / 60))
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


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


# Out of office ---------------------------------------------------------------------------------

#: The longest absence one entry may cover.
MAX_ABSENCE = datetime.timedelta(days=366)


def set_out_of_office(
    *,
    actor: AbstractBaseUser,
    delegate: AbstractBaseUser,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    request: HttpRequest | None = None,
) -> OutOfOffice:
    """``actor`` (a member of a care-team pool) is away between the two moments; ``delegate`` answers.

    While it runs, messages in conversations assigned to ``actor`` go to the
    delegate, who may open and answer them, and patients are told when a reply
    can be expected. ``ValidationError`` for a delegate who does not answer
    patients (or is ``actor``), an end not after the start, an end in the past,
    or more than a year.
    """
    if not rules.pool_ids(actor):
        raise MessagingDenied(gettext("Only members of a care team can set an absence."))
    errors: dict[str, list[str]] = {}
    if delegate is None or delegate.pk == actor.pk or not delegate.is_active or not rules.is_staff_member(delegate):
        errors["delegate"] = [gettext("Choose a colleague who answers patients' messages.")]
    if ends_at <= starts_at:
        errors["ends_at"] = [gettext("The end must be after the start.")]
    elif ends_at <= timezone.now():
        errors["ends_at"] = [gettext("The end must be in the future.")]
    elif ends_at - starts_at > MAX_ABSENCE:
        errors["ends_at"] = [gettext("An absence can last a year at most.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        period = OutOfOffice.objects.create(user=actor, delegate=delegate, starts_at=starts_at, ends_at=ends_at)
        events.OUT_OF_OFFICE.record(
            actor=actor, target=period, request=request, details={"delegate": delegate.pk, "change": "set"}
        )
    return period


def end_out_of_office(*, actor: AbstractBaseUser, period: OutOfOffice, request: HttpRequest | None = None) -> None:
    """``actor`` is back: their absence ends now (one that had not started is removed)."""
    if period.user_id != actor.pk:
        raise MessagingDenied(gettext("You can end only your own absence."))
    now = timezone.now()
    with transaction.atomic():
        if period.starts_at >= now:
            OutOfOffice.objects.filter(pk=period.pk).delete()
        elif period.ends_at > now:
            OutOfOffice.objects.filter(pk=period.pk).update(ends_at=now)
        else:
            return
        events.OUT_OF_OFFICE.record(
            actor=actor,
            target_type="outofoffice",
            target_id=str(period.pk),
            request=request,
            details={"change": "ended"},
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
    visible = access.visible(user, Conversation.objects.all())
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


# Pool membership, however it changes (the Wagtail admin, a sync from the EHR) -------------------------


def _remember_member(sender, instance, **kwargs):
    previous = PoolMember.objects.filter(pk=instance.pk).values_list("user_id", flat=True).first()
    instance._portal_social_previous_user = previous


def _recheck_member(sender, instance, **kwargs):
    # Whoever was or is this member: their open sockets ask the access policy again.
    realtime.recheck_access_after_commit([instance.user_id, getattr(instance, "_portal_social_previous_user", None)])


signals.pre_save.connect(_remember_member, sender=PoolMember, dispatch_uid="portal_social_pool_member_previous")
signals.post_save.connect(_recheck_member, sender=PoolMember, dispatch_uid="portal_social_pool_member_saved")
signals.post_delete.connect(_recheck_member, sender=PoolMember, dispatch_uid="portal_social_pool_member_deleted")
