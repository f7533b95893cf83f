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

if os.environ.get("DATABASE_URL"):
    import dj_database_url

    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"])}

if os.environ.get("REDIS_URL"):
    REDIS_URL = os.environ["REDIS_URL"]
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}}
