"""Staff in any PHI-capable role must enrol MFA before any other page."""

from urllib.parse import quote

import pytest
from django.urls import reverse

from portal_social.core import roles
from tests.factories import enrol_totp, sign_in
from tests.totp import current_code

ENROL = "/accounts/2fa/totp/activate/"
REAUTH = "/accounts/2fa/reauthenticate/"
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
def test_staff_whose_session_passed_mfa_reach_portal_pages(client, make_user, role):
    sign_in(client, make_user(role, mfa=True))
    assert client.get("/messages/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("role", STAFF)
@pytest.mark.parametrize("path", GATED_PAGES)
def test_enrolled_staff_with_a_password_only_session_must_present_the_factor(client, make_user, role, path):
    """Enrolment is not enough: this session must have passed the second factor."""
    client.force_login(make_user(role, mfa=True))
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"{REAUTH}?next={quote(path, safe='')}"


@pytest.mark.django_db
def test_password_only_session_gets_403_json_for_writes(client, make_user):
    client.force_login(make_user(roles.RISK_MANAGER, mfa=True))
    response = client.post("/messages/", {"body": "x"})
    assert response.status_code == 403
    assert response.json()["error"] == "second_factor_required"


@pytest.mark.django_db
def test_superuser_with_factor_but_password_only_session_is_stopped(client, make_user):
    client.force_login(make_user(is_superuser=True, is_staff=True, mfa=True))
    for path in ("/cms/", "/django-admin/", "/px/"):
        assert client.get(path)["Location"].startswith(REAUTH), path


@pytest.mark.django_db
def test_presenting_the_factor_opens_the_page_asked_for(client, make_user):
    user = make_user(roles.RISK_MANAGER)
    secret = enrol_totp(user)
    client.force_login(user)
    response = client.get("/cms/portal-social/audit/")
    assert response["Location"].startswith(REAUTH)
    answered = client.post(response["Location"], {"code": current_code(secret)})
    assert answered.status_code == 302
    assert answered["Location"] == "/cms/portal-social/audit/"
    assert client.get("/cms/portal-social/audit/").status_code == 200


@pytest.mark.django_db
def test_a_factor_recorded_for_another_user_does_not_count(client, make_user):
    """allauth's records name the user they belong to; a session that changed
    hands (sign-in as someone else) starts again."""
    other = make_user(roles.RISK_MANAGER, mfa=True)
    sign_in(client, other)
    target = make_user(roles.RISK_MANAGER, mfa=True)
    session = client.session
    records_user = session["account_authentication_methods_user"]
    client.force_login(target)
    session = client.session
    session["account_authentication_methods_user"] = records_user
    session.save()
    assert client.get("/px/")["Location"].startswith(REAUTH)


@pytest.mark.django_db
@pytest.mark.parametrize("role", [roles.PATIENT, roles.CAREGIVER])
def test_patients_and_caregivers_are_not_forced_to_enrol(client, make_user, role):
    client.force_login(make_user(role))
    assert client.get("/messages/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url_name", ["mfa_activate_totp", "mfa_index", "mfa_reauthenticate", "account_logout", "account_reauthenticate"]
)
def test_enrolment_and_sign_in_pages_stay_open_without_mfa(client, make_user, url_name):
    client.force_login(make_user(roles.CLINICIAN))
    response = client.get(reverse(url_name))
    assert response.status_code in (200, 302)
    assert response.get("Location") != ENROL


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url_name", ["account_email", "account_change_password", "mfa_deactivate_totp", "mfa_view_recovery_codes"]
)
def test_account_changes_need_the_second_factor_first(client, make_user, url_name):
    """Changing the email, password or factors is how an account is taken over."""
    client.force_login(make_user(roles.CLINICIAN, mfa=True))
    response = client.get(reverse(url_name))
    assert response.status_code == 302
    assert response["Location"].startswith(REAUTH)


ADMIN_ACCOUNT_PAGES = [
    ("admin:account_emailaddress_changelist", ()),
    ("admin:account_emailaddress_add", ()),
    ("admin:mfa_authenticator_changelist", ()),
    ("admin:mfa_authenticator_delete", ("1",)),
    ("admin:auth_user_changelist", ()),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("view_name", "args"), ADMIN_ACCOUNT_PAGES)
def test_admin_pages_named_like_account_pages_are_not_exempt(client, make_user, view_name, args):
    """'admin:account_emailaddress_*' is not allauth's 'account_*'."""
    staff = make_user(roles.PORTAL_ADMINISTRATOR, is_staff=True, is_superuser=True, mfa=True)
    client.force_login(staff)
    response = client.get(reverse(view_name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith(REAUTH)


def test_every_exempt_view_is_allauths_sign_in_or_enrolment_view():
    """The exemption list names real views, resolved with their namespace and module."""
    from django.urls import NoReverseMatch, resolve

    from portal_social.core.middleware import EXEMPT_VIEWS, _view_module

    checked = 0
    for name, package in EXEMPT_VIEWS:
        assert ":" not in name
        assert package in ("allauth.account", "allauth.mfa")
        try:
            path = reverse(name, kwargs={"key": "x"}) if "confirm_email" in name else reverse(name)
        except NoReverseMatch:
            try:
                path = reverse(name, kwargs={"uidb36": "x", "key": "y"})
            except NoReverseMatch:
                continue
        match = resolve(path)
        assert match.view_name == name
        assert _view_module(match.func).startswith(package), name
        checked += 1
    assert checked >= 12


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_totp_enrolment_lifts_the_gate(client, make_user):
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
    code = current_code(secret)
    # allauth announces the new factor after its transaction commits, inside
    # the request (a transactional test, as in production); enrolling it
    # counts as having presented it in this session.
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
