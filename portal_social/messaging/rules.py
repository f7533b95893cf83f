"""Who may see and do what in secure messaging: rules and scopes of the one access policy.

* The **patient** sees their own conversations.
* A **caregiver** with a current link in the messaging scope sees the
  patient's conversations, except those the patient marked confidential.
  The link is read afresh on every request, so a caregiver whose link ends
  loses access at their next request.
* A **pool member** (a role with ``message_patients``, listed in the pool)
  sees the pool's conversations; so does the pool member a conversation is
  assigned to, and the delegate of an out-of-office assignee.
* Nobody else: staff who are not in the pool open a conversation only
  through break-the-glass (``core.breakglass``), which is recorded at high
  severity. A superuser without a role sees nothing.

Opening a conversation is a PHI read: ``access.require(user, "view", c)``
records it, naming the patient.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from portal_social.core import access, caregivers
from portal_social.messaging.models import Conversation, Message, OutOfOffice, PoolMember

MESSAGE_CARE_TEAM = "portal_social.message_care_team"
MESSAGE_PATIENTS = "portal_social.message_patients"

_POOLS = "_portal_social_message_pools"
_DELEGATED = "_portal_social_message_delegated"


def _signed_in(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def is_staff_member(user) -> bool:
    """Holds a role that answers patients (clinician, care team staff)."""
    return access.holds(user, MESSAGE_PATIENTS)


def pool_ids(user) -> frozenset:
    """The pools ``user`` answers for (none without ``message_patients``); one query, cached for the request."""
    if not is_staff_member(user):
        return frozenset()
    cached = getattr(user, _POOLS, None)
    if cached is None:
        cached = frozenset(PoolMember.objects.filter(user=user).values_list("pool_id", flat=True))
        setattr(user, _POOLS, cached)
    return cached


def delegating_user_ids(user) -> frozenset:
    """Colleagues who are away now and named ``user`` their delegate (one query, cached)."""
    if not is_staff_member(user):
        return frozenset()
    cached = getattr(user, _DELEGATED, None)
    if cached is None:
        now = timezone.now()
        cached = frozenset(
            OutOfOffice.objects.filter(delegate=user, starts_at__lte=now, ends_at__gt=now).values_list(
                "user_id", flat=True
            )
        )
        setattr(user, _DELEGATED, cached)
    return cached


def proxied_patient_ids(user) -> frozenset:
    """The patients ``user`` may message for today (a current caregiver link with the messaging scope)."""
    if not _signed_in(user) or not access.holds(user, MESSAGE_CARE_TEAM):
        return frozenset()
    return caregivers.proxied_ids(user, "messaging")


def forget(user) -> None:
    """Drop what this module cached on ``user`` (after a change in the same request)."""
    for name in (_POOLS, _DELEGATED):
        if hasattr(user, name):
            delattr(user, name)
    caregivers.forget_proxied(user)


def side_of(user, conversation: Conversation) -> str | None:
    """How ``user`` takes part in ``conversation``: patient, caregiver, care team, or None."""
    if not _signed_in(user):
        return None
    if conversation.patient_id == user.pk and access.holds(user, MESSAGE_CARE_TEAM):
        return Message.Side.PATIENT
    if not conversation.confidential and conversation.patient_id in proxied_patient_ids(user):
        return Message.Side.CAREGIVER
    if is_staff_member(user) and (
        conversation.pool_id in pool_ids(user)
        or conversation.assigned_to_id == user.pk
        or (conversation.assigned_to_id is not None and conversation.assigned_to_id in delegating_user_ids(user))
    ):
        return Message.Side.CARE_TEAM
    return None


def patient_side(user, conversation: Conversation) -> bool:
    return side_of(user, conversation) in (Message.Side.PATIENT, Message.Side.CAREGIVER)


@access.rule(Conversation, "view", phi=True, patient=lambda conversation: conversation.patient_id)
def _participant_may_view(user, conversation) -> bool:
    return side_of(user, conversation) is not None


@access.rule(Conversation, "reply")
def _participant_may_reply(user, conversation) -> bool:
    """Open conversations take replies from both sides; a closed one only from the patient's side within
    the reopening period (the reply reopens it; ``actions.send_message`` decides the period)."""
    side = side_of(user, conversation)
    if side is None:
        return False
    if conversation.status == Conversation.Status.OPEN:
        return True
    return side != Message.Side.CARE_TEAM


@access.rule(Conversation, "close")
def _may_close(user, conversation) -> bool:
    return conversation.status == Conversation.Status.OPEN and side_of(user, conversation) is not None


@access.rule(Conversation, "claim")
def _pool_member_may_claim(user, conversation) -> bool:
    return side_of(user, conversation) == Message.Side.CARE_TEAM


@access.rule(Conversation, "set_confidential")
def _patient_may_mark_confidential(user, conversation) -> bool:
    return side_of(user, conversation) == Message.Side.PATIENT


@access.rule(Message, "view", phi=True, patient=lambda message: message.conversation.patient_id)
def _message_seen_with_conversation(user, message) -> bool:
    return side_of(user, message.conversation) is not None


@access.rule(Message, "retract")
def _author_may_retract(user, message) -> bool:
    return (
        message.author_id == user.pk
        and message.retracted_at is None
        and side_of(user, message.conversation) is not None
    )


@access.scope(Conversation)
def _conversations_visible_to(user) -> Q:
    """In SQL, with subqueries rather than lists read first, so counting what a user sees is one query."""
    from portal_social.core.models import CaregiverRelation

    condition = Q(pk__in=[])
    if access.holds(user, MESSAGE_CARE_TEAM):
        proxied = CaregiverRelation.objects.active().with_scope("messaging").filter(caregiver=user)
        condition |= Q(patient=user) | Q(patient__in=proxied.values("patient_id"), confidential=False)
    if is_staff_member(user):
        now = timezone.now()
        pools = PoolMember.objects.filter(user=user).values("pool_id")
        delegating = OutOfOffice.objects.filter(delegate=user, starts_at__lte=now, ends_at__gt=now).values("user_id")
        condition |= Q(pool__in=pools) | Q(assigned_to=user) | Q(assigned_to__in=delegating)
    return condition


@access.scope(Message)
def _messages_visible_to(user) -> Q:
    return Q(conversation__in=access.visible(user, Conversation.objects.all()).values("pk"))
