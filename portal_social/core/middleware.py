"""Request-level safeguards: MFA for staff, session lifetimes, no-store caching.

Install all three, in this order, after ``AuthenticationMiddleware`` and
allauth's ``AccountMiddleware``::

    "portal_social.core.middleware.NoStoreMiddleware",
    "portal_social.core.middleware.SessionTimeoutMiddleware",
    "portal_social.core.middleware.StaffMFAMiddleware",

``NoStoreMiddleware`` comes first so that it also marks the redirects the
other two answer with.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import resolve_url
from django.urls import Resolver404, resolve

from portal_social.adapter import get_adapter
from portal_social.conf import app_settings

#: URL names under these prefixes hold no PHI and are needed to sign in,
#: sign out and enrol MFA.
_EXEMPT_NAME_PREFIXES = ("account_", "mfa_")
_EXEMPT_NAMESPACES = ("mfa",)

SESSION_AUTH_AT = "_portal_social_auth_at"
SESSION_SEEN_AT = "_portal_social_seen_at"
#: How often (seconds) the last-seen time is written back to the session;
#: writing on every request would save the session row on every request.
_SEEN_WRITE_INTERVAL = 15


def _wants_json(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def _path_is_exempt(request: HttpRequest) -> bool:
    path = request.path_info
    prefixes = [p for p in (settings.STATIC_URL, getattr(settings, "MEDIA_URL", None)) if p and p != "/"]
    prefixes += list(app_settings.MFA_EXEMPT_PATH_PREFIXES)
    if any(path.startswith(prefix) for prefix in prefixes):
        return True
    try:
        match = resolve(path)
    except Resolver404:
        # Unknown URLs answer 404 on their own; nothing to protect.
        return True
    name = match.url_name or ""
    if name.startswith(_EXEMPT_NAME_PREFIXES) or name in app_settings.MFA_EXEMPT_URL_NAMES:
        return True
    return any(ns in _EXEMPT_NAMESPACES for ns in match.namespaces)


def user_has_mfa(user) -> bool:
    """Whether ``user`` has enrolled a second factor (TOTP or a security key)."""
    cached = getattr(user, "_portal_social_has_mfa", None)
    if cached is None:
        from allauth.mfa.models import Authenticator

        cached = Authenticator.objects.filter(
            user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
        ).exists()
        user._portal_social_has_mfa = cached
    return cached


class StaffMFAMiddleware:
    """Send staff who have not enrolled MFA to enrolment before any other page.

    Deny by default: every URL is gated except sign-in/out, account and MFA
    pages, static files and names listed in ``PORTAL_SOCIAL_MFA_EXEMPT_URL_NAMES``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            adapter = get_adapter(request)
            if adapter.requires_mfa(user) and not user_has_mfa(user) and not _path_is_exempt(request):
                message = adapter.error_messages["mfa_required"]
                if _wants_json(request) or request.method not in ("GET", "HEAD"):
                    return JsonResponse({"error": "mfa_required", "message": str(message)}, status=403)
                messages.warning(request, message)
                return HttpResponseRedirect(adapter.get_mfa_enrolment_url(request))
        return self.get_response(request)


class SessionTimeoutMiddleware:
    """End sessions after ``SESSION_IDLE_TIMEOUT`` idle or ``SESSION_ABSOLUTE_TIMEOUT`` total."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            expired = self._expired(request)
            if expired:
                return self._sign_out(request, expired)
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            # Covers the request that signed the user in, too.
            self._touch(request)
        return response

    def _expired(self, request: HttpRequest) -> str | None:
        now = time.time()
        session = request.session
        auth_at = session.get(SESSION_AUTH_AT)
        seen_at = session.get(SESSION_SEEN_AT)
        absolute = app_settings.SESSION_ABSOLUTE_TIMEOUT
        idle = app_settings.SESSION_IDLE_TIMEOUT
        if absolute and auth_at is not None and now - auth_at > absolute:
            return "session_expired"
        if idle and seen_at is not None and now - seen_at > idle:
            return "session_idle"
        return None

    def _touch(self, request: HttpRequest) -> None:
        now = time.time()
        session = request.session
        if session.get(SESSION_AUTH_AT) is None:
            session[SESSION_AUTH_AT] = now
        seen_at = session.get(SESSION_SEEN_AT)
        if seen_at is None or now - seen_at >= _SEEN_WRITE_INTERVAL:
            session[SESSION_SEEN_AT] = now
            idle = app_settings.SESSION_IDLE_TIMEOUT
            if idle:
                # The server-side session row and the cookie expire too, so a
                # copied cookie is useless after the idle period.
                session.set_expiry(idle + _SEEN_WRITE_INTERVAL)

    def _sign_out(self, request: HttpRequest, reason: str) -> HttpResponse:
        message = get_adapter(request).error_messages[reason]
        logout(request)
        if _wants_json(request):
            return JsonResponse({"error": reason, "message": str(message)}, status=401)
        messages.info(request, message)
        login_url = resolve_url(settings.LOGIN_URL)
        if request.method == "GET":
            login_url += "?" + urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(login_url)


class NoStoreMiddleware:
    """``Cache-Control: no-store`` on every response to a signed-in user.

    Pages behind sign-in may hold PHI; neither the browser's back-forward
    cache nor a shared proxy may keep them.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not app_settings.NO_STORE_AUTHENTICATED:
            return response
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        has_session = settings.SESSION_COOKIE_NAME in request.COOKIES
        if signed_in or has_session:
            response["Cache-Control"] = "no-store"
            response["Pragma"] = "no-cache"
            response["Expires"] = "0"
        return response
