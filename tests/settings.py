"""Test settings: the example portal's, on SQLite or on the PostgreSQL and
Redis named by DATABASE_URL and REDIS_URL (``make test-services``)."""

import os

from example_site.settings.dev import *  # noqa: F401,F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PORTAL_SOCIAL_ENCRYPTION_KEYS = ["dGhpcy1pcy1hLXRlc3Qtb25seS1rZXktMzItYnl0ZXM="]
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# SQLite with the options every portal gets (portal_social.core.database):
# IMMEDIATE transactions, a busy timeout, WAL. PostgreSQL as production
# connects to it: no connection kept between requests.
from portal_social.core.database import SQLITE_OPTIONS, postgres_database  # noqa: E402

DATABASES["default"]["OPTIONS"] = {**DATABASES["default"].get("OPTIONS", {}), **SQLITE_OPTIONS}  # noqa: F405

if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": postgres_database(os.environ["DATABASE_URL"])}

if os.environ.get("REDIS_URL"):
    # Each pytest-xdist worker (gw0, gw1, …) has a Redis index of its own, so
    # one worker's cache.clear() never empties another's rate-limit counters.
    from urllib.parse import urlsplit, urlunsplit

    _worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    REDIS_URL = urlunsplit(urlsplit(os.environ["REDIS_URL"])._replace(path=f"/{int(_worker[2:] or 0)}"))
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 15}]},
        }
    }

# A notification queued by an action is delivered as soon as its transaction
# commits, so a test that asserts an email sees it without running a worker.
# tests/core/test_notify.py overrides this where it inspects the queue itself.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

# Files people send (secure-message attachments) go to a private folder of this run, not the repository.
import tempfile  # noqa: E402

PORTAL_SOCIAL_PRIVATE_FILES_ROOT = tempfile.mkdtemp(prefix="portal-social-private-")
