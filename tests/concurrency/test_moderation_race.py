"""Two people acting on one moderation item at the same moment, against a real PostgreSQL.

Row locks are what these tests are about, so they run on PostgreSQL only
(``make test-services``); SQLite serialises every writer on the whole
database and has no row locks to get wrong.

* Two moderators deciding one item: exactly one decision is carried out;
  the other moderator is told the item is stale, decided or claimed.
* A reader flagging a review while a moderator approves it: neither waits
  forever nor fails on a deadlock, and the flag always lands on a pending
  item: the one being decided if the flag came first (the moderator's
  screen is then stale), a new one if it came after.
"""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import OperationalError, connection

from portal_social.conf import app_settings
from portal_social.core import moderation
from portal_social.core.models import AuditEvent
from portal_social.core.moderation import actions as queue_actions
from portal_social.core.moderation.models import ModerationItem
from portal_social.profiles import actions
from portal_social.profiles.actions import responses
from portal_social.profiles.models import Review

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

REFUSALS = {"stale", "decided", "claimed"}
#: How long one side waits for the other to reach its step before going on regardless.
STEP_TIMEOUT = 5


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's: run with DATABASE_URL (make test-services)")


def submit(author, clinician, comment):
    ratings = {key: 4 for key, _label in app_settings.REVIEW_QUESTIONS}
    return actions.submit_review(author=author, clinician=clinician, ratings=ratings, comment=comment)


def codes(error: ValidationError) -> set:
    if hasattr(error, "error_dict"):
        return {e.code for errors in error.error_dict.values() for e in errors}
    return {e.code for e in error.error_list}


def outcome(call):
    """``("ok", None)``, ``("refused", codes)`` or ``("error", exception)``: never raises."""
    try:
        call()
    except ValidationError as exc:
        return ("refused", codes(exc))
    except Exception as exc:  # a deadlock or any other failure is the test's finding
        return ("error", exc)
    return ("ok", None)


def at_once(file_database, *calls):
    """Run each call in its own thread (own connection), released together; their outcomes in order."""
    start = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(n):
        start.wait()
        results[n] = outcome(calls[n])

    threads = [threading.Thread(target=file_database, args=(run, n)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a thread is still waiting: a lock was never released"
    return results


@pytest.mark.parametrize(("first", "second"), [("approve", "approve"), ("approve", "reject")])
def test_two_moderators_deciding_one_item_at_once_one_wins(
    make_user, make_patient, clinician, moderator, file_database, first, second
):
    from portal_social.core import roles

    colleague = make_user(roles.COMMUNITY_MODERATOR, mfa=True)
    review = submit(make_patient(), clinician, "Kind staff. Call 555-867-5309 any time.")
    assert review.status == Review.Status.HELD
    item_id = moderation.pending_item(review).pk
    file_database.switch()

    def decide(user, decision):
        def call():
            item = ModerationItem.objects.get(pk=item_id)
            data = {"reason": "Contains a phone number."} if decision == "reject" else {}
            moderation.decide(moderator=user, item=item, version=1, decision=decision, data=data)

        return call

    results = at_once(file_database, decide(moderator, first), decide(colleague, second))

    assert [kind for kind, _detail in results].count("ok") == 1, results
    assert not [detail for kind, detail in results if kind == "error"], results
    winner = 0 if results[0][0] == "ok" else 1
    expected = {"approve": ("approved", Review.Status.PUBLISHED), "reject": ("rejected", Review.Status.REJECTED)}[
        (first, second)[winner]
    ]

    def final():
        item = ModerationItem.objects.get(pk=item_id)
        decisions = list(
            AuditEvent.objects.filter(action__in=["review.approve", "review.reject"], target_id=str(review.pk))
        )
        return (
            (item.status, Review.objects.get(pk=review.pk).status),
            item.version,
            item.decided_by_id,
            [e.actor_id for e in decisions],
        )

    statuses, version, decided_by, deciders = file_database(final)
    assert statuses == expected
    assert version == 2  # one change, not two
    assert decided_by == (moderator, colleague)[winner].pk
    assert deciders == [decided_by]
    loser = results[1 - winner]
    assert loser[0] == "refused" and loser[1] <= REFUSALS and loser[1], results


@pytest.fixture
def reported(make_patient, clinician):
    """A published review one reader reported: a pending item with one flag."""
    review = submit(make_patient(), clinician, "Clear explanations and kind staff.")
    assert review.status == Review.Status.PUBLISHED
    actions.report_review(reporter=make_patient(), review=review, reason="abusive")
    return review


def _flag_and_approve(file_database, review, moderator, reader, *, interleave):
    """The reader reports ``review`` while ``moderator`` approves its pending item (version 1)."""
    item_id = moderation.pending_item(review).pk

    def flag():
        actions.report_review(reporter=reader, review=Review.objects.get(pk=review.pk), reason="other: still rude")

    def approve():
        item = ModerationItem.objects.get(pk=item_id)
        moderation.decide(moderator=moderator, item=item, version=1, decision="approve")

    if interleave is None:
        return item_id, at_once(file_database, flag, approve)
    return item_id, interleave(flag, approve)


def _check_flag_landed_on_a_pending_item(file_database, review, item_id, reader, results):
    flag_result, approve_result = results
    assert flag_result[0] != "error", results
    assert approve_result[0] != "error", results
    assert flag_result == ("ok", None), results

    def state():
        items = list(ModerationItem.objects.filter(target_id=str(review.pk)).order_by("created_at"))
        flagged_on = [
            (item.pk, item.status)
            for item in items
            for reason in item.reasons.all()
            if reason.code == "flag" and reason.added_by_id == reader.pk
        ]
        return [(item.pk, item.status) for item in items], flagged_on, Review.objects.get(pk=review.pk).status

    items, flagged_on, review_status = file_database(state)
    assert len(flagged_on) == 1, (items, flagged_on)
    (landed, landed_status), *_rest = flagged_on
    assert landed_status == "pending", (items, flagged_on)
    if approve_result[0] == "ok":
        # The moderator decided first: the flag opened a new item, and the decided one keeps its history.
        assert landed != item_id
        assert items == [(item_id, "approved"), (landed, "pending")]
    else:
        # The flag came first: it joined the item, and the moderator's screen was stale.
        assert approve_result[1] == {"stale"}, results
        assert landed == item_id
        assert items == [(item_id, "pending")]
    assert review_status == Review.Status.PUBLISHED


def test_a_reader_flagging_while_a_moderator_approves_at_once(make_patient, moderator, reported, file_database):
    reader = make_patient()
    file_database.switch()
    item_id, results = _flag_and_approve(file_database, reported, moderator, reader, interleave=None)
    _check_flag_landed_on_a_pending_item(file_database, reported, item_id, reader, results)


def test_a_moderator_taking_the_item_in_the_middle_of_a_flag_does_not_deadlock(
    make_patient, moderator, reported, file_database, monkeypatch
):
    """The reader has saved the report and is about to add it to the queue when the moderator
    takes the item's lock: the two must still finish, one after the other."""
    reader = make_patient()
    file_database.switch()
    reader_at_queue, moderator_has_item = threading.Event(), threading.Event()
    real_queue, real_locked_for = responses.queue, queue_actions._locked_for

    def queue_when_the_moderator_holds_the_item(*args, **kwargs):
        reader_at_queue.set()
        moderator_has_item.wait(STEP_TIMEOUT)
        return real_queue(*args, **kwargs)

    def locked_for_then_signal(*args, **kwargs):
        locked = real_locked_for(*args, **kwargs)
        moderator_has_item.set()
        return locked

    monkeypatch.setattr(responses, "queue", queue_when_the_moderator_holds_the_item)
    monkeypatch.setattr(queue_actions, "_locked_for", locked_for_then_signal)

    def interleave(flag, approve):
        results = [None, None]

        def run_flag():
            results[0] = outcome(flag)

        def run_approve():
            reader_at_queue.wait(STEP_TIMEOUT)
            results[1] = outcome(approve)

        threads = [
            threading.Thread(target=file_database, args=(run_flag,)),
            threading.Thread(target=file_database, args=(run_approve,)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
            assert not thread.is_alive(), "a thread is still waiting: a lock was never released"
        return results

    item_id, results = _flag_and_approve(file_database, reported, moderator, reader, interleave=interleave)
    deadlocks = [detail for _kind, detail in results if isinstance(detail, OperationalError)]
    assert not deadlocks, results
    _check_flag_landed_on_a_pending_item(file_database, reported, item_id, reader, results)
