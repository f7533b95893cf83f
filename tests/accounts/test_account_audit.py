"""Sign-in and account-security events reach the audit trail, through the real views, with no secrets."""

import json
import re

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.core import mail
from django.test import Client

from portal_social.core import audit, roles
from portal_social.core.models import AuditEvent
from tests.factories import PASSWORD, enrol_totp
from tests.totp import current_code

ADDRESS = "198.51.100.23"
TEXT_COLUMNS = ("actor_label", "action", "severity", "target_type", "target_id", "user_agent", "reason")


@pytest.fixture
def client():
    return Client(REMOTE_ADDR=ADDRESS, HTTP_USER_AGENT="Browser/1.0")


@pytest.fixture
def patient(make_user):
    return make_user(roles.PATIENT)


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("sequence"))


def the_user(event, user):
    return (event.target_type, event.target_id) == ("auth.user", str(user.pk))


def sign_in(client, user, password=PASSWORD):
    return client.post("/accounts/login/", {"login": user.username, "password": password})


def reauthenticate_if_asked(client, response, *, password=PASSWORD, secret=None):
    """Follow allauth's "confirm it is you" step if the response asks for it; return the retried response."""
    location = response.get("Location", "")
    if location.startswith("/accounts/reauthenticate/"):
        client.post("/accounts/reauthenticate/", {"password": password})
        return True
    if location.startswith("/accounts/2fa/reauthenticate/"):
        client.post("/accounts/2fa/reauthenticate/", {"code": current_code(secret)})
        return True
    return False


# --------------------------------------------------------------------------- sign-in and sign-out


@pytest.mark.django_db
def test_sign_in_is_recorded_with_the_factors_and_the_derived_address(client, patient, settings):
    settings.PORTAL_SOCIAL_TRUSTED_PROXIES = [ADDRESS]
    response = client.post(
        "/accounts/login/",
        {"login": patient.username, "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="192.0.2.1, 203.0.113.77",
    )
    assert response.status_code == 302
    [event] = events("auth.login")
    assert event.actor_id == patient.pk and the_user(event, patient)
    assert event.details == {"factors": ["password"]}
    assert event.ip_address == "203.0.113.77"
    assert event.user_agent == "Browser/1.0"


@pytest.mark.django_db
def test_sign_in_with_a_second_factor_records_both(client, make_user):
    patient = make_user(roles.PATIENT)
    secret = enrol_totp(patient)
    assert sign_in(client, patient)["Location"] == "/accounts/2fa/authenticate/"
    assert not events("auth.login")
    client.post("/accounts/2fa/authenticate/", {"code": current_code(secret)})
    [event] = events("auth.login")
    assert event.details == {"factors": ["password", "mfa:totp"]}


@pytest.mark.django_db
def test_failed_sign_in_names_the_account_by_id_only(client, patient):
    sign_in(client, patient, password="not-the-password")
    [event] = events("auth.login_failed")
    assert the_user(event, patient)
    assert event.actor_id is None
    assert event.details == {"known_account": True, "front_door": True, "reauthentication": False}
    assert event.ip_address == ADDRESS


@pytest.mark.django_db
def test_failed_sign_in_for_no_account_keeps_nothing_that_was_typed(client, patient):
    client.post("/accounts/login/", {"login": "my-Secret-passw0rd", "password": "whatever-typed"})
    [event] = events("auth.login_failed")
    assert (event.target_type, event.target_id) == ("", "")
    assert event.details == {"known_account": False, "front_door": True, "reauthentication": False}


@pytest.mark.django_db
def test_a_password_checked_outside_the_front_door_is_recorded(patient):
    # A host's own login view calling Django's authenticate(): FrontDoorBackend
    # refuses it whatever is typed, and the attempt shows in the trail.
    from django.contrib.auth import authenticate
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory

    request = RequestFactory().post("/host-login/", REMOTE_ADDR=ADDRESS)
    request.user = AnonymousUser()
    assert authenticate(request, username=patient.username, password=PASSWORD) is None
    [event] = events("auth.login_failed")
    assert the_user(event, patient)
    assert event.details["front_door"] is False
    assert event.ip_address == ADDRESS


@pytest.mark.django_db
def test_lockout_is_recorded(client, patient):
    for _ in range(6):
        sign_in(client, patient, password="not-the-password")
    [event] = events("auth.lockout")
    assert the_user(event, patient)
    assert event.severity in ("notice", "high")


@pytest.mark.django_db
def test_sign_out_is_recorded(client, patient):
    sign_in(client, patient)
    client.post("/accounts/logout/")
    [event] = events("auth.logout")
    assert event.actor_id == patient.pk and the_user(event, patient)


# --------------------------------------------------------------------------- second factors


@pytest.mark.django_db
def test_enrolling_totp_records_it_and_the_recovery_codes(client, patient, django_capture_on_commit_callbacks):
    sign_in(client, patient)
    enrol = "/accounts/2fa/totp/activate/"
    if reauthenticate_if_asked(client, client.get(enrol)):
        assert client.get(enrol).status_code == 200
    secret = client.session["mfa.totp.secret"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(enrol, {"code": current_code(secret)})
    assert response.status_code == 302
    enrolled = events("mfa.enrolled")
    assert sorted(event.details["type"] for event in enrolled) == ["recovery_codes", "totp"]
    assert all(the_user(event, patient) and event.actor_id == patient.pk for event in enrolled)
    assert {event.severity for event in enrolled} == {"notice"}


@pytest.mark.django_db
def test_removing_totp_is_recorded_as_high(client, patient, django_capture_on_commit_callbacks):
    secret = enrol_totp(patient)
    RecoveryCodes.activate(patient)
    sign_in(client, patient)
    client.post("/accounts/2fa/authenticate/", {"code": current_code(secret)})
    deactivate = "/accounts/2fa/totp/deactivate/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(deactivate)
        if reauthenticate_if_asked(client, response, secret=secret):
            response = client.post(deactivate)
    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=patient, type="totp").exists()
    removed = events("mfa.removed")
    assert {event.details["type"] for event in removed} == {"totp", "recovery_codes"}
    assert {event.severity for event in removed} == {"high"}


@pytest.mark.django_db
def test_new_recovery_codes_are_recorded(client, patient, django_capture_on_commit_callbacks):
    secret = enrol_totp(patient)
    RecoveryCodes.activate(patient)
    sign_in(client, patient)
    client.post("/accounts/2fa/authenticate/", {"code": current_code(secret)})
    generate = "/accounts/2fa/recovery-codes/generate/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(generate)
        if reauthenticate_if_asked(client, response, secret=secret):
            response = client.post(generate)
    assert response.status_code == 302
    [event] = events("mfa.reset")
    assert event.details["type"] == "recovery_codes" and the_user(event, patient)


@pytest.mark.django_db
def test_signing_in_with_a_recovery_code_is_recorded(client, patient):
    enrol_totp(patient)
    codes = RecoveryCodes.activate(patient).get_unused_codes()
    sign_in(client, patient)
    response = client.post("/accounts/2fa/authenticate/", {"code": codes[0]})
    assert response.status_code == 302
    [used] = events("mfa.recovery_code_used")
    assert the_user(used, patient)
    assert used.details["codes_left"] == len(codes) - 1
    assert used.severity == "notice"
    [login] = events("auth.login")
    assert login.details == {"factors": ["password", "mfa:recovery_codes"]}


@pytest.mark.django_db
def test_a_wrong_second_factor_code_is_recorded(client, patient):
    enrol_totp(patient)
    sign_in(client, patient)
    client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    [event] = events("mfa.failed")
    assert the_user(event, patient) and event.details["type"] == "totp"


# --------------------------------------------------------------------------- passwords and email addresses


@pytest.mark.django_db
def test_password_change_is_recorded(client, patient):
    sign_in(client, patient)
    new = "a-new-long-passphrase-2026"
    response = client.post("/accounts/password/change/", {"oldpassword": PASSWORD, "password1": new, "password2": new})
    assert response.status_code == 302
    [event] = events("account.password_changed")
    assert event.actor_id == patient.pk and the_user(event, patient)


@pytest.mark.django_db
def test_password_set_is_recorded(client, make_user, settings):
    # Without a password, allauth would confirm identity by an emailed code
    # first; that step is not what this test is about.
    settings.ACCOUNT_REAUTHENTICATION_REQUIRED = False
    patient = make_user(roles.PATIENT)
    patient.set_unusable_password()
    patient.save(update_fields=["password"])
    from tests.factories import sign_in as force_sign_in

    force_sign_in(client, patient)
    new = "a-first-long-passphrase-2026"
    response = client.post("/accounts/password/set/", {"password1": new, "password2": new})
    assert response.status_code == 302
    [event] = events("account.password_set")
    assert the_user(event, patient)


@pytest.mark.django_db
def test_password_reset_is_recorded(client, patient):
    client.post("/accounts/password/reset/", {"email": patient.email})
    link = re.search(r"/accounts/password/reset/key/\S+/", mail.outbox[0].body).group(0)
    form = client.get(link, follow=True)
    new = "a-reset-long-passphrase-2026"
    response = client.post(form.redirect_chain[-1][0], {"password1": new, "password2": new})
    assert response.status_code == 302
    [event] = events("account.password_reset")
    assert the_user(event, patient)
    assert event.actor_id == patient.pk


@pytest.mark.django_db
def test_email_address_changes_are_recorded(client, patient):
    sign_in(client, patient)
    add = {"action_add": "", "email": "new-address@example.org"}
    if reauthenticate_if_asked(client, client.post("/accounts/email/", add)):
        client.post("/accounts/email/", add)
    [added] = events("account.email_added")
    assert the_user(added, patient) and added.details["verified"] is False
    link = re.search(r"/accounts/confirm-email/[^/\s]+/", mail.outbox[-1].body).group(0)
    client.post(link)
    [confirmed] = events("account.email_confirmed")
    [changed] = events("account.email_changed")
    assert the_user(confirmed, patient) and the_user(changed, patient)
    assert changed.details["to_email_address"] == added.details["email_address"]
    assert changed.severity == "notice"


@pytest.mark.django_db
def test_removing_an_email_address_is_recorded(client, patient, settings):
    settings.ACCOUNT_CHANGE_EMAIL = False  # with CHANGE_EMAIL, an account has one address
    from allauth.account.models import EmailAddress

    spare = EmailAddress.objects.create(user=patient, email="spare@example.org", verified=True, primary=False)
    sign_in(client, patient)
    remove = {"action_remove": "", "email": spare.email}
    response = client.post("/accounts/email/", remove)
    if reauthenticate_if_asked(client, response):
        response = client.post("/accounts/email/", remove)
    assert response.status_code == 302
    [removed] = events("account.email_removed")
    assert the_user(removed, patient) and removed.details == {"verified": True}
    assert removed.severity == "notice"


# --------------------------------------------------------------------------- no secrets


@pytest.mark.django_db
def test_no_audit_row_holds_a_password_a_code_or_a_mistyped_name(client, make_user, settings):
    """A journey that types every kind of secret, then every audit column is searched for each."""
    settings.PORTAL_SOCIAL_RATE_LIMITS = {"sign_in_spray": "1000/h/ip"}
    patient = make_user(roles.PATIENT, username="rosa.m")
    wrong_password = "Wr0ng-Guess-Pass"
    typo_in_username_box = "R0sa-Secret-Passphrase"  # the password, typed in the wrong box
    secret = enrol_totp(patient)
    codes = RecoveryCodes.activate(patient).get_unused_codes()

    sign_in(client, patient, password=wrong_password)
    client.post("/accounts/login/", {"login": typo_in_username_box, "password": PASSWORD})
    client.post("/accounts/login/", {"login": "rosa.m@example.org", "password": wrong_password})
    sign_in(client, patient)
    client.post("/accounts/2fa/authenticate/", {"code": "123456"})
    code = current_code(secret)
    client.post("/accounts/2fa/authenticate/", {"code": code})
    client.post("/accounts/logout/")
    sign_in(client, patient)
    client.post("/accounts/2fa/authenticate/", {"code": codes[0]})
    new = "Another-Long-Passphrase-99"
    client.post("/accounts/password/change/", {"oldpassword": PASSWORD, "password1": new, "password2": new})
    client.post("/accounts/logout/")
    for _ in range(6):  # lock the account
        client.post("/accounts/login/", {"login": "rosa.m", "password": wrong_password})

    recorded = {event.action for event in AuditEvent.objects.all()}
    assert {"auth.login_failed", "auth.login", "auth.logout", "mfa.failed", "mfa.recovery_code_used"} <= recorded
    assert {"account.password_changed", "auth.lockout"} <= recorded
    secrets = [PASSWORD, wrong_password, typo_in_username_box, new, secret, code, "123456", *codes]
    for event in AuditEvent.objects.all():
        stored = " ".join(str(getattr(event, column)) for column in TEXT_COLUMNS)
        stored += " " + json.dumps(event.details)
        for secret_text in secrets:
            assert secret_text.lower() not in stored.lower(), (event.action, secret_text)
    checked, problem = audit.verify_chain()
    assert problem is None and checked == AuditEvent.objects.count()
