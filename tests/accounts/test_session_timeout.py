import time

import pytest
from django.conf import settings

from portal_social.core import roles
from portal_social.core.middleware import SESSION_AUTH_AT, SESSION_SEEN_AT
from tests.factories import sign_in


def _age_session(client, **offsets):
    session = client.session
    for key, seconds in offsets.items():
        session[key] = time.time() - seconds
    session.save()


@pytest.fixture
def patient_client(client, make_user):
    sign_in(client, make_user(roles.PATIENT))
    assert client.get("/messages/").status_code == 200
    return client


@pytest.mark.django_db
def test_active_session_stays_signed_in(patient_client):
    _age_session(patient_client, **{SESSION_SEEN_AT: 60})
    assert patient_client.get("/messages/").status_code == 200


@pytest.mark.django_db
def test_idle_session_is_signed_out_after_fifteen_minutes(patient_client):
    _age_session(patient_client, **{SESSION_SEEN_AT: 15 * 60 + 1})
    response = patient_client.get("/messages/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert "_auth_user_id" not in patient_client.session


@pytest.mark.django_db
def test_session_ends_after_absolute_lifetime_even_when_active(patient_client):
    _age_session(patient_client, **{SESSION_AUTH_AT: 12 * 3600 + 1, SESSION_SEEN_AT: 1})
    response = patient_client.get("/messages/")
    assert response.status_code == 302
    assert "_auth_user_id" not in patient_client.session


@pytest.mark.django_db
def test_idle_timeout_is_a_setting(patient_client, settings):
    settings.PORTAL_SOCIAL_SESSION_IDLE_TIMEOUT = 60
    _age_session(patient_client, **{SESSION_SEEN_AT: 61})
    assert patient_client.get("/messages/").status_code == 302


@pytest.mark.django_db
def test_expired_json_request_gets_401_not_a_redirect(patient_client):
    _age_session(patient_client, **{SESSION_SEEN_AT: 16 * 60})
    response = patient_client.get("/messages/", HTTP_ACCEPT="application/json")
    assert response.status_code == 401
    assert response.json()["error"] == "session_idle"


@pytest.mark.django_db
def test_session_cookie_ends_with_the_browser(client, make_user):
    """A shared computer: closing the browser must sign the person out, so the
    session cookie carries neither Max-Age nor Expires (a browser-session
    cookie), on sign-in and on every later response that refreshes it."""
    from tests.factories import PASSWORD

    user = make_user(roles.PATIENT)
    response = client.post("/accounts/login/", {"login": user.username, "password": PASSWORD})
    assert response.status_code == 302
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie.value
    assert not cookie["max-age"] and not cookie["expires"]
    # Later requests that write the session (last-seen time) keep it that way.
    session = client.session
    session[SESSION_SEEN_AT] = session[SESSION_SEEN_AT] - 60
    session.save()
    later = client.get("/messages/")
    assert later.status_code == 200
    refreshed = later.cookies.get(settings.SESSION_COOKIE_NAME)
    assert refreshed is not None and refreshed.value
    assert not refreshed["max-age"] and not refreshed["expires"]


@pytest.mark.django_db
def test_copied_cookie_is_useless_after_the_idle_period(patient_client):
    """The idle limit is enforced on the server, not by the cookie's lifetime."""
    from django.test import Client

    stolen = patient_client.cookies[settings.SESSION_COOKIE_NAME].value
    _age_session(patient_client, **{SESSION_SEEN_AT: 16 * 60})
    thief = Client()
    thief.cookies[settings.SESSION_COOKIE_NAME] = stolen
    response = thief.get("/messages/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
