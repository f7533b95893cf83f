"""Request-level safeguards: MFA for staff, session lifetimes, no-store caching,
rate-limit refunds and a clear answer when the database is briefly unavailable.

Install the first two near the top, after ``SecurityMiddleware`` and before
``SessionMiddleware`` (so that a failure while saving the session is covered
too)::

    "portal_social.core.middleware.RateLimitRefundMiddleware",
    "portal_social.core.middleware.DatabaseUnavailableMiddleware",

and the other three, in this order, after ``AuthenticationMiddleware`` and
allauth's ``AccountMiddleware``::

    "portal_social.core.middleware.NoStoreMiddleware",
    "portal_social.core.middleware.SessionTimeoutMiddleware",
    "portal_social.core.middleware.StaffMFAMiddleware",

``NoStoreMiddleware`` comes first so that it also marks the redirects the
other two answer with.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import resolve_url
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve

from portal_social.adapter import get_adapter
from portal_social.conf import app_settings
from portal_social.core import ratelimit
from portal_social.core.accounts import sign_in_refusal
from portal_social.core.second_factor import user_has_mfa

__all__ = [
    "DatabaseUnavailableMiddleware",
    "NoStoreMiddleware",
    "RateLimitRefundMiddleware",
    "SessionTimeoutMiddleware",
    "StaffMFAMiddleware",
    "user_has_mfa",
]

logger = logging.getLogger("portal_social.database")

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
    """End sessions after ``SESSION_IDLE_TIMEOUT`` idle or ``SESSION_ABSOLUTE_TIMEOUT`` total, and at once
    when a feature keeps the person out (``core.accounts.SIGN_IN_REFUSALS``, e.g. a community suspension)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            expired = self._expired(request)
            if expired:
                return self._sign_out(request, expired)
            refused = sign_in_refusal(user)
            if refused:
                return self._sign_out(request, "account_held", message=refused)
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

    def _sign_out(self, request: HttpRequest, reason: str, *, message: str = "") -> HttpResponse:
        message = message or get_adapter(request).error_messages[reason]
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


class RateLimitRefundMiddleware:
    """A request that fails gives back the rate-limit counts it used.

    ``ratelimit.check`` records each count it adds on the current request; when
    the request raises or answers 5xx (the server's failure, not the
    person's), every one of them is taken back. Refusals (4xx, including the
    429 of the limit itself) keep their counts.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with ratelimit.charges_for_request() as charges:
            try:
                response = self.get_response(request)
            except BaseException:
                charges.refund()
                raise
            if response.status_code >= 500:
                charges.refund()
        return response


#: Seconds a client is asked to wait (``Retry-After``) when the database is unavailable.
RETRY_AFTER_SECONDS = 5

#: Form fields never written back into the "please try again" page.
_SECRET_FIELD = re.compile(r"pass|secret|token|csrf|otp|code|key|card|cvv|ssn", re.IGNORECASE)
_WRITTEN = re.compile(r"[^\W\d_]")
#: At most this many characters of posted text are kept.
_MAX_KEPT = 200_000

_TRANSIENT: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)
try:  # Redis (the cache behind rate limits, the channel layer) restarting is as passing as a busy database.
    from redis.exceptions import ConnectionError as _RedisConnectionError
    from redis.exceptions import TimeoutError as _RedisTimeoutError

    _TRANSIENT += (_RedisConnectionError, _RedisTimeoutError)
except ImportError:  # pragma: no cover - Redis is optional (the embedded default needs none)
    pass
#: SQLite reports a missing table or column as an OperationalError too: that
#: is a bug or a missing migration, not a busy database, and stays a 500.
_SCHEMA_PROBLEM = re.compile(r"no such (table|column|function|index)|has no column named|syntax error", re.IGNORECASE)
_FAILED_ON = "_portal_social_database_unavailable"


def _is_transient(exc: BaseException | None) -> bool:
    """Whether ``exc`` says the database (or Redis) is unavailable for now: a lock, a lost connection, no free
    connection, a Redis server restarting."""
    return isinstance(exc, _TRANSIENT) and not _SCHEMA_PROBLEM.search(str(exc))


def _kept_fields(request: HttpRequest) -> list[dict]:
    """The posted fields to put back in the form: not secrets, not files, bounded."""
    try:
        data = request.POST
    except Exception:  # a body that cannot be read again
        return []
    kept, size = [], 0
    for name in data:
        if _SECRET_FIELD.search(name):
            continue
        for value in data.getlist(name):
            size += len(value)
            if size > _MAX_KEPT:
                return kept
            # Text someone wrote is shown to them again; choices (star
            # ratings, ids) travel back unseen.
            kept.append({"name": name, "value": value, "shown": bool(_WRITTEN.search(value))})
    return kept


def _on_uncaught_exception(sender, request=None, **kwargs):
    # Sent while Django handles an exception nobody caught (also one raised in
    # a middleware below ours): mark the request so that the middleware can
    # replace the 500 page, which with DEBUG on would be a traceback.
    exc = sys.exc_info()[1]
    if request is not None and _is_transient(exc):
        setattr(request, _FAILED_ON, type(exc).__name__)


got_request_exception.connect(_on_uncaught_exception, dispatch_uid="portal_social_database_unavailable")


class DatabaseUnavailableMiddleware:
    """When the database is briefly unavailable, say "please try again" (503), never a traceback.

    A write (POST and the like) gets a page that keeps what the person typed,
    in a form that sends it again to the same address with a fresh CSRF
    token; passwords, codes and tokens are never written back. Anything else
    gets a plain "temporarily unavailable" page. Both carry ``Retry-After``.
    Only the exception's class is logged: its message could quote the data.
    The pages are ``portal_social/errors/try_again.html`` and
    ``portal_social/errors/unavailable.html``, rendered without the request's
    context processors (they may need the database); a host overrides them
    like any template.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        failed = getattr(request, _FAILED_ON, None)
        if failed and response.status_code == 500:
            return unavailable_response(request, failed)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if _is_transient(exception):
            return unavailable_response(request, type(exception).__name__)
        return None


def unavailable_response(request: HttpRequest, exception_name: str) -> HttpResponse:
    """The 503 answer for a request that met an unavailable database, cache or queue."""
    logger.warning("A service was unavailable (%s) during a %s request; answered 503.", exception_name, request.method)
    write = request.method not in ("GET", "HEAD", "OPTIONS", "TRACE")
    if _wants_json(request):
        response = JsonResponse(
            {"error": "temporarily_unavailable", "message": "Please try again in a few seconds."}, status=503
        )
    else:
        context = {"retry_after": RETRY_AFTER_SECONDS}
        template = "portal_social/errors/unavailable.html"
        if write:
            template = "portal_social/errors/try_again.html"
            context.update(
                action=request.get_full_path(),
                fields=_kept_fields(request),
                csrf_token=get_token(request),
            )
        response = HttpResponse(render_to_string(template, context), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response
