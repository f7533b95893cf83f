"""Upgrading to the shared moderation queue: reviews waiting for a moderator become pending items.

Held reviews, reviews under appeal and published reviews reported since
their last moderation each get one pending ``review`` item with the right
reasons and author; every other review gets none, and no review's status
changes.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from portal_social.core.moderation.models import ModerationItem
from portal_social.profiles.models import Review

BEFORE = [("portal_social", "0016_moderation_queue")]
AFTER = [("portal_social", "0017_review_queue_items")]
PHONE = "555-867-5309"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_waiting_reviews_become_pending_items_and_keep_their_status(make_patient, clinician, clinician_user):
    from django.db.migrations.executor import MigrationExecutor

    authors = {
        name: make_patient(username=f"author-{name}") for name in ("held", "appealed", "fresh", "old", "rej", "quiet")
    }
    reader, earlier_reader = make_patient(username="reader"), make_patient(username="earlier-reader")
    now = timezone.now()
    day = datetime.timedelta(days=1)

    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate(BEFORE)
        old_apps = executor.loader.project_state(BEFORE).apps
        OldReview = old_apps.get_model("portal_social", "Review")
        OldAppeal = old_apps.get_model("portal_social", "ReviewAppeal")
        OldReport = old_apps.get_model("portal_social", "ReviewReport")
        OldItem = old_apps.get_model("portal_social", "ModerationItem")
        assert not OldItem.objects.exists()

        def review(name, status, **fields):
            return OldReview.objects.create(
                clinician_id=clinician.pk,
                author_id=authors[name].pk,
                status=status,
                overall=Decimal("4.00"),
                comment_source=f"Comment of the {name} review. Call {PHONE}.",
                comment_html=f"<p>Comment of the {name} review.</p>",
                created_at=now - 10 * day,
                **fields,
            )

        held = review("held", "held", hold_reasons=[{"code": "phi", "kinds": ["phone"]}])
        appealed = review("appealed", "appealed", moderated_at=now - 5 * day)
        appeal = OldAppeal.objects.create(
            review=appealed, clinician_user_id=clinician_user.pk, reason="Not my patient.", created_at=now - 4 * day
        )
        OldAppeal.objects.create(  # an appeal decided earlier is not a reason any more
            review=appealed,
            clinician_user_id=clinician_user.pk,
            reason="An older appeal.",
            created_at=now - 9 * day,
            resolved_at=now - 8 * day,
            upheld=False,
        )
        fresh_report = review("fresh", "published", moderated_at=now - 5 * day)
        new_report = OldReport.objects.create(
            review=fresh_report, reporter_id=reader.pk, reason="abusive: rude words", created_at=now - 2 * day
        )
        OldReport.objects.create(
            review=fresh_report, reporter_id=earlier_reader.pk, reason="other", created_at=now - 6 * day
        )
        old_report = review("old", "published", moderated_at=now - 2 * day)
        OldReport.objects.create(review=old_report, reporter_id=reader.pk, reason="phi", created_at=now - 3 * day)
        rejected = review("rej", "rejected", moderated_at=now - 2 * day, rejection_reason="Contains PHI.")
        OldReport.objects.create(review=rejected, reporter_id=reader.pk, reason="phi", created_at=now - day)
        quiet = review("quiet", "published")
        statuses = dict(OldReview.objects.values_list("pk", "status"))

        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        new_apps = executor.loader.project_state(AFTER).apps
        Item = new_apps.get_model("portal_social", "ModerationItem")
        Reason = new_apps.get_model("portal_social", "ModerationReason")
        NewReview = new_apps.get_model("portal_social", "Review")

        assert dict(NewReview.objects.values_list("pk", "status")) == statuses
        items = {item.target_id: item for item in Item.objects.all()}
        assert set(items) == {str(held.pk), str(appealed.pk), str(fresh_report.pk)}
        for target, item in items.items():
            assert (item.kind, item.status, item.version) == ("review", "pending", 1), target
            assert item.reviewer_permission == "portal_social.moderate_reviews"
            assert item.target_type.app_label == "portal_social" and item.target_type.model == "review"
            assert not item.urgent and item.claimed_by_id is None
        assert items[str(held.pk)].author_id == authors["held"].pk
        assert items[str(appealed.pk)].author_id == authors["appealed"].pk
        assert items[str(fresh_report.pk)].author_id == authors["fresh"].pk

        def reasons(review):
            found = Reason.objects.filter(item=items[str(review.pk)]).order_by("created_at", "pk")
            return [(r.code, r.added_by_id, r.details, r.weight) for r in found]

        assert reasons(held) == [("phi", None, {"kinds": ["phone"]}, Decimal(5))]
        assert reasons(appealed) == [("appeal", clinician_user.pk, {"appeal": str(appeal.pk)}, Decimal(3))]
        assert reasons(fresh_report) == [
            ("flag", reader.pk, {"category": "abusive", "report": str(new_report.pk)}, Decimal(2))
        ]
        assert (items[str(held.pk)].score, items[str(appealed.pk)].score, items[str(fresh_report.pk)].score) == (
            Decimal(5),
            Decimal(3),
            Decimal(2),
        )
        # An item waits since its oldest reason.
        assert items[str(appealed.pk)].created_at == appeal.created_at
        assert items[str(fresh_report.pk)].created_at == new_report.created_at
        # Nothing the patients wrote is copied into the queue.
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM portal_social_moderationreason")
            assert PHONE not in str(cursor.fetchall())
            cursor.execute("SELECT * FROM portal_social_moderationitem")
            assert PHONE not in str(cursor.fetchall())
        assert quiet.pk and old_report.pk and rejected.pk

        MigrationExecutor(connection).migrate(latest)
        assert set(ModerationItem.objects.values_list("target_id", flat=True)) == set(items)
        assert dict(Review.objects.values_list("pk", "status")) == statuses
    finally:
        MigrationExecutor(connection).migrate(latest)
