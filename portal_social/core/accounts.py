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

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.auth_backends import AuthenticationBackend

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

_at_front_door: ContextVar[bool] = ContextVar("portal_social_at_front_door", default=False)


class PortalAccountAdapter(DefaultAccountAdapter):
    """allauth's adapter, marking the one place passwords may be checked."""

    def authenticate(self, request: HttpRequest, **credentials: Any) -> AbstractBaseUser | None:
        token = _at_front_door.set(True)
        try:
            return super().authenticate(request, **credentials)
        finally:
            _at_front_door.reset(token)


class FrontDoorBackend(AuthenticationBackend):
    """allauth's backend, refusing every password check made outside allauth.

    Permissions (``has_perm``) work as with ``ModelBackend``.
    """

    def authenticate(self, request, **credentials):
        if not _at_front_door.get():
            return None
        return super().authenticate(request, **credentials)
