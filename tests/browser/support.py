"""Helpers shared by the browser journeys: the live server, page checks, mail and TOTP.

Every page a journey reaches goes through :func:`check_page` (directly or via
:func:`visit` / :func:`sign_in`), which runs axe-core and fails on serious or
critical violations, and fails on any Content-Security-Policy violation the
browser reported in its console.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from tests.totp import fresh_totp_code, wait_for_next_totp_window

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_SITE = REPO_ROOT / "example_site"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

DEMO_PASSWORD = "riverside-demo-2026"

#: axe impacts that fail a journey.
BLOCKING_IMPACTS = frozenset({"serious", "critical"})

#: Environment variables of the test process that must not reach the live
#: server: it runs ``tests/browser/live_settings.py`` on a database and Redis
#: index of its own (``LIVE_DATABASE_URL``, ``LIVE_REDIS_URL``), never the
#: test database, and keeps Django's async-safety checks.
_SERVER_ENV_DROP = (
    "DATABASE_URL",
    "REDIS_URL",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "EMAIL_BACKEND",
    "PORTAL_DEMO_PASSWORD",
)


# The live server -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LivePortal:
    """The example portal served by daphne on a database of its own.

    SQLite (``db_path``) unless ``database_url`` names a PostgreSQL database,
    when ``redis_url`` gives the channel layer, cache and task queue too.
    Several servers may share one database and Redis (:meth:`sibling`).
    """

    base_url: str
    mail_dir: Path
    db_path: Path
    work_dir: Path
    env: dict[str, str]
    database_url: str | None = None
    redis_url: str | None = None
    name: str = "daphne"
    process: subprocess.Popen | None = field(default=None, repr=False)
    worker: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def on_services(self) -> bool:
        return self.database_url is not None

    def sibling(self, name: str) -> LivePortal:
        """A second server process on its own port, sharing this one's database, Redis and mail."""
        return LivePortal(
            base_url=f"http://127.0.0.1:{free_port()}",
            mail_dir=self.mail_dir,
            db_path=self.db_path,
            work_dir=self.work_dir,
            env=self.env,
            database_url=self.database_url,
            redis_url=self.redis_url,
            name=name,
        )

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/portal-social/"

    def manage(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run ``example_site/manage.py *args`` against the live server's database."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=EXAMPLE_SITE,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"manage.py {' '.join(args[:2])} exited {result.returncode}\n"
                f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
            )
        return result

    def server_log(self) -> str:
        path = self.work_dir / f"{self.name}.stderr.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stack_line(self) -> str:
        """The line the server logged naming its database, channel layer, cache and tasks."""
        for line in self.server_log().splitlines():
            if line.startswith("live server stack:"):
                return line
        return ""


def server_env(work_dir: Path, *, database_url: str | None = None, redis_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SERVER_ENV_DROP}
    env.pop("LIVE_DATABASE_URL", None)
    env.pop("LIVE_REDIS_URL", None)
    env.update(
        PORTAL_DB_PATH=str(work_dir / "portal.sqlite3"),
        EMAIL_FILE_PATH=str(work_dir / "mail"),
        SMS_FILE_PATH=str(work_dir / "sms"),
        LIVE_PRIVATE_FILES_ROOT=str(work_dir / "private"),
        DJANGO_SETTINGS_MODULE="tests.browser.live_settings",
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
        PYTHONUNBUFFERED="1",
    )
    if database_url:
        env["LIVE_DATABASE_URL"] = database_url
    if redis_url:
        env["LIVE_REDIS_URL"] = redis_url
    return env


# The services run: a PostgreSQL database and a Redis index for the live server ------------


def services() -> tuple[str, str] | None:
    """(DATABASE_URL, REDIS_URL) of the services run, or None on the embedded stack."""
    database_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if database_url and redis_url and database_url.startswith(("postgres://", "postgresql://")):
        return database_url, redis_url
    return None


def _admin_connection(database_url: str):
    import psycopg

    parts = urllib.parse.urlsplit(database_url)
    return psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=urllib.parse.unquote(parts.username or ""),
        password=urllib.parse.unquote(parts.password or "") or None,
        dbname=parts.path.lstrip("/") or "postgres",
        autocommit=True,
    )


def create_live_database(database_url: str) -> str:
    """A new, empty PostgreSQL database beside ``database_url``'s; return its URL."""
    name = f"portal_live_{uuid.uuid4().hex[:12]}"
    with _admin_connection(database_url) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(database_url)._replace(path=f"/{name}"))


def drop_live_database(database_url: str, live_url: str) -> None:
    name = urllib.parse.urlsplit(live_url).path.lstrip("/")
    with _admin_connection(database_url) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def live_redis_url(redis_url: str) -> str:
    """A Redis index of the live server's own (the test process uses the URL's index), emptied."""
    import redis

    parts = urllib.parse.urlsplit(redis_url)
    # The test process of each pytest-xdist worker uses index <worker>; live servers use 8 + <worker>.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    live = urllib.parse.urlunsplit(parts._replace(path=f"/{8 + int(worker[2:] or 0)}"))
    redis.Redis.from_url(live).flushdb()
    return live


def launch_daphne(portal: LivePortal) -> None:
    """Start daphne in the background; :func:`wait_until_serving` waits for it."""
    stdout = open(portal.work_dir / f"{portal.name}.stdout.log", "wb")  # noqa: SIM115 - handed to the child
    stderr = open(portal.work_dir / f"{portal.name}.stderr.log", "wb")  # noqa: SIM115
    env = {**portal.env, "LIVE_SERVER_ANNOUNCE": "1"}
    try:
        portal.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(portal.port),
                "example_site.asgi:application",
            ],
            cwd=EXAMPLE_SITE,
            env=env,
            stdout=stdout,
            stderr=stderr,
        )
    finally:
        stdout.close()
        stderr.close()


def launch_task_worker(portal: LivePortal) -> None:
    """On the services stack: an RQ worker running the tasks the server queues, as production does."""
    if not portal.redis_url:
        return
    log = open(portal.work_dir / "rqworker.log", "wb")  # noqa: SIM115 - handed to the child
    try:
        portal.worker = subprocess.Popen(
            [sys.executable, "manage.py", "rqworker", "--job-class", "django_tasks_rq.Job", "default"],
            cwd=EXAMPLE_SITE,
            env=portal.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    finally:
        log.close()


def wait_until_serving(portal: LivePortal, *, timeout: float = 30) -> None:
    """Wait (bounded) until daphne answers HTTP; raise with its stderr if it does not."""
    assert portal.process is not None, "launch_daphne() first"
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if portal.process.poll() is not None:
            raise RuntimeError(
                f"daphne exited with code {portal.process.returncode} before answering HTTP.\n"
                f"--- daphne stderr ---\n{portal.server_log()}"
            )
        try:
            with urllib.request.urlopen(portal.base_url + "/accounts/login/", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            last_error = exc
        time.sleep(0.2)
    raise RuntimeError(
        f"daphne did not answer {portal.base_url} within {timeout:.0f} s (last error: {last_error!r}).\n"
        f"--- daphne stderr ---\n{portal.server_log()}"
    )


def _stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def stop_daphne(portal: LivePortal) -> None:
    _stop(portal.process)
    _stop(portal.worker)


def create_staff_users(portal: LivePortal, role: str, count: int) -> list[str]:
    """Create ``count`` fresh users holding ``role`` (verified email, no MFA); return their usernames.

    One ``manage.py shell`` for the whole batch: Django + Wagtail start-up is the
    expensive part.
    """
    usernames = [f"{role.replace('_', '')}-{uuid.uuid4().hex[:8]}" for _ in range(count)]
    code = f"""
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from portal_social.core import roles

for username in {usernames!r}:
    email = username + "@example.org"
    user = get_user_model().objects.create_user(username=username, email=email, password={DEMO_PASSWORD!r})
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    roles.grant_role(user=user, role=roles.{role.upper()})
print("created", len({usernames!r}))
"""
    portal.manage("shell", "-c", code)
    return usernames


# Page checks -----------------------------------------------------------------------------

_csp_messages: weakref.WeakKeyDictionary[Page, list[str]] = weakref.WeakKeyDictionary()
_page_errors: weakref.WeakKeyDictionary[Page, list[str]] = weakref.WeakKeyDictionary()
_axe = Axe()


def watch_console(page: Page) -> None:
    """Record every Content-Security-Policy report Chromium writes to the console, and every script error
    the page did not catch (a script that fails on load leaves a page that works without it, silently)."""
    messages: list[str] = []
    _csp_messages[page] = messages
    errors: list[str] = []
    _page_errors[page] = errors

    def on_console(message) -> None:
        if "Content Security Policy" in message.text:
            messages.append(f"[{message.type}] {page.url}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))


def csp_violations(page: Page) -> list[str]:
    return list(_csp_messages.get(page, []))


def assert_no_csp_violations(page: Page) -> None:
    reported = csp_violations(page)
    assert not reported, "Content-Security-Policy violations:\n" + "\n".join(reported)


def assert_accessible(page: Page) -> None:
    """Fail on axe-core violations of impact "serious" or "critical" on the current page.

    The axe script is injected with ``page.evaluate`` (the DevTools protocol),
    which the page's CSP (``script-src 'self'``) does not govern, so the
    journeys run with CSP enforced - no ``bypass_csp``.
    """
    results = _axe.run(page)
    blocking = [v for v in results.response["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    if blocking:
        lines = [f"axe found {len(blocking)} serious/critical violation(s) on {page.url}:"]
        for violation in blocking:
            targets = [
                "; ".join(" ".join(t) if isinstance(t, list) else t for t in n["target"]) for n in violation["nodes"]
            ]
            lines.append(f"  [{violation['impact']}] {violation['id']}: {violation['help']}")
            lines.extend(f"      target: {target}" for target in targets)
        raise AssertionError("\n".join(lines))


def check_page(page: Page) -> None:
    """Every page a journey reaches: loaded, accessible, free of CSP violations and script errors, and
    named in words (markup in a title is text the reader hears, and a script there never runs)."""
    page.wait_for_load_state("load")
    assert_no_csp_violations(page)
    errors = _page_errors.get(page, [])
    assert not errors, "uncaught script errors:\n" + "\n".join(errors)
    title = page.title()
    assert "<" not in title and ">" not in title, f"markup in the title of {page.url}: {title!r}"
    assert_accessible(page)


def visit(page: Page, path: str, *, status: int = 200) -> None:
    """Open ``path`` (following redirects), expect ``status`` and check the page."""
    response = page.goto(path)
    assert response is not None, f"no response for {path}"
    assert response.status == status, f"{path} answered {response.status} (final URL {page.url})"
    check_page(page)


def path_of(page: Page) -> str:
    return urllib.parse.urlsplit(page.url).path


def sign_in(page: Page, login: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through allauth's form and check the page that follows."""
    visit(page, "/accounts/login/")
    form = page.locator("main form[action='/accounts/login/']")
    form.locator("input[name=login]").fill(login)
    form.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    check_page(page)


ENROL_PATH = "/accounts/2fa/totp/activate/"
REAUTHENTICATE_PATH = "/accounts/reauthenticate/"
AUTHENTICATE_PATH = "/accounts/2fa/authenticate/"


def confirm_password_for_enrolment(page: Page, password: str = DEMO_PASSWORD) -> None:
    """allauth's "Confirm Access" step in front of the enrolment page."""
    assert path_of(page) == REAUTHENTICATE_PATH, f"expected the password confirmation, got {page.url}"
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query).get("next") == [ENROL_PATH]
    form = page.locator("main form[action='/accounts/reauthenticate/']")
    form.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        form.get_by_role("button", name="Confirm").click()
    check_page(page)
    assert path_of(page) == ENROL_PATH


def enrol_totp(page: Page) -> str:
    """On the enrolment page: read the secret shown, submit the current code; return the secret."""
    assert path_of(page) == ENROL_PATH
    secret = page.locator("#authenticator_secret").input_value()
    assert len(secret) >= 16, f"unexpected secret {secret!r}"
    code, _ = fresh_totp_code(secret)
    form = page.locator(f"main form[action='{ENROL_PATH}']")
    form.locator("input[name=code]").fill(code)
    with page.expect_navigation():
        form.get_by_role("button", name="Activate").click()
    check_page(page)
    assert path_of(page) != ENROL_PATH, "the code was refused: " + page.locator("main").inner_text()
    return secret


def sign_in_and_enrol(page: Page, username: str) -> str:
    sign_in(page, username)
    confirm_password_for_enrolment(page)
    return enrol_totp(page)


def submit_authenticator_code(page: Page, secret: str) -> None:
    """On allauth's second-step page: enter the current code.

    allauth refuses a code already used in its 30 s window; if that happens,
    wait (at most one window) for the next code and try once more.
    """
    for attempt in range(2):
        assert path_of(page) == AUTHENTICATE_PATH
        code, counter = fresh_totp_code(secret)
        form = page.locator(f"main form[action='{AUTHENTICATE_PATH}']").first
        form.locator("input[name=code]").fill(code)
        with page.expect_navigation():
            form.get_by_role("button", name="Sign In").click()
        check_page(page)
        if path_of(page) != AUTHENTICATE_PATH:
            return
        if attempt == 0:
            wait_for_next_totp_window(counter)
    raise AssertionError("the authenticator code was refused twice: " + page.locator("main").inner_text())


def sign_out(page: Page) -> None:
    with page.expect_navigation():
        page.locator("header").get_by_role("button", name="Sign out").click()
    check_page(page)


# Mail -----------------------------------------------------------------------------------


def read_mail(mail_dir: Path, to: str) -> list[email.message.EmailMessage]:
    """Messages Django's file backend wrote to ``mail_dir`` for ``to``, oldest first."""
    if not mail_dir.exists():
        return []
    found = []
    for path in sorted(mail_dir.glob("*.log"), key=lambda p: p.stat().st_mtime_ns):
        # The file backend separates the messages of one connection with a line of 79 dashes.
        for chunk in re.split(r"^-{79}$", path.read_text(), flags=re.M):
            chunk = chunk.strip("\n")
            if not chunk:
                continue
            message = email.message_from_string(chunk, policy=email.policy.default)
            if to in (message.get("To") or ""):
                found.append(message)
    return found


def wait_for_mail(mail_dir: Path, to: str, *, timeout: float = 10) -> email.message.EmailMessage:
    """The newest message for ``to`` (bounded wait: sending may be deferred to commit)."""
    deadline = time.monotonic() + timeout
    while True:
        messages = read_mail(mail_dir, to)
        if messages:
            return messages[-1]
        if time.monotonic() > deadline:
            raise AssertionError(f"no email for {to} in {mail_dir} after {timeout:.0f} s")
        time.sleep(0.2)


def plain_text(message: email.message.EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, "the message has no text/plain part"
    return part.get_content()


# Live updates and the moderation queue -----------------------------------------------------

#: How long a journey waits for a live update to reach a browser.
LIVE_TIMEOUT_MS = 8_000
MODERATION_QUEUE = "/cms/portal-social/moderation/"


def sign_in_with_code(page: Page, username: str, secret: str) -> None:
    """Sign in a staff member whose authenticator (``secret``) is enrolled: password, then a code."""
    sign_in(page, username)
    submit_authenticator_code(page, secret)


def open_moderation_queue(page: Page, query: str = "") -> None:
    response = page.goto(MODERATION_QUEUE + query)
    assert response is not None and response.status == 200, f"the queue answered {response and response.status}"
    page.wait_for_load_state("load")
    assert_no_csp_violations(page)


class SocketWatch:
    """What a page's websocket did and its console said: frames as JSON, and a log for failure messages."""

    def __init__(self, page) -> None:
        self.page = page
        self.frames: list[dict] = []
        self.log: list[str] = []
        page.on("console", lambda message: self.log.append(f"console [{message.type}] {message.text}"))
        page.on("pageerror", lambda error: self.log.append(f"page error {error}"))
        page.on("websocket", self._opened)

    def _opened(self, socket) -> None:
        self.log.append(f"socket opened {socket.url}")
        socket.on("framesent", lambda payload: self.log.append(f"sent {payload}"))
        socket.on("framereceived", self._received)
        socket.on("socketerror", lambda error: self.log.append(f"socket error {error}"))
        socket.on("close", lambda _socket: self.log.append("socket closed"))

    def _received(self, payload) -> None:
        self.log.append(f"received {payload}")
        try:
            frame = json.loads(payload)
        except (TypeError, ValueError):
            return
        if isinstance(frame, dict):
            self.frames.append(frame)

    def frame(self, wanted) -> dict:
        """The first frame received so far, or within ``LIVE_TIMEOUT_MS``, that ``wanted`` accepts."""
        for _tick in range(LIVE_TIMEOUT_MS // 50):
            for frame in self.frames:
                if wanted(frame):
                    return frame
            self.page.wait_for_timeout(50)  # lets Playwright deliver the page's events
        pytest.fail("the expected websocket frame did not arrive:\n" + "\n".join(self.log), pytrace=False)

    def report(self) -> str:
        return "\n".join(self.log)


#: A shell snippet for ``live_portal.manage("shell", "-c", ...)`` scripts that put it first: ``person(prefix,
#: role, first_name, last_name, joined_days_ago=0)`` makes a verified portal account named ``prefix-<token>``
#: with the journeys' password and ``role``. The script is formatted with ``token`` and ``password``.
PERSON = """
import datetime
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.utils import timezone
from portal_social.core import roles

User = get_user_model()
token = %(token)r


def person(prefix, role, first_name, last_name, joined_days_ago=0):
    username = prefix + "-" + token
    user = User.objects.create_user(
        username=username, email=username + "@example.org", password=%(password)r,
        first_name=first_name, last_name=last_name,
    )
    if joined_days_ago:  # a long-standing account: nothing it writes is held as new
        user.date_joined = timezone.now() - datetime.timedelta(days=joined_days_ago)
        user.save(update_fields=["date_joined"])
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    roles.grant_role(user=user, role=role)
    return user
"""
