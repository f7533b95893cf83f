"""Load on the example portal served by daphne: throughput, latency, errors, and a burst of simultaneous reviews.

Run from the repository root::

    .venv/bin/python bench/load.py                                  # SQLite, one daphne
    .venv/bin/python bench/load.py --db-options legacy              # SQLite with deferred transactions, no WAL
    scripts/with-services.sh .venv/bin/python bench/load.py --stack postgres --workers 2
    scripts/with-services.sh .venv/bin/python bench/load.py --stack postgres --workers 2 --db-options legacy
    scripts/with-services.sh .venv/bin/python bench/load.py --stack postgres --workers 2 --pool 8

It builds a throwaway portal of its own: a temporary directory with a
settings module, ``migrate`` and ``seed_demo`` into a new database (a SQLite
file, or a PostgreSQL database created next to the one ``DATABASE_URL``
names, dropped at the end), and ``--burst`` extra patients on clinician1's
care team, each already signed in (sessions made with the ORM, so the bench
measures the portal, not the password hash). ``--stack sqlite`` runs the
example site's dev settings (``DEBUG`` off) with one daphne; ``--stack
postgres`` runs its production settings (Redis cache, sessions and channel
layer) with ``--workers`` daphne processes, the client spreading requests
over them as a load balancer would.

``--db-options legacy`` runs the old database settings:
SQLite without ``OPTIONS`` (deferred transactions, rollback journal),
PostgreSQL with ``CONN_MAX_AGE=60``, and neither the rate-limit refund nor the
"database unavailable" middleware.

For each concurrency level (``--levels``, default 1, 10, 50) it runs
``--seconds`` of closed-loop load (each virtual user sends its next request
when the last one is answered) for anonymous visitors (``/``,
``/clinicians/``) and for signed-in patients (the same pages and a clinician's
profile), and prints requests/s, p50/p95/p99 in milliseconds and the errors:
5xx answers, and requests that failed (refused connection, reset, timeout).
On PostgreSQL it also prints the most connections the portal held open.
Then the write burst: every burst patient opens the review form, and all of
them send it at the same instant; it prints how many were saved (302),
refused with a 4xx, answered 5xx or failed, and checks the database: one
review per saved answer, each with all its ratings.

The client is asyncio with one HTTP/1.1 connection per request (no
dependencies beyond the standard library).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "example_site"
BIN = Path(sys.executable).parent
DEV_KEY = "dGhpcy1pcy1hLWRldi1vbmx5LWtleS0zMi1ieXRlcyE="
NEW_MIDDLEWARE = (
    "portal_social.core.middleware.RateLimitRefundMiddleware",
    "portal_social.core.middleware.DatabaseUnavailableMiddleware",
)

SETTINGS_TEMPLATE = '''\
"""Settings of one bench run (written by bench/load.py)."""
import os

STACK = {stack!r}
LEGACY = {legacy!r}

if STACK == "postgres":
    from example_site.settings.production import *  # noqa: F401,F403

    if LEGACY:
        import dj_database_url

        DATABASES = {{
            "default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60, conn_health_checks=True)
        }}
else:
    from example_site.settings.dev import *  # noqa: F401,F403

    DEBUG = False
    ALLOWED_HOSTS = ["127.0.0.1"]
    DATABASES["default"]["NAME"] = {sqlite_path!r}
    if LEGACY:
        DATABASES["default"].pop("OPTIONS", None)

if LEGACY:
    MIDDLEWARE = [m for m in MIDDLEWARE if m not in {new_middleware!r}]

# Every bench client comes from 127.0.0.1: the per-address backstop would
# count the whole bench as one person.
PORTAL_SOCIAL_RATE_LIMITS = {{"review": "5/d,1000000/d/ip"}}
LOGGING = {{
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {{"console": {{"class": "logging.StreamHandler"}}}},
    "loggers": {{
        "django": {{"handlers": ["console"], "level": "ERROR"}},
        "portal_social": {{"handlers": ["console"], "level": "WARNING"}},
    }},
}}
'''


# --------------------------------------------------------------------------- inside the portal (ORM)


def _setup_patients(count: int, prefix: str) -> dict:
    """Runs under the bench settings: ``count`` eligible, signed-in patients of clinician1."""
    import datetime

    import django

    django.setup()
    from allauth.account.models import EmailAddress
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils import timezone

    from portal_social.conf import app_settings
    from portal_social.core import roles
    from portal_social.core.models import CareTeamLink
    from portal_social.profiles.models import ClinicianPage

    User = get_user_model()
    clinician_user = User.objects.get(username="clinician1")
    page = ClinicianPage.objects.live().get(user=clinician_user)
    others = [other.url for other in ClinicianPage.objects.live().exclude(pk=page.pk).order_by("pk")[:3]]
    joined = timezone.now() - datetime.timedelta(days=400)
    sessions = []
    for n in range(count):
        user, created = User.objects.get_or_create(
            username=f"{prefix}{n:04d}",
            defaults={"email": f"{prefix}{n:04d}@example.org", "first_name": "Bench", "date_joined": joined},
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
            roles.grant_role(user=user, role=roles.PATIENT)
            CareTeamLink.objects.get_or_create(patient=user, clinician_user=clinician_user)
        client = Client()
        client.force_login(user, backend="portal_social.core.accounts.FrontDoorBackend")
        sessions.append({"user": user.username, "session": client.cookies[settings.SESSION_COOKIE_NAME].value})
    return {
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "csrf_cookie": settings.CSRF_COOKIE_NAME,
        "profile_url": page.url,
        "review_url": page.url + page.reverse_subpage("review"),
        "other_profiles": others,
        "questions": [key for key, _label in app_settings.REVIEW_QUESTIONS],
        "sessions": sessions,
    }


def _db_report(prefix: str, clinician_username: str = "clinician1") -> dict:
    """Runs under the bench settings: reviews by the bench patients, and whether any lacks its ratings."""
    import django

    django.setup()
    from django.db.models import Count

    from portal_social.conf import app_settings
    from portal_social.profiles.models import Review

    reviews = Review.objects.filter(author__username__startswith=prefix).annotate(n=Count("ratings"))
    questions = len(app_settings.REVIEW_QUESTIONS)
    per_author = Review.objects.filter(author__username__startswith=prefix).values("author").annotate(n=Count("pk"))
    authors = sorted(set(reviews.values_list("author__username", flat=True)))
    from portal_social.core.models import AuditEvent

    ids = [str(pk) for pk in reviews.values_list("pk", flat=True)]
    audited = {str(t) for t in AuditEvent.objects.filter(action="review.submit").values_list("target_id", flat=True)}
    return {
        "reviews": reviews.count(),
        "ids": ids,
        "unaudited": sum(1 for pk in ids if pk not in audited and pk.replace("-", "") not in audited),
        "partial": reviews.exclude(n=questions).count(),
        "authors": authors,
        "authors_with_more_than_one": sum(1 for row in per_author if row["n"] > 1),
    }


def internal_main(argv: list[str]) -> None:
    """``load.py _setup COUNT PREFIX`` / ``load.py _report PREFIX``: print JSON for the parent process."""
    if argv[0] == "_setup":
        result = _setup_patients(int(argv[1]), argv[2])
    else:
        result = _db_report(argv[1])
    print("BENCH-JSON " + json.dumps(result))


# --------------------------------------------------------------------------- the portal's processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Portal:
    """A throwaway portal: settings, database and daphne processes."""

    stack: str
    legacy: bool
    workers: int
    pool: int | None = None
    work: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="portal-bench-")))
    database_url: str | None = None
    pg_admin_url: str | None = None
    pg_name: str | None = None
    ports: list[int] = field(default_factory=list)
    procs: list[subprocess.Popen] = field(default_factory=list)

    def __post_init__(self):
        sqlite_path = str(self.work / "db.sqlite3")
        if self.stack == "postgres":
            if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
                sys.exit("--stack postgres needs DATABASE_URL and REDIS_URL: run it under scripts/with-services.sh")
            self.pg_admin_url = os.environ["DATABASE_URL"]
            self.pg_name = f"portal_bench_{os.getpid()}"
            parts = urlsplit(self.pg_admin_url)
            self.database_url = urlunsplit(parts._replace(path="/" + self.pg_name))
            self._pg(f'CREATE DATABASE "{self.pg_name}"')
        (self.work / "bench_settings.py").write_text(
            SETTINGS_TEMPLATE.format(
                stack=self.stack, legacy=self.legacy, sqlite_path=sqlite_path, new_middleware=NEW_MIDDLEWARE
            )
        )

    def _pg(self, sql: str, url: str | None = None):
        import psycopg

        with psycopg.connect(url or self.pg_admin_url, autocommit=True) as conn:
            cursor = conn.execute(sql)
            return cursor.fetchall() if cursor.description else None

    def connections_open(self) -> int:
        if self.stack != "postgres":
            return 0
        [(count,)] = self._pg(f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{self.pg_name}'")
        return count - 1  # not this one

    @property
    def env(self) -> dict:
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="bench_settings",
            PYTHONPATH=os.pathsep.join([str(self.work), str(SITE), str(ROOT)]),
            PYTHONUNBUFFERED="1",
        )
        if self.stack == "postgres":
            env.update(
                DATABASE_URL=self.database_url,
                SECRET_KEY="bench-only-" + "x" * 50,
                ALLOWED_HOSTS="127.0.0.1",
                PORTAL_SOCIAL_ENCRYPTION_KEYS=DEV_KEY,
            )
            # 0: a connection per request, unless --pool asks for one.
            env["PORTAL_DB_POOL_MAX_SIZE"] = str(self.pool or 0)
        return env

    def manage(self, *args: str, quiet: bool = True) -> str:
        result = subprocess.run(
            [str(BIN / "python"), "manage.py", *args], cwd=SITE, env=self.env, capture_output=True, text=True
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def internal(self, *args: str) -> dict:
        result = subprocess.run(
            [str(BIN / "python"), str(Path(__file__).resolve()), *args],
            cwd=SITE,
            env=self.env,
            capture_output=True,
            text=True,
        )
        for line in result.stdout.splitlines():
            if line.startswith("BENCH-JSON "):
                return json.loads(line.removeprefix("BENCH-JSON "))
        raise RuntimeError(f"{args[0]} failed:\n{result.stdout}\n{result.stderr}")

    def build(self, patients: int, prefix: str) -> dict:
        self.manage("migrate", "--noinput", "--verbosity", "0")
        self.manage("seed_demo")
        return self.internal("_setup", str(patients), prefix)

    def start(self) -> None:
        if not self.ports:
            self.ports = [free_port() for _ in range(self.workers)]
        log = open(self.work / "daphne.log", "ab")  # noqa: SIM115 (kept open for the children)
        self.procs = [
            subprocess.Popen(
                [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "example_site.asgi:application"],
                cwd=SITE,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            for port in self.ports
        ]
        deadline = time.time() + 60
        for port in self.ports:
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1):
                        break
                except OSError:
                    if time.time() > deadline:
                        raise RuntimeError(f"daphne did not start; see {self.work / 'daphne.log'}") from None
                    time.sleep(0.2)

    def kill(self, sig=signal.SIGTERM) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(sig)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs = []

    def close(self) -> None:
        self.kill()
        if self.pg_name:
            with contextlib.suppress(Exception):
                self._pg(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')
        shutil.rmtree(self.work, ignore_errors=True)


# --------------------------------------------------------------------------- the client


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    seconds: float

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def cookies(self) -> dict[str, str]:
        jar = {}
        for k, v in self.headers:
            if k.lower() == "set-cookie":
                pair = v.split(";", 1)[0]
                name, _, value = pair.partition("=")
                jar[name.strip()] = value.strip().strip('"')
        return jar


def _dechunk(body: bytes) -> bytes:
    out, rest = bytearray(), body
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        rest = rest[size + 2 :]
    return bytes(out)


class Client:
    """One browser: a cookie jar and the portal's addresses; HTTP/1.1, a connection per request."""

    def __init__(self, ports: list[int], *, https: bool, cookies: dict | None = None, timeout: float = 30):
        self.ports, self.https, self.cookies, self.timeout = ports, https, dict(cookies or {}), timeout
        self._next = 0

    def _port(self) -> int:
        self._next += 1
        return self.ports[self._next % len(self.ports)]

    async def request(self, method: str, path: str, form: dict | None = None) -> Answer:
        from urllib.parse import urlencode

        port = self._port()
        started = time.perf_counter()
        body = urlencode(form or {}, doseq=True).encode() if method == "POST" else b""
        lines = [
            f"{method} {path} HTTP/1.1",
            f"Host: 127.0.0.1:{port}",
            "Connection: close",
            "Accept: text/html",
            "User-Agent: portal-bench",
        ]
        if self.https:
            # Production settings redirect to HTTPS; the bench plays the TLS-terminating balancer.
            lines.append("X-Forwarded-Proto: https")
        if method == "POST":
            scheme = "https" if self.https else "http"
            lines += [
                "Content-Type: application/x-www-form-urlencoded",
                f"Content-Length: {len(body)}",
                f"Origin: {scheme}://127.0.0.1:{port}",
                f"Referer: {scheme}://127.0.0.1:{port}{path}",
            ]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), self.timeout)
        try:
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
            await writer.drain()
            raw = await asyncio.wait_for(reader.read(), self.timeout)
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
        head, _, payload = raw.partition(b"\r\n\r\n")
        if not head:
            raise ConnectionError("empty answer")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = [tuple(part.strip() for part in line.split(":", 1)) for line in header_lines if ":" in line]
        answer = Answer(int(status_line.split()[1]), headers, payload, time.perf_counter() - started)
        if (answer.header("transfer-encoding") or "").lower() == "chunked":
            answer.body = _dechunk(payload)
        self.cookies.update(answer.cookies())
        return answer


# --------------------------------------------------------------------------- load


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)

    def add(self, answer: Answer | None, failure: str | None = None):
        if answer is None:
            self.failures[failure] = self.failures.get(failure, 0) + 1
            return
        self.latencies.append(answer.seconds)
        self.statuses[answer.status] = self.statuses.get(answer.status, 0) + 1

    @property
    def errors(self) -> int:
        return sum(n for s, n in self.statuses.items() if s >= 500) + sum(self.failures.values())


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000


async def _run_level(
    clients: list[Client], paths: list[str], seconds: float, portal: Portal
) -> tuple[Tally, float, int]:
    tally, stop_at = Tally(), time.perf_counter() + seconds
    peak = 0

    async def user(n: int, client: Client):
        i = n
        while time.perf_counter() < stop_at:
            path = paths[i % len(paths)]
            i += 1
            try:
                answer = await client.request("GET", path)
            except (TimeoutError, OSError, ConnectionError, ValueError) as exc:
                tally.add(None, type(exc).__name__)
                await asyncio.sleep(0.05)
                continue
            tally.add(answer)

    async def watch():
        nonlocal peak
        while time.perf_counter() < stop_at:
            with contextlib.suppress(Exception):
                peak = max(peak, await asyncio.to_thread(portal.connections_open))
            await asyncio.sleep(0.5)

    started = time.perf_counter()
    await asyncio.gather(*(user(n, c) for n, c in enumerate(clients)), watch())
    elapsed = time.perf_counter() - started
    return tally, elapsed, peak


def _print_row(label: str, level: int, tally: Tally, elapsed: float, peak: int, stack: str):
    done = len(tally.latencies)
    fivexx = sum(n for s, n in tally.statuses.items() if s >= 500)
    failed = sum(tally.failures.values())
    other = {s: n for s, n in sorted(tally.statuses.items()) if s != 200}
    extra = f"  db-conns<= {peak:3d}" if stack == "postgres" else ""
    print(
        f"{label:10s} {level:4d} users  {done / elapsed:7.1f} req/s  p50 {_pct(tally.latencies, 0.5):7.1f}  "
        f"p95 {_pct(tally.latencies, 0.95):7.1f}  p99 {_pct(tally.latencies, 0.99):7.1f} ms  "
        f"5xx {fivexx:4d}  failed {failed:4d}{extra}"
        + (f"  other {other}" if other else "")
        + (f"  {tally.failures}" if tally.failures else ""),
        flush=True,
    )


# --------------------------------------------------------------------------- the write burst

_CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


async def prepare_review(client: Client, review_url: str, attempts: int = 5) -> str | None:
    """Open the review form; return its CSRF token, or None when the form is not offered (a 4xx).

    Raises ``ConnectionError`` when the portal does not answer after ``attempts`` tries.
    """
    for _ in range(attempts):
        try:
            answer = await client.request("GET", review_url)
        except (TimeoutError, OSError, ConnectionError):
            await asyncio.sleep(0.5)
            continue
        if answer.status >= 500:
            await asyncio.sleep(0.5)
            continue
        match = _CSRF_INPUT.search(answer.body)
        if answer.status == 200 and match:
            return match.group(1).decode()
        return None
    raise ConnectionError("the portal did not answer")


def review_form(token: str, questions: list[str], n: int) -> dict:
    form = {"csrfmiddlewaretoken": token, "comment": "Clear explanations and a kind manner." if n % 2 else ""}
    form.update({f"rating_{key}": str(1 + n % 5) for key in questions})
    return form


def classify(answer: Answer | None) -> str:
    if answer is None:
        return "failed"
    if answer.status in (301, 302, 303) and "submitted=" in (answer.header("location") or ""):
        return "saved"
    if 400 <= answer.status < 500:
        return "refused-4xx"
    if answer.status >= 500:
        return f"{answer.status}"
    return f"other-{answer.status}"


async def burst(portal: Portal, info: dict, https: bool) -> dict:
    clients = [
        Client(portal.ports, https=https, cookies={info["session_cookie"]: s["session"]}) for s in info["sessions"]
    ]
    semaphore = asyncio.Semaphore(10)

    async def prepare(client):
        async with semaphore:
            try:
                return await prepare_review(client, info["review_url"])
            except ConnectionError:
                return None

    tokens = await asyncio.gather(*(prepare(c) for c in clients))
    go = asyncio.Event()
    outcomes: dict[str, int] = {}

    async def send(n: int, client: Client, token: str | None):
        if token is None:
            outcomes["form-not-offered"] = outcomes.get("form-not-offered", 0) + 1
            return
        await go.wait()
        try:
            answer = await client.request("POST", info["review_url"], review_form(token, info["questions"], n))
        except (TimeoutError, OSError, ConnectionError) as exc:
            answer = None
            outcomes[type(exc).__name__] = outcomes.get(type(exc).__name__, 0) + 1
        kind = classify(answer)
        outcomes[kind] = outcomes.get(kind, 0) + 1

    tasks = [asyncio.create_task(send(n, c, t)) for n, (c, t) in enumerate(zip(clients, tokens, strict=True))]
    await asyncio.sleep(0.2)
    started = time.perf_counter()
    go.set()
    await asyncio.gather(*tasks)
    outcomes["seconds"] = round(time.perf_counter() - started, 2)
    return outcomes


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--workers", type=int, default=None, help="daphne processes (sqlite: 1, postgres: 2)")
    parser.add_argument(
        "--db-options",
        "--sqlite-options",
        dest="db_options",
        choices=["recommended", "legacy"],
        default="recommended",
        help="'legacy': SQLite without IMMEDIATE transactions, kept PostgreSQL connections, no database middlewares",
    )
    parser.add_argument(
        "--pool",
        type=int,
        default=None,
        help="postgres: a psycopg pool of at most this many connections per daphne (needs psycopg[pool])",
    )
    parser.add_argument("--levels", default="1,10,50", help="concurrent users per level (default 1,10,50)")
    parser.add_argument("--seconds", type=float, default=8.0, help="seconds of load per level and kind of user")
    parser.add_argument("--burst", type=int, default=105, help="patients sending a review at the same instant")
    args = parser.parse_args()
    workers = args.workers or (2 if args.stack == "postgres" else 1)
    levels = [int(x) for x in args.levels.split(",") if x.strip()]
    portal = Portal(args.stack, args.db_options == "legacy", workers, pool=args.pool)
    https = args.stack == "postgres"
    try:
        print(
            f"stack {args.stack}, {workers} daphne process(es), database options {args.db_options}"
            + (f", pool of {args.pool} per process" if args.pool else "")
            + f"; building the portal in {portal.work}",
            flush=True,
        )
        build_started = time.time()
        info = portal.build(max(args.burst, max(levels)), "benchpatient")
        print(f"built in {time.time() - build_started:.0f} s; starting daphne", flush=True)
        portal.start()
        pages = ["/", "/clinicians/"]
        signed_in_pages = [*pages, info["profile_url"], *info["other_profiles"][:1]]
        sessions = info["sessions"]
        total_errors = 0

        async def run_all():
            nonlocal total_errors
            # Warm every worker up (imports, template caches) before measuring.
            warm = Client(portal.ports, https=https)
            for _ in range(2 * len(portal.ports)):
                with contextlib.suppress(Exception):
                    await warm.request("GET", "/")
            for label, paths, signed_in in (("anonymous", pages, False), ("signed-in", signed_in_pages, True)):
                for level in levels:
                    clients = [
                        Client(
                            portal.ports,
                            https=https,
                            cookies={info["session_cookie"]: sessions[n % len(sessions)]["session"]}
                            if signed_in
                            else None,
                        )
                        for n in range(level)
                    ]
                    tally, elapsed, peak = await _run_level(clients, paths, args.seconds, portal)
                    _print_row(label, level, tally, elapsed, peak, args.stack)
                    total_errors += tally.errors
            if args.burst:
                burst_info = dict(info, sessions=sessions[: args.burst])
                outcomes = await burst(portal, burst_info, https)
                return outcomes
            return {}

        outcomes = asyncio.run(run_all())
        if args.burst:
            report = portal.internal("_report", "benchpatient")
            print(
                f"write burst: {args.burst} patients at once -> saved {outcomes.get('saved', 0)}, "
                f"refused-4xx {outcomes.get('refused-4xx', 0)}, "
                f"5xx {sum(v for k, v in outcomes.items() if k.isdigit())} "
                f"({ {k: v for k, v in outcomes.items() if k.isdigit()} }), "
                f"failed {outcomes.get('failed', 0)}, in {outcomes.get('seconds')} s; "
                f"database: {report['reviews']} reviews, {report['partial']} without all ratings",
                flush=True,
            )
            extra = {k: v for k, v in outcomes.items() if k not in ("saved", "refused-4xx", "failed", "seconds")}
            extra = {k: v for k, v in extra.items() if not k.isdigit()}
            if extra:
                print(f"  also: {extra}")
            total_errors += sum(v for k, v in outcomes.items() if k.isdigit()) + outcomes.get("failed", 0)
        print(f"total errors (5xx or failed requests): {total_errors}", flush=True)
    finally:
        portal.close()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1].startswith("_"):
        internal_main(sys.argv[1:])
    else:
        main()
