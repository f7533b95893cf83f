"""System checks tell a misconfigured host what to set."""

import pytest
from django.core import checks

from portal_social import checks as portal_checks
from portal_social.adapter import PortalAdapter

GOOD_KEY = "dGhpcy1pcy1hLXRlc3Qtb25seS1rZXktMzItYnl0ZXM="


def _ids(messages):
    return {m.id for m in messages}


def test_example_settings_pass_every_check(settings):
    settings.DEBUG = True  # as in example_site.settings.dev
    problems = [m for m in checks.run_checks() if m.level >= checks.WARNING and m.id.startswith("portal_social")]
    assert problems == []


class _Overridden:
    """Settings with some names replaced, without reloading the app registry."""

    def __init__(self, real, **overrides):
        self._real, self._overrides = real, overrides

    def __getattr__(self, name):
        if name in self._overrides:
            return self._overrides[name]
        return getattr(self._real, name)


def test_missing_keys_outside_debug_is_an_error_with_a_hint(settings):
    settings.DEBUG = False
    settings.PORTAL_SOCIAL_ENCRYPTION_KEYS = []
    [error] = portal_checks.check_encryption_keys()
    assert error.id == "portal_social.E001"
    assert error.level == checks.ERROR
    assert "Fernet.generate_key" in error.hint


def test_missing_keys_in_debug_is_only_a_warning(settings):
    settings.DEBUG = True
    settings.PORTAL_SOCIAL_ENCRYPTION_KEYS = []
    [warning] = portal_checks.check_encryption_keys()
    assert warning.id == "portal_social.W001"


@pytest.mark.parametrize("keys", [["not-a-key"], [GOOD_KEY, "short"], [GOOD_KEY, GOOD_KEY], "not-a-key"])
def test_malformed_keys_are_an_error_that_never_prints_the_key(settings, keys):
    settings.PORTAL_SOCIAL_ENCRYPTION_KEYS = keys
    [error] = portal_checks.check_encryption_keys()
    assert error.id == "portal_social.E001"
    assert "not-a-key" not in error.msg and GOOD_KEY not in error.msg


def test_comma_separated_keys_from_environment_are_accepted(settings):
    other = "b3RoZXIta2V5LW9ubHktZm9yLXRoZS10ZXN0LXN1aXQ="
    settings.PORTAL_SOCIAL_ENCRYPTION_KEYS = f"{GOOD_KEY}, {other}"
    assert portal_checks.check_encryption_keys() == []


def test_missing_channel_layer_is_an_error(settings):
    settings.CHANNEL_LAYERS = {}
    [error] = portal_checks.check_channel_layer()
    assert error.id == "portal_social.E002"
    assert "CHANNEL_LAYERS" in error.hint


def test_in_memory_layer_in_production_is_a_warning(settings):
    settings.DEBUG = False
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    assert _ids(portal_checks.check_channel_layer()) == {"portal_social.W002"}


@pytest.mark.parametrize(
    ("app", "code"),
    [("allauth", "E003"), ("allauth.account", "E003"), ("allauth.mfa", "E005"), ("guardian", "E004")],
)
def test_missing_required_app_is_named(settings, monkeypatch, app, code):
    apps = [a for a in settings.INSTALLED_APPS if a != app]
    monkeypatch.setattr(portal_checks, "settings", _Overridden(settings, INSTALLED_APPS=apps))
    errors = portal_checks.check_installed_apps()
    assert f"portal_social.{code}" in _ids(errors)
    assert any(app in e.msg for e in errors)


def test_mfa_without_second_factor_types_is_an_error(settings):
    settings.MFA_SUPPORTED_TYPES = ["recovery_codes"]
    assert "portal_social.E005" in _ids(portal_checks.check_mfa())


def test_missing_mfa_middleware_is_an_error(settings):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != portal_checks.MFA_MIDDLEWARE]
    assert "portal_social.E006" in _ids(portal_checks.check_mfa())


def test_mfa_middleware_before_authentication_is_an_error(settings):
    middleware = [m for m in settings.MIDDLEWARE if m != portal_checks.MFA_MIDDLEWARE]
    middleware.insert(0, portal_checks.MFA_MIDDLEWARE)
    settings.MIDDLEWARE = middleware
    assert "portal_social.E008" in _ids(portal_checks.check_mfa())


def test_missing_guardian_backend_is_an_error(settings):
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
    assert _ids(portal_checks.check_guardian_backend()) == {"portal_social.E004"}


def test_bad_adapter_path_is_an_error(settings):
    settings.PORTAL_SOCIAL_ADAPTER = "nowhere.Adapter"
    assert "portal_social.E010" in _ids(portal_checks.check_adapter_and_timeouts())


def test_adapter_that_is_not_a_portal_adapter_is_an_error(settings):
    settings.PORTAL_SOCIAL_ADAPTER = "django.views.View"
    assert "portal_social.E010" in _ids(portal_checks.check_adapter_and_timeouts())


class _LegacyNotifyAdapter(PortalAdapter):
    def notify(self, user, *, subject, body, url=""):  # the old free-text hook
        raise AssertionError("never called")


def test_an_adapter_that_still_defines_notify_is_warned_about(settings):
    assert "portal_social.W020" not in _ids(portal_checks.check_adapter_and_timeouts())
    settings.PORTAL_SOCIAL_ADAPTER = "tests.core.test_checks._LegacyNotifyAdapter"
    assert "portal_social.W020" in _ids(portal_checks.check_adapter_and_timeouts())


@pytest.mark.parametrize(
    ("idle", "absolute", "code"),
    [("soon", 10, "portal_social.E011"), (-1, 10, "portal_social.E011"), (7200, 3600, "portal_social.W004")],
)
def test_bad_session_timeouts_are_reported(settings, idle, absolute, code):
    settings.PORTAL_SOCIAL_SESSION_IDLE_TIMEOUT = idle
    settings.PORTAL_SOCIAL_SESSION_ABSOLUTE_TIMEOUT = absolute
    assert code in _ids(portal_checks.check_adapter_and_timeouts())


def test_unknown_mfa_role_is_an_error(settings):
    settings.PORTAL_SOCIAL_MFA_REQUIRED_ROLES = ["clinician", "surgeon"]
    assert "portal_social.E012" in _ids(portal_checks.check_adapter_and_timeouts())


def test_wagtail_admin_with_its_own_login_is_a_warning(settings):
    del settings.WAGTAILADMIN_LOGIN_URL
    assert _ids(portal_checks.check_single_sign_in()) == {"portal_social.W005"}


@pytest.mark.parametrize("value", [0, -5, "lots"])
def test_bad_text_limit_is_an_error(settings, value):
    settings.PORTAL_SOCIAL_TEXT_MAX_LENGTH = value
    assert _ids(portal_checks.check_text_settings()) == {"portal_social.E013"}


def test_bad_mrn_pattern_is_an_error_at_start_up(settings):
    settings.PORTAL_SOCIAL_PHI_MRN_PATTERNS = [r"RH-\d{8}", r"(unclosed"]
    [error] = portal_checks.check_phi_settings()
    assert error.id == "portal_social.E014"
    assert "pattern 2" in error.msg


def test_gravatar_in_the_admin_is_a_warning(settings):
    settings.WAGTAIL_GRAVATAR_PROVIDER_URL = "//www.gravatar.com/avatar"
    assert _ids(portal_checks.check_single_sign_in()) == {"portal_social.W006"}


@pytest.mark.parametrize(
    "backends",
    [
        ["django.contrib.auth.backends.ModelBackend", "guardian.backends.ObjectPermissionBackend"],
        [
            "portal_social.core.accounts.FrontDoorBackend",
            "allauth.account.auth_backends.AuthenticationBackend",
            "guardian.backends.ObjectPermissionBackend",
        ],
        ["guardian.backends.ObjectPermissionBackend"],
    ],
)
def test_a_password_backend_beside_the_front_door_is_an_error(settings, backends):
    settings.AUTHENTICATION_BACKENDS = backends
    ids = _ids(portal_checks.check_front_door())
    assert "portal_social.E020" in ids


def test_the_front_door_needs_the_portal_account_adapter(settings):
    settings.ACCOUNT_ADAPTER = "allauth.account.adapter.DefaultAccountAdapter"
    assert "portal_social.E021" in _ids(portal_checks.check_front_door())


def test_a_session_cookie_that_outlives_the_browser_is_a_warning(settings):
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = False
    [warning] = portal_checks.check_front_door()
    assert warning.id == "portal_social.W010"
    assert "SESSION_EXPIRE_AT_BROWSER_CLOSE" in warning.hint


def test_the_example_front_door_passes():
    assert portal_checks.check_front_door() == []


def test_template_debug_logging_is_a_warning():
    import logging

    template_logger = logging.getLogger("django.template")
    previous = template_logger.level
    template_logger.setLevel(logging.DEBUG)
    try:
        assert _ids(portal_checks.check_template_debug_logging()) == {"portal_social.W011"}
    finally:
        template_logger.setLevel(previous)
    assert portal_checks.check_template_debug_logging() == []


def _database(**entry):
    return {"ENGINE": "django.db.backends.postgresql", "NAME": "portal", **entry}


def _database_check(asgi="example_site.asgi.application", **databases):
    """``check_database_connections`` with these DATABASES (overriding DATABASES itself would reset connections)."""
    from unittest import mock

    from django.conf import settings as django_settings

    overridden = _Overridden(django_settings, DATABASES=databases, ASGI_APPLICATION=asgi)
    with mock.patch.object(portal_checks, "settings", overridden):
        return portal_checks.check_database_connections()


@pytest.mark.parametrize("age", [60, None])
def test_persistent_connections_under_asgi_are_a_warning(age):
    [warning] = _database_check(default=_database(CONN_MAX_AGE=age))
    assert warning.id == "portal_social.W012"
    assert warning.level == checks.WARNING
    assert "CONN_MAX_AGE = 0" in warning.hint and "max_connections" in warning.hint


def test_connections_closed_after_each_request_or_pooled_pass_under_asgi():
    from portal_social.core.database import postgres_database

    pooled = postgres_database("postgres://u:p@db.example.org:5432/portal", pool_max_size=8)
    assert pooled["CONN_MAX_AGE"] == 0
    assert pooled["OPTIONS"]["pool"] == {"min_size": 2, "max_size": 8, "timeout": 10}
    per_request = postgres_database("postgres://u:p@db.example.org:5432/portal")
    assert per_request["CONN_MAX_AGE"] == 0 and "pool" not in per_request.get("OPTIONS", {})
    assert _database_check(default=_database(CONN_MAX_AGE=0), pooled=pooled, per_request=per_request) == []


def test_persistent_connections_without_asgi_pass():
    assert _database_check(asgi=None, default=_database(CONN_MAX_AGE=60)) == []


def test_sqlite_with_deferred_transactions_is_a_warning():
    from portal_social.core.database import sqlite_database

    plain = {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"}
    assert _ids(_database_check(default=plain)) == {"portal_social.W013"}
    assert _database_check(default=sqlite_database("db.sqlite3")) == []


def test_the_example_and_test_settings_use_the_recommended_sqlite_options(settings):
    from portal_social.core.database import SQLITE_OPTIONS

    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        pytest.skip("the suite runs on PostgreSQL")
    options = settings.DATABASES["default"]["OPTIONS"]
    assert {key: options.get(key) for key in SQLITE_OPTIONS} == SQLITE_OPTIONS
