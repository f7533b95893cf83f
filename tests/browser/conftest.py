"""Fixtures for the browser journeys: a live daphne server and Debian's chromium.

The server runs the example portal (``tests/browser/live_settings.py``),
migrated and seeded with ``seed_demo``; mail goes to files. Its stack is the
run's: on the embedded run a SQLite file of its own, the in-memory channel
layer and the database task backend; on the services run (DATABASE_URL and
REDIS_URL set by ``scripts/with-services.sh``) a PostgreSQL database of its
own beside the test database, a Redis index of its own for the channel
layer, cache and RQ task queue, and an RQ worker. ``second_live_portal`` is a
second daphne process on the same database and Redis, for journeys whose
live updates must cross processes. These tests never touch the Django test
database.

Scope: the servers live for the test session (a pytest-xdist worker that runs
journeys, tests of other packages between them, builds them once). The browser
lives for the ``tests/browser`` package. Stopping Playwright there matters, because Playwright's sync
API keeps an asyncio loop *running* in the main thread while it is started,
which trips Django's async-unsafe checks. ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set
for exactly that lifetime and restored afterwards, so the rest of the suite
keeps Django's async-safety checks.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser import support

SKIP_ENV = "PORTAL_SOCIAL_SKIP_BROWSER"


def _require_chromium() -> None:
    if Path(support.CHROMIUM).exists():
        return
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"{support.CHROMIUM} is missing and {SKIP_ENV}=1")
    pytest.fail(
        f"{support.CHROMIUM} is missing: run scripts/ensure-chromium.sh (or `make browser-deps`) "
        f"to install Debian's chromium, or set {SKIP_ENV}=1 to skip the browser tests.",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def live_portal(tmp_path_factory) -> support.LivePortal:
    """The example portal, migrated and seeded, served by daphne on 127.0.0.1:<free port>."""
    _require_chromium()  # no point building a server for a browser that is not there
    work_dir = tmp_path_factory.mktemp("live_portal")
    (work_dir / "mail").mkdir()
    services = support.services()
    database_url = redis_url = None
    if services is not None:
        database_url = support.create_live_database(services[0])
        redis_url = support.live_redis_url(services[1])
    portal = support.LivePortal(
        base_url=f"http://127.0.0.1:{support.free_port()}",
        mail_dir=work_dir / "mail",
        db_path=work_dir / "portal.sqlite3",
        work_dir=work_dir,
        env=support.server_env(work_dir, database_url=database_url, redis_url=redis_url),
        database_url=database_url,
        redis_url=redis_url,
    )
    try:
        portal.manage("migrate", "--noinput")
        # daphne boots while seed_demo runs; it is not used before both are done.
        support.launch_daphne(portal)
        support.launch_task_worker(portal)
        portal.manage("seed_demo", "--password", support.DEMO_PASSWORD)
        try:
            support.wait_until_serving(portal)
        except RuntimeError as exc:
            pytest.fail(str(exc), pytrace=False)
        stack = portal.stack_line() or "live server stack: (not reported)"
        report = os.environ.get("PORTAL_SOCIAL_STACK_REPORT")
        if report:  # printed at the end of the run by tests/conftest.py
            with open(report, "a", encoding="utf-8") as out:
                out.write(f"{stack} (server {portal.base_url})\n")
        yield portal
    finally:
        support.stop_daphne(portal)
        if database_url is not None:
            support.drop_live_database(services[0], database_url)


@pytest.fixture(scope="session")
def second_live_portal(live_portal) -> support.LivePortal:
    """A second daphne process serving the same portal: same database, Redis and mail."""
    second = live_portal.sibling("daphne-2")
    support.launch_daphne(second)
    try:
        try:
            support.wait_until_serving(second)
        except RuntimeError as exc:
            pytest.fail(str(exc), pytrace=False)
        yield second
    finally:
        support.stop_daphne(second)


@pytest.fixture(scope="package")
def browser():
    """Debian's chromium driven by Playwright's sync API (never a downloaded browser)."""
    _require_chromium()
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=support.CHROMIUM, args=support.CHROMIUM_ARGS)
            try:
                yield chromium
            finally:
                chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_portal):
    """A page in a fresh browser context (no cookies), CSP enforced, console watched."""
    context = browser.new_context(base_url=live_portal.base_url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    support.watch_console(page)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture(scope="package")
def _clinician_pool(live_portal) -> list[str]:
    # Created in one batch: each manage.py start-up costs seconds.
    return support.create_staff_users(live_portal, "clinician", 2)


@pytest.fixture
def fresh_clinician(live_portal, _clinician_pool) -> str:
    """A clinician no other test has used: verified email, no MFA enrolled yet."""
    if not _clinician_pool:
        _clinician_pool.extend(support.create_staff_users(live_portal, "clinician", 2))
    return _clinician_pool.pop()
