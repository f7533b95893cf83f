"""Settings shared by every environment of the example hospital portal."""

from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
BASE_DIR = PROJECT_DIR.parent

INSTALLED_APPS = [
    "daphne",
    "hospital",
    "portal_social",
    "wagtail.contrib.forms",
    "wagtail.contrib.routable_page",
    "wagtail.contrib.redirects",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "guardian",
    "channels",
    "django_tasks",
    "django_tasks_db",
    "csp",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # A failed request (5xx) does not use up the person's rate limits, and a
    # database that is briefly unavailable answers "please try again" (503)
    # keeping what was typed, never a traceback. Above the session middleware,
    # so a failure while saving the session is covered too.
    "portal_social.core.middleware.RateLimitRefundMiddleware",
    "portal_social.core.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "portal_social.core.middleware.NoStoreMiddleware",
    "portal_social.core.middleware.SessionTimeoutMiddleware",
    "portal_social.core.middleware.StaffMFAMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "example_site.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "hospital.context_processors.portal",
            ],
        },
    },
]

ASGI_APPLICATION = "example_site.asgi.application"
WSGI_APPLICATION = None

# SQLite, the embedded default: write transactions take the lock when they
# begin and wait for it, WAL journal (docs/database.md). Good for a pilot or a
# small clinic on one server; production.py uses PostgreSQL.
from portal_social.core.database import sqlite_database  # noqa: E402

DATABASES = {"default": sqlite_database(BASE_DIR / "db.sqlite3")}

# One front door: passwords are checked only inside allauth's sign-in (lockout,
# rate limits, second factor); every other login view is refused.
AUTHENTICATION_BACKENDS = [
    "portal_social.core.accounts.FrontDoorBackend",
    "guardian.backends.ObjectPermissionBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# django-guardian: no "AnonymousUser" account and no object grants for
# signed-out visitors (deny by default; nothing in portal_social grants them any).
ANONYMOUS_USER_NAME = None

LANGUAGE_CODE = "en-us"
TIME_ZONE = "America/New_York"
USE_I18N = True
USE_TZ = True

STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
]
STATIC_ROOT = BASE_DIR / "static_collected"
STATIC_URL = "/static/"
MEDIA_ROOT = BASE_DIR / "media"
MEDIA_URL = "/media/"
# Files patients and staff send in secure messages: encrypted, never served from MEDIA_URL (core.files).
PORTAL_SOCIAL_PRIVATE_FILES_ROOT = BASE_DIR / "private"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Uploads are kept in memory until core.files encrypts them, never in a plain temporary file (core.uploads).
FILE_UPLOAD_HANDLERS = ["portal_social.core.uploads.MemoryOnlyUploadHandler"]
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Accounts (django-allauth) -------------------------------------------------------
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGIN_METHODS = {"email", "username"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Riverside Health] "
# Lockout is per account: after 5 failed sign-ins for one account (by username
# or email address alike), further attempts are refused for 15 minutes. The
# per-address limits only stop floods: a hospital's whole network, or every
# client behind an unlisted load balancer, shares one address. Password
# spraying (one address failing on many accounts) is portal_social's
# "sign_in_spray" limit. Counts live in the cache (Redis in production).
ACCOUNT_RATE_LIMITS = {"login": "1000/m/ip", "login_failed": "300/m/ip,5/15m/key"}
ACCOUNT_ADAPTER = "portal_social.core.accounts.PortalAccountAdapter"
MFA_ADAPTER = "portal_social.core.mfa.PortalMFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = "Riverside Health"
MFA_PASSKEY_LOGIN_ENABLED = False
SOCIALACCOUNT_PROVIDERS = {}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# A browser-session cookie: closing the browser on a shared computer signs the
# person out. The server ends idle and old sessions itself (SessionTimeoutMiddleware);
# the stored row never outlives the absolute session lifetime.
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_AGE = 12 * 60 * 60
CSRF_COOKIE_HTTPONLY = True

# Security headers -------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

# Channels and tasks ------------------------------------------------------------------
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Wagtail -----------------------------------------------------------------------------
WAGTAIL_SITE_NAME = "Riverside Health"
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILADMIN_BASE_URL = "http://127.0.0.1:8000"
# Sign-in and passwords are allauth's (MFA, lockout, reset); the Wagtail admin
# sends people there instead of its own forms.
WAGTAILADMIN_LOGIN_URL = "account_login"
WAGTAIL_FRONTEND_LOGIN_URL = "/accounts/login/"
WAGTAIL_PASSWORD_MANAGEMENT_ENABLED = False
WAGTAIL_PASSWORD_RESET_ENABLED = False
# No Gravatar: it would send a hash of every staff email address to a third party.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
# Clinician photos: common web formats only, at most 5 MB and 40 megapixels.
WAGTAILIMAGES_EXTENSIONS = ["jpg", "jpeg", "png", "webp"]
WAGTAILIMAGES_MAX_UPLOAD_SIZE = 5 * 1024 * 1024
WAGTAILIMAGES_MAX_IMAGE_PIXELS = 40_000_000
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "odt", "pdf", "pptx", "rtf", "txt", "xlsx"]

# portal_social -------------------------------------------------------------------------
PORTAL_SOCIAL_ORGANISATION_NAME = "Riverside Health"
PORTAL_SOCIAL_ADAPTER = "hospital.adapter.RiversideAdapter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO"},
        "portal_social": {"handlers": ["console"], "level": "INFO"},
    },
}
