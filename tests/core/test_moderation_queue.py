"""The shared moderation queue: its state machine, optimistic locking, claims, who may work it,
its audit and notifications, and the queue page's filters, order and bounded queries."""

import json
import uuid

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal_social.conf import app_settings
from portal_social.core import audit, moderation, roles
from portal_social.core.models import AuditEvent, CareTeamLink
from portal_social.core.moderation import registry, views
from portal_social.core.moderation.models import ModerationItem, ModerationReason
from portal_social.core.notify.models import Notification
from portal_social.core.staff_area import TEMPLATE as STAFF_AREA_TEMPLATE
from portal_social.profiles import actions
from portal_social.profiles.models import Review
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

PHONE = "555-867-5309"
QUEUE = "/cms/portal-social/moderation/"
OPERATIONS = ("claim", "release", "escalate", "approve")


def item_url(item):
    return f"{QUEUE}{item.pk}/"


def submit(author, clinician, comment=""):
    ratings = {key: 4 for key, _label in app_settings.REVIEW_QUESTIONS}
    return actions.submit_review(author=author, clinician=clinician, ratings=ratings, comment=comment)


def hold(author, clinician):
    review = submit(author, clinician, comment=f"Dr Lopez was kind. Call {PHONE} any time.")
    assert review.status == Review.Status.HELD
    return review


def publish(author, clinician, comment="Clear explanations and kind staff."):
    review = submit(author, clinician, comment=comment)
    assert review.status == Review.Status.PUBLISHED
    return review


def fresh(item):
    return ModerationItem.objects.get(pk=item.pk)


def state(item):
    """Everything an operation that is refused must leave as it was."""
    row = fresh(item)
    return (
        row.status,
        row.claimed_by_id,
        row.version,
        row.urgent,
        row.score,
        row.reasons.count(),
        AuditEvent.objects.count(),
        Notification.objects.count(),
    )


CURRENT = object()


def operate(operation, moderator, item, version=CURRENT):
    """One operation on ``item`` by ``moderator``, at the version given (by default the current one)."""
    version = fresh(item).version if version is CURRENT else version
    if operation == "claim":
        return moderation.claim(moderator=moderator, item=item, version=version)
    if operation == "release":
        return moderation.release(moderator=moderator, item=item, version=version)
    if operation == "escalate":
        return moderation.escalate(moderator=moderator, item=item, version=version)
    return moderation.decide(moderator=moderator, item=item, version=version, decision=operation)


def code_of(excinfo):
    """The codes a caller reads from the refusal (one per message, field errors included)."""
    error = excinfo.value
    if hasattr(error, "error_dict"):
        return {e.code for errors in error.error_dict.values() for e in errors}
    return {e.code for e in error.error_list}


def refusal(call):
    """Run ``call``, which must be refused with a ValidationError, and return the refusal's codes."""
    with pytest.raises(ValidationError) as refused:
        call()
    return code_of(refused)


def new_actions(since):
    return list(AuditEvent.objects.filter(sequence__gt=since).order_by("sequence").values_list("action", flat=True))


def last_sequence():
    last = AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first()
    return last or 0


def put_claim(item, user):
    """Set up a claim without going through the queue (no audit, no version change)."""
    ModerationItem.objects.filter(pk=item.pk).update(claimed_by=user, claimed_at=timezone.now())


@pytest.fixture
def held(make_patient, clinician):
    return hold(make_patient(), clinician)


@pytest.fixture
def item(held):
    found = moderation.pending_item(held)
    assert found is not None
    return found


@pytest.fixture
def colleague(make_user):
    return make_user(roles.COMMUNITY_MODERATOR, mfa=True)


# --------------------------------------------------------------------------- state machine


def test_a_held_review_opens_one_pending_item_for_its_author(held, item):
    assert (item.kind, item.status, item.version, item.author_id) == ("review", "pending", 1, held.author_id)
    assert item.reviewer_permission == "portal_social.moderate_reviews"
    assert item.target_id == str(held.pk)
    assert [(r.code, r.added_by_id) for r in item.reasons.all()] == [("phi", None)]
    assert ModerationItem.objects.count() == 1


@pytest.mark.parametrize(
    ("decision", "data", "item_status", "review_status"),
    [
        ("approve", {}, "approved", Review.Status.PUBLISHED),
        ("reject", {"reason": "Contains a phone number."}, "rejected", Review.Status.REJECTED),
        ("redact", {"use_findings": True}, "approved", Review.Status.PUBLISHED),
    ],
)
def test_a_decision_closes_the_item_and_changes_the_review(
    moderator, held, item, decision, data, item_status, review_status
):
    moderation.decide(moderator=moderator, item=item, version=1, decision=decision, data=data)
    row = fresh(item)
    assert (row.status, row.decided_by_id, row.version) == (item_status, moderator.pk, 2)
    assert row.decided_at is not None and row.claimed_by_id is None
    assert (item.status, item.version) == (item_status, 2)  # the caller's instance follows
    held.refresh_from_db()
    assert held.status == review_status
    assert moderation.pending_item(held) is None


def test_ignore_closes_the_item_and_leaves_the_content_as_it_is(moderator, make_patient, clinician):
    review = publish(make_patient(), clinician)
    actions.reject_review(moderator=moderator, review=review, reason="Off topic.")
    item = moderation.enqueue(review, kind="review", reasons=[moderation.Reason("flag", added_by=moderator)])
    assert fresh(item).status == "pending"
    with pytest.raises(ValidationError) as refused:
        moderation.decide(moderator=moderator, item=item, version=1, decision="approve")
    assert code_of(refused) == {"decision"}
    moderation.decide(moderator=moderator, item=item, version=1, decision="ignore")
    assert (fresh(item).status, fresh(item).decided_by_id) == ("ignored", moderator.pk)
    review.refresh_from_db()
    assert review.status == Review.Status.REJECTED


def test_a_decision_the_item_does_not_offer_is_refused(moderator, held, item):
    before = state(item)
    with pytest.raises(ValidationError) as refused:
        moderation.decide(moderator=moderator, item=item, version=1, decision="ignore")
    assert code_of(refused) == {"decision"}
    assert state(item) == before


def test_the_review_action_closes_the_item_too(moderator, held, item):
    actions.approve_review(moderator=moderator, review=held)
    row = fresh(item)
    assert (row.status, row.decided_by_id, row.version) == ("approved", moderator.pk, 2)


def test_a_decided_item_refuses_every_operation(moderator, held, item):
    moderation.decide(moderator=moderator, item=item, version=1, decision="approve")
    before = state(item)
    operations = [*OPERATIONS, "reject", "ignore"]
    codes = {operation: refusal(lambda: operate(operation, moderator, item)) for operation in operations}
    assert state(item) == before
    assert codes == dict.fromkeys(operations, {"decided"})


def test_a_flag_on_decided_content_opens_a_new_item_and_keeps_the_old_one(
    moderator, make_patient, held, item, django_capture_on_commit_callbacks
):
    moderation.decide(moderator=moderator, item=item, version=1, decision="approve")
    reader = make_patient()
    held.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        actions.report_review(reporter=reader, review=held, reason="phi")
    items = list(ModerationItem.objects.filter(target_id=str(held.pk)).order_by("created_at"))
    assert [i.status for i in items] == ["approved", "pending"]
    old, new = items
    assert old.pk == item.pk and new.pk != item.pk
    assert [r.code for r in old.reasons.all()] == ["phi"]  # the decided item's history is kept
    assert [(r.code, r.added_by_id) for r in new.reasons.all()] == [("flag", reader.pk)]
    assert (new.version, new.author_id) == (1, held.author_id)
    assert moderation.pending_item(held).pk == new.pk


def test_a_second_flag_on_a_pending_item_joins_it(make_patient, clinician):
    review = publish(make_patient(), clinician)
    first, second = make_patient(), make_patient()
    actions.report_review(reporter=first, review=review, reason="abusive")
    actions.report_review(reporter=second, review=review, reason="other: not about care")
    (item,) = ModerationItem.objects.filter(target_id=str(review.pk))
    assert item.status == "pending"
    assert [(r.code, r.added_by_id, r.details["category"]) for r in item.reasons.all()] == [
        ("flag", first.pk, "abusive"),
        ("flag", second.pk, "other"),
    ]
    assert (item.version, item.score) == (2, 4)


def test_the_database_allows_one_pending_item_per_target(held, item):
    duplicate = {
        "kind": "review",
        "target_type_id": item.target_type_id,
        "target_id": item.target_id,
        "reviewer_permission": item.reviewer_permission,
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        ModerationItem.objects.create(**duplicate)
    # Decided items for the same target are history, not a conflict.
    ModerationItem.objects.create(**duplicate, status="approved")
    ModerationItem.objects.create(**duplicate, status="ignored")
    assert ModerationItem.objects.filter(target_id=item.target_id).count() == 3


# --------------------------------------------------------------------------- optimistic locking


@pytest.mark.parametrize("operation", [*OPERATIONS, "reject"])
def test_a_stale_version_is_refused_and_changes_nothing(moderator, held, item, operation):
    moderation.claim(moderator=moderator, item=item, version=1)
    moderation.release(moderator=moderator, item=item, version=2)
    if operation == "release":
        moderation.claim(moderator=moderator, item=item, version=3)
    current = fresh(item).version
    before = state(item)
    stale = [current - 1, current + 1, 0, str(current - 1)]
    codes = [refusal(lambda: operate(operation, moderator, item, version=version)) for version in stale]
    assert state(item) == before
    held.refresh_from_db()
    assert held.status == Review.Status.HELD
    assert codes == [{"stale"}] * len(stale)


NOT_INTEGERS = ["abc", "", None, "1e3", "²", "1.0", [1], "9" * 5000]


@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_version_that_is_not_an_integer_is_stale(moderator, item, operation):
    if operation == "release":
        put_claim(item, moderator)
    before = state(item)
    codes = [refusal(lambda: operate(operation, moderator, item, version=version)) for version in NOT_INTEGERS]
    assert state(item) == before
    assert codes == [{"stale"}] * len(NOT_INTEGERS)


def test_a_tampered_version_through_the_page_is_an_error_message_not_a_server_error(client, moderator, item):
    sign_in(client, moderator)
    before = state(item)
    for version in ["abc", "", "1e3", "²", "9" * 5000, "0"]:
        response = client.post(item_url(item), {"action": "claim", "version": version})
        assert response.status_code == 302, version
        page = client.get(response["Location"])
        assert page.status_code == 200
        assert "changed since you opened it" in page.content.decode(), version
    after = state(item)
    assert after[:6] == before[:6]  # opening the page again is audited; the item is unchanged


def test_version_grows_by_one_per_change(moderator, colleague, make_patient, clinician):
    review = publish(make_patient(), clinician)
    actions.report_review(reporter=make_patient(), review=review, reason="abusive")
    item = moderation.pending_item(review)
    versions = [fresh(item).version]
    moderation.claim(moderator=moderator, item=item, version=1)
    versions.append(fresh(item).version)
    moderation.claim(moderator=colleague, item=item, version=2)  # take-over: one change
    versions.append(fresh(item).version)
    moderation.release(moderator=colleague, item=item, version=3)
    versions.append(fresh(item).version)
    moderation.escalate(moderator=moderator, item=item, version=4)
    versions.append(fresh(item).version)
    actions.report_review(reporter=make_patient(), review=review, reason="other")
    versions.append(fresh(item).version)
    moderation.decide(moderator=moderator, item=item, version=6, decision="approve")
    versions.append(fresh(item).version)
    assert versions == [1, 2, 3, 4, 5, 6, 7]
    assert item.version == 7


# --------------------------------------------------------------------------- claims


def test_claim_takes_the_item(moderator, item):
    moderation.claim(moderator=moderator, item=item, version=1)
    row = fresh(item)
    assert (row.claimed_by_id, row.version, row.status) == (moderator.pk, 2, "pending")
    assert row.claimed_at is not None
    assert item.claimed_by_id == moderator.pk


def test_a_colleague_cannot_work_a_claimed_item(moderator, colleague, held, item):
    moderation.claim(moderator=moderator, item=item, version=1)
    before = state(item)
    operations = ["release", "escalate", "approve", "reject", "redact"]
    codes = {operation: refusal(lambda: operate(operation, colleague, item)) for operation in operations}
    assert state(item) == before
    held.refresh_from_db()
    assert held.status == Review.Status.HELD
    assert codes == dict.fromkeys(operations, {"claimed"})


def test_a_colleague_may_take_over_a_claim_and_it_is_audited(moderator, colleague, item):
    moderation.claim(moderator=moderator, item=item, version=1)
    since = last_sequence()
    moderation.claim(moderator=colleague, item=item, version=2)
    row = fresh(item)
    assert (row.claimed_by_id, row.version) == (colleague.pk, 3)
    events = list(AuditEvent.objects.filter(sequence__gt=since).order_by("sequence"))
    assert [e.action for e in events] == ["moderation.release", "moderation.claim"]
    assert {e.actor_id for e in events} == {colleague.pk}
    assert events[0].details["from"] == str(moderator.pk)
    assert "from" not in events[1].details
    # The first moderator can no longer decide it.
    with pytest.raises(ValidationError) as refused:
        moderation.decide(moderator=moderator, item=item, version=3, decision="approve")
    assert code_of(refused) == {"claimed"}


def test_releasing_gives_the_item_back_to_anyone(moderator, colleague, held, item):
    moderation.claim(moderator=moderator, item=item, version=1)
    moderation.release(moderator=moderator, item=item, version=2)
    row = fresh(item)
    assert (row.claimed_by_id, row.claimed_at, row.version) == (None, None, 3)
    moderation.decide(moderator=colleague, item=item, version=3, decision="approve")
    assert fresh(item).status == "approved"


def test_releasing_an_item_nobody_claimed_is_refused(moderator, item):
    before = state(item)
    with pytest.raises(ValidationError) as refused:
        moderation.release(moderator=moderator, item=item, version=1)
    assert code_of(refused) == {"claimed"}
    assert state(item) == before


def test_claiming_your_own_claim_again_is_refused(moderator, item):
    moderation.claim(moderator=moderator, item=item, version=1)
    before = state(item)
    with pytest.raises(ValidationError) as refused:
        moderation.claim(moderator=moderator, item=item, version=2)
    assert code_of(refused) == {"claimed"}
    assert state(item) == before


def test_the_claimant_decides_and_the_claim_ends_with_the_decision(moderator, item):
    moderation.claim(moderator=moderator, item=item, version=1)
    moderation.decide(moderator=moderator, item=item, version=2, decision="approve")
    row = fresh(item)
    assert (row.status, row.claimed_by_id, row.claimed_at, row.decided_by_id) == (
        "approved",
        None,
        None,
        moderator.pk,
    )


# --------------------------------------------------------------------------- who may work the queue

ROLE_SLUGS = {
    "patient": roles.PATIENT,
    "caregiver": roles.CAREGIVER,
    "clinician": roles.CLINICIAN,
    "moderator": roles.COMMUNITY_MODERATOR,
    "px": roles.PATIENT_EXPERIENCE,
    "risk": roles.RISK_MANAGER,
    "admin": roles.PORTAL_ADMINISTRATOR,
    "superuser": None,  # a superuser without a role: is_superuser opens nothing
}
NOT_STAFF = {"patient", "caregiver", "clinician"}


def make_actor(make_user, role):
    extra = {"is_superuser": True, "is_staff": True} if role == "superuser" else {}
    return make_user(ROLE_SLUGS[role], mfa=True, **extra)


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("role", list(ROLE_SLUGS))
def test_permission_matrix(make_user, held, item, role, operation):
    actor = make_actor(make_user, role)
    if operation == "release":
        put_claim(item, actor)
    if role == "moderator":
        operate(operation, actor, item)
        row = fresh(item)
        assert row.version == 2
        expected = {
            "claim": ("pending", actor.pk, False),
            "release": ("pending", None, False),
            "escalate": ("pending", None, True),
            "approve": ("approved", None, False),
        }[operation]
        assert (row.status, row.claimed_by_id, row.urgent) == expected
        return
    assert not moderation.may_review(actor, item)
    before = state(item)
    with pytest.raises(moderation.ModerationDenied):
        operate(operation, actor, item)
    assert state(item) == before
    held.refresh_from_db()
    assert held.status == Review.Status.HELD


@pytest.mark.parametrize("role", list(ROLE_SLUGS))
def test_only_moderators_see_and_work_the_queue_through_the_page(client, make_user, held, item, role):
    actor = make_actor(make_user, role)
    sign_in(client, actor)
    page = client.get(QUEUE)
    if role == "moderator":
        assert page.status_code == 200
        assert [row["item"].pk for row in page.context["rows"]] == [item.pk]
        assert PHONE in page.content.decode()
        return
    answers = [page]
    since = last_sequence()
    for operation in OPERATIONS:
        answers.append(client.post(item_url(item), {"action": operation, "version": "1"}))
    for answer in answers:
        if role in NOT_STAFF:
            assert answer.status_code == 403
            assert [t.name for t in answer.templates][0] == STAFF_AREA_TEMPLATE
        else:
            assert answer.status_code == 404
        body = answer.content.decode()
        assert PHONE not in body and str(item.pk) not in body
    row = fresh(item)
    assert (row.status, row.claimed_by_id, row.version, row.urgent) == ("pending", None, 1, False)
    assert not AuditEvent.objects.filter(sequence__gt=since, action__startswith="moderation.").exists()
    held.refresh_from_db()
    assert held.status == Review.Status.HELD


def test_the_page_carries_out_each_operation(client, moderator, held, item):
    sign_in(client, moderator)
    for operation in ("claim", "release", "escalate", "approve"):
        response = client.post(item_url(item), {"action": operation, "version": str(fresh(item).version)})
        assert response.status_code == 302
    row = fresh(item)
    assert (row.status, row.urgent, row.version) == ("approved", True, 5)
    held.refresh_from_db()
    assert held.status == Review.Status.PUBLISHED


# --------------------------------------------------------------------------- audit and notifications


def test_each_operation_writes_exactly_one_event_of_its_type(moderator, colleague, make_patient, clinician):
    author = make_patient()
    since = last_sequence()
    review = hold(author, clinician)
    assert new_actions(since) == ["review.submit", "moderation.queue"]
    item = moderation.pending_item(review)
    queued = AuditEvent.objects.get(action="moderation.queue")
    assert (queued.patient_id, queued.target_id) == (author.pk, str(item.pk))
    assert queued.details["reasons"] == ["phi"] and queued.details["target"] == str(review.pk)

    steps = [
        (lambda: moderation.claim(moderator=moderator, item=item, version=1), ["moderation.claim"]),
        (lambda: moderation.release(moderator=moderator, item=item, version=2), ["moderation.release"]),
        (lambda: moderation.escalate(moderator=colleague, item=item, version=3), ["moderation.escalate"]),
        (
            lambda: moderation.enqueue(
                review, kind="review", reasons=[moderation.Reason("flag", added_by=colleague)], actor=colleague
            ),
            ["moderation.flag"],
        ),
        (
            lambda: moderation.decide(moderator=moderator, item=item, version=5, decision="approve"),
            ["review.approve"],
        ),
    ]
    for step, expected in steps:
        since = last_sequence()
        step()
        assert new_actions(since) == expected
        event = AuditEvent.objects.get(sequence__gt=since)
        assert event.patient_id == author.pk

    # Closing without action is the queue's own event.
    actions.reject_review(moderator=moderator, review=review, reason="Contains a phone number.")
    again = moderation.enqueue(review, kind="review", reasons=[moderation.Reason("flag", added_by=colleague)])
    since = last_sequence()
    moderation.decide(moderator=moderator, item=again, version=1, decision="ignore")
    assert new_actions(since) == ["moderation.ignore"]

    everything = list(AuditEvent.objects.all())
    for event in everything:
        written = json.dumps(event.details) + event.reason + event.target_id + event.target_type
        # The number whole, or its last seven digits (a UUID may hold "867" by chance, never "867-5309").
        assert PHONE not in written and "867-5309" not in written
    checked, problem = audit.verify_chain()
    assert problem is None
    assert checked == len(everything)


def test_a_note_quoting_phi_is_encrypted_and_never_audited(moderator, held, item):
    note = f"They put their number {PHONE} in the comment."
    moderation.enqueue(held, kind="review", reasons=[moderation.Reason("flag", added_by=moderator, note=note)])
    reason = ModerationReason.objects.get(item=item, code="flag")
    assert reason.note == note
    with connection.cursor() as cursor:
        cursor.execute("SELECT note FROM portal_social_moderationreason WHERE id = %s", [reason.pk])
        (raw,) = cursor.fetchone()
    assert PHONE not in str(raw)
    assert not any(PHONE in json.dumps(d) for d in AuditEvent.objects.values_list("details", flat=True))
    assert audit.verify_chain()[1] is None


def test_moderators_are_told_of_a_new_item_after_commit(
    make_user, moderator, colleague, make_patient, clinician, django_capture_on_commit_callbacks
):
    bystander = make_user(roles.PATIENT_EXPERIENCE)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        hold(make_patient(), clinician)
    told = Notification.objects.filter(recipient__in=[moderator, colleague, bystander])
    assert sorted(told.values_list("recipient_id", "key", "status")) == sorted(
        [
            (moderator.pk, "review.needs_moderation", Notification.Status.PENDING),
            (colleague.pk, "review.needs_moderation", Notification.Status.PENDING),
        ]
    )
    assert mail.outbox == []  # nothing is delivered inside the transaction
    assert callbacks
    for callback in callbacks:
        callback()
    sent_to = {address for message in mail.outbox for address in message.to}
    assert {moderator.email, colleague.email} <= sent_to
    assert bystander.email not in sent_to
    assert all(PHONE not in message.body for message in mail.outbox)
    assert set(told.values_list("status", flat=True)) == {Notification.Status.SENT}


def test_escalation_tells_every_moderator_after_commit(moderator, colleague, item, django_capture_on_commit_callbacks):
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        moderation.escalate(moderator=moderator, item=item, version=1)
    told = Notification.objects.all()
    assert sorted(told.values_list("recipient_id", "key")) == sorted(
        [(moderator.pk, "moderation.urgent"), (colleague.pk, "moderation.urgent")]
    )
    assert mail.outbox == []
    for callback in callbacks:
        callback()
    assert {address for message in mail.outbox for address in message.to} == {moderator.email, colleague.email}


def test_a_rolled_back_operation_tells_nobody(
    moderator, colleague, make_patient, clinician, item, django_capture_on_commit_callbacks
):
    author = make_patient()
    items_before, notes_before = ModerationItem.objects.count(), Notification.objects.count()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            hold(author, clinician)
            raise RuntimeError("the request failed after queueing")
        with pytest.raises(RuntimeError), transaction.atomic():
            moderation.escalate(moderator=moderator, item=item, version=1)
            raise RuntimeError("the request failed after escalating")
    assert callbacks == []
    assert mail.outbox == []
    assert (ModerationItem.objects.count(), Notification.objects.count()) == (items_before, notes_before)
    assert (fresh(item).urgent, fresh(item).version) == (False, 1)
    assert not Review.objects.filter(author=author).exists()


# --------------------------------------------------------------------------- the queue page


def rows(response):
    assert response.status_code == 200
    return [row["item"].pk for row in response.context["rows"]]


@pytest.fixture
def other_kind(monkeypatch):
    """A second kind of content reviewed by the same moderators (its targets are never found)."""
    kind = registry.Kind(
        key="testnote",
        model=CareTeamLink,
        label="Test note",
        permission="portal_social.moderate_reviews",
        reviewer_role=roles.COMMUNITY_MODERATOR,
        template="portal_social/profiles/admin/moderation_item.html",
        load=lambda ids: {},
        present=lambda item, target: {},
        decisions=lambda item, target: [],
        decide=lambda *args: "",
        author=lambda target: None,
    )
    monkeypatch.setitem(registry._kinds, kind.key, kind)
    return kind


def test_filters_narrow_the_queue(
    client, moderator, colleague, make_patient, clinician, other_kind, django_capture_on_commit_callbacks
):
    held_item = moderation.pending_item(hold(make_patient(), clinician))
    reported = publish(make_patient(), clinician)
    actions.report_review(reporter=make_patient(), review=reported, reason="abusive")
    flagged_item = moderation.pending_item(reported)
    urgent_item = moderation.pending_item(hold(make_patient(), clinician))
    moderation.escalate(moderator=colleague, item=urgent_item, version=1)
    mine = moderation.pending_item(hold(make_patient(), clinician))
    moderation.claim(moderator=moderator, item=mine, version=1)
    theirs = moderation.pending_item(hold(make_patient(), clinician))
    moderation.claim(moderator=colleague, item=theirs, version=1)
    content_type = flagged_item.target_type
    note_item = ModerationItem.objects.create(
        kind="testnote",
        target_type=content_type,
        target_id=str(uuid.uuid4()),
        reviewer_permission="portal_social.moderate_reviews",
        space="cardiology",
    )
    ModerationReason.objects.create(item=note_item, code="language")
    decided = moderation.pending_item(hold(make_patient(), clinician))
    moderation.decide(moderator=moderator, item=decided, version=1, decision="approve")

    sign_in(client, moderator)
    everything = rows(client.get(QUEUE))
    assert set(everything) == {held_item.pk, flagged_item.pk, urgent_item.pk, mine.pk, theirs.pk, note_item.pk}
    reviews = {held_item.pk, flagged_item.pk, urgent_item.pk, mine.pk, theirs.pk}
    cases = [
        ({"type": "review"}, reviews),
        ({"type": "testnote"}, {note_item.pk}),
        ({"reason": "flag"}, {flagged_item.pk}),
        ({"reason": "phi"}, {held_item.pk, urgent_item.pk, mine.pk, theirs.pk}),
        ({"reason": "escalated"}, {urgent_item.pk}),
        ({"reason": "language"}, {note_item.pk}),
        ({"space": "cardiology"}, {note_item.pk}),
        ({"urgent": "on"}, {urgent_item.pk}),
        ({"claimed": "mine"}, {mine.pk}),
        ({"claimed": "others"}, {theirs.pk}),
        ({"claimed": "unclaimed"}, {held_item.pk, flagged_item.pk, urgent_item.pk, note_item.pk}),
        ({"type": "review", "claimed": "unclaimed", "reason": "phi"}, {held_item.pk, urgent_item.pk}),
    ]
    for query, expected in cases:
        shown = rows(client.get(QUEUE, query))
        assert len(shown) == len(set(shown)), query
        assert set(shown) == expected, query
    # The colleague sees the same claims the other way round.
    sign_in(client, colleague)
    assert set(rows(client.get(QUEUE, {"claimed": "mine"}))) == {theirs.pk}
    assert set(rows(client.get(QUEUE, {"claimed": "others"}))) == {mine.pk}


def test_urgent_first_then_oldest(client, moderator, make_patient, clinician):
    now = timezone.now()
    older, urgent, oldest, newest = (moderation.pending_item(hold(make_patient(), clinician)) for _ in range(4))
    for item, days in ((oldest, 30), (older, 20), (urgent, 1), (newest, 0)):
        ModerationItem.objects.filter(pk=item.pk).update(created_at=now - timezone.timedelta(days=days))
    moderation.escalate(moderator=moderator, item=urgent, version=1)
    sign_in(client, moderator)
    assert rows(client.get(QUEUE)) == [urgent.pk, oldest.pk, older.pk, newest.pk]


def test_invalid_filters_never_break_the_page(client, moderator, held, item):
    sign_in(client, moderator)
    tampered = [
        {"reason": "nope"},
        {"space": "../x"},
        {"urgent": "maybe"},
        {"claimed": "everyone"},
        {"type": "<script>"},
        {"p": "-1"},
        {"p": "99999"},
        {"p": "abc"},
        {"p": "²"},
        {"p": "9" * 5000},
        {"space": "x" * 500},
    ]
    for query in tampered:
        response = client.get(QUEUE, query)
        assert response.status_code == 200, query
        # Every one of these still shows the one item (an unknown filter is not applied;
        # "maybe" reads as a ticked box, and the item is not urgent).
        assert rows(response) == ([] if query.get("urgent") else [item.pk]), query


def test_a_page_holds_page_size_items(client, moderator, item):
    extra = views.PAGE_SIZE + 3
    ModerationItem.objects.bulk_create(
        ModerationItem(
            kind="review",
            target_type_id=item.target_type_id,
            target_id=str(uuid.uuid4()),
            reviewer_permission=item.reviewer_permission,
        )
        for _ in range(extra)
    )
    sign_in(client, moderator)
    first = client.get(QUEUE)
    assert len(rows(first)) == views.PAGE_SIZE
    assert first.context["page"].paginator.count == extra + 1
    second = client.get(QUEUE, {"p": "2"})
    assert len(rows(second)) == extra + 1 - views.PAGE_SIZE
    assert not set(rows(first)) & set(rows(second))


def _is_audit_write(sql: str) -> bool:
    return "audit" in sql.lower() or sql.upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))


def test_queue_queries_do_not_grow_with_items(client, moderator, make_patient, clinician):
    sign_in(client, moderator)
    reads, writes, shown = [], [], []
    for size in (3, 20):
        while ModerationItem.objects.filter(status="pending").count() < size:
            hold(make_patient(), clinician)
        client.get(QUEUE)  # warm the session and caches alike for both sizes
        with CaptureQueriesContext(connection) as captured:
            response = client.get(QUEUE)
        sql = [query["sql"] for query in captured.captured_queries]
        reads.append(sum(not _is_audit_write(statement) for statement in sql))
        writes.append(sum(_is_audit_write(statement) for statement in sql))
        shown.append(len(rows(response)))
    assert shown == [3, 20]
    assert reads[0] == reads[1], reads
    per_patient = writes[0] // 3
    assert per_patient > 0
    assert writes == [per_patient * 3, per_patient * 20], writes
    assert AuditEvent.objects.filter(action="moderation.view", actor_id=moderator.pk).count() == 2 * (3 + 20)
