"""The portal's one front door: allauth's sign-in, and nothing else.

Set ``ACCOUNT_ADAPTER = "portal_social.core.accounts.PortalAccountAdapter"`` and
put ``portal_social.core.accounts.FrontDoorBackend`` in
``AUTHENTICATION_BACKENDS`` instead of Django's ``ModelBackend`` and allauth's
``AuthenticationBackend``.

Why: allauth's sign-in applies the lockout, the rate limits and the second
factor. Any other view that checks a password (Django's ``LoginView``, which
Wagtail serves at ``/_util/login/``, or one a host adds) would skip all three
and, worse, answer "right password" to someone guessing. ``FrontDoorBackend``
checks passwords only while allauth's adapter is authenticating, so every
other login view sees "invalid credentials" whatever is typed.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.sites.shortcuts import get_current_site
from django.core.exceptions import PermissionDenied, ValidationError

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

_at_front_door: ContextVar[bool] = ContextVar("portal_social_at_front_door", default=False)

#: Checks that keep a person out of the portal for now: ``check(user) -> str | None`` returns the sentence
#: to show them (a community suspension), or None. Features register here at import time (core never imports
#: them); sign-in asks every check (``PortalAccountAdapter.pre_login``), and ``SessionTimeoutMiddleware``
#: signs a person out at their next request when one applies.
SIGN_IN_REFUSALS: list[Callable[[Any], str | None]] = []


def by_username(value: str):
    """The portal account whose username (``USERNAME_FIELD``) is ``value``; None for none, or for a value
    that is empty or longer than a username can be (an import's cell, a command's option)."""
    from django.contrib.auth import get_user_model

    users = get_user_model()
    limit = users._meta.get_field(users.USERNAME_FIELD).max_length or 150
    value = (value or "").strip()
    if not value or len(value) > limit or "\x00" in value:
        return None
    return users.objects.filter(**{users.USERNAME_FIELD: value}).first()


def sign_in_refusal(user) -> str | None:
    """The first :data:`SIGN_IN_REFUSALS` sentence that applies to ``user``, or None."""
    for check in SIGN_IN_REFUSALS:
        message = check(user)
        if message:
            return message
    return None


def _signed_in(request: HttpRequest) -> bool:
    return bool(getattr(getattr(request, "user", None), "is_authenticated", False))


class PortalAccountAdapter(DefaultAccountAdapter):
    """allauth's adapter, marking the one place passwords may be checked."""

    def authenticate(self, request: HttpRequest, **credentials: Any) -> AbstractBaseUser | None:
        token = _at_front_door.set(True)
        try:
            return super().authenticate(request, **credentials)
        finally:
            _at_front_door.reset(token)

    def pre_login(self, request: HttpRequest, user: AbstractBaseUser, **kwargs: Any):
        """Refuse the sign-in of someone a :data:`SIGN_IN_REFUSALS` check keeps out (after the password, and
        before a second factor is asked for): the sign-in page again, with the reason's sentence."""
        message = sign_in_refusal(user)
        if message:
            from allauth.account.internal.stagekit import clear_login
            from django.contrib import messages
            from django.http import HttpResponseRedirect
            from django.urls import reverse

            clear_login(request)
            messages.error(request, message)
            return HttpResponseRedirect(reverse("account_login"))
        return super().pre_login(request, user, **kwargs)

    def get_client_ip(self, request: HttpRequest) -> str:
        """The client's address for allauth's rate limits and records.

        ``portal_social.core.network.client_ip``, so allauth counts the same
        address the audit trail records: the client behind the proxies in
        ``PORTAL_SOCIAL_TRUSTED_PROXIES``, never one a client can forge.
        """
        from portal_social.core.network import client_ip

        ip = client_ip(request)
        if not ip:
            raise PermissionDenied("Unable to determine client IP address")
        return ip

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        """Refuse a sign-in past a limit, and write ``auth.lockout`` when one does.

        allauth's limits (``ACCOUNT_RATE_LIMITS["login_failed"]``) lock one
        account after repeated failures. On top, an address that has failed on
        too many different accounts (``sign_in_spray``, password spraying) is
        refused; reauthentication by someone already signed in is exempt, as it
        can only ever try their own account.
        """
        from portal_social.core import account_events, ratelimit

        if not _signed_in(request) and ratelimit.distinct_wait(ratelimit.SIGN_IN_SPRAY, request=request):
            account_events.record_lockout(request, credentials, rule="accounts_per_address")
            raise self.validation_error("too_many_login_attempts")
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            account_events.record_lockout(request, credentials, rule="failed_sign_ins")
            raise

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        """Count the failed account against the client's address, for the spraying limit."""
        from portal_social.core import ratelimit

        super().authentication_failed(request, **credentials)
        if not _signed_in(request):
            member = self._get_login_attempts_cache_key(request, **credentials)
            ratelimit.count_distinct(ratelimit.SIGN_IN_SPRAY, request=request, member=member)

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        # allauth keys its lockout on the name typed. A username and an email
        # address are two names for one account, which would give an attacker
        # five guesses per name; an account that exists is keyed by its id.
        from portal_social.core.account_events import account_for_login

        account = account_for_login(credentials, request)
        if account is None:
            return super()._get_login_attempts_cache_key(request, **credentials)
        return f"{get_current_site(request).domain}:account:{account.pk}"


class FrontDoorBackend(AuthenticationBackend):
    """allauth's backend, refusing every password check made outside allauth.

    Permissions (``has_perm``) work as with ``ModelBackend``.
    """

    def authenticate(self, request, **credentials):
        if not _at_front_door.get():
            return None
        return super().authenticate(request, **credentials)
