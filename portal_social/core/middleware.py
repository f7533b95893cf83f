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
from portal_social.core.second_factor import user_has_mfa

__all__ = ["NoStoreMiddleware", "SessionTimeoutMiddleware", "StaffMFAMiddleware", "user_has_mfa"]

#: The only views a staff member may open before this session passed a second
#: factor: signing in and out, password re-entry and reset, and enrolling or
#: presenting a factor. Matched on the resolved view's full name (namespace
#: included) *and* the module that serves it, so a host's or an admin's view
#: that happens to share a name ("admin:account_emailaddress_changelist") is
#: never exempt. Managing emails, passwords and authenticators is not here:
#: those change the account and need the second factor first.
EXEMPT_VIEWS: frozenset[tuple[str, str]] = frozenset(
    {
        ("account_login", "allauth.account"),
        ("account_logout", "allauth.account"),
        ("account_inactive", "allauth.account"),
        ("account_reauthenticate", "allauth.account"),
        ("account_email_verification_sent", "allauth.account"),
        ("account_confirm_email", "allauth.account"),
        ("account_reset_password", "allauth.account"),
        ("account_reset_password_done", "allauth.account"),
        ("account_reset_password_from_key", "allauth.account"),
        ("account_reset_password_from_key_done", "allauth.account"),
        ("mfa_index", "allauth.mfa"),
        ("mfa_authenticate", "allauth.mfa"),
        ("mfa_reauthenticate", "allauth.mfa"),
        ("mfa_activate_totp", "allauth.mfa"),
        ("mfa_add_webauthn", "allauth.mfa"),
        ("mfa_reauthenticate_webauthn", "allauth.mfa"),
        ("mfa_login_webauthn", "allauth.mfa"),
    }
)

SESSION_AUTH_AT = "_portal_social_auth_at"
SESSION_SEEN_AT = "_portal_social_seen_at"
#: How often (seconds) the last-seen time is written back to the session;
#: writing on every request would save the session row on every request.
_SEEN_WRITE_INTERVAL = 15


def _wants_json(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def _view_module(func) -> str:
    # Class-based views carry the class; decorated functions keep __module__.
    view_class = getattr(func, "view_class", None)
    return (view_class or func).__module__ or ""


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
    if match.view_name in app_settings.MFA_EXEMPT_URL_NAMES:
        return True
    module = _view_module(match.func)
    return any(
        match.view_name == name and (module == package or module.startswith(package + "."))
        for name, package in EXEMPT_VIEWS
    )


class StaffMFAMiddleware:
    """Staff reach no page that can show PHI until this session passed a second factor.

    Deny by default: every URL is gated except the views in ``EXEMPT_VIEWS``,
    static files, and what ``PORTAL_SOCIAL_MFA_EXEMPT_URL_NAMES`` and
    ``PORTAL_SOCIAL_MFA_EXEMPT_PATH_PREFIXES`` add. A staff member who has
    not enrolled a factor is sent to enrol one; one who has, but whose
    session did not present it (signed in some other way than allauth's
    sign-in), is asked for it. Writes and JSON requests get a 403 instead of
    a redirect.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            adapter = get_adapter(request)
            if adapter.requires_mfa(user) and not _path_is_exempt(request):
                if not user_has_mfa(user):
                    return self._refuse(request, "mfa_required", adapter.get_mfa_enrolment_url(request))
                if not adapter.session_passed_second_factor(request.session, user):
                    url = adapter.get_second_factor_url(request)
                    if request.method in ("GET", "HEAD"):
                        url += "?" + urlencode({"next": request.get_full_path()})
                    return self._refuse(request, "second_factor_required", url)
        return self.get_response(request)

    @staticmethod
    def _refuse(request: HttpRequest, reason: str, url: str) -> HttpResponse:
        message = get_adapter(request).error_messages[reason]
        if _wants_json(request) or request.method not in ("GET", "HEAD"):
            return JsonResponse({"error": reason, "message": str(message)}, status=403)
        messages.warning(request, message)
        return HttpResponseRedirect(url)


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
            # The idle limit is enforced here, on the server, from this time:
            # a copied cookie is useless after the idle period. The cookie
            # itself stays a browser-session cookie (no Max-Age/Expires), so
            # closing the browser on a shared computer signs the person out.
            session[SESSION_SEEN_AT] = now

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
