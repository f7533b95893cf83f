"""Who may see and do what in secure messaging, through the one access policy.

The matrix below is the whole policy for conversations and messages: every
row (a kind of person) against every object (an ordinary conversation, one the
patient keeps confidential, a closed one) and every action. What a row may do
is listed; everything else is refused.
"""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from portal_social.core import access, breakglass, caregivers
from portal_social.core.models import AuditEvent, CaregiverRelation
from portal_social.messaging import actions
from portal_social.messaging.models import Conversation, Message, OutOfOffice
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

REASON = "Patient collapsed in clinic; need the recent messages about dizziness"

CONVERSATION_ACTIONS = ("view", "reply", "close", "claim", "set_confidential")
MESSAGE_ACTIONS = ("view", "retract")
OBJECTS = ("ordinary", "confidential", "closed")

_PATIENT_OPEN = {"view", "reply", "close", "set_confidential", "message.view", "message.retract"}
_STAFF_OPEN = {"view", "reply", "close", "claim", "message.view"}
_CAREGIVER_OPEN = {"view", "reply", "close", "message.view"}

#: row -> object -> the actions allowed ("message.<action>" for the conversation's first message,
#: which the patient wrote). Every other (row, object, action) is refused.
ALLOWED: dict[str, dict[str, set[str]]] = {
    "patient": {
        "ordinary": _PATIENT_OPEN,
        "confidential": _PATIENT_OPEN,
        # Closed: no second close, but the patient's reply reopens it, and privacy stays theirs.
        "closed": _PATIENT_OPEN - {"close"},
    },
    "caregiver": {
        "ordinary": _CAREGIVER_OPEN,
        "confidential": set(),
        "closed": _CAREGIVER_OPEN - {"close"},
    },
    "caregiver_link_ended": {},
    "caregiver_without_messaging_scope": {},
    "other_patient": {},
    "pool_clinician": {
        "ordinary": _STAFF_OPEN,
        "confidential": _STAFF_OPEN,
        # The care team does not reopen a closed conversation by writing into it.
        "closed": _STAFF_OPEN - {"reply", "close"},
    },
    "pool_nurse": {
        "ordinary": _STAFF_OPEN,
        "confidential": _STAFF_OPEN,
        "closed": _STAFF_OPEN - {"reply", "close"},
    },
    "other_pool_clinician": {},
    "community_moderator": {},
    "superuser_without_role": {},
    "inactive_patient": {},
    "anonymous": {},
}
ROWS = tuple(ALLOWED)


def _fresh(user):
    """The user as the next request loads it: nothing the policy cached on the object survives."""
    return get_user_model().objects.get(pk=user.pk)


@pytest.fixture
def objects(world, start):
    """The three conversations of the matrix, all ``world.patient``'s, with ``world.pool``."""
    ordinary = start(subject="Dizzy on the new pill")
    confidential = start(subject="A private question", body="Something I would rather keep to myself.")
    actions.set_confidential(actor=world.patient, conversation=confidential, confidential=True)
    closed = start(subject="Refill request", body="Please renew my prescription.")
    actions.close_conversation(actor=world.nurse, conversation=closed)
    return {"ordinary": ordinary, "confidential": confidential, "closed": closed}


@pytest.fixture
def row_user(world, objects, make_user):
    """``row_user(name)``: the person of a matrix row, loaded as a new request would load them."""

    def make(name: str):
        if name == "anonymous":
            return AnonymousUser()
        if name == "caregiver_link_ended":
            link = CaregiverRelation.objects.get(caregiver=world.caregiver, patient=world.patient)
            caregivers.end_caregiver_link(actor=world.patient, relation=link)
            return _fresh(world.caregiver)
        if name == "caregiver_without_messaging_scope":
            helper = make_user(first_name="Luis", last_name="Lopez")
            caregivers.link_caregiver(actor=world.patient, caregiver=helper, patient=world.patient, scopes=["feedback"])
            return _fresh(helper)
        if name == "inactive_patient":
            get_user_model().objects.filter(pk=world.patient.pk).update(is_active=False)
            return _fresh(world.patient)
        person = {
            "patient": world.patient,
            "caregiver": world.caregiver,
            "other_patient": world.other_patient,
            "pool_clinician": world.clinician,
            "pool_nurse": world.nurse,
            "other_pool_clinician": world.outsider_clinician,
            "community_moderator": world.moderator,
            "superuser_without_role": world.superuser,
        }[name]
        return _fresh(person)

    return make


def _first_message(conversation: Conversation) -> Message:
    return conversation.messages.select_related("conversation").get(seq=1)


def _granted(user, objects) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for name, conversation in objects.items():
        message = _first_message(conversation)
        allowed = {action for action in CONVERSATION_ACTIONS if access.can(user, action, conversation)}
        allowed |= {f"message.{action}" for action in MESSAGE_ACTIONS if access.can(user, action, message)}
        found[name] = allowed
    return found


@pytest.mark.parametrize("row", ROWS)
def test_permission_matrix(row, objects, row_user):
    user = row_user(row)
    expected = {name: set(ALLOWED[row].get(name, set())) for name in OBJECTS}
    assert _granted(user, objects) == expected


@pytest.mark.parametrize("row", ROWS)
def test_visible_lists_exactly_the_conversations_and_messages_view_allows(row, objects, row_user):
    user = row_user(row)
    expected = {c.pk for name, c in objects.items() if "view" in ALLOWED[row].get(name, set())}
    assert {c.pk for c in objects.values() if access.can(user, "view", c)} == expected
    assert set(access.visible(user, Conversation.objects.all()).values_list("pk", flat=True)) == expected
    expected_messages = {m.pk for m in Message.objects.select_related("conversation") if access.can(user, "view", m)}
    assert {m.conversation_id for m in Message.objects.filter(pk__in=expected_messages)} == expected
    assert set(access.visible(user, Message.objects.all()).values_list("pk", flat=True)) == expected_messages


@pytest.mark.parametrize("row", ROWS)
def test_require_view_records_one_phi_read_naming_the_patient_per_open_and_nothing_on_refusal(
    row, world, objects, row_user
):
    user = row_user(row)
    targets = [*objects.values(), *(_first_message(c) for c in objects.values())]
    for target in targets:
        before = AuditEvent.objects.count()
        last = AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0
        if access.can(user, "view", target):
            assert access.require(user, "view", target) is target
            (event,) = AuditEvent.objects.filter(sequence__gt=last)
            assert event.action == "phi.read"
            assert event.patient_id == world.patient.pk
            assert event.actor_id == user.pk
            assert event.target_id == str(target.pk)
        else:
            with pytest.raises(access.NotFound):
                access.require(user, "view", target)
            assert AuditEvent.objects.count() == before


# Out of office ----------------------------------------------------------------------------------


def _delegate_sees(world, conversation) -> tuple[bool, bool]:
    delegate = _fresh(world.outsider_clinician)
    in_list = access.visible(delegate, Conversation.objects.all()).filter(pk=conversation.pk).exists()
    return access.can(delegate, "view", conversation), in_list


def test_the_delegate_of_an_absent_assignee_sees_the_assigned_conversation_only_while_the_absence_runs(world, start):
    conversation = start()
    unassigned = start(subject="Another question", body="A second question for the team.")
    actions.assign_conversation(actor=world.clinician, conversation=conversation, assignee=world.clinician)
    now = timezone.now()
    absence = OutOfOffice.objects.create(
        user=world.clinician,
        delegate=world.outsider_clinician,
        starts_at=now + datetime.timedelta(days=1),
        ends_at=now + datetime.timedelta(days=3),
    )
    assert _delegate_sees(world, conversation) == (False, False)  # not yet away

    OutOfOffice.objects.filter(pk=absence.pk).update(starts_at=now - datetime.timedelta(hours=1))
    assert _delegate_sees(world, conversation) == (True, True)  # away now
    assert _delegate_sees(world, unassigned) == (False, False)  # only what is assigned to the absent colleague

    OutOfOffice.objects.filter(pk=absence.pk).update(
        starts_at=now - datetime.timedelta(days=3), ends_at=now - datetime.timedelta(minutes=1)
    )
    assert _delegate_sees(world, conversation) == (False, False)  # back again


def test_a_delegate_stops_seeing_the_conversation_once_it_is_assigned_to_someone_present(world, start):
    conversation = start()
    actions.assign_conversation(actor=world.clinician, conversation=conversation, assignee=world.clinician)
    OutOfOffice.objects.create(
        user=world.clinician, delegate=world.outsider_clinician, ends_at=timezone.now() + datetime.timedelta(days=2)
    )
    assert _delegate_sees(world, conversation) == (True, True)
    actions.assign_conversation(actor=world.nurse, conversation=conversation, assignee=world.nurse)
    assert _delegate_sees(world, conversation) == (False, False)


# Break-the-glass --------------------------------------------------------------------------------


def test_break_the_glass_opens_a_conversation_to_staff_outside_the_pool_and_the_read_is_audited(world, start):
    conversation = start()
    outsider = _fresh(world.outsider_clinician)
    with pytest.raises(access.NotFound):
        access.require(outsider, "view", conversation)

    grant = breakglass.break_the_glass(user=outsider, obj=conversation, reason=REASON)
    outsider = _fresh(world.outsider_clinician)
    assert access.can(outsider, "view", conversation)
    assert list(access.visible(outsider, Conversation.objects.all())) == [conversation]

    phi_reads_before = AuditEvent.objects.filter(action="phi.read").count()
    access.require(outsider, "view", conversation)
    read = AuditEvent.objects.get(action="break_glass.read")
    assert read.severity == AuditEvent.Severity.HIGH
    assert read.actor_id == outsider.pk and read.patient_id == world.patient.pk
    assert read.target_id == str(conversation.pk) and str(grant.pk) in read.reason
    assert REASON not in read.reason
    assert AuditEvent.objects.filter(action="phi.read").count() == phi_reads_before  # recorded once, as break-glass


def test_break_the_glass_opens_reading_only(world, start):
    conversation = start()
    outsider = _fresh(world.outsider_clinician)
    breakglass.break_the_glass(user=outsider, obj=conversation, reason=REASON)
    outsider = _fresh(world.outsider_clinician)
    for action in ("reply", "close", "claim", "set_confidential"):
        assert not access.can(outsider, action, conversation), action


def test_an_expired_break_the_glass_grant_opens_nothing(world, start):
    from portal_social.core.models import BreakGlassGrant

    conversation = start()
    grant = breakglass.break_the_glass(user=world.outsider_clinician, obj=conversation, reason=REASON)
    BreakGlassGrant.objects.filter(pk=grant.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    outsider = _fresh(world.outsider_clinician)
    assert not access.can(outsider, "view", conversation)
    assert not access.visible(outsider, Conversation.objects.all()).exists()


@pytest.mark.parametrize("who", ["moderator", "superuser", "other_patient"])
def test_people_without_a_clinical_role_cannot_break_the_glass(world, start, who):
    conversation = start()
    with pytest.raises(breakglass.BreakGlassDenied):
        breakglass.break_the_glass(user=_fresh(getattr(world, who)), obj=conversation, reason=REASON)
    assert not access.can(_fresh(getattr(world, who)), "view", conversation)


def test_the_conversation_page_opened_through_break_the_glass_is_audited_as_break_glass(client, world, start):
    conversation = start()
    url = f"/messages/c/{conversation.pk}/"
    sign_in(client, world.outsider_clinician)
    assert client.get(url).status_code == 404
    breakglass.break_the_glass(user=world.outsider_clinician, obj=conversation, reason=REASON)
    response = client.get(url)
    assert response.status_code == 200
    assert b"Is it normal to feel dizzy on the new pill?" in response.content
    reads = AuditEvent.objects.filter(action="break_glass.read", actor_id=world.outsider_clinician.pk)
    assert reads.count() == 1 and reads.get().patient_id == world.patient.pk
    assert not AuditEvent.objects.filter(action="phi.read", actor_id=world.outsider_clinician.pk).exists()
