"""A database that is briefly unavailable: a clear 503, what was typed kept, quota intact, no traceback."""

import logging
import re

import pytest
from django.core.exceptions import PermissionDenied
from django.db import OperationalError, connection
from django.http import HttpResponse
from django.test import Client
from django.urls import path

from example_site import urls as site_urls
from portal_social.conf import app_settings
from portal_social.core import ratelimit, roles
from portal_social.profiles.models import Review, ReviewRating
from tests.factories import sign_in

QUESTIONS = [key for key, _label in app_settings.REVIEW_QUESTIONS]
COMMENT = "Dr. Lopez took the time to explain my treatment options."


def _limited_then(outcome):
    def view(request):
        ratelimit.check("feedback", request=request)
        return outcome(request)

    return view


def _raise(exc):
    def outcome(request):
        raise exc

    return outcome


def _touch_session(request):
    request.session["seen"] = request.session.get("seen", 0) + 1
    return HttpResponse("ok")


urlpatterns = [
    path("test/limited/ok/", _limited_then(lambda request: HttpResponse("ok"))),
    path("test/limited/refused/", _limited_then(_raise(PermissionDenied()))),
    path("test/limited/crash/", _limited_then(_raise(RuntimeError("bug")))),
    path("test/limited/locked/", _limited_then(_raise(OperationalError("database is locked")))),
    path("test/session/", _touch_session),
    path("test/schema/", _raise(OperationalError("no such table: portal_social_missing"))),
    *site_urls.urlpatterns,
]
pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


def form_data(value="4", comment=COMMENT, **extra):
    return {**{f"rating_{key}": value for key in QUESTIONS}, "comment": comment, **extra}


def review_url(page):
    return page.url + page.reverse_subpage("review")


class _LockedOn:
    """Fail the first INSERT into ``table`` as SQLite does when another writer holds the lock."""

    def __init__(self, table):
        self.table, self.failed = table, 0

    def __call__(self, execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("INSERT") and self.table in sql and not self.failed:
            self.failed += 1
            raise OperationalError("database is locked")
        return execute(sql, params, many, context)


def test_a_review_whose_write_fails_half_way_answers_503_keeps_the_text_and_the_quota(
    client, settings, patient, clinician, caplog
):
    settings.DEBUG = True  # as under the dev settings: still no traceback
    settings.PORTAL_SOCIAL_RATE_LIMITS = {"review": "1/d,1000/d/ip"}
    sign_in(client, patient)
    locked = _LockedOn(ReviewRating._meta.db_table)  # the review row is written, its ratings are not
    with caplog.at_level(logging.INFO), connection.execute_wrapper(locked):
        response = client.post(review_url(clinician), form_data())
    assert locked.failed == 1
    assert response.status_code == 503
    assert response["Retry-After"].isdigit()
    html = response.content.decode()
    assert "Please try again" in html and "Traceback" not in html and "database is locked" not in html
    # What was typed comes back, in a form that sends it again to the same address.
    assert COMMENT.replace("'", "&#x27;") in html
    assert f'action="{review_url(clinician)}"' in html
    assert re.search(r'name="csrfmiddlewaretoken" value="\w+"', html)
    assert all(f'name="rating_{key}" value="4"' in html for key in QUESTIONS)
    # Nothing half-written, and nothing of the patient's in the logs.
    assert not Review.objects.exists() and not ReviewRating.objects.exists()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "OperationalError" in logged
    assert COMMENT not in logged and "database is locked" not in logged and patient.username not in logged

    # The failed attempt did not use up the one review a day: sending again works.
    again = client.post(review_url(clinician), form_data())
    assert again.status_code == 302
    assert Review.objects.filter(author=patient).count() == 1
    assert ReviewRating.objects.count() == len(QUESTIONS)


def test_passwords_codes_and_tokens_are_never_written_back(client):
    client.raise_request_exception = False
    response = client.post(
        "/test/limited/locked/",
        {"comment": "kept words", "password": "hunter2-secret", "otp_code": "123456", "reset_token": "tok-abc"},
    )
    assert response.status_code == 503
    html = response.content.decode()
    assert "kept words" in html
    for secret in ("hunter2-secret", "123456", "tok-abc", 'name="password"', 'name="otp_code"'):
        assert secret not in html


def test_a_read_gets_a_plain_temporarily_unavailable_page(client, settings):
    settings.DEBUG = True
    response = client.get("/test/limited/locked/")
    assert response.status_code == 503
    assert response["Retry-After"].isdigit()
    html = response.content.decode()
    assert "temporarily unavailable" in html and "<form" not in html and "Traceback" not in html


def test_json_clients_get_json(client):
    response = client.post("/test/limited/locked/", {}, HTTP_ACCEPT="application/json")
    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"


def test_a_failure_below_the_middleware_such_as_saving_the_session_is_covered(settings, monkeypatch):
    from django.contrib.sessions.backends.db import SessionStore

    settings.DEBUG = True

    def locked(self, must_create=False):
        raise OperationalError("database is locked")

    monkeypatch.setattr(SessionStore, "save", locked)
    client = Client(raise_request_exception=False)
    response = client.post("/test/session/", {"note": "typed words"})
    assert response.status_code == 503
    html = response.content.decode()
    assert "typed words" in html and "Traceback" not in html


def test_other_errors_are_left_to_django(client):
    client.raise_request_exception = False
    assert client.post("/test/limited/crash/").status_code == 500
    # A missing table is a bug or a missing migration, not a busy database.
    assert client.post("/test/schema/").status_code == 500


@pytest.mark.parametrize(("failing", "status"), [("/test/limited/crash/", 500), ("/test/limited/locked/", 503)])
def test_failed_requests_give_back_their_counts_refusals_keep_them(client, settings, failing, status):
    settings.PORTAL_SOCIAL_RATE_LIMITS = {"feedback": "2/h/ip"}
    client.raise_request_exception = False
    for _ in range(5):
        assert client.post(failing).status_code == status
    # Every failure was given back: both attempts of the limit remain.
    assert client.post("/test/limited/ok/").status_code == 200
    assert client.post("/test/limited/refused/").status_code == 403  # a refusal counts
    assert client.post("/test/limited/ok/").status_code == 403  # RateLimited: over the limit


def test_without_the_refund_middleware_failures_would_spend_the_quota(client, settings):
    settings.PORTAL_SOCIAL_RATE_LIMITS = {"feedback": "2/h/ip"}
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if not m.endswith("RateLimitRefundMiddleware")]
    client.raise_request_exception = False
    for _ in range(2):
        client.post("/test/limited/crash/")
    assert client.post("/test/limited/ok/").status_code == 403


@pytest.fixture
def patient(make_patient):
    return make_patient(role=roles.PATIENT)
