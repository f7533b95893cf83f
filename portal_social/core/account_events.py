"""Sign-in and account-security events, written to the audit trail.

Sign-in, failed sign-in, lockout, sign-out, second-factor enrolment, removal
and recovery-code use, and password and email-address changes each write one
audit event. A hospital's security review reads these to answer "who signed
in as this clinician, from where, and did anyone weaken the account first?".

What never goes in an event: passwords, one-time codes, recovery codes, and
the name typed at sign-in when it matches no account. People type their
password into the username box; an event that kept the typed name would keep
that password in the trail, where even a hash could be tested offline far
faster than the password hasher allows. An event names the account by id
when one matched, and otherwise says only that none did. Email addresses are
named by the id of their row, never the address.

Receivers are connected by ``connect()``, called from the app's ``ready()``.
Lockouts are written by ``PortalAccountAdapter.pre_authenticate`` through
``record_lockout``, because allauth refuses a locked-out sign-in without
sending any signal.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import cache

from portal_social.core import audit, audit_events

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

#: One lockout event per account (or address) per this many seconds: an
#: attacker hammering a locked account would otherwise write a row a request,
#: and every audit write waits on the one chain head that PHI reads need too.
LOCKOUT_EVENT_SECONDS = 15 * 60

_MEMO = "_portal_social_login_accounts"


def _actor(request: HttpRequest | None, user: AbstractBaseUser | None) -> AbstractBaseUser | None:
    request_user = getattr(request, "user", None)
    if request_user is not None and getattr(request_user, "is_authenticated", False):
        return request_user
    return user


def account_for_login(credentials: dict[str, Any], request: HttpRequest | None = None) -> AbstractBaseUser | None:
    """The account a sign-in attempt names, found as allauth's backend finds it; None when none.

    ``credentials`` are those allauth passes to ``authenticate``: the typed
    name as ``email`` and/or ``username``. Remembered on ``request``, because
    one attempt asks several times (lockout key, spraying count, audit).
    """
    from allauth.account.utils import filter_users_by_email, filter_users_by_username

    login = str(credentials.get("email") or credentials.get("username") or "").strip()
    if not login:
        return None
    memo = getattr(request, _MEMO, None) if request is not None else None
    if memo is not None and login.lower() in memo:
        return memo[login.lower()]
    account = None
    if "@" in login:
        account = next(iter(filter_users_by_email(login, prefer_verified=True)), None)
    if account is None and credentials.get("username"):
        matches = [
            user for user in filter_users_by_username(login) if (user.get_username() or "").lower() == login.lower()
        ]
        account = matches[0] if len(matches) == 1 else None
    if request is not None:
        if memo is None:
            memo = {}
            setattr(request, _MEMO, memo)
        memo[login.lower()] = account
    return account


def _sign_in_factors(request: HttpRequest | None, user: AbstractBaseUser) -> list[str]:
    """The factors this session passed (``password``, ``mfa:totp``…), without the name typed."""
    if request is None or not hasattr(request, "session"):
        return []
    from allauth.account.authentication import get_authentication_records

    factors = []
    for record in get_authentication_records(request, user):
        method = str(record.get("method", ""))
        kind = record.get("type") or record.get("provider")
        factors.append(f"{method}:{kind}" if kind else method)
    return factors


def _reauthenticating(request: HttpRequest | None) -> bool:
    user = getattr(request, "user", None)
    return bool(getattr(user, "is_authenticated", False))


# --------------------------------------------------------------------------- sign-in


def record_lockout(request: HttpRequest, credentials: dict[str, Any], *, rule: str) -> None:
    """Write ``auth.lockout`` for a sign-in refused by a limit, once per account or address per 15 minutes.

    ``rule`` is ``"failed_sign_ins"`` (allauth's limits: too many failures
    for this account, or a flood from one address) or
    ``"accounts_per_address"`` (one address failing on too many accounts:
    password spraying, written as HIGH).
    """
    account = account_for_login(credentials, request)
    ip = audit.client_ip(request) or ""
    subject = f"account:{account.pk}" if account is not None else f"address:{ip}"
    if rule == audit_events.SPRAYING_RULE:
        subject = f"address:{ip}"
    digest = hashlib.blake2b(
        f"{rule}|{subject}".encode(), key=settings.SECRET_KEY.encode()[:64], digest_size=12
    ).hexdigest()
    if not cache.add(f"portal_social:lockout-event:{digest}", 1, timeout=LOCKOUT_EVENT_SECONDS):
        return
    audit_events.sign_in_locked_out(actor=_actor(request, None), account=account, request=request, rule=rule)


def on_user_logged_in(sender, request=None, user=None, **kwargs) -> None:
    """Django's ``user_logged_in``: every session that signs someone in, whatever opened it."""
    if user is None:
        return
    audit_events.signed_in(user=user, request=request, factors=_sign_in_factors(request, user))


def on_user_logged_out(sender, request=None, user=None, **kwargs) -> None:
    """Django's ``user_logged_out`` (sign-out, and sessions ended for inactivity)."""
    if user is None:
        return
    audit_events.signed_out(user=user, request=request)


def on_user_login_failed(sender, credentials=None, request=None, **kwargs) -> None:
    """Django's ``user_login_failed``. ``credentials`` hold the typed name: never stored.

    Also fires for a password typed into any login view other than allauth's
    (refused by ``FrontDoorBackend`` whatever was typed), recorded with
    ``front_door: false`` so a probe of a side door shows in the trail.
    """
    from portal_social.core.accounts import _at_front_door

    account = account_for_login(credentials or {}, request)
    audit_events.sign_in_failed(
        actor=_actor(request, None),
        account=account,
        request=request,
        front_door=_at_front_door.get(),
        reauthentication=_reauthenticating(request),
    )


# --------------------------------------------------------------------------- account changes


def on_user_signed_up(sender, request=None, user=None, **kwargs) -> None:
    """allauth's ``user_signed_up``: a new account."""
    if user is not None:
        audit_events.account_created(user=user, request=request)


def on_password_changed(sender, request=None, user=None, **kwargs) -> None:
    """allauth's ``password_changed``."""
    if user is not None:
        audit_events.password_changed(actor=_actor(request, user), user=user, request=request)


def on_password_set(sender, request=None, user=None, **kwargs) -> None:
    """allauth's ``password_set``: a first password for an account that had none."""
    if user is not None:
        audit_events.password_set(actor=_actor(request, user), user=user, request=request)


def on_password_reset(sender, request=None, user=None, **kwargs) -> None:
    """allauth's ``password_reset``: a new password through an emailed link."""
    if user is not None:
        audit_events.password_reset(actor=_actor(request, user), user=user, request=request)


def on_email_added(sender, request=None, user=None, email_address=None, **kwargs) -> None:
    """allauth's ``email_added``."""
    user = user if getattr(user, "is_authenticated", False) else getattr(email_address, "user", None)
    if user is None or email_address is None:
        return
    audit_events.email_added(actor=_actor(request, user), user=user, email_address=email_address, request=request)


def on_email_removed(sender, request=None, user=None, email_address=None, **kwargs) -> None:
    """allauth's ``email_removed``."""
    if user is None or email_address is None:
        return
    audit_events.email_removed(actor=_actor(request, user), user=user, email_address=email_address, request=request)


def on_email_confirmed(sender, request=None, email_address=None, **kwargs) -> None:
    """allauth's ``email_confirmed``: the person proved they read that mailbox."""
    if email_address is None:
        return
    user = email_address.user
    audit_events.email_confirmed(actor=_actor(request, user), user=user, email_address=email_address, request=request)


def on_email_changed(sender, request=None, user=None, from_email_address=None, to_email_address=None, **kwargs):
    """allauth's ``email_changed``: a new primary address, where password resets will now go."""
    if user is None or to_email_address is None:
        return
    audit_events.email_changed(
        actor=_actor(request, user),
        user=user,
        from_email_address=from_email_address,
        to_email_address=to_email_address,
        request=request,
    )


# --------------------------------------------------------------------------- second factors


def _record_authenticator_event(event, request, user, authenticator) -> None:
    if user is None or authenticator is None:
        return
    event(actor=_actor(request, user), user=user, authenticator=authenticator, request=request)


def on_authenticator_added(sender, request=None, user=None, authenticator=None, **kwargs) -> None:
    """allauth.mfa's ``authenticator_added``: TOTP, a security key, or recovery codes enrolled."""
    _record_authenticator_event(audit_events.mfa_enrolled, request, user, authenticator)


def on_authenticator_removed(sender, request=None, user=None, authenticator=None, **kwargs) -> None:
    """allauth.mfa's ``authenticator_removed``: the account is weaker from now on (HIGH)."""
    _record_authenticator_event(audit_events.mfa_removed, request, user, authenticator)


def on_authenticator_reset(sender, request=None, user=None, authenticator=None, **kwargs) -> None:
    """allauth.mfa's ``authenticator_reset``: new recovery codes, the old ones void."""
    _record_authenticator_event(audit_events.mfa_reset, request, user, authenticator)


def on_authenticator_used(sender, request=None, user=None, authenticator=None, **kwargs) -> None:
    """allauth.mfa's ``authenticator_used``: written for recovery codes only.

    A TOTP code or security key at sign-in is already in ``auth.login``'s
    factors; a recovery code means the person's usual factor is lost or
    out of reach, which support staff should see.
    """
    if user is None or authenticator is None or authenticator.type != "recovery_codes":
        return
    from allauth.mfa.models import Authenticator
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    # allauth marks the code used on a fresh copy of the row; this one is stale.
    current = Authenticator.objects.filter(pk=authenticator.pk).first() or authenticator
    audit_events.recovery_code_used(
        actor=_actor(request, user),
        user=user,
        authenticator=authenticator,
        codes_left=len(RecoveryCodes(current).get_unused_codes()),
        reauthentication=bool(kwargs.get("reauthenticated")),
        request=request,
    )


def on_mfa_failed(sender, request=None, user=None, authenticator=None, **kwargs) -> None:
    """allauth.mfa's ``authentication_failed``: a wrong code after a right password."""
    if user is None:
        return
    audit_events.mfa_failed(
        actor=_actor(request, None),
        user=user,
        authenticator_type=str(getattr(authenticator, "type", "")),
        reauthentication=bool(kwargs.get("reauthentication")),
        request=request,
    )


def connect() -> None:
    """Connect every receiver above; called once from ``PortalSocialConfig.ready``."""
    from django.contrib.auth import signals as auth_signals

    connections = [
        (auth_signals.user_logged_in, on_user_logged_in),
        (auth_signals.user_logged_out, on_user_logged_out),
        (auth_signals.user_login_failed, on_user_login_failed),
    ]
    try:
        from allauth.account import signals as account_signals
    except ImportError:  # pragma: no cover - system check E003 reports missing allauth
        account_signals = None
    if account_signals is not None:
        connections += [
            (account_signals.user_signed_up, on_user_signed_up),
            (account_signals.password_changed, on_password_changed),
            (account_signals.password_set, on_password_set),
            (account_signals.password_reset, on_password_reset),
            (account_signals.email_added, on_email_added),
            (account_signals.email_removed, on_email_removed),
            (account_signals.email_confirmed, on_email_confirmed),
            (account_signals.email_changed, on_email_changed),
        ]
    try:
        from allauth.mfa import signals as mfa_signals
    except ImportError:  # pragma: no cover - system check E005 reports missing allauth.mfa
        mfa_signals = None
    if mfa_signals is not None:
        connections += [
            (mfa_signals.authenticator_added, on_authenticator_added),
            (mfa_signals.authenticator_removed, on_authenticator_removed),
            (mfa_signals.authenticator_reset, on_authenticator_reset),
            (mfa_signals.authenticator_used, on_authenticator_used),
            (mfa_signals.authentication_failed, on_mfa_failed),
        ]
    for signal, receiver in connections:
        signal.connect(receiver, dispatch_uid=f"portal_social_audit_{receiver.__name__}")
