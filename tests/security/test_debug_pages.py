"""Debug pages are never shown outside development: an error is a plain page that tells nothing.

Django's debug page shows the traceback, local variables, the request's POST
data and the settings: on a PHI portal that is a disclosure. Only the
``dev`` settings turn ``DEBUG`` on.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import include, path

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = ROOT / "example_site" / "example_site" / "settings"
CANARY = "MRN 00123456 for Philippa Quartermaine"


class ChartLookupFailed(Exception):
    pass


def boom(request):
    patient_note = request.POST.get("note", "")  # a local variable the debug page would show
    raise ChartLookupFailed(f"lookup failed after reading {len(patient_note)} characters")


def fine(request):
    return HttpResponse("ok")


urlpatterns = [path("boom/", boom), path("fine/", fine), path("", include("example_site.urls"))]


def test_only_the_dev_settings_turn_debug_on():
    turned_on = sorted(
        module.stem for module in SETTINGS.glob("*.py") if re.search(r"^DEBUG\s*=\s*True", module.read_text(), re.M)
    )
    assert turned_on == ["dev"]


def test_test_settings_have_debug_off(settings):
    import tests.settings as test_settings

    assert test_settings.DEBUG is False
    assert settings.DEBUG is False


PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "example_site.settings.production",
    "SECRET_KEY": "x" * 60,
    "ALLOWED_HOSTS": "testserver,portal.example.org",
    "DATABASE_URL": "postgres://portal:secret@127.0.0.1:1/portal",
    "REDIS_URL": "redis://127.0.0.1:1/0",
    "PORTAL_SOCIAL_ENCRYPTION_KEYS": "dGhpcy1pcy1hLXRlc3Qtb25seS1rZXktMzItYnl0ZXM=",
}

# Production settings as they are (DEBUG, logging, middleware, templates), with the
# database, cache and sessions this machine has instead of PostgreSQL and Redis.
_PRODUCTION_REQUEST = """
import django
from django.test.utils import override_settings, setup_test_environment
django.setup()
from django.conf import settings
print("DEBUG", settings.DEBUG, settings.DEBUG_PROPAGATE_EXCEPTIONS)
setup_test_environment()
from django.test import Client
with override_settings(
    ROOT_URLCONF="tests.security.test_debug_pages",
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
    SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
):
    client = Client(raise_request_exception=False)
    assert client.get("/fine/", secure=True).status_code == 200
    response = client.post("/boom/", {"note": %(canary)r}, secure=True)
print("STATUS", response.status_code)
print("BODY", response.content.decode())
"""


def test_production_settings_have_debug_off_and_show_a_plain_error_page():
    env = {**os.environ, **PRODUCTION_ENV, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "example_site")])}
    result = subprocess.run(
        [sys.executable, "-c", _PRODUCTION_REQUEST % {"canary": CANARY}],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "DEBUG False False" in result.stdout
    assert "STATUS 500" in result.stdout
    body = result.stdout.split("BODY", 1)[1]
    _assert_plain_error_page(body)
    # The view's own exception made the page, and the log names it, never what was posted.
    assert "ChartLookupFailed" in result.stderr
    assert "00123456" not in result.stderr and "Quartermaine" not in result.stderr


def _assert_plain_error_page(body: str) -> None:
    assert "Something went wrong" in body
    for leak in ("Traceback", "ChartLookupFailed", "lookup failed", "patient_note", "00123456", "Quartermaine"):
        assert leak not in body, leak
    for leak in ("SECRET_KEY", "DATABASES", "settings", "META", "csrfmiddlewaretoken", "sessionid"):
        assert leak not in body, leak


@pytest.mark.urls(__name__)
@pytest.mark.django_db
def test_an_exception_under_test_settings_is_the_plain_error_page(settings):
    settings.DEBUG = False
    response = Client(raise_request_exception=False).post("/boom/", {"note": CANARY})
    assert response.status_code == 500
    _assert_plain_error_page(response.content.decode())
