"""Production: PostgreSQL, Redis (channel layer, cache, task queue), HTTPS only.

Everything secret or site-specific comes from the environment:

    SECRET_KEY                     50+ random characters
    ALLOWED_HOSTS                  comma-separated host names
    DATABASE_URL                   postgres://user:password@host:5432/name
    REDIS_URL                      redis://host:6379/0
    PORTAL_SOCIAL_ENCRYPTION_KEYS  comma-separated Fernet keys, newest first
    PORTAL_SOCIAL_TRUSTED_PROXIES  comma-separated addresses or CIDR networks of
                                   the load balancers in front of the portal,
                                   e.g. "10.0.1.0/24" (optional; see below)
    PORTAL_SOCIAL_AUDIT_KEYS       comma-separated audit-chain keys, newest first
                                   (optional: derived from the encryption keys
                                   when unset; a key of its own is better)
    PORTAL_DB_POOL_MAX_SIZE        connections each worker process keeps in a
                                   psycopg pool (optional; default 8; 0 opens a
                                   connection per request and closes it after).
                                   Size: workers x this <= max_connections -
                                   headroom (docs/database.md)
"""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F401,F403
from .base import INSTALLED_APPS


def env(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"Set the {name} environment variable (see example_site/settings/production.py).")
    return value


DEBUG = False
SECRET_KEY = env("SECRET_KEY")
ALLOWED_HOSTS = [host.strip() for host in env("ALLOWED_HOSTS").split(",") if host.strip()]
CSRF_TRUSTED_ORIGINS = [f"https://{host}" for host in ALLOWED_HOSTS if not host.startswith(".")]

from portal_social.core.database import postgres_database  # noqa: E402

# Never persistent connections under ASGI (check W012): every request runs in
# a thread of its own, so a kept connection is never reused and piles up
# until PostgreSQL refuses new clients. A bounded pool per process instead:
# without it every request, and every database call of a live socket, opens
# a connection and PostgreSQL starts a server process for it
# (docs/messaging.md measures the difference).
_POOL_MAX_SIZE = os.environ.get("PORTAL_DB_POOL_MAX_SIZE", "").strip() or "8"
if not _POOL_MAX_SIZE.isdigit():
    raise ImproperlyConfigured(
        "Set PORTAL_DB_POOL_MAX_SIZE to a whole number of connections (0 for a connection per request)."
    )
DATABASES = {"default": postgres_database(env("DATABASE_URL"), pool_max_size=int(_POOL_MAX_SIZE) or None)}

REDIS_URL = env("REDIS_URL")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# A read timeout longer than channels-redis's 5-second blocking read: with redis-py's 5-second default,
# quiet sockets were dropped (1011) every few seconds.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # One Redis list per server process carries the pushes for all its sockets; channels-redis drops a push
        # (logging it only at INFO) once that list holds "capacity" of them, which a busy process with a few
        # hundred sockets reaches with the default of 100.
        "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 15}], "capacity": 2000},
    }
}
INSTALLED_APPS = [*INSTALLED_APPS, "django_rq"]
RQ_QUEUES = {"default": {"URL": REDIS_URL}}
TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}

PORTAL_SOCIAL_ENCRYPTION_KEYS = env("PORTAL_SOCIAL_ENCRYPTION_KEYS")
# The audit chain's HMAC keys, kept apart from the database and from the
# encryption keys. Unset: derived from the encryption keys. After setting it on
# a running portal, run `manage.py portal_social_audit reseal --accept-derived-keys`.
if os.environ.get("PORTAL_SOCIAL_AUDIT_KEYS", "").strip():
    PORTAL_SOCIAL_AUDIT_KEYS = os.environ["PORTAL_SOCIAL_AUDIT_KEYS"]

# The load balancers whose X-Forwarded-For entries are believed. Without
# them every request shows the balancer's address: the audit trail cannot
# tell clients apart, and the per-address sign-in limits count the whole
# portal as one client. List only your own balancers' addresses (never
# 0.0.0.0/0): a header from anyone else is ignored, so it cannot be forged.
# Check E016 reports an entry that does not parse.
PORTAL_SOCIAL_TRUSTED_PROXIES = os.environ.get("PORTAL_SOCIAL_TRUSTED_PROXIES", "")

# HTTPS only, behind a TLS-terminating load balancer that sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SECURE_HSTS_SECONDS = 63072000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"

WAGTAILADMIN_BASE_URL = os.environ.get("PORTAL_BASE_URL", f"https://{ALLOWED_HOSTS[0]}")
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "no-reply@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        # Request bodies and local variables never reach logs: only the
        # status line, which carries no PHI because URLs carry no PHI.
        "django": {"handlers": ["console"], "level": "WARNING"},
        "portal_social": {"handlers": ["console"], "level": "INFO"},
    },
}
