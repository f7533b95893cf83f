"""Writing: who may write to whom, starting a conversation, sending and retracting a message."""

from __future__ import annotations

import datetime
import uuid
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from portal_social.adapter import get_adapter
from portal_social.conf import app_settings
from portal_social.core import access, files, notify, ratelimit, realtime, screening, submissions, text
from portal_social.messaging import events, rules
from portal_social.messaging.models import (
    SUBJECT_MAX_LENGTH,
    CarePool,
    Conversation,
    Message,
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
    _attach,
    _check_attachments,
    _clean_body,
    _clean_submission,
    _seen_or_404,
    _source_or_none,
    away,
    reply_due,
    screened_text,
    topics,
)
from portal_social.messaging.actions.conversations import _assign

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


def _add_message(
    *,
    conversation: Conversation,
    sender: AbstractBaseUser,
    side: str,
    source: str,
    rendered: str,
    submission: uuid.UUID | None,
    request: HttpRequest | None,
    subject: str = "",
) -> Message:
    """Inside the caller's transaction: the next message of ``conversation``, its counters, audit and pushes.

    ``subject``: a new conversation's subject, screened with its first message (:func:`screened_text`)."""
    patient_side = side != Message.Side.CARE_TEAM
    urgent = (
        patient_side
        and screening.screen(screened_text(source, subject), destination=screening.policy.MESSAGE, author=sender).urgent
    )
    now = timezone.now()
    locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
    _share_related(conversation, locked)
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
    escalation_due = False
    if patient_side:
        if locked.reply_due_at is None:
            changes["reply_due_at"] = reply_due(locked.pool, now)
            changes["escalated_at"] = None
            escalation_due = True
        if urgent:
            changes["urgent"] = True
    else:
        changes.update(reply_due_at=None, escalated_at=None)
    Conversation.objects.filter(pk=locked.pk).update(**changes)
    for name, value in changes.items():
        setattr(locked, name, value)
        setattr(conversation, name, value)
    _read_to(locked, sender, side, seq, now)
    message.conversation = locked
    # The conversation's own stream first: its push is the first thing done after the commit.
    realtime.publish_to_streams(
        [
            (CONVERSATION_STREAM, locked, {"kind": "message", "message": str(message.pk)}),
            (POOL_STREAM, locked.pool, {"kind": "conversation", "conversation": str(locked.pk)}),
        ]
    )
    if escalation_due:
        from portal_social.messaging.tasks import queue_escalation

        queue_escalation(locked)
    _tell_the_other_side(locked, message)
    # Last: the audit chain's head stays locked from this write to the commit, so other senders wait less.
    events.message_event(
        events.SENT, actor=sender, message=message, request=request, details={"seq": seq, "urgent": urgent}
    )
    return message


def _share_related(loaded: Conversation, locked: Conversation) -> None:
    """Give ``locked`` (the row read again under lock) the pool and people ``loaded`` already holds, where they
    are still the same ones, so they are not read twice."""
    for name in ("pool", "patient", "assigned_to"):
        descriptor = getattr(Conversation, name)
        same = getattr(loaded, f"{name}_id") == getattr(locked, f"{name}_id")
        if same and descriptor.is_cached(loaded) and not descriptor.is_cached(locked):
            setattr(locked, name, getattr(loaded, name))


def _read_to(conversation: Conversation, user, side: str, seq: int, now) -> None:
    """The sender has read their conversation up to their own message (one statement where the database
    can insert or update at once)."""
    from django.db import connections, router

    connection = connections[router.db_for_write(ReadState)]
    if not connection.features.supports_update_conflicts_with_target:
        ReadState.objects.update_or_create(
            conversation=conversation, user=user, defaults={"side": side, "last_read_seq": seq, "read_at": now}
        )
        return
    ReadState.objects.bulk_create(
        [ReadState(conversation=conversation, user=user, side=side, last_read_seq=seq, read_at=now)],
        update_conflicts=True,
        unique_fields=["conversation", "user"],
        update_fields=["side", "last_read_seq", "read_at"],
    )


def _tell_the_other_side(conversation: Conversation, message: Message) -> None:
    """Notifications in generic words: the patient side hears of a care-team reply; the care team of a
    patient-side message (the assignee, or their delegate while they are away, or else the whole pool),
    and every pool member at once when it is urgent."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    params = {"conversation": conversation.pk}
    if message.side == Message.Side.CARE_TEAM:
        patient = conversation.patient  # notify() skips an account that is no longer active
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

    def members():
        return list(users.filter(care_pool_memberships__pool=conversation.pool_id, is_active=True))

    if message.urgent:
        notify.notify_many(members(), "message.urgent")
        return
    if conversation.assigned_to_id is not None:
        period = away(conversation.assigned_to_id)
        target = period.delegate if period is not None else conversation.assigned_to
        if target is not None:
            notify.notify(target, "message.received", params=params)
            return
    notify.notify_many(members(), "message.pool_received")


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
    attachments=(),
    attachment=None,
    request: HttpRequest | None = None,
) -> Conversation:
    """A new conversation with ``pool`` about ``patient``, and its first message.

    Refused (``MessagingDenied``) unless the sender writes for the patient
    (the patient, or a caregiver with a current messaging link) and
    ``PortalAdapter.can_message`` allows the pool. Only the patient may mark
    it confidential. ``ValidationError`` for an unknown topic, an empty or
    long subject, an empty or long body, and for files that
    ``core.files.check_uploads`` refuses (``attachments``, a sequence of
    uploads, and ``attachment``, one more): then nothing is written. The same
    ``submission`` token twice returns the first conversation.
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
    subject = text.stripped(" ".join(subject.split()))
    if not subject:
        errors["subject"] = [gettext("Give your message a subject.")]
    elif len(subject) > SUBJECT_MAX_LENGTH:
        errors["subject"] = [gettext("Keep the subject to %(limit)d characters.") % {"limit": SUBJECT_MAX_LENGTH}]
    try:
        source, rendered = _clean_body(body)
    except ValidationError as exc:
        errors.update({key: list(value) for key, value in exc.message_dict.items()})
    checked: list = []
    try:
        checked = _check_attachments(attachments, attachment)
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
        first = again.messages.order_by("seq").first()
        same = (again.patient_id, again.pool_id, again.subject) == (patient.pk, pool.pk, subject)
        if same and first is not None and first.body_source == source:
            return again
        submission = None  # submissions.resent_elsewhere
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
            subject=subject,
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
    attachments=(),
    attachment=None,
    request: HttpRequest | None = None,
) -> Message:
    """Add a message to ``conversation``.

    ``access.NotFound`` when the sender cannot see it. A closed conversation
    is reopened by a message from the patient's side within
    ``PORTAL_SOCIAL_MESSAGING_REOPEN_DAYS`` of closing; after that, or from
    the care team, ``MessagingDenied``. ``reply_directly`` (care team only)
    assigns the conversation to the sender, so the patient's replies come to
    them. Files go in ``attachments`` (and ``attachment``), all accepted or
    none (``ValidationError``, nothing written). The same ``submission``
    token twice returns the first message.
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
        if again.conversation_id == conversation.pk and again.body_source == _source_or_none(body):
            return again
        # The token of a form already sent, with other words or to another conversation (a page restored by
        # the browser's Back button, a forged form): never "sent" for words that were not, so a new message.
        submission = None
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
    checked = _check_attachments(attachments, attachment)
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
            pushes = [(CONVERSATION_STREAM, message.conversation, {"kind": "retracted", "message": str(message.pk)})]
            if message.side != Message.Side.CARE_TEAM and _nothing_left_to_answer(message.conversation):
                # The patient's side took back all it had written since the team last wrote: no reply is
                # owed, so no reply date is promised and no late-reply alert fires.
                conversation = message.conversation
                Conversation.objects.filter(pk=conversation.pk).update(reply_due_at=None, escalated_at=None)
                conversation.reply_due_at = conversation.escalated_at = None
                pushes.append(
                    (POOL_STREAM, conversation.pool, {"kind": "conversation", "conversation": str(conversation.pk)})
                )
            realtime.publish_to_streams(pushes)
    return message


def _nothing_left_to_answer(conversation: Conversation) -> bool:
    """No message from the patient's side since the care team last wrote stands (all were retracted)."""
    last_reply = (
        conversation.messages.filter(side=Message.Side.CARE_TEAM).order_by("-seq").values_list("seq", flat=True).first()
    )
    waiting = conversation.messages.filter(seq__gt=last_reply or 0, retracted_at__isnull=True).exclude(
        side=Message.Side.CARE_TEAM
    )
    return not waiting.exists()


def _minutes(window: datetime.timedelta) -> str:
    from django.utils.translation import ngettext

    minutes = max(1, round(window.total_seconds() / 60))
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
