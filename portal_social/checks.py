"""Django system checks: misconfiguration is reported at start-up, with a fix.

Run by ``manage.py check`` and before ``runserver``/``migrate``; a host never
meets these problems as a traceback at request time.
"""

from __future__ import annotations

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from portal_social.conf import app_settings

MFA_MIDDLEWARE = "portal_social.core.middleware.StaffMFAMiddleware"
SESSION_MIDDLEWARE = "portal_social.core.middleware.SessionTimeoutMiddleware"
NO_STORE_MIDDLEWARE = "portal_social.core.middleware.NoStoreMiddleware"
AUTH_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"
ALLAUTH_MIDDLEWARE = "allauth.account.middleware.AccountMiddleware"

REQUIRED_APPS = {
    "allauth": "E003",
    "allauth.account": "E003",
    "allauth.mfa": "E005",
    "guardian": "E004",
    "channels": "E002",
    "django_tasks": "E007",
    "wagtail.contrib.routable_page": "E015",
}


@checks.register(checks.Tags.security, deploy=False)
def check_encryption_keys(app_configs=None, **kwargs):
    from portal_social.core.crypto import key_problems

    keys = app_settings.ENCRYPTION_KEYS
    if not keys:
        if settings.DEBUG:
            return [
                checks.Warning(
                    "PORTAL_SOCIAL_ENCRYPTION_KEYS is empty; PHI cannot be encrypted at rest.",
                    hint="Allowed only while DEBUG is on. Set it to one or more Fernet keys.",
                    id="portal_social.W001",
                )
            ]
        return [
            checks.Error(
                "PORTAL_SOCIAL_ENCRYPTION_KEYS is empty; PHI cannot be encrypted at rest.",
                hint=(
                    "Set PORTAL_SOCIAL_ENCRYPTION_KEYS to a list of Fernet keys (the first encrypts). "
                    "Generate one with: python -c "
                    "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
                ),
                id="portal_social.E001",
            )
        ]
    problems = key_problems(keys)
    if problems:
        return [
            checks.Error(
                "PORTAL_SOCIAL_ENCRYPTION_KEYS is malformed: " + "; ".join(problems) + ".",
                hint="Each key must be Fernet.generate_key() output. Keep old keys after the new one until rotation.",
                id="portal_social.E001",
            )
        ]
    return []


@checks.register()
def check_installed_apps(app_configs=None, **kwargs):
    errors = []
    for app, code in REQUIRED_APPS.items():
        if app not in settings.INSTALLED_APPS:
            errors.append(
                checks.Error(
                    f"{app!r} is not in INSTALLED_APPS; portal_social needs it.",
                    hint=f"Add {app!r} to INSTALLED_APPS (see the installation guide in docs/installation.md).",
                    id=f"portal_social.{code}",
                )
            )
    return errors


@checks.register()
def check_channel_layer(app_configs=None, **kwargs):
    layers = getattr(settings, "CHANNEL_LAYERS", None) or {}
    if "default" not in layers:
        return [
            checks.Error(
                "No default channel layer is configured; real-time messaging cannot deliver.",
                hint=(
                    "Set CHANNEL_LAYERS = {'default': {'BACKEND': 'channels.layers.InMemoryChannelLayer'}} "
                    "for a single process, or channels_redis.core.RedisChannelLayer in production."
                ),
                id="portal_social.E002",
            )
        ]
    backend = layers["default"].get("BACKEND", "")
    if backend.endswith("InMemoryChannelLayer") and not settings.DEBUG:
        return [
            checks.Warning(
                "The in-memory channel layer delivers only within one process.",
                hint="Run a single ASGI process, or use channels_redis.core.RedisChannelLayer.",
                id="portal_social.W002",
            )
        ]
    return []


@checks.register(checks.Tags.security)
def check_mfa(app_configs=None, **kwargs):
    errors = []
    types = getattr(settings, "MFA_SUPPORTED_TYPES", ["totp", "recovery_codes"])
    if "allauth.mfa" in settings.INSTALLED_APPS and not ({"totp", "webauthn"} & set(types)):
        errors.append(
            checks.Error(
                "MFA_SUPPORTED_TYPES offers no second factor staff can enrol.",
                hint="Include 'totp' (and 'webauthn', 'recovery_codes') in MFA_SUPPORTED_TYPES.",
                id="portal_social.E005",
            )
        )
    middleware = list(getattr(settings, "MIDDLEWARE", []))
    if MFA_MIDDLEWARE not in middleware:
        errors.append(
            checks.Error(
                "StaffMFAMiddleware is not installed: staff could open PHI without MFA.",
                hint=f"Add {MFA_MIDDLEWARE!r} to MIDDLEWARE after {AUTH_MIDDLEWARE!r}.",
                id="portal_social.E006",
            )
        )
    for name in (MFA_MIDDLEWARE, SESSION_MIDDLEWARE, NO_STORE_MIDDLEWARE):
        if (
            name in middleware
            and AUTH_MIDDLEWARE in middleware
            and middleware.index(name) < middleware.index(AUTH_MIDDLEWARE)
        ):
            errors.append(
                checks.Error(
                    f"{name} runs before AuthenticationMiddleware and cannot see the user.",
                    hint=f"Move {name!r} below {AUTH_MIDDLEWARE!r} in MIDDLEWARE.",
                    id="portal_social.E008",
                )
            )
    if SESSION_MIDDLEWARE not in middleware:
        errors.append(
            checks.Warning(
                "SessionTimeoutMiddleware is not installed: idle sessions never end.",
                hint=f"Add {SESSION_MIDDLEWARE!r} to MIDDLEWARE after {AUTH_MIDDLEWARE!r}.",
                id="portal_social.W003",
            )
        )
    if ALLAUTH_MIDDLEWARE not in middleware and "allauth.account" in settings.INSTALLED_APPS:
        errors.append(
            checks.Error(
                "allauth's AccountMiddleware is not installed.",
                hint=f"Add {ALLAUTH_MIDDLEWARE!r} to MIDDLEWARE.",
                id="portal_social.E009",
            )
        )
    return errors


@checks.register()
def check_guardian_backend(app_configs=None, **kwargs):
    backends = getattr(settings, "AUTHENTICATION_BACKENDS", [])
    if "guardian.backends.ObjectPermissionBackend" not in backends:
        return [
            checks.Error(
                "guardian's ObjectPermissionBackend is not in AUTHENTICATION_BACKENDS; object grants are ignored.",
                hint="Add 'guardian.backends.ObjectPermissionBackend' to AUTHENTICATION_BACKENDS.",
                id="portal_social.E004",
            )
        ]
    return []


@checks.register()
def check_adapter_and_timeouts(app_configs=None, **kwargs):
    from portal_social.adapter import get_adapter_class

    errors = []
    try:
        adapter_class = get_adapter_class()
    except ImproperlyConfigured as exc:
        errors.append(
            checks.Error(
                str(exc),
                hint="Set PORTAL_SOCIAL_ADAPTER to the dotted path of a PortalAdapter subclass.",
                id="portal_social.E010",
            )
        )
    else:
        if callable(getattr(adapter_class, "notify", None)):
            # The free-text hook of earlier releases: nothing calls it now, so a host's
            # SMS or push sender there would silently stop receiving notifications.
            errors.append(
                checks.Warning(
                    f"{adapter_class.__name__} defines notify(), which portal_social no longer calls.",
                    hint="Notifications are keyed templates sent by a background task: override "
                    "notification_channels() and send_notification() (and language_for()) instead.",
                    id="portal_social.W020",
                )
            )
    try:
        idle = app_settings.SESSION_IDLE_TIMEOUT
        absolute = app_settings.SESSION_ABSOLUTE_TIMEOUT
    except (TypeError, ValueError):
        errors.append(
            checks.Error(
                "PORTAL_SOCIAL_SESSION_IDLE_TIMEOUT and PORTAL_SOCIAL_SESSION_ABSOLUTE_TIMEOUT must be integers.",
                hint="Give both in seconds, for example 900 and 43200.",
                id="portal_social.E011",
            )
        )
        return errors
    if idle < 0 or absolute < 0:
        errors.append(
            checks.Error(
                "Session timeouts cannot be negative.",
                hint="Use seconds, or 0 to turn a timeout off.",
                id="portal_social.E011",
            )
        )
    elif idle and absolute and idle > absolute:
        errors.append(
            checks.Warning(
                "PORTAL_SOCIAL_SESSION_IDLE_TIMEOUT is longer than PORTAL_SOCIAL_SESSION_ABSOLUTE_TIMEOUT.",
                hint="The idle timeout can never fire; make it shorter than the absolute lifetime.",
                id="portal_social.W004",
            )
        )
    from portal_social.core import roles

    unknown = set(app_settings.MFA_REQUIRED_ROLES) - set(roles.ROLES)
    if unknown:
        errors.append(
            checks.Error(
                f"PORTAL_SOCIAL_MFA_REQUIRED_ROLES names unknown roles: {', '.join(sorted(unknown))}.",
                hint=f"Known roles: {', '.join(roles.ROLES)}.",
                id="portal_social.E012",
            )
        )
    return errors


@checks.register(checks.Tags.security)
def check_single_sign_in(app_configs=None, **kwargs):
    """Wagtail's own login form would bypass allauth's MFA and lockout."""
    if "wagtail.admin" not in settings.INSTALLED_APPS:
        return []
    warnings = []
    login_url = getattr(settings, "WAGTAILADMIN_LOGIN_URL", None)
    if login_url not in ("account_login", getattr(settings, "LOGIN_URL", object())):
        warnings.append(
            checks.Warning(
                "The Wagtail admin uses its own sign-in form, which skips MFA and login lockout.",
                hint='Set WAGTAILADMIN_LOGIN_URL = "account_login" and route the admin login URL to allauth.',
                id="portal_social.W005",
            )
        )
    if getattr(settings, "WAGTAIL_GRAVATAR_PROVIDER_URL", "//www.gravatar.com/avatar") is not None:
        warnings.append(
            checks.Warning(
                "The Wagtail admin loads staff avatars from Gravatar, sending a hash of each staff email "
                "to a third party.",
                hint="Set WAGTAIL_GRAVATAR_PROVIDER_URL = None.",
                id="portal_social.W006",
            )
        )
    return warnings


@checks.register()
def check_text_settings(app_configs=None, **kwargs):
    try:
        limit = app_settings.TEXT_MAX_LENGTH
    except (TypeError, ValueError):
        limit = 0
    if limit < 1:
        return [
            checks.Error(
                "PORTAL_SOCIAL_TEXT_MAX_LENGTH must be a positive integer.",
                hint="Give the maximum characters of one post or message, for example 20000.",
                id="portal_social.E013",
            )
        ]
    return []


@checks.register()
def check_phi_settings(app_configs=None, **kwargs):
    import re

    errors = []
    for position, pattern in enumerate(app_settings.PHI_MRN_PATTERNS, start=1):
        try:
            re.compile(pattern)
        except (re.error, TypeError) as exc:
            errors.append(
                checks.Error(
                    f"PORTAL_SOCIAL_PHI_MRN_PATTERNS pattern {position} does not compile: {exc}.",
                    hint="Give regular expressions (strings), e.g. r'\\bRH-\\d{8}\\b'.",
                    id="portal_social.E014",
                )
            )
    return errors


@checks.register(checks.Tags.security)
def check_audit_keys(app_configs=None, **kwargs):
    """Audit chain keys that are too short, repeated or not text would sign nothing trustworthy."""
    from portal_social.core.audit import MIN_KEY_LENGTH, audit_key_problems

    problems = audit_key_problems(app_settings.AUDIT_KEYS)
    if not problems:
        return []
    return [
        checks.Error(
            "PORTAL_SOCIAL_AUDIT_KEYS is malformed: " + "; ".join(problems) + ".",
            hint=(
                f"Give a list of random strings of at least {MIN_KEY_LENGTH} characters, or a comma-separated "
                "string from the environment; generate one with "
                "python -c 'import secrets; print(secrets.token_urlsafe(32))'. Put a new key first and keep "
                "old keys listed: events signed with a key that is no longer listed fail verification."
            ),
            id="portal_social.E017",
        )
    ]


@checks.register(checks.Tags.security)
def check_trusted_proxies(app_configs=None, **kwargs):
    """A proxy entry that does not parse is ignored; one that covers everything trusts every client."""
    from portal_social.core.network import proxy_problems

    try:
        problems = proxy_problems(app_settings.TRUSTED_PROXIES)
    except TypeError:
        problems = ["it is not a list or a comma-separated string"]
    if not problems:
        return []
    return [
        checks.Error(
            "PORTAL_SOCIAL_TRUSTED_PROXIES is malformed: " + "; ".join(problems) + ".",
            hint=(
                "List the addresses or CIDR networks of your own load balancers only, for example "
                "['10.0.0.0/8'] or, from the environment, '10.0.1.5,10.0.2.0/24'. Write a network by "
                "its first address (10.0.0.0/8, not 10.0.0.1/8)."
            ),
            id="portal_social.E016",
        )
    ]


FRONT_DOOR_BACKEND = "portal_social.core.accounts.FrontDoorBackend"
FRONT_DOOR_ADAPTER = "portal_social.core.accounts.PortalAccountAdapter"


@checks.register(checks.Tags.security)
def check_front_door(app_configs=None, **kwargs):
    """Passwords are checked only inside allauth's sign-in (lockout, rate limits, MFA)."""
    from django.contrib.auth.backends import ModelBackend
    from django.utils.module_loading import import_string

    from portal_social.core.accounts import FrontDoorBackend, PortalAccountAdapter

    errors = []
    backends = list(getattr(settings, "AUTHENTICATION_BACKENDS", []))
    side_doors = []
    for path in backends:
        try:
            backend = import_string(path)
        except ImportError:
            continue
        if (
            isinstance(backend, type)
            and issubclass(backend, ModelBackend)
            and not issubclass(backend, FrontDoorBackend)
        ):
            side_doors.append(path)
    if side_doors or FRONT_DOOR_BACKEND not in backends:
        errors.append(
            checks.Error(
                "AUTHENTICATION_BACKENDS lets login views other than allauth's check passwords "
                f"({', '.join(side_doors) or 'FrontDoorBackend is missing'}); they skip the lockout and MFA.",
                hint=f"Replace ModelBackend and allauth's AuthenticationBackend with {FRONT_DOOR_BACKEND!r}.",
                id="portal_social.E020",
            )
        )
    adapter_path = getattr(settings, "ACCOUNT_ADAPTER", "allauth.account.adapter.DefaultAccountAdapter")
    try:
        adapter = import_string(adapter_path)
    except ImportError:
        adapter = None
    if not (isinstance(adapter, type) and issubclass(adapter, PortalAccountAdapter)):
        errors.append(
            checks.Error(
                f"ACCOUNT_ADAPTER {adapter_path!r} is not a PortalAccountAdapter: nobody can sign in.",
                hint=f"Set ACCOUNT_ADAPTER = {FRONT_DOOR_ADAPTER!r}, or subclass it.",
                id="portal_social.E021",
            )
        )
    if not getattr(settings, "SESSION_EXPIRE_AT_BROWSER_CLOSE", False):
        errors.append(
            checks.Warning(
                "Session cookies outlive the browser: on a shared computer the next person is still signed in.",
                hint="Set SESSION_EXPIRE_AT_BROWSER_CLOSE = True; the idle and absolute timeouts still apply.",
                id="portal_social.W010",
            )
        )
    return errors


@checks.register(checks.Tags.security)
def check_template_debug_logging(app_configs=None, **kwargs):
    """Django logs a failed template lookup at DEBUG with the whole template
    context, which on portal pages holds what patients wrote."""
    import logging

    if logging.getLogger("django.template").isEnabledFor(logging.DEBUG):
        return [
            checks.Warning(
                "The 'django.template' logger records DEBUG messages, which include template contexts "
                "(what patients wrote) whenever a variable is missing.",
                hint="Log 'django' and 'django.template' at INFO or above.",
                id="portal_social.W011",
            )
        ]
    return []


@checks.register()
def check_database_connections(app_configs=None, **kwargs):
    """Persistent connections pile up under ASGI; SQLite without IMMEDIATE transactions fails concurrent writes."""
    warnings = []
    databases = getattr(settings, "DATABASES", {}) or {}
    asgi = bool(getattr(settings, "ASGI_APPLICATION", None))
    for alias, entry in databases.items():
        age = entry.get("CONN_MAX_AGE", 0)
        if asgi and age != 0:
            warnings.append(
                checks.Warning(
                    f"DATABASES[{alias!r}] keeps connections open between requests (CONN_MAX_AGE={age!r}) "
                    "and the portal runs under ASGI: every request runs in a thread of its own, so a kept "
                    "connection is never reused and connections pile up until the database refuses new clients.",
                    hint=(
                        "Set CONN_MAX_AGE = 0; on PostgreSQL a bounded pool per process is better, "
                        "OPTIONS = {'pool': {'min_size': 2, 'max_size': 8}} (needs psycopg[pool]), sized so that "
                        "workers x max_size <= max_connections - headroom. "
                        "portal_social.core.database.postgres_database() does both."
                    ),
                    id="portal_social.W012",
                )
            )
        engine = entry.get("ENGINE", "")
        mode = str((entry.get("OPTIONS") or {}).get("transaction_mode") or "").upper()
        if engine == "django.db.backends.sqlite3" and mode not in ("IMMEDIATE", "EXCLUSIVE"):
            warnings.append(
                checks.Warning(
                    f"DATABASES[{alias!r}] is SQLite with deferred transactions: two people saving at the "
                    "same moment make one of them fail with 'database is locked'.",
                    hint=(
                        "Use portal_social.core.database.sqlite_database(path), or set OPTIONS "
                        "{'transaction_mode': 'IMMEDIATE', 'timeout': 20, "
                        "'init_command': 'PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL'}."
                    ),
                    id="portal_social.W013",
                )
            )
    return warnings


@checks.register()
def check_upload_handlers(app_configs=None, **kwargs):
    """W014: an upload handler that writes files to disk before the portal can encrypt them."""
    handlers = list(getattr(settings, "FILE_UPLOAD_HANDLERS", []) or [])
    ours = "portal_social.core.uploads.MemoryOnlyUploadHandler"
    if handlers and handlers[0] == ours:
        return []
    return [
        checks.Warning(
            "Uploads can be written to a temporary file in plain text before portal_social encrypts them: "
            "Django's default handlers put any file over FILE_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) on disk while "
            "the request runs, and leave it there if the process dies.",
            hint=f'Set FILE_UPLOAD_HANDLERS = ["{ours}"].',
            id="portal_social.W014",
        )
    ]


@checks.register()
def check_business_calendar(app_configs=None, **kwargs):
    """E030: ``PORTAL_SOCIAL_BUSINESS_CALENDAR`` must load (hours, time zone, holiday region)."""
    from portal_social.core.calendar import check_default_calendar

    return check_default_calendar()


@checks.register()
def check_feedback_sla(app_configs=None, **kwargs):
    """``PORTAL_SOCIAL_FEEDBACK_SLA`` parses: known clocks, durations such as "1bh", "3bd" or "7cd"."""
    from portal_social.feedback.sla import check_setting

    return check_setting()
