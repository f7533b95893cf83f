"""Staff in any PHI-capable role must enrol MFA before any other page."""

import pytest
from django.urls import reverse

from portal_social.core import roles

ENROL = "/accounts/2fa/totp/activate/"
STAFF = [
    roles.CLINICIAN,
    roles.CARE_TEAM,
    roles.COMMUNITY_MODERATOR,
    roles.COMMUNITY_MENTOR,
    roles.PATIENT_EXPERIENCE,
    roles.RISK_MANAGER,
    roles.PORTAL_ADMINISTRATOR,
]
GATED_PAGES = ["/", "/messages/", "/community/", "/feedback/", "/clinicians/", "/px/", "/cms/", "/django-admin/"]


@pytest.mark.django_db
@pytest.mark.parametrize("role", STAFF)
@pytest.mark.parametrize("path", GATED_PAGES)
def test_staff_without_mfa_is_sent_to_enrolment(client, make_user, role, path):
    client.force_login(make_user(role))
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == ENROL


@pytest.mark.django_db
@pytest.mark.parametrize("role", STAFF)
def test_staff_without_mfa_gets_403_json_for_writes(client, make_user, role):
    client.force_login(make_user(role))
    response = client.post("/messages/", {"body": "x"})
    assert response.status_code == 403
    assert response.json()["error"] == "mfa_required"


@pytest.mark.django_db
def test_superuser_without_mfa_is_sent_to_enrolment(client, make_user):
    client.force_login(make_user(is_superuser=True, is_staff=True))
    assert client.get("/cms/")["Location"] == ENROL


@pytest.mark.django_db
@pytest.mark.parametrize("role", STAFF)
def test_staff_with_mfa_reaches_portal_pages(client, make_user, role):
    client.force_login(make_user(role, mfa=True))
    assert client.get("/messages/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("role", [roles.PATIENT, roles.CAREGIVER])
def test_patients_and_caregivers_are_not_forced_to_enrol(client, make_user, role):
    client.force_login(make_user(role))
    assert client.get("/messages/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url_name", ["mfa_activate_totp", "mfa_index", "account_logout", "account_email", "account_change_password"]
)
def test_enrolment_and_account_pages_stay_open_without_mfa(client, make_user, url_name):
    client.force_login(make_user(roles.CLINICIAN))
    response = client.get(reverse(url_name))
    assert response.status_code in (200, 302)
    assert response.get("Location") != ENROL


@pytest.mark.django_db
def test_totp_enrolment_lifts_the_gate(client, make_user):
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value, yield_hotp_counters_from_time

    from tests.factories import PASSWORD

    clinician = make_user(roles.CLINICIAN)
    response = client.post("/accounts/login/", {"login": clinician.username, "password": PASSWORD})
    assert response["Location"] == "/"
    assert client.get("/")["Location"] == ENROL
    # Enrolling a factor is account-sensitive: allauth asks for the password again.
    assert client.get(ENROL)["Location"].startswith("/accounts/reauthenticate/")
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    page = client.get(ENROL)
    assert page.status_code == 200
    secret = client.session["mfa.totp.secret"]
    code = format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))
    response = client.post(ENROL, {"code": code})
    assert response.status_code == 302, response.content
    assert client.get("/messages/").status_code == 200


@pytest.mark.django_db
def test_wrong_totp_code_shows_error_next_to_field(client, make_user):
    from tests.factories import PASSWORD

    clinician = make_user(roles.CLINICIAN)
    client.post("/accounts/login/", {"login": clinician.username, "password": PASSWORD})
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    assert client.get(ENROL).status_code == 200
    response = client.post(ENROL, {"code": "000000"})
    assert response.status_code == 200
    assert b'aria-invalid="true"' in response.content
    assert b"field__errors" in response.content


@pytest.mark.django_db
def test_totp_secret_is_encrypted_at_rest(make_user):
    from allauth.mfa.models import Authenticator

    from tests.factories import enrol_totp

    user = make_user(roles.CLINICIAN)
    secret = enrol_totp(user)
    stored = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP).data["secret"]
    assert secret not in stored
    assert stored.startswith("fernet:")
