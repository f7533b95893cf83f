"""Patients submitting reviews at the same moment: each is saved or refused clearly, never a 500.

On SQLite this needs the recommended options (``portal_social.core.database``):
with SQLite's default deferred transactions one writer wins and the others
fail at once with "database is locked". Runs on PostgreSQL too
(``make test-services``).
"""

import threading

import pytest
from django.db import connection
from django.test import Client

from portal_social.conf import app_settings
from portal_social.profiles.models import Review, ReviewRating
from tests.factories import sign_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PATIENTS = 16
QUESTIONS = [key for key, _label in app_settings.REVIEW_QUESTIONS]


def test_simultaneous_reviews_are_all_saved_without_a_server_error(make_patient, clinician, file_database):
    url = clinician.url + clinician.reverse_subpage("review")
    clients = []
    for n in range(PATIENTS):
        client = Client(raise_request_exception=False)
        sign_in(client, make_patient(username=f"burst-{n:02d}"))
        clients.append(client)
    file_database.switch()
    if connection.vendor == "sqlite":
        from portal_social.core.database import SQLITE_OPTIONS

        assert (
            file_database(lambda: connection.settings_dict["OPTIONS"]["transaction_mode"])
            == (SQLITE_OPTIONS["transaction_mode"])
        )

    start = threading.Barrier(PATIENTS)
    statuses = [None] * PATIENTS

    def submit(n):
        data = {f"rating_{key}": str(1 + n % 5) for key in QUESTIONS}
        data["comment"] = "Clear explanations and a kind manner." if n % 2 else ""
        start.wait()
        statuses[n] = clients[n].post(url, data).status_code

    threads = [threading.Thread(target=file_database, args=(submit, n)) for n in range(PATIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [s for s in statuses if s is None or s >= 500] == [], statuses
    assert all(s == 302 or 400 <= s < 500 for s in statuses), statuses
    saved = statuses.count(302)

    def counts():
        return (
            Review.objects.filter(clinician=clinician).count(),
            ReviewRating.objects.filter(review__clinician=clinician).count(),
            Review.objects.filter(ratings__isnull=True).count(),
        )

    reviews, ratings, without_ratings = file_database(counts)
    assert saved == PATIENTS  # every patient is eligible and within the limits
    assert (reviews, ratings, without_ratings) == (saved, saved * len(QUESTIONS), 0)
