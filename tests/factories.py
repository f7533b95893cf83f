"""Factories for tests: users in roles, with verified email and optional MFA."""

from __future__ import annotations

import factory
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

from portal_social.core import roles

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    first_name = "Test"
    last_name = "Person"

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or PASSWORD)
        if create:
            obj.save(update_fields=["password"])

    @factory.post_generation
    def verified_email(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            EmailAddress.objects.create(user=obj, email=obj.email, verified=True, primary=True)

    @factory.post_generation
    def role(obj, create, extracted, **kwargs):
        if create and extracted:
            for slug in [extracted] if isinstance(extracted, str) else extracted:
                roles.grant_role(user=obj, role=slug)


def enrol_totp(user) -> str:
    """Give ``user`` an activated TOTP authenticator; returns the secret."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def sign_in(client, user) -> None:
    """Sign ``user`` in as the front door would.

    allauth records each factor a session passed; a user with an enrolled
    authenticator cannot finish allauth's sign-in without it, so the session
    records the second factor too. ``client.force_login`` alone gives a
    password-only session, which the staff MFA gate refuses.
    """
    import time

    from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
    from allauth.mfa.models import Authenticator

    client.force_login(user)
    now = time.time()
    records = [{"method": "password", "at": now, "username": user.get_username()}]
    factor = (
        Authenticator.objects.filter(user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN])
        .order_by("pk")
        .first()
    )
    if factor is not None:
        records.append({"method": "mfa", "at": now, "id": factor.pk, "type": factor.type})
    session = client.session
    session[AUTHENTICATION_METHODS_SESSION_KEY] = records
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()
