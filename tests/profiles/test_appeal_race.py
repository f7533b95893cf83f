"""Two moderators deciding one appeal at the same moment: one decision, one audit row, one notification."""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from portal_social.adapter import get_adapter_class
from portal_social.conf import app_settings
from portal_social.core import audit, roles
from portal_social.core.models import AuditEvent
from portal_social.profiles import actions
from portal_social.profiles.models import Review, ReviewAppeal

DECIDED = "Your appeal has been decided"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_moderators_resolving_one_appeal_at_once_decide_it_once(
    make_user, make_patient, clinician, clinician_user, monkeypatch
):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite in-memory test databases cannot be shared between threads")
    ratings = {key: 4 for key, _label in app_settings.REVIEW_QUESTIONS}
    review = actions.submit_review(author=make_patient(), clinician=clinician, ratings=ratings, comment="Rude.")
    appeal = actions.appeal_review(clinician_user=clinician_user, review=review, reason="Not my patient.")
    moderators = {
        True: make_user(roles.COMMUNITY_MODERATOR, mfa=True),
        False: make_user(roles.COMMUNITY_MODERATOR, mfa=True),
    }

    notified = []
    original_send = get_adapter_class().send_notification
    monkeypatch.setattr(
        get_adapter_class(),
        "send_notification",
        lambda self, user, message, *, channel: (
            notified.append((user.pk, message.subject)) or original_send(self, user, message, channel=channel)
        ),
    )
    # Widen the window: the first decision holds its locks a while before it commits.
    original_record = audit.record

    def slow_record(action, *args, **kwargs):
        if action == "review.appeal_resolve":
            time.sleep(0.5)
        return original_record(action, *args, **kwargs)

    monkeypatch.setattr(audit, "record", slow_record)

    barrier = threading.Barrier(2)
    outcomes, errors = {}, []

    def decide(upheld):
        try:
            mine = ReviewAppeal.objects.select_related("review").get(pk=appeal.pk)
            barrier.wait()
            actions.resolve_appeal(moderator=moderators[upheld], appeal=mine, upheld=upheld)
            outcomes[upheld] = "decided"
        except ValidationError as exc:
            outcomes[upheld] = "already decided" if "already been decided" in " ".join(exc.messages) else exc
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=decide, args=(upheld,)) for upheld in (True, False)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors
    assert sorted(outcomes.values()) == ["already decided", "decided"], outcomes
    [winner] = [upheld for upheld, outcome in outcomes.items() if outcome == "decided"]
    appeal.refresh_from_db()
    review.refresh_from_db()
    assert appeal.resolved_at is not None and appeal.upheld is winner
    assert review.status == (Review.Status.REJECTED if winner else Review.Status.PUBLISHED)
    assert review.moderated_by_id == moderators[winner].pk
    events = AuditEvent.objects.filter(action="review.appeal_resolve")
    assert [(event.actor_id, event.details["upheld"]) for event in events] == [(moderators[winner].pk, winner)]
    assert [entry for entry in notified if entry[1] == DECIDED] == [(clinician_user.pk, DECIDED)]
