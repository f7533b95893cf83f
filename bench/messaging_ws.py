"""Secure messages in real time across two servers: delivery, latency, losses and duplicates over the portal socket.

Run from the repository root::

    .venv/bin/python bench/messaging_ws.py --clients 20 --seconds 10
    .venv/bin/python bench/messaging_ws.py --clients 200 --seconds 20 --restart-redis
    scripts/with-services.sh .venv/bin/python bench/messaging_ws.py --clients 20 --seconds 10

It needs PostgreSQL and Redis. Under ``scripts/with-services.sh`` it uses the
``DATABASE_URL`` and ``REDIS_URL`` given; without them it runs itself under
that script, which starts private instances and stops them at the end.

It creates a database of its own next to ``DATABASE_URL``'s
(``bench/_database.py``), migrates it, and seeds through the messaging
actions: ``--clients / 2`` patients, each linked to a care-team pool of at
most ten staff members and each with one conversation
(``actions.start_conversation``), claimed by one member of the pool
(``actions.assign_conversation``). Staff members have TOTP; every person gets
a session in the database session store that passed the second factor where
one is needed (``tests/factories.sign_in``). Then it starts two daphne
processes on free ports with the settings of the browser journeys
(``tests/browser/live_settings.py``: PostgreSQL, the Redis channel layer,
cache and task queue), sharing one database and one Redis. Each process
keeps a pool of at most ``--pool`` PostgreSQL connections (default 8), as
production does with ``PORTAL_DB_POOL_MAX_SIZE``; ``--pool 0`` opens a new
connection for every request and every database call of a socket, which
costs PostgreSQL a new server process each time.

Each client is one socket at ``/ws/portal-social/`` (a minimal RFC 6455
client over asyncio streams; no dependencies beyond the standard library),
signed in as the patient or the staff member of one conversation, and
subscribed to that conversation's stream. A conversation's patient and staff
member are on different servers, so every delivery crosses processes through
Redis. A client that loses its socket reconnects with back-off (as
``messaging.js`` does: 1 s, doubling, here capped at ``--backoff-max``) and
subscribes again with ``after`` = the highest event id it has seen.

For ``--seconds`` it sends ``--rate`` messages a second in total, on a fixed
schedule, through the reply form: an HTTP POST of ``body`` and a fresh
``submission`` to ``/messages/c/<uuid>/`` with the session cookie and CSRF
token, from the patient and the staff side in turn, each sender alternating
between the two servers (a few unmeasured messages warm both servers up
first). Each person's own rate limit stays (``message``: 60 in 10 minutes);
the per-address backstop is lifted, since every bench client comes from
127.0.0.1. The time just before each POST is the start of that
message's latency; a client's latency for it is when the socket delivered
its ``{"kind": "message"}`` event. A message counts as sent when it is in
the database (its submission token finds it, whatever the HTTP answer was);
a POST that did not store a message is "refused" and reported by reason.

``--restart-redis`` stops Redis in the middle of the run (``SHUTDOWN
NOSAVE``) and starts it again ``--redis-down`` seconds later, on the same
port with the same data directory, pid file and options it ran with (the
ones ``scripts/with-services.sh`` gave it).

After the last POST it waits (``--drain``, at most) until every client has
every message of its conversation and every client is subscribed again.
Then it prints what happened (refused sends, reconnections, events that
arrived below an id already seen, and why each missing delivery is missing)
and one summary line::

    clients=N sent=X received=Y lost=L duplicated=D p50_ms=.. p95_ms=.. p99_ms=..

``received``: (client, message) pairs delivered at least once; ``lost``:
expected pairs (every sent message to every client of its conversation) not
delivered by the end; ``duplicated``: deliveries of a message to a client
beyond the first, as the socket sent them (a repeat with an id already seen
is one ``messaging.js`` would ignore; the lines above say which kind).
Latencies are over first deliveries. ``--keep`` keeps the run's folder with
the daphne logs.

This is a benchmark: it prints figures and asserts nothing. It is not part
of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import contextlib
import gc
import hashlib
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
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parents[1]
SITE = REPO_ROOT / "example_site"
sys.path[:0] = [str(REPO_ROOT), str(SITE)]

from _database import create_database  # noqa: E402  bench/ is on sys.path when a benchmark runs
from community import percentile  # noqa: E402
from load import Client  # noqa: E402

BENCH_DB = "portal_social_bench_messaging_ws"
SETTINGS_MODULE = "bench_messaging_settings"
WS_PATH = "/ws/portal-social/"
STREAM = "messaging.conversation"
POOL_SIZE = 10
#: Close codes after which messaging.js does not reconnect (signed out, refused, too many frames).
STOP_CODES = frozenset({4401, 4403, 4404, 4429, 1008})
UNDER_SERVICES = "PORTAL_BENCH_UNDER_SERVICES"

SETTINGS = '''\
"""Settings of one messaging bench run (written by bench/messaging_ws.py)."""

import os

from tests.browser.live_settings import *  # noqa: F401,F403

DEBUG = False
# Every bench client comes from 127.0.0.1: the per-address backstop would
# count the whole bench as one person. Each person's own limit stays.
PORTAL_SOCIAL_RATE_LIMITS = {"message": "60/10m,1000000/10m/ip"}
if os.environ.get("BENCH_DB_POOL_MAX_SIZE", "0") != "0":
    # A bounded psycopg pool per process, as production runs with PORTAL_DB_POOL_MAX_SIZE (docs/database.md).
    from portal_social.core.database import postgres_database

    DATABASES = {
        "default": postgres_database(
            os.environ["LIVE_DATABASE_URL"], pool_max_size=int(os.environ["BENCH_DB_POOL_MAX_SIZE"])
        )
    }
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django": {"handlers": ["console"], "level": "ERROR"},
        "portal_social": {"handlers": ["console"], "level": "WARNING"},
    },
}
'''


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, required=True, help="sockets: a patient and a staff member each")
    parser.add_argument("--seconds", type=float, required=True, help="how long messages are sent")
    parser.add_argument("--rate", type=float, default=20.0, help="messages per second, in total (default 20)")
    parser.add_argument("--restart-redis", action="store_true", help="stop and start Redis in the middle")
    parser.add_argument("--redis-down", type=float, default=2.0, help="seconds Redis stays down (default 2)")
    parser.add_argument(
        "--drain", type=float, default=None, help="longest wait for deliveries after the last send (default 10, 40)"
    )
    parser.add_argument("--backoff-max", type=float, default=8.0, help="longest reconnect delay, s (default 8)")
    parser.add_argument(
        "--pool",
        type=int,
        default=8,
        help="PostgreSQL connections pooled per daphne, as production's PORTAL_DB_POOL_MAX_SIZE (default 8; "
        "0: a new connection for each request and each socket's database call)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the run's folder (settings, daphne logs)")
    args = parser.parse_args()
    if args.clients < 2:
        parser.error("--clients must be at least 2 (a patient and a staff member)")
    if args.seconds <= 0 or args.rate <= 0:
        parser.error("--seconds and --rate must be positive")
    if args.pool < 0:
        parser.error("--pool must be 0 or more")
    if args.drain is None:
        args.drain = 40.0 if args.restart_redis else 10.0
    return args


def run_under_services_if_needed() -> None:
    """Without PostgreSQL and Redis in the environment, run again under scripts/with-services.sh."""
    database_url = os.environ.get("DATABASE_URL", "")
    if database_url.startswith(("postgres://", "postgresql://")) and os.environ.get("REDIS_URL"):
        return
    if os.environ.get(UNDER_SERVICES):
        raise SystemExit("scripts/with-services.sh did not give DATABASE_URL (PostgreSQL) and REDIS_URL")
    os.environ[UNDER_SERVICES] = "1"
    script = str(REPO_ROOT / "scripts" / "with-services.sh")
    print("no DATABASE_URL/REDIS_URL: running under scripts/with-services.sh", flush=True)
    os.execv("/bin/bash", ["bash", script, sys.executable, str(Path(__file__).resolve()), *sys.argv[1:]])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------- Redis, stopped and started again


class RedisControl:
    """The Redis server ``REDIS_URL`` names: stop it, and start it again exactly as it ran."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        if parts.hostname not in ("127.0.0.1", "localhost"):
            raise SystemExit(f"--restart-redis restarts a Redis on 127.0.0.1 only, not {parts.hostname}")
        self.host, self.port = "127.0.0.1", parts.port or 6379
        self.options: list[str] = []
        self.stopped = False

    def _client(self):
        import redis

        return redis.Redis(host=self.host, port=self.port, socket_timeout=2, socket_connect_timeout=2)

    def remember(self) -> None:
        """Read the options to start it with again (those scripts/with-services.sh gave it)."""
        config = {k.decode() if isinstance(k, bytes) else k: v for k, v in self._client().config_get("*").items()}

        def value(name: str) -> str:
            found = config.get(name, "")
            return found.decode() if isinstance(found, bytes) else str(found)

        if not value("pidfile"):
            raise SystemExit("--restart-redis: this Redis has no pid file, so nothing could stop it again later")
        self.options = [
            "--bind", value("bind") or "127.0.0.1",
            "--port", str(self.port),
            "--save", value("save"),
            "--appendonly", value("appendonly") or "no",
            "--daemonize", "yes",
            "--pidfile", value("pidfile"),
            "--dir", value("dir"),
            "--logfile", value("logfile"),
        ]  # fmt: skip

    def _command(self, *words: str) -> bytes:
        """One command over a plain socket (no client library retrying while the server is away)."""
        with socket.create_connection((self.host, self.port), timeout=2) as conn:
            conn.sendall((f"*{len(words)}\r\n" + "".join(f"${len(w)}\r\n{w}\r\n" for w in words)).encode())
            return conn.recv(64)

    def alive(self) -> bool:
        try:
            return self._command("PING").startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        self.stopped = True
        with contextlib.suppress(OSError):
            self._command("SHUTDOWN", "NOSAVE")
        deadline = time.monotonic() + 10
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.02)

    def start(self) -> None:
        subprocess.run(["redis-server", *self.options], check=True, capture_output=True)
        deadline = time.monotonic() + 10
        while not self.alive():
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not answer after starting again")
            time.sleep(0.05)
        self.stopped = False


# --------------------------------------------------------------------------- inside the portal (ORM)


@dataclass
class Person:
    username: str
    side: str  # "patient" or "staff"
    conversation: str
    session: str
    listens_on: int = 0  # index of the server its socket uses
    sends: bool = True


def seed(clients: int) -> tuple[list[Person], dict]:
    """Pools, patients with one conversation each, staff claiming them, and signed-in sessions."""
    from allauth.account.models import EmailAddress
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client as DjangoClient

    from portal_social.core import roles
    from portal_social.messaging import actions
    from portal_social.messaging.models import CarePool, PoolMember, PoolPatient
    from tests.factories import enrol_totp, sign_in

    User = get_user_model()
    timings = {}

    def person(username: str, role: str):
        user = User.objects.create(username=username, email=f"{username}@example.org", first_name="Bench")
        user.set_unusable_password()  # sessions are made directly: the bench measures the portal, not the hash
        user.save(update_fields=["password"])
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        roles.grant_role(user=user, role=role)
        return user

    started = time.perf_counter()
    conversations = clients // 2
    patients = [person(f"benchpatient{n:04d}", roles.PATIENT) for n in range(conversations)]
    staff = [
        person(f"benchstaff{n:04d}", roles.CLINICIAN if n % 2 == 0 else roles.CARE_TEAM)
        for n in range(clients - conversations)
    ]
    for member in staff:
        enrol_totp(member)
    timings["people"] = time.perf_counter() - started

    started = time.perf_counter()
    pools = []
    for number in range(0, conversations, POOL_SIZE):
        members = staff[number : min(number + POOL_SIZE, conversations)]
        pool = CarePool.objects.create(
            name=f"Bench team {number // POOL_SIZE + 1}", slug=f"bench-team-{number // POOL_SIZE + 1}", lead=members[0]
        )
        for member in members:
            PoolMember.objects.create(pool=pool, user=member)
        pools.append(pool)
    extra = staff[conversations:]  # an odd number of clients: one more staff member on the first conversation
    for member in extra:
        PoolMember.objects.create(pool=pools[0], user=member)
    topic = next(iter(actions.topics()))
    people: list[Person] = []
    for n, (patient, member) in enumerate(zip(patients, staff, strict=False)):
        pool = pools[n // POOL_SIZE]
        PoolPatient.objects.create(pool=pool, patient=patient)
        conversation = actions.start_conversation(
            sender=patient,
            patient=patient,
            pool=pool,
            topic=topic,
            subject=f"Follow-up question {n}",
            body="Hello, a question about my follow-up visit.",
            submission=uuid.uuid4(),
        )
        actions.assign_conversation(actor=member, conversation=conversation, assignee=member)
        people.append(Person(patient.username, "patient", str(conversation.pk), "", listens_on=n % 2))
        people.append(Person(member.username, "staff", str(conversation.pk), "", listens_on=(n + 1) % 2))
    for member in extra:
        people.append(Person(member.username, "staff", people[0].conversation, "", listens_on=1, sends=False))
    timings["conversations"] = time.perf_counter() - started

    started = time.perf_counter()
    users = {u.username: u for u in User.objects.filter(username__in=[p.username for p in people])}
    for entry in people:
        browser = DjangoClient()
        sign_in(browser, users[entry.username])  # a session that passed the second factor for staff
        entry.session = browser.cookies[settings.SESSION_COOKIE_NAME].value
    timings["sessions"] = time.perf_counter() - started
    return people, timings


def stored_messages(submissions: list[str]) -> dict[str, str]:
    """submission -> message id, for the messages the run's POSTs stored."""
    from portal_social.messaging.models import Message

    rows = Message.objects.filter(submission__in=submissions).values_list("submission", "pk")
    return {str(submission): str(pk) for submission, pk in rows}


def message_event_ids(conversations: set[str]) -> dict[str, int]:
    """message id -> the id of its ``message`` event in its conversation's stream."""
    from portal_social.core.realtime import stream_key
    from portal_social.core.realtime_models import RealtimeEvent

    keys = [stream_key(STREAM, conversation) for conversation in conversations]
    found = {}
    for event_id, payload in RealtimeEvent.objects.filter(stream__key__in=keys).values_list("event_id", "payload"):
        if isinstance(payload, dict) and payload.get("kind") == "message":
            found[str(payload.get("message"))] = int(event_id)
    return found


# --------------------------------------------------------------------------- the servers


@dataclass
class Servers:
    work: Path
    env: dict
    ports: list[int] = field(default_factory=list)
    procs: list[subprocess.Popen] = field(default_factory=list)

    def log(self, n: int) -> Path:
        return self.work / f"daphne-{n}.log"

    def start(self, count: int = 2) -> None:
        self.ports = [free_port() for _ in range(count)]
        for n, port in enumerate(self.ports):
            with open(self.log(n), "wb") as log:
                self.procs.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "daphne",
                            "-b",
                            "127.0.0.1",
                            "-p",
                            str(port),
                            "example_site.asgi:application",
                        ],
                        cwd=SITE,
                        env=self.env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
        deadline = time.monotonic() + 60
        for n, port in enumerate(self.ports):
            while True:
                if self.procs[n].poll() is not None:
                    raise RuntimeError(f"daphne {n} exited:\n{self.log(n).read_text(errors='replace')[-3000:]}")
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2) as answer:
                        if answer.status == 200:
                            break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"daphne {n} did not answer:\n{self.log(n).read_text(errors='replace')[-3000:]}")
                time.sleep(0.2)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs = []

    def count_lines(self, pattern: str) -> int:
        """Lines of the servers' logs matching ``pattern``."""
        found = 0
        for n in range(len(self.ports)):
            text = self.log(n).read_text(errors="replace") if self.log(n).exists() else ""
            found += len(re.findall(pattern, text))
        return found

    def errors_logged(self) -> collections.Counter:
        """Lines of the servers' logs that name an exception, counted by their last line."""
        found = collections.Counter()
        for n in range(len(self.ports)):
            text = self.log(n).read_text(errors="replace") if self.log(n).exists() else ""
            for match in re.finditer(r"^(\w+(?:\.\w+)*(?:Error|Exception)): ?(.{0,140})", text, flags=re.M):
                found[f"{match.group(1)}: {match.group(2)}".strip()] += 1
        return found


# --------------------------------------------------------------------------- a minimal websocket client

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class HandshakeRefused(ConnectionError):
    pass


class WebSocket:
    """RFC 6455 client side: text frames out (masked), text frames in, ping answered, close recorded."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer
        self.close_code: int | None = None

    @classmethod
    async def connect(cls, port: int, cookie: str, timeout: float = 10.0) -> WebSocket:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        request = "\r\n".join(
            [
                f"GET {WS_PATH} HTTP/1.1",
                f"Host: 127.0.0.1:{port}",
                "Upgrade: websocket",
                "Connection: Upgrade",
                f"Sec-WebSocket-Key: {key}",
                "Sec-WebSocket-Version: 13",
                f"Origin: http://127.0.0.1:{port}",  # the server's own origin, or the socket is refused
                f"Cookie: {cookie}",
                "",
                "",
            ]
        )
        try:
            writer.write(request.encode())
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        except BaseException:
            writer.close()
            raise
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines if ":" in line)}
        accept = base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()
        status = int(status_line.split()[1])
        if status != 101 or headers.get("sec-websocket-accept") != accept:
            writer.close()
            raise HandshakeRefused(f"HTTP {status}")
        return cls(reader, writer)

    async def _send(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        header = bytearray([0x80 | opcode])
        size = len(payload)
        if size < 126:
            header.append(0x80 | size)
        elif size < 1 << 16:
            header += bytes([0x80 | 126]) + size.to_bytes(2, "big")
        else:
            header += bytes([0x80 | 127]) + size.to_bytes(8, "big")
        masked = (int.from_bytes(payload, "big") ^ int.from_bytes((mask * (size // 4 + 1))[:size], "big")).to_bytes(
            size, "big"
        )
        self.writer.write(bytes(header) + mask + masked)
        await self.writer.drain()

    async def send_text(self, text: str) -> None:
        await self._send(0x1, text.encode())

    async def _frame(self) -> tuple[bool, int, bytes]:
        first, second = await self.reader.readexactly(2)
        size = second & 0x7F
        if size == 126:
            size = int.from_bytes(await self.reader.readexactly(2), "big")
        elif size == 127:
            size = int.from_bytes(await self.reader.readexactly(8), "big")
        mask = await self.reader.readexactly(4) if second & 0x80 else None
        payload = await self.reader.readexactly(size)
        if mask:
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return bool(first & 0x80), first & 0x0F, payload

    async def receive(self) -> str | None:
        """The next text message, or None once the server closed the socket (``close_code`` says how)."""
        parts = []
        while True:
            try:
                final, opcode, payload = await self._frame()
            except (asyncio.IncompleteReadError, ConnectionError):
                self.close_code = self.close_code or 1006
                return None
            if opcode == 0x8:
                self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                with contextlib.suppress(Exception):
                    await self._send(0x8, payload[:2])
                return None
            if opcode == 0x9:
                await self._send(0xA, payload)
                continue
            if opcode == 0xA:
                continue
            parts.append(payload)
            if final:
                return b"".join(parts).decode()

    async def close(self, code: int = 1000) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._send(0x8, code.to_bytes(2, "big")), 2)
        self.abort()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


# --------------------------------------------------------------------------- the clients


@dataclass
class Listener:
    """One socket following one conversation, as a patient or a staff member, reconnecting like messaging.js."""

    person: Person
    port: int
    cookie: str
    seen: int = 0
    first: dict[str, float] = field(default_factory=dict)  # message id -> first delivery (perf_counter)
    copies: collections.Counter = field(default_factory=collections.Counter)  # message id -> deliveries
    copies_at: dict[str, list[tuple[int, float]]] = field(default_factory=dict)  # message id -> (socket, when)
    event_ids: set[int] = field(default_factory=set)
    below_seen: int = 0  # events arriving with an id under one already seen (not a repeat of one)
    below_seen_messages: int = 0  # of which "message" events: messaging.js would not show them
    repeated_ids: int = 0  # events whose id this client had already received
    subscribes: list[tuple[float, int]] = field(default_factory=list)  # (when, after)
    subscribed_at: dict[int, float] = field(default_factory=dict)  # socket (1, 2, …) -> its "subscribed" frame
    opened: int = 0
    closes: collections.Counter = field(default_factory=collections.Counter)
    failures: collections.Counter = field(default_factory=collections.Counter)
    errors: collections.Counter = field(default_factory=collections.Counter)
    subscribed: bool = False
    gave_up: int | None = None
    socket: WebSocket | None = None

    def handle(self, text: str, now: float) -> None:
        try:
            data = json.loads(text)
        except ValueError:
            self.errors["not_json"] += 1
            return
        if not isinstance(data, dict):
            return
        if data.get("type") == "subscribed":
            self.subscribed = True
            self.subscribed_at[self.opened] = now
            return
        if data.get("type") == "error":
            self.errors[str(data.get("error"))] += 1
            return
        if data.get("stream") != STREAM or data.get("target") != self.person.conversation:
            return
        event_id = data.get("id")
        if isinstance(event_id, int):
            if event_id in self.event_ids:
                self.repeated_ids += 1
            elif event_id <= self.seen:
                self.below_seen += 1
                self.below_seen_messages += data.get("kind") == "message"
            self.event_ids.add(event_id)
            self.seen = max(self.seen, event_id)
        if data.get("kind") == "message" and isinstance(data.get("message"), str):
            self.copies[data["message"]] += 1
            self.first.setdefault(data["message"], now)
            self.copies_at.setdefault(data["message"], []).append((self.opened, now))

    async def run(self, stop: asyncio.Event, backoff_max: float) -> None:
        delay = 1.0
        while not stop.is_set():
            try:
                sock = await WebSocket.connect(self.port, self.cookie)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError) as exc:
                self.failures[str(exc) if isinstance(exc, HandshakeRefused) else type(exc).__name__] += 1
            else:
                self.opened += 1
                delay = 1.0
                self.socket = sock
                try:
                    self.subscribes.append((time.perf_counter(), self.seen))
                    frame = {"type": "subscribe", "stream": STREAM, "target": self.person.conversation}
                    await sock.send_text(json.dumps({**frame, "after": self.seen}))
                    while (text := await sock.receive()) is not None:
                        self.handle(text, time.perf_counter())
                except (OSError, ConnectionError):
                    sock.close_code = sock.close_code or 1006
                finally:
                    self.socket, self.subscribed = None, False
                    sock.abort()
                if stop.is_set():
                    break
                code = sock.close_code or 1006
                self.closes[code] += 1
                if code in STOP_CODES:
                    self.gave_up = code
                    return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(delay * 2, backoff_max)


@dataclass
class Send:
    number: int
    side: str
    conversation: str
    port: int
    submission: str
    started: float
    returned: float = 0.0
    outcome: str = ""
    message: str | None = None


_CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
_SENT = re.compile(r"#message-([0-9a-f-]{36})")


@dataclass
class Sender:
    """A person sending through the reply form, with a cookie jar and a CSRF token valid on both servers."""

    person: Person
    browsers: list[Client]
    token: str = ""
    count: int = 0

    async def open_form(self, first: int) -> None:
        """GET the conversation page (the form and its CSRF cookie), then share the cookies with the other server."""
        browser = self.browsers[first]
        answer = await browser.request("GET", f"/messages/c/{self.person.conversation}/")
        match = _CSRF_INPUT.search(answer.body)
        if answer.status != 200 or not match:
            raise RuntimeError(
                f"{self.person.username}: the conversation page answered {answer.status} "
                f"({answer.header('location') or 'no form'})"
            )
        self.token = match.group(1).decode()
        for other in self.browsers:
            other.cookies.update(browser.cookies)

    async def send(self, number: int, body: str) -> Send:
        server = (self.count + self.person.listens_on) % len(self.browsers)
        self.count += 1
        browser = self.browsers[server]
        record = Send(
            number, self.person.side, self.person.conversation, browser.ports[0], str(uuid.uuid4()), time.perf_counter()
        )
        form = {"csrfmiddlewaretoken": self.token, "body": body, "submission": record.submission}
        try:
            answer = await browser.request("POST", f"/messages/c/{self.person.conversation}/", form)
        except (OSError, ConnectionError, TimeoutError, ValueError) as exc:
            record.outcome = type(exc).__name__
        else:
            found = _SENT.search(answer.header("location") or "") if answer.status in (302, 303) else None
            if found:
                record.outcome, record.message = "sent", found.group(1)
            elif answer.status == 400 and b"too many times" in answer.body:
                record.outcome = "HTTP 400 rate limited"
            else:
                record.outcome = f"HTTP {answer.status}"
        record.returned = time.perf_counter()
        return record


# --------------------------------------------------------------------------- the run


@dataclass
class Run:
    listeners: list[Listener]
    sends: list[Send]
    timings: dict
    redis_events: list[str]


async def run(args: argparse.Namespace, people: list[Person], ports: list[int], redis: RedisControl | None) -> Run:
    from django.conf import settings

    cookie_name = settings.SESSION_COOKIE_NAME
    timings: dict[str, float] = {}
    listeners = [Listener(p, ports[p.listens_on], f"{cookie_name}={p.session}") for p in people]
    by_conversation: dict[str, list[Listener]] = collections.defaultdict(list)
    for listener in listeners:
        by_conversation[listener.person.conversation].append(listener)
    senders = {
        (p.conversation, p.side): Sender(
            p, [Client([port], https=False, cookies={cookie_name: p.session}) for port in ports]
        )
        for p in people
        if p.sends
    }

    started = time.perf_counter()
    limit = asyncio.Semaphore(10)

    async def open_form(sender: Sender) -> None:
        async with limit:
            await sender.open_form(sender.person.listens_on)

    await asyncio.gather(*(open_form(s) for s in senders.values()))
    timings["forms"] = time.perf_counter() - started
    # Warm each server's send path (imports, first queries) with messages that are not measured: on each
    # server a care-team reply, then a patient message that starts the reply clock again (the first reply
    # time a process works out loads the business calendar's holidays).
    warmers = sorted(list(senders.values())[:4], key=lambda sender: sender.person.side != "staff")
    for _server in ports:
        for sender in warmers:
            warm = await sender.send(-1, "Thank you, this is a first note.")
            if warm.outcome != "sent":
                raise RuntimeError(f"a first message was not sent: {warm.outcome}")

    stop = asyncio.Event()
    started = time.perf_counter()
    tasks = [asyncio.create_task(listener.run(stop, args.backoff_max)) for listener in listeners]
    deadline = time.perf_counter() + 120
    while not all(listener.subscribed or listener.gave_up for listener in listeners):
        if time.perf_counter() > deadline:
            break
        await asyncio.sleep(0.05)
    timings["subscribed"] = time.perf_counter() - started
    waiting = [listener for listener in listeners if not listener.subscribed]
    if waiting:
        stop.set()
        for task in tasks:
            task.cancel()
        first = waiting[0]
        raise RuntimeError(
            f"{len(waiting)} of {len(listeners)} sockets did not subscribe: e.g. {first.person.username} "
            f"closes {dict(first.closes)} failures {dict(first.failures)} errors {dict(first.errors)}"
        )

    conversations = sorted(by_conversation)
    total = int(round(args.rate * args.seconds))
    redis_events: list[str] = []
    print(
        f"sending {total} messages at {args.rate:g}/s for {args.seconds:g} s to {len(conversations)} conversations "
        f"over {len(ports)} servers" + (", restarting Redis in the middle" if redis else ""),
        flush=True,
    )

    async def bounce(begin: float) -> None:
        down_at = begin + max(0.0, args.seconds / 2 - args.redis_down / 2)
        await asyncio.sleep(max(0.0, down_at - time.perf_counter()))
        t0 = time.perf_counter()
        await asyncio.to_thread(redis.stop)
        t1 = time.perf_counter()
        redis_events.append(f"Redis stopped at {t0 - begin:.1f} s (took {t1 - t0:.2f} s)")
        await asyncio.sleep(args.redis_down)
        t2 = time.perf_counter()
        await asyncio.to_thread(redis.start)
        redis_events.append(
            f"Redis started again at {t2 - begin:.1f} s (answering after {time.perf_counter() - t2:.2f} s)"
        )

    begin = time.perf_counter()
    bouncer = asyncio.create_task(bounce(begin)) if redis else None
    in_flight: list[asyncio.Task] = []
    for number in range(total):
        at = begin + number / args.rate
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        conversation = conversations[(number // 2) % len(conversations)]
        side = "patient" if number % 2 == 0 else "staff"
        body = f"Thank you. A short note about my follow-up, number {number + 1}."
        in_flight.append(asyncio.create_task(senders[(conversation, side)].send(number, body)))
    sends = list(await asyncio.gather(*in_flight))
    if bouncer is not None:
        await bouncer
    timings["sending"] = time.perf_counter() - begin

    # Drain: every stored-looking message to every client of its conversation, every client subscribed again.
    started = time.perf_counter()
    known = [(s.message, s.conversation) for s in sends if s.message]
    while time.perf_counter() - started < args.drain:
        missing = sum(1 for m, c in known for listener in by_conversation[c] if m not in listener.first)
        if not missing and all(listener.subscribed or listener.gave_up for listener in listeners):
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)  # late repeats still count
    timings["drain"] = time.perf_counter() - started

    stop.set()
    for listener in listeners:
        if listener.socket is not None:
            await listener.socket.close()
    done, pending = await asyncio.wait(tasks, timeout=10)
    for task in pending:
        task.cancel()
    return Run(listeners, sends, timings, redis_events)


# --------------------------------------------------------------------------- the report


def _repeat_kind(listener: Listener, message: str) -> str:
    """Why a client received a message more than once."""
    copies = listener.copies_at[message]
    sockets = {number for number, _when in copies}
    if len(sockets) > 1:
        return "again on a later socket"
    number, first = copies[0]
    subscribed = listener.subscribed_at.get(number)
    if number > 1 and subscribed is not None and 0 <= first - subscribed < 1.0:
        # The consumer sends what was missed right after "subscribed", before any live event it queued meanwhile.
        return "replayed when the socket subscribed again, and pushed live to it as well"
    return "pushed twice to the same socket"


def report(args: argparse.Namespace, result: Run, servers: Servers) -> None:
    listeners, sends = result.listeners, result.sends
    stored = stored_messages([s.submission for s in sends])
    events = message_event_ids({listener.person.conversation for listener in listeners})
    by_conversation: dict[str, list[Listener]] = collections.defaultdict(list)
    for listener in listeners:
        by_conversation[listener.person.conversation].append(listener)

    outcomes = collections.Counter(s.outcome for s in sends)
    answered_error_but_stored = [s for s in sends if s.outcome != "sent" and s.submission in stored]
    refused = collections.Counter(s.outcome for s in sends if s.submission not in stored)
    post_ms = [(s.returned - s.started) * 1000 for s in sends if s.outcome == "sent"]
    print(f"POST answers: {dict(outcomes)}")
    if post_ms:
        print(f"POST time (sent): p50 {percentile(post_ms, 50):.1f} ms, p95 {percentile(post_ms, 95):.1f} ms")
    if refused:
        first = min((s for s in sends if s.submission not in stored), key=lambda s: s.started)
        last = max((s for s in sends if s.submission not in stored), key=lambda s: s.started)
        begin = min(s.started for s in sends)
        print(
            f"refused (no message stored): {sum(refused.values())} {dict(refused)}, "
            f"sent between {first.started - begin:.1f} s and {last.started - begin:.1f} s"
        )
    if answered_error_but_stored:
        print(f"stored although the answer was not the redirect: {len(answered_error_but_stored)}")
    mismatched = [s for s in sends if s.message and stored.get(s.submission) != s.message]
    if mismatched:
        print(f"redirect named another message than the one stored: {len(mismatched)}")

    expected = received = lost = duplicated = 0
    repeats = collections.Counter()
    latencies: list[float] = []
    after_answer: list[float] = []  # from the POST's answer instead of its start: the push alone
    why_lost = collections.Counter()
    details: list[str] = []
    begin = min((s.started for s in sends), default=0.0)
    timeline: list[tuple[float, float, float]] = []  # (sent at, latency ms, the POST's time ms)
    for s in sends:
        message = stored.get(s.submission)
        if message is None:
            continue
        event_id = events.get(message)
        for listener in by_conversation[s.conversation]:
            expected += 1
            copies = listener.copies.get(message, 0)
            if copies:
                received += 1
                duplicated += copies - 1
                if copies > 1:
                    repeats[_repeat_kind(listener, message)] += copies - 1
                latencies.append((listener.first[message] - s.started) * 1000)
                timeline.append((s.started - begin, latencies[-1], (s.returned - s.started) * 1000))
                if s.outcome == "sent":
                    after_answer.append((listener.first[message] - s.returned) * 1000)
                continue
            lost += 1
            details.append(
                f"  {listener.person.side} {listener.person.username}: message event {event_id} sent at "
                f"{s.started - begin:.2f} s ({s.outcome} after {s.returned - s.started:.2f} s, server {s.port}); "
                f"client saw up to {listener.seen}, subscribed {len(listener.subscribes)} times with after="
                f"{[after for _when, after in listener.subscribes]}"
            )
            if event_id is None:
                why_lost["no event stored for it"] += 1
            elif listener.gave_up:
                why_lost[f"client stopped after close code {listener.gave_up}"] += 1
            elif event_id > listener.seen:
                why_lost["not delivered; a resubscribe with after=last seen would replay it"] += 1
            elif any(when > s.started and after >= event_id for when, after in listener.subscribes):
                why_lost["skipped: resubscribed with after above its id (a later event arrived first)"] += 1
            else:
                why_lost["not delivered while later events were (below the client's last seen id)"] += 1

    for line in result.redis_events:
        print(line)
    reconnects = sum(max(0, listener.opened - 1) for listener in listeners)
    closes = sum((listener.closes for listener in listeners), collections.Counter())
    failures = sum((listener.failures for listener in listeners), collections.Counter())
    errors = sum((listener.errors for listener in listeners), collections.Counter())
    print(
        f"sockets: {len(listeners)} opened {sum(listener.opened for listener in listeners)} times "
        f"({reconnects} reconnections); closed by the server: {dict(closes) or 'never'}; "
        f"failed connection attempts: {dict(failures) or 'none'}"
        + (f"; error frames: {dict(errors)}" if errors else "")
    )
    gave_up = collections.Counter(listener.gave_up for listener in listeners if listener.gave_up)
    if gave_up:
        print(f"clients that stopped reconnecting (close code): {dict(gave_up)}")
    below = sum(listener.below_seen for listener in listeners)
    below_messages = sum(listener.below_seen_messages for listener in listeners)
    repeated = sum(listener.repeated_ids for listener in listeners)
    print(
        f"events arriving with an id below one already seen: {below}, of which new messages: {below_messages} "
        f"(messaging.js ignores such an event); events received twice with the same id: {repeated}"
    )
    if after_answer:
        print(
            "delivery counted from the POST's answer (negative: the event came first): "
            f"p50 {percentile(after_answer, 50):.1f} ms, p95 {percentile(after_answer, 95):.1f} ms"
        )
    slow = sorted(timeline, key=lambda row: -row[1])[: max(1, len(timeline) // 50)]
    if slow and slow[0][1] > 100:
        print(
            "slowest deliveries (sent at s: ms, the POST's own time in brackets): "
            + ", ".join(f"{at:.2f}: {ms:.0f} ({post:.0f})" for at, ms, post in sorted(slow) if ms > 100)
        )
    if repeats:
        print(f"duplicated deliveries: {dict(repeats)}")
    for reason, count in why_lost.most_common():
        print(f"lost: {count} ({reason})")
    for line in details[:5]:
        print(line)
    dropped = servers.count_lines(r"live update not delivered to a group")
    print(f"live updates the servers could not hand to Redis (logged, dropped): {dropped}")
    logged = servers.errors_logged()
    for line, count in logged.most_common(6):
        print(f"server log: {count} x {line}")
    print("times: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in result.timings.items()))

    def pct(q: int) -> str:
        return f"{percentile(latencies, q):.1f}" if latencies else "n/a"

    print(
        f"clients={len(listeners)} sent={len(stored)} received={received} lost={lost} duplicated={duplicated} "
        f"p50_ms={pct(50)} p95_ms={pct(95)} p99_ms={pct(99)}",
        flush=True,
    )


# --------------------------------------------------------------------------- main


def main() -> None:
    args = parse_args()
    run_under_services_if_needed()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop what was started on SIGTERM too
    redis_url = os.environ["REDIS_URL"]
    redis = RedisControl(redis_url) if args.restart_redis else None
    if redis is not None:
        redis.remember()
    work = Path(tempfile.mkdtemp(prefix="portal-bench-messaging-"))
    servers: Servers | None = None
    remove_database = create_database(BENCH_DB)
    try:
        (work / f"{SETTINGS_MODULE}.py").write_text(SETTINGS)
        sys.path.insert(0, str(work))
        os.environ.update(
            DJANGO_SETTINGS_MODULE=SETTINGS_MODULE,
            LIVE_DATABASE_URL=os.environ["DATABASE_URL"],  # the bench's own database (create_database)
            LIVE_REDIS_URL=redis_url,
            BENCH_DB_POOL_MAX_SIZE=str(args.pool),
        )
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        from tests.browser.live_settings import describe_stack

        pooled = f"a pool of at most {args.pool} per process" if args.pool else "a new one for each request"
        print(f"{describe_stack()}; database connections: {pooled}; {args.clients} clients", flush=True)
        started = time.perf_counter()
        call_command("migrate", verbosity=0, interactive=False)
        print(f"migrated in {time.perf_counter() - started:.1f} s", flush=True)
        started = time.perf_counter()
        people, timings = seed(args.clients)
        connections.close_all()
        print(
            f"seeded {sum(1 for p in people if p.side == 'patient')} conversations and {len(people)} signed-in people "
            f"in {time.perf_counter() - started:.1f} s ("
            + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items())
            + ")",
            flush=True,
        )

        env = dict(os.environ)
        env.update(
            PYTHONPATH=os.pathsep.join([str(work), str(SITE), str(REPO_ROOT)]),
            PYTHONUNBUFFERED="1",
        )
        env.pop(UNDER_SERVICES, None)
        servers = Servers(work, env)
        started = time.perf_counter()
        servers.start(2)
        print(f"daphne on ports {servers.ports} in {time.perf_counter() - started:.1f} s", flush=True)

        # This process holds Django and the seeded objects: a full pass of the cyclic collector here would
        # pause every client's socket at once and be counted as delivery time. The run allocates little.
        gc.collect()
        gc.freeze()
        gc.disable()
        try:
            result = asyncio.run(run(args, people, servers.ports, redis))
        finally:
            gc.enable()
        report(args, result, servers)
    except KeyboardInterrupt:
        print("interrupted: stopping the servers and removing the database", file=sys.stderr, flush=True)
        raise SystemExit(130) from None
    finally:
        if servers is not None:
            servers.stop()
        if redis is not None and redis.stopped:
            with contextlib.suppress(Exception):
                redis.start()
        with contextlib.suppress(Exception):
            remove_database()
        if args.keep:
            print(f"kept {work} (settings and daphne logs)")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
