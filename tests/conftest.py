import os
import tempfile
from pathlib import Path

import pytest
from django.core.cache import cache

from tests.factories import UserFactory, enrol_totp

#: Clinician pages, patients and staff, for every test package.
pytest_plugins = ["tests.clinicians"]


@pytest.fixture
def make_user(db):
    """Create a user holding ``role`` (a slug, a list of slugs, or None)."""

    def make(role=None, *, mfa=False, **kwargs):
        user = UserFactory(role=role, **kwargs)
        if mfa:
            enrol_totp(user)
        return user

    return make


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters, lockouts and remembered addresses must not leak from one test to the next."""
    from portal_social.profiles.directory import forget_directory_url

    cache.clear()
    forget_directory_url()
    yield
    cache.clear()
    forget_directory_url()


#: Seconds into a day at which each test's rate-limit clock starts: 30.5 s into a minute, 10 minutes, a
#: quarter hour and an hour (1,830.5 s), mid-day. Every window the tests use is then at least 29 s from turning.
_MID_WINDOW = 12 * 3600 + 30 * 60 + 30.5


@pytest.fixture(autouse=True)
def _rate_limit_windows_never_turn_mid_test(monkeypatch):
    """The rate limiter counts in fixed windows that turn on the minute, the hour and the day. A test counting
    up to a limit across a turn would see its count start again and fail now and then, so each test's limiter
    clock starts mid-window and moves on with real time (and with a test's time travel) from there."""
    import time as real_time

    from portal_social.core import ratelimit

    shift = real_time.time() % 86400 - _MID_WINDOW

    class _MidWindowClock:
        def __getattr__(self, name):
            return getattr(real_time, name)

        @staticmethod
        def time() -> float:
            return real_time.time() - shift

    monkeypatch.setattr(ratelimit, "time", _MidWindowClock())


@pytest.fixture
def directory_page(db):
    """The live clinician directory at /clinicians/, under the site's home page."""
    from wagtail.models import Site

    from portal_social.profiles.models import ClinicianIndexPage

    existing = ClinicianIndexPage.objects.first()
    if existing is not None:
        return existing
    home = Site.objects.get(is_default_site=True).root_page
    page = ClinicianIndexPage(title="Find a clinician", slug="clinicians", intro="Search our clinicians.")
    home.add_child(instance=page)
    page.save_revision().publish()
    return page


@pytest.fixture
def private_files(settings, tmp_path):
    """Encrypted files (attachments, shared files, filed records) go to a folder of this test's own: its path."""
    from portal_social.core import files

    settings.PORTAL_SOCIAL_PRIVATE_FILES_ROOT = str(tmp_path / "private")
    files._storage.cache_clear()
    yield Path(settings.PORTAL_SOCIAL_PRIVATE_FILES_ROOT)
    files._storage.cache_clear()


@pytest.fixture(autouse=True, scope="session")
def _flush_lifts_the_audit_guard():
    """Transactional tests end with Django's flush, which the audit log's
    database guard refuses (TRUNCATE on PostgreSQL, DELETE on SQLite); the
    guard is lifted around that flush only, for the test session only."""
    from portal_social.core import audit

    with audit.flush_lifts_database_guard():
        yield


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the group markers
def pytest_collection_modifyitems(items):
    """Browser journeys share one live server: under pytest-xdist they run in one
    worker (``--dist loadgroup``) while the other workers take the rest.

    Every committed (``transaction=True``) test restores the database it found.

    Its closing flush would otherwise leave the tests after it without the
    migrations' data (roles, Wagtail's page tree, the audit chain) or, through
    the ``post_migrate`` it sends, with rows that collide with the next
    test's restore. ``serialized_rollback=True`` avoids both.
    """
    careless = []
    for item in items:
        if item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.xdist_group("browser"))
        marker = item.get_closest_marker("django_db")
        if marker is None:
            continue
        if marker.kwargs.get("transaction") and not marker.kwargs.get("serialized_rollback"):
            careless.append(item.nodeid)
    if careless:
        raise pytest.UsageError("transaction=True tests must also set serialized_rollback=True: " + ", ".join(careless))


#: Where live servers (tests/browser) write the line naming their stack, for the summary below.
STACK_REPORT = "PORTAL_SOCIAL_STACK_REPORT"


def pytest_configure(config):
    # On the controlling process only; pytest-xdist workers inherit the variable.
    if not hasattr(config, "workerinput") and STACK_REPORT not in os.environ:
        os.environ[STACK_REPORT] = str(Path(tempfile.mkdtemp(prefix="portal-social-stack-")) / "stack.txt")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Name the stack the browser journeys' live server ran on (it runs in a worker, whose output is not shown)."""
    path = os.environ.get(STACK_REPORT)
    if hasattr(config, "workerinput") or not path or not Path(path).exists():
        return
    terminalreporter.write_sep("-", "live server")
    for line in Path(path).read_text().splitlines():
        terminalreporter.write_line(line)
