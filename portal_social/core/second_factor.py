"""Whether a session passed a second factor, not merely whether one is enrolled.

allauth records every factor a session passes (``record_authentication``):
``{"method": "password"}`` after the password, ``{"method": "mfa", "type":
"totp"}`` after the code. Staff PHI pages ask for an ``mfa`` record in *this*
session, so a session opened any other way (a host's own login view, a
stolen password on a side door) never reaches PHI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

#: allauth's session keys (``allauth.account.internal.flows.login``).
RECORDS_KEY = "account_authentication_methods"
RECORDS_USER_KEY = "account_authentication_methods_user"
#: The factor types that count as a second factor. Recovery codes count: they
#: are the enrolled user's own fallback and allauth rate-limits them.
SECOND_FACTOR_TYPES = frozenset({"totp", "webauthn", "recovery_codes"})


def user_has_mfa(user: AbstractBaseUser) -> bool:
    """Whether ``user`` has enrolled a second factor (TOTP or a security key)."""
    cached = getattr(user, "_portal_social_has_mfa", None)
    if cached is None:
        from allauth.mfa.models import Authenticator

        cached = Authenticator.objects.filter(
            user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
        ).exists()
        user._portal_social_has_mfa = cached
    return cached


def authentication_records(session: Any, user: AbstractBaseUser) -> list[dict]:
    """allauth's records of the factors this session passed, for ``user`` only."""
    if session is None or getattr(user, "pk", None) is None:
        return []
    if session.get(RECORDS_USER_KEY) != str(user.pk):
        return []
    records = session.get(RECORDS_KEY)
    return [record for record in records if isinstance(record, dict)] if isinstance(records, list) else []


def session_passed_second_factor(session: Any, user: AbstractBaseUser) -> bool:
    """Whether this session completed a second factor for ``user``."""
    return any(
        record.get("method") == "mfa" and record.get("type") in SECOND_FACTOR_TYPES
        for record in authentication_records(session, user)
    )


def record_enrolment(sender, request=None, user=None, authenticator=None, **kwargs) -> None:
    """Count enrolling a factor as passing it, for the session that enrolled it.

    Activating TOTP or a security key requires a fresh code or signature from
    that very factor, so the session has just proved possession of it.
    Connected to allauth's ``authenticator_added`` in the app's ``ready()``.
    """
    from allauth.account.internal.flows.login import record_authentication

    if request is None or user is None or authenticator is None:
        return
    if authenticator.type not in ("totp", "webauthn"):
        return
    if getattr(request, "user", None) is None or request.user.pk != user.pk:
        return
    record_authentication(request, user, "mfa", id=authenticator.pk, type=authenticator.type, enrolled=True)
    user.__dict__.pop("_portal_social_has_mfa", None)
    request.user.__dict__.pop("_portal_social_has_mfa", None)
