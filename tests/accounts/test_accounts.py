"""Sign-up, verification, sign-in lockout and the single front door."""

import re

import pytest
from django.core import mail

from portal_social.core import roles
from tests.factories import PASSWORD, sign_in


@pytest.mark.django_db
def test_signup_sends_verification_and_gives_patient_role(client):
    response = client.post(
        "/accounts/signup/",
        {"email": "new@example.org", "username": "newpatient", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="newpatient")
    assert roles.has_role(user, roles.PATIENT)
    assert len(mail.outbox) == 1
    assert re.search(r"/accounts/confirm-email/[^/\s]+/", mail.outbox[0].body)


@pytest.mark.django_db
def test_unverified_account_cannot_sign_in(client):
    client.post(
        "/accounts/signup/",
        {"email": "new@example.org", "username": "newpatient", "password1": PASSWORD, "password2": PASSWORD},
    )
    client.logout()
    response = client.post("/accounts/login/", {"login": "newpatient", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_signup_with_bad_input_keeps_what_was_typed_and_explains(client):
    response = client.post(
        "/accounts/signup/",
        {"email": "not-an-email", "username": "kept_name", "password1": PASSWORD, "password2": "different"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'value="kept_name"' in body
    assert 'value="not-an-email"' in body
    assert body.count('aria-invalid="true"') >= 1


@pytest.mark.django_db
def test_oversized_signup_input_is_refused_cleanly(client):
    response = client.post(
        "/accounts/signup/",
        {"email": "a" * 5000 + "@example.org", "username": "u" * 5000, "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 200
    assert b"errorlist" in response.content


@pytest.mark.django_db
def test_verified_patient_signs_in(client, make_user):
    patient = make_user(roles.PATIENT)
    response = client.post("/accounts/login/", {"login": patient.username, "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(patient.pk)


@pytest.mark.django_db
def test_account_locks_after_five_failed_sign_ins(client, make_user):
    patient = make_user(roles.PATIENT)
    for _ in range(5):
        response = client.post("/accounts/login/", {"login": patient.username, "password": "wrong-password"})
        assert response.status_code == 200
    # Even the right password is refused while the account is locked.
    response = client.post("/accounts/login/", {"login": patient.username, "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert response.status_code in (200, 429)
    assert b"Too many failed login attempts" in response.content or response.status_code == 429


@pytest.mark.django_db
def test_staff_with_mfa_must_enter_code_at_sign_in(client, make_user):
    clinician = make_user(roles.CLINICIAN, mfa=True)
    response = client.post("/accounts/login/", {"login": clinician.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/cms/login/", "/django-admin/login/"])
def test_admin_sign_in_pages_send_people_to_the_portal_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/messages/", "/px/", "/px/reports/"])
def test_signed_out_visitors_are_asked_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/feedback/", "/feedback/new/"])
def test_anyone_may_give_feedback_without_signing_in(client, path):
    """Feedback is open to visitors too (anonymously, rate-limited by address); following it needs a sign-in."""
    response = client.get(path)
    assert response.status_code == 200
    assert "/feedback/new/" in response.content.decode()


@pytest.mark.django_db
def test_signed_out_visitors_see_public_communities_only(client):
    """Public communities are read by anyone; members-only and private ones are not even listed."""
    from portal_social.community.models import Community

    Community.objects.create(name="Heart health", slug="heart-health", visibility="public")
    Community.objects.create(name="Living with diabetes", slug="diabetes", visibility="members")
    Community.objects.create(name="Caregivers' circle", slug="caregivers", visibility="private")
    response = client.get("/community/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Heart health" in html
    assert "Living with diabetes" not in html and "Caregivers" not in html
    assert client.get("/community/diabetes/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "status"),
    [
        (roles.PATIENT, 404),
        (roles.CAREGIVER, 404),
        (roles.CLINICIAN, 404),
        (roles.COMMUNITY_MODERATOR, 404),
        (roles.PATIENT_EXPERIENCE, 200),
        (roles.RISK_MANAGER, 200),
    ],
)
def test_px_workspace_is_hidden_from_everyone_but_px_and_risk(client, make_user, role, status):
    sign_in(client, make_user(role, mfa=True))
    assert client.get("/px/").status_code == status


@pytest.mark.django_db
def test_email_change_requires_reauthentication(client, make_user):
    patient = make_user(roles.PATIENT)
    client.post("/accounts/login/", {"login": patient.username, "password": PASSWORD})
    response = client.post("/accounts/email/", {"action_add": "", "email": "new-address@example.org"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")
    assert not patient.emailaddress_set.filter(email="new-address@example.org").exists()
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    client.post("/accounts/email/", {"action_add": "", "email": "new-address@example.org"})
    assert patient.emailaddress_set.filter(email="new-address@example.org", verified=False).exists()


@pytest.mark.django_db
def test_password_reset_does_not_reveal_whether_an_account_exists(client, make_user):
    patient = make_user(roles.PATIENT)
    known = client.post("/accounts/password/reset/", {"email": patient.email})
    unknown = client.post("/accounts/password/reset/", {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    [reset_mail, unknown_mail] = mail.outbox
    assert "/accounts/password/reset/key/" in reset_mail.body
    assert "/accounts/password/reset/key/" not in unknown_mail.body


@pytest.mark.django_db
def test_password_change_checks_the_old_password_and_keeps_input_errors_by_the_field(client, make_user):
    patient = make_user(roles.PATIENT)
    client.post("/accounts/login/", {"login": patient.username, "password": PASSWORD})
    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": "wrong", "password1": "a-new-long-passphrase", "password2": "a-new-long-passphrase"},
    )
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.content.decode()
    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": "a-new-long-passphrase", "password2": "a-new-long-passphrase"},
    )
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.check_password("a-new-long-passphrase")
