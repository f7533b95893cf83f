"""Star aggregates live outside page revisions: publishing an earlier revision keeps them.

The aggregates are read back the way the public sees them (the profile's
JSON-LD ``aggregateRating`` and the directory's sort), so these tests say the
same thing whatever the storage.
"""

from decimal import Decimal

import pytest

from portal_social.core import roles
from portal_social.profiles import actions, self_service
from portal_social.profiles.directory import clinician_jsonld_data
from portal_social.profiles.models import ClinicianPage, ClinicianRating
from portal_social.profiles.workflow import ensure_profile_workflow

pytestmark = pytest.mark.django_db

MIN_COUNT = 3


@pytest.fixture(autouse=True)
def _few_ratings_are_public(settings):
    settings.PORTAL_SOCIAL_REVIEWS_MIN_COUNT = MIN_COUNT


def rate(clinician, make_patient, values):
    from portal_social.conf import app_settings

    for value in values:
        ratings = {key: value for key, _label in app_settings.REVIEW_QUESTIONS}
        actions.submit_review(author=make_patient(), clinician=clinician, ratings=ratings, comment="")


def public_rating(page) -> dict | None:
    """What the profile publishes: ``{"count", "average"}``, or None without public stars."""
    fresh = ClinicianPage.objects.get(pk=page.pk)
    rating = clinician_jsonld_data(fresh).get("aggregateRating")
    if rating is None:
        return None
    return {"count": rating["ratingCount"], "average": rating["ratingValue"]}


def test_publishing_a_revision_saved_before_the_ratings_keeps_them(clinician, make_patient):
    earlier = clinician.save_revision()
    rate(clinician, make_patient, [5, 4, 3])
    assert public_rating(clinician) == {"count": 3, "average": 4.0}

    earlier.publish()

    assert public_rating(clinician) == {"count": 3, "average": 4.0}
    summary = ClinicianRating.objects.get(clinician=clinician)
    assert (summary.count, summary.average) == (3, Decimal("4.00"))


def test_a_revision_saved_before_the_upgrade_still_publishes_without_touching_the_stars(clinician, make_patient):
    """Revisions saved while the totals were page fields still carry them in their JSON: they are ignored."""
    earlier = clinician.save_revision()
    earlier.content = {**earlier.content, "rating_count": 0, "rating_average": None}
    earlier.save(update_fields=["content"])
    rate(clinician, make_patient, [4, 4, 4])

    earlier.publish()

    assert public_rating(clinician) == {"count": 3, "average": 4.0}


def test_approving_a_profile_edit_submitted_before_the_ratings_keeps_them(
    clinician, clinician_user, make_patient, make_user, directory_page
):
    ensure_profile_workflow(directory_page)
    self_service.submit_profile_changes(
        clinician_user=clinician_user,
        page=clinician,
        data={
            "pronouns": "she/her",
            "bio": "I care for hearts.",
            "accepting_new_patients": True,
            "telehealth": True,
            "languages": [],
            "conditions": [],
        },
    )
    rate(clinician, make_patient, [5, 5, 2])
    assert public_rating(clinician) == {"count": 3, "average": 4.0}

    approver = make_user(roles.PORTAL_ADMINISTRATOR, mfa=True)
    page = ClinicianPage.objects.get(pk=clinician.pk)
    task_state = page.current_workflow_state.current_task_state
    task_state.task.specific.on_action(task_state, approver, "approve")

    page = ClinicianPage.objects.get(pk=clinician.pk)
    assert "I care for hearts." in page.bio and page.pronouns == "she/her"  # the edit is published
    assert public_rating(page) == {"count": 3, "average": 4.0}  # and the stars are still there


def test_directory_sorts_on_ratings_given_after_the_revision(client, clinician, make_clinician, make_patient):
    earlier = clinician.save_revision()
    make_clinician("Zed", "Adams")
    rate(clinician, make_patient, [5, 5, 5])
    earlier.publish()

    response = client.get("/clinicians/", {"sort": "rating"})

    assert [page.last_name for page in response.context["clinicians"]] == ["Lopez", "Adams"]
    assert "5.0 out of 5 stars from 3 ratings" in response.content.decode()


def test_a_clinician_nobody_rated_has_no_row_and_no_stars(clinician):
    assert not ClinicianRating.objects.filter(clinician=clinician).exists()
    assert (clinician.rating_summary.count, clinician.rating_summary.average) == (0, None)
    assert public_rating(clinician) is None


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_migration_moves_totals_between_the_page_and_the_rating_table(make_clinician):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("portal_social", "0007_audit_keyed_chain")]
    rated, unrated = make_clinician("Rae", "Rated"), make_clinician("Una", "Unrated")
    ClinicianRating.objects.create(clinician=rated, count=42, average=Decimal("4.57"))
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate(before)  # unapplying copies the totals back onto the page
        OldPage = executor.loader.project_state(before).apps.get_model("portal_social", "ClinicianPage")
        totals = dict(OldPage.objects.values_list("pk", "rating_count"))
        assert totals == {rated.pk: 42, unrated.pk: 0}
        OldPage.objects.filter(pk=rated.pk).update(rating_count=31, rating_average=Decimal("3.25"))

        MigrationExecutor(connection).migrate(latest)

        rows = list(ClinicianRating.objects.values_list("clinician_id", "count", "average"))
        assert rows == [(rated.pk, 31, Decimal("3.25"))]
    finally:
        MigrationExecutor(connection).migrate(latest)
