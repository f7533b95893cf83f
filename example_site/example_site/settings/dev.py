"""Local development and the demo: SQLite, in-memory channel layer, database tasks."""

import os

from .base import *  # noqa: F401,F403

DEBUG = True
SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-insecure-key-never-use-in-production-0123456789")
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

# A fixed development key so the demo's encrypted fields survive restarts.
# Never use it anywhere else: production reads keys from the environment.
PORTAL_SOCIAL_ENCRYPTION_KEYS = os.environ.get(
    "PORTAL_SOCIAL_ENCRYPTION_KEYS", "dGhpcy1pcy1hLWRldi1vbmx5LWtleS0zMi1ieXRlcyE="
)

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
if os.environ.get("EMAIL_FILE_PATH"):
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = os.environ["EMAIL_FILE_PATH"]

# Text-message notifications are printed, the number masked, beside the emails.
PORTAL_SOCIAL_SMS_BACKEND = os.environ.get("PORTAL_SOCIAL_SMS_BACKEND", "portal_social.core.sms.ConsoleBackend")
if os.environ.get("SMS_FILE_PATH"):  # one file per text, as EMAIL_FILE_PATH for mail
    PORTAL_SOCIAL_SMS_BACKEND = "portal_social.core.sms.FileBackend"
    PORTAL_SOCIAL_SMS_FILE_PATH = os.environ["SMS_FILE_PATH"]

if os.environ.get("PORTAL_DB_PATH"):
    DATABASES["default"]["NAME"] = os.environ["PORTAL_DB_PATH"]  # noqa: F405

# WebAuthn needs a secure origin; 127.0.0.1 over http is allowed for development.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True

# DEBUG would answer a 404 with Django's technical page; the demo shows the
# portal's own 404.html instead (docs/development.md, "Error pages").
MIDDLEWARE = [*MIDDLEWARE, "hospital.middleware.PortalNotFoundPageMiddleware"]  # noqa: F405
