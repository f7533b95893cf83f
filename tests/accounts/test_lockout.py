"""Sign-in lockout is per account; an address is refused only for spraying many accounts.

Every request goes through the real sign-in view, from addresses set the way
a load balancer sets them. Run with ``scripts/with-services.sh`` too: there
the counts live in Redis, as in production.
"""

import pytest
from django.test import Client

from portal_social.core import roles
from portal_social.core.models import AuditEvent
from tests.factories import PASSWORD

LOGIN = "/accounts/login/"
HOSPITAL_NAT = "198.51.100.7"
BALANCER = "10.0.0.7"
LOCKED_MESSAGE = b"Too many failed login attempts"


def sign_in_from(address, login, password, *, forwarded_for=None):
    """POST the sign-in form from ``address`` (and through a proxy, as ``forwarded_for``)."""
    headers = {"REMOTE_ADDR": address}
    if forwarded_for is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded_for
    client = Client(**headers)
    response = client.post(LOGIN, {"login": login, "password": password})
    return client, response


def signed_in(client, user):
    return client.session.get("_auth_user_id") == str(user.pk)


@pytest.fixture
def patients(make_user):
    def make(count):
        return [make_user(roles.PATIENT) for _ in range(count)]

    return make


@pytest.mark.django_db
def test_thirty_people_failing_behind_one_address_do_not_lock_out_the_next(patients):
    # A hospital's network: everyone shares one address. Thirty people
    # mistyping their password must not stop the thirty-first signing in.
    *mistyped, arriving = patients(31)
    for patient in mistyped:
        _, response = sign_in_from(HOSPITAL_NAT, patient.username, "wrong-password")
        assert response.status_code == 200
        assert LOCKED_MESSAGE not in response.content
    client, response = sign_in_from(HOSPITAL_NAT, arriving.username, PASSWORD)
    assert response.status_code == 302
    assert signed_in(client, arriving)


@pytest.mark.django_db
def test_an_account_locks_after_five_failures_from_any_addresses_and_either_name(settings, patients):
    settings.PORTAL_SOCIAL_TRUSTED_PROXIES = ["10.0.0.0/8"]
    target, bystander = patients(2)
    # Five guesses from five addresses, by username and by email address.
    for attempt, login in enumerate([target.username, target.email] * 2 + [target.username.upper()]):
        _, response = sign_in_from(BALANCER, login, f"guess-{attempt}", forwarded_for=f"192.0.2.{attempt}")
        assert response.status_code == 200
    # The owner, from yet another address, with the right password: refused.
    client, response = sign_in_from(BALANCER, target.email, PASSWORD, forwarded_for="203.0.113.50")
    assert not signed_in(client, target)
    assert LOCKED_MESSAGE in response.content
    # Nobody else is affected, not even from the attacker's addresses.
    client, _ = sign_in_from(BALANCER, bystander.username, PASSWORD, forwarded_for="192.0.2.0")
    assert signed_in(client, bystander)


@pytest.mark.django_db
def test_a_correct_sign_in_does_not_reset_the_count(patients):
    # allauth rolls back only its own attempt: interleaving the right password
    # gives an attacker who knows one password no extra guesses on another.
    [patient] = patients(1)
    for _ in range(4):
        sign_in_from(HOSPITAL_NAT, patient.username, "wrong-password")
    client, _ = sign_in_from(HOSPITAL_NAT, patient.username, PASSWORD)
    assert signed_in(client, patient)
    sign_in_from(HOSPITAL_NAT, patient.username, "wrong-password")
    client, response = sign_in_from(HOSPITAL_NAT, patient.username, PASSWORD)
    assert not signed_in(client, patient)
    assert LOCKED_MESSAGE in response.content


@pytest.mark.django_db
def test_one_address_failing_on_many_accounts_is_refused_for_spraying(settings, patients):
    settings.PORTAL_SOCIAL_RATE_LIMITS = {"sign_in_spray": "5/h/ip"}
    *sprayed, arriving = patients(4)
    # One password tried across accounts, some of which do not exist.
    for login in [p.username for p in sprayed] + ["no-such-person", "nobody@example.org"]:
        _, response = sign_in_from(HOSPITAL_NAT, login, "Spring2026!")
        assert LOCKED_MESSAGE not in response.content
    client, response = sign_in_from(HOSPITAL_NAT, arriving.username, PASSWORD)
    assert not signed_in(client, arriving)
    assert LOCKED_MESSAGE in response.content
    # The limit is the address's, not the accounts': elsewhere they sign in.
    client, _ = sign_in_from("203.0.113.50", arriving.username, PASSWORD)
    assert signed_in(client, arriving)
    client, _ = sign_in_from("203.0.113.50", sprayed[0].username, PASSWORD)
    assert signed_in(client, sprayed[0])
    lockout = AuditEvent.objects.get(action="auth.lockout")
    assert lockout.severity == "high"
    assert lockout.details == {"rule": "accounts_per_address", "known_account": True}
    assert lockout.ip_address == HOSPITAL_NAT


@pytest.mark.django_db
def test_one_person_retrying_their_own_account_is_not_spraying(settings, patients):
    settings.PORTAL_SOCIAL_RATE_LIMITS = {"sign_in_spray": "2/h/ip"}
    first, second = patients(2)
    for _ in range(4):
        sign_in_from(HOSPITAL_NAT, first.username, "wrong-password")
    client, _ = sign_in_from(HOSPITAL_NAT, second.username, PASSWORD)
    assert signed_in(client, second)


@pytest.mark.django_db
def test_forged_forwarded_for_from_an_untrusted_sender_buys_no_fresh_count(settings, patients):
    settings.PORTAL_SOCIAL_TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.PORTAL_SOCIAL_RATE_LIMITS = {"sign_in_spray": "3/h/ip"}
    *sprayed, arriving = patients(4)
    for number, patient in enumerate(sprayed):
        sign_in_from("203.0.113.9", patient.username, "Spring2026!", forwarded_for=f"192.0.2.{number}")
    client, response = sign_in_from("203.0.113.9", arriving.username, PASSWORD, forwarded_for="192.0.2.200")
    assert not signed_in(client, arriving)
    assert LOCKED_MESSAGE in response.content
    recorded = set(AuditEvent.objects.filter(action="auth.login_failed").values_list("ip_address", flat=True))
    assert recorded == {"203.0.113.9"}


@pytest.mark.django_db
def test_through_a_trusted_proxy_each_client_is_counted_and_recorded_apart(settings, patients):
    settings.PORTAL_SOCIAL_TRUSTED_PROXIES = "10.0.0.0/8"
    settings.PORTAL_SOCIAL_RATE_LIMITS = {"sign_in_spray": "3/h/ip"}
    *mistyped, arriving = patients(6)
    for number, patient in enumerate(mistyped):
        sign_in_from(BALANCER, patient.username, "wrong-password", forwarded_for=f"192.0.2.66, 198.51.100.{number}")
    client, _ = sign_in_from(BALANCER, arriving.username, PASSWORD, forwarded_for="192.0.2.66, 198.51.100.99")
    assert signed_in(client, arriving)
    failed = AuditEvent.objects.filter(action="auth.login_failed").order_by("sequence")
    assert [event.ip_address for event in failed] == [f"198.51.100.{number}" for number in range(5)]
    assert AuditEvent.objects.get(action="auth.login").ip_address == "198.51.100.99"


@pytest.mark.django_db
def test_lockout_is_audited_once_with_the_account(patients):
    [patient] = patients(1)
    for _ in range(5):
        sign_in_from(HOSPITAL_NAT, patient.username, "wrong-password")
    for _ in range(3):
        sign_in_from(HOSPITAL_NAT, patient.username, PASSWORD)
    [lockout] = AuditEvent.objects.filter(action="auth.lockout")
    assert (lockout.target_type, lockout.target_id) == ("auth.user", str(patient.pk))
    assert lockout.severity == "notice"
    assert lockout.details == {"rule": "failed_sign_ins", "known_account": True}
    assert lockout.ip_address == HOSPITAL_NAT
    assert lockout.actor_id is None


@pytest.mark.django_db
def test_a_password_reset_unlocks_the_account_whichever_name_was_guessed(patients):
    import re

    from django.core import mail

    [patient] = patients(1)
    for _ in range(5):
        sign_in_from(HOSPITAL_NAT, patient.username, "wrong-password")
    client = Client(REMOTE_ADDR=HOSPITAL_NAT)
    client.post("/accounts/password/reset/", {"email": patient.email})
    link = re.search(r"/accounts/password/reset/key/\S+/", mail.outbox[-1].body).group(0)
    form = client.get(link, follow=True)
    new = "a-reset-long-passphrase-2026"
    client.post(form.redirect_chain[-1][0], {"password1": new, "password2": new})
    # Locked by username, cleared by the reset (which knows only the email address).
    client, _ = sign_in_from(HOSPITAL_NAT, patient.username, new)
    assert signed_in(client, patient)
