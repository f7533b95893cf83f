"""Server time of the community pages on a large community, against a one-query floor.

Run from the repository root::

    .venv/bin/python bench/community.py                 # full size on SQLite (a few minutes)
    .venv/bin/python bench/community.py --scale 0.1     # a tenth of the data, for a quick look
    scripts/with-services.sh .venv/bin/python bench/community.py              # PostgreSQL
    scripts/with-services.sh .venv/bin/python bench/community.py --pool 4     # PostgreSQL, pooled connections

Uses the test settings (``tests.settings``), like ``bench/profiles.py``.
Without ``DATABASE_URL`` it runs on SQLite in a temporary file; with
``DATABASE_URL`` (PostgreSQL) it creates a database named
``portal_social_bench_community`` next to the one named there, and drops it
at the end. Either way it migrates, then seeds (``--scale`` 1, the default):

* 5,000 patients with community names, each a member of three communities;
* 20 communities (public, members only and private);
* 10,000 threads and 200,000 posts, all published; a few "hot" threads hold
  60 to 120 posts, so their first page shows the full 50;
* reactions on a share of the posts.

Rows go in with ``bulk_create`` in batches. Titles and posts are encrypted
column by column, row by row (``EncryptedTextField``), so the seeding time
is printed per step with the cost of one encryption.

Then, after ``ANALYZE``, it sends ``--requests`` warm GET requests per page
through ``django.test.Client`` (the real URL configuration, middleware and
views; no network) as a signed-in member (and signed out for the thread
page), and prints p50 and p95 server time in milliseconds and the queries
per request for:

* the thread page (first page of a hot thread, 50 posts);
* the community index; a community page (25 threads);
* the community search page, when ``/community/search/`` is a route.

Each page is compared with a FLOOR: a bare view behind the same middleware
that makes one query over the same rows (the same 50 posts of the thread,
decrypted, with their authors' names; the same 25 threads; the same
communities) and joins pre-rendered strings. The ratio page / floor says
what the page costs beyond reading its data. Goals printed against: the
thread page p95 under 50 ms on PostgreSQL, and within 2x of its floor.

This is a benchmark: it prints figures and asserts nothing. It is not part
of the test suite.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import statistics
import sys
import time
import types
from pathlib import Path

from _database import create_database  # bench/ is on sys.path when a benchmark runs

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "example_site")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

BENCH_DB = "portal_social_bench_community"
FULL = {"users": 5_000, "threads": 10_000, "posts": 200_000}
COMMUNITIES = 20
#: Threads whose first page is full (50 posts): the thread page is measured on these.
HOT_THREADS = 20
HOT_POSTS = (60, 120)
MEMBERSHIPS_EACH = 3
BATCH = 2_000
GOAL_P95_MS = 50.0
GOAL_RATIO = 2.0

# fmt: off
TOPICS = [
    "walking", "sleep", "salt", "sensor", "insulin", "blood pressure", "stairs", "rehab", "fatigue", "diet",
    "cardiac rehab", "medication", "swelling", "appointments", "caregiving", "stress", "breathing", "weight",
]
SENTENCES = [
    "I started with two short walks a day and added a minute each week.",
    "Keeping a simple log helped me see progress on the bad days.",
    "My care team suggested I write my questions down before each visit.",
    "Lemon, garlic and pepper made low-salt cooking bearable for me.",
    "The first month with the sensor was stressful, then it got easier.",
    "I sleep better since I stopped checking the numbers every hour.",
    "Cardiac rehab classes gave me the confidence to exercise again.",
    "Some days are harder than others, and that is all right.",
    "Ask the pharmacist about timing; it made a real difference for me.",
    "My daughter comes to appointments with me and takes notes.",
    "I use a pill organiser with alarms on my phone.",
    "Breathing exercises before bed help me wind down.",
    "Stairs were the hardest part; leading with the good leg helped.",
    "I found the support group on Tuesdays very welcoming.",
]
# fmt: on
REACTION_KINDS = ("like", "me_too", "hug")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="share of the full data set (default 1: 5,000 users, 10,000 threads, 200,000 posts)",
    )
    parser.add_argument("--requests", type=int, default=300, help="measured requests per page (default 300)")
    parser.add_argument("--warm", type=int, default=30, help="unmeasured requests per page first (default 30)")
    parser.add_argument(
        "--budget", type=float, default=120, help="seconds per page at most, then fewer requests (at least 5)"
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed for data and URLs")
    parser.add_argument(
        "--pool", type=int, default=0, help="PostgreSQL only: keep up to N connections in a psycopg pool"
    )
    parser.add_argument(
        "--profile",
        nargs="?",
        const="member",
        choices=("member", "signed-out"),
        help="instead of timing, profile 50 thread-page requests (member unless told); print where time goes",
    )
    parser.add_argument(
        "--queries",
        action="store_true",
        help="instead of timing, print the SQL of one member and one signed-out thread-page request",
    )
    return parser.parse_args()


# Throwaway database ---------------------------------------------------------------------------


def use_pool(size: int) -> None:
    """Before ``django.setup()``: keep up to ``size`` PostgreSQL connections in a pool (as PORTAL_DB_POOL_MAX_SIZE)."""
    from django.conf import settings

    from portal_social.core.database import postgres_options

    database = settings.DATABASES["default"]
    if "postgresql" not in database["ENGINE"]:
        raise SystemExit("--pool is for PostgreSQL (run through scripts/with-services.sh)")
    database["CONN_MAX_AGE"] = 0
    database.setdefault("OPTIONS", {}).update(postgres_options(pool_max_size=size))


# Seeding ----------------------------------------------------------------------------------------


class Timer:
    def __init__(self) -> None:
        self.steps: list[tuple[str, float, str]] = []

    def step(self, name: str, started: float, note: str = "") -> None:
        self.steps.append((name, time.perf_counter() - started, note))
        print(f"  seed {name:<28} {self.steps[-1][1]:>7.1f} s  {note}", flush=True)


def _bodies(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """``count`` distinct posts as (source, rendered HTML): rendered once each, as core.text does at write time."""
    from portal_social.core import text

    bodies = []
    for n in range(count):
        sentences = rng.sample(SENTENCES, rng.randint(2, 5))
        source = " ".join(sentences) + f" ({rng.choice(TOPICS)}, note {n})"
        if n % 3 == 0:
            source += "\n\n- " + "\n- ".join(rng.sample(TOPICS, 3))
        bodies.append((source, text.render(source)))
    return bodies


def _thread_sizes(rng: random.Random, threads: int, posts: int, hot: int) -> list[int]:
    """Posts per thread (the opening post included), adding up to ``posts``; the first ``hot`` are large."""
    sizes = [rng.randint(*HOT_POSTS) for _ in range(hot)]
    rest = threads - hot
    left = max(posts - sum(sizes), rest)
    base, extra = divmod(left, rest)
    others = [base + (1 if i < extra else 0) for i in range(rest)]
    for i in range(0, rest - 1, 2):  # spread the sizes, keeping the total
        delta = rng.randint(0, max(others[i] - 1, 0))
        others[i] -= delta
        others[i + 1] += delta
    return sizes + others


def seed(scale: float, rng: random.Random) -> dict:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from portal_social.community.models import Community, CommunityProfile, Membership, Post, Reaction, Thread
    from portal_social.core import crypto, roles

    User = get_user_model()
    users_n = max(int(FULL["users"] * scale), 50)
    threads_n = max(int(FULL["threads"] * scale), HOT_THREADS * 2)
    posts_n = max(int(FULL["posts"] * scale), threads_n * 2)
    hot = min(HOT_THREADS, threads_n // 2)
    print(f"seeding {users_n:,} users, {COMMUNITIES} communities, {threads_n:,} threads, {posts_n:,} posts")
    timer = Timer()
    now = timezone.now()
    start_of_data = now - datetime.timedelta(days=365)

    started = time.perf_counter()
    patients = Group.objects.get(name=roles.GROUP_NAMES[roles.PATIENT])
    User.objects.bulk_create(
        [
            User(
                username=f"bench{n:05d}",
                email=f"bench{n:05d}@example.org",
                password="!unusable",
                date_joined=start_of_data - datetime.timedelta(days=30),
            )
            for n in range(users_n)
        ],
        batch_size=BATCH,
    )
    user_ids = list(User.objects.filter(username__startswith="bench").order_by("pk").values_list("pk", flat=True))
    User.groups.through.objects.bulk_create(
        [User.groups.through(user_id=pk, group_id=patients.pk) for pk in user_ids], batch_size=BATCH
    )
    CommunityProfile.objects.bulk_create(
        [
            CommunityProfile(user_id=pk, handle=f"member_{n:05d}", trust_level=rng.choice((0, 1, 1, 2)))
            for n, pk in enumerate(user_ids)
        ],
        batch_size=BATCH,
    )
    timer.step("users and names", started, f"{users_n:,} users")

    started = time.perf_counter()
    visibilities = ["public"] * 10 + ["members"] * 6 + ["private"] * 4
    communities = Community.objects.bulk_create(
        [
            Community(
                name=f"Community {n:02d} ({visibilities[n]})",
                slug=f"community-{n:02d}",
                visibility=visibilities[n],
                description="A place to share what helps, day to day.",
                guidelines="Be kind. Share experiences, not medical advice.",
            )
            for n in range(COMMUNITIES)
        ]
    )
    memberships = set()
    for pk in user_ids:
        for community in rng.sample(communities, MEMBERSHIPS_EACH):
            memberships.add((community.pk, pk))
    reader = user_ids[0]  # the measured member belongs everywhere
    memberships.update((c.pk, reader) for c in communities)
    Membership.objects.bulk_create(
        [
            Membership(
                community_id=c,
                user_id=u,
                role=Membership.Role.MENTOR if rng.random() < 0.02 else Membership.Role.MEMBER,
            )
            for c, u in sorted(memberships)
        ],
        batch_size=BATCH,
    )
    members_of: dict = {}
    for c, u in memberships:
        members_of.setdefault(c, []).append(u)
    timer.step("communities and members", started, f"{len(memberships):,} memberships")

    # One encryption, as bulk_create does it for every encrypted column of every row.
    bodies = _bodies(rng, 300)
    sample = [html for _source, html in bodies] * 10
    started = time.perf_counter()
    for value in sample:
        crypto.encrypt_text(value)
    per_encryption = (time.perf_counter() - started) / len(sample)

    started = time.perf_counter()
    sizes = _thread_sizes(rng, threads_n, posts_n, hot)
    thread_rows = []
    home = communities[0]  # hot threads live in a public community, so signed-out readers see them too
    for n, size in enumerate(sizes):
        community = home if n < hot else communities[rng.randrange(COMMUNITIES)]
        opened = start_of_data + datetime.timedelta(seconds=rng.randint(0, 360 * 86400))
        thread_rows.append(
            Thread(
                community=community,
                author_id=rng.choice(members_of[community.pk]),
                title=f"{rng.choice(TOPICS).capitalize()}: what helped you? #{n}",
                created_at=opened,
                last_post_at=opened + datetime.timedelta(minutes=size * 7),
                reply_count=size - 1,
                visible=True,
                pinned=n % 997 == 5,
            )
        )
    Thread.objects.bulk_create(thread_rows, batch_size=BATCH)
    timer.step("threads", started, f"{threads_n:,} threads ({threads_n:,} titles encrypted)")

    started = time.perf_counter()
    written = 0
    batch: list = []
    for thread, size in zip(thread_rows, sizes, strict=True):
        authors = members_of[thread.community_id]
        for i in range(size):
            source, html = bodies[rng.randrange(len(bodies))]
            batch.append(
                Post(
                    thread=thread,
                    author_id=thread.author_id if i == 0 else rng.choice(authors),
                    is_opening=i == 0,
                    status=Post.Status.PUBLISHED,
                    body_source=source,
                    body_html=html,
                    created_at=thread.created_at + datetime.timedelta(minutes=7 * i),
                )
            )
        if len(batch) >= BATCH:
            Post.objects.bulk_create(batch)
            written += len(batch)
            batch = []
    if batch:
        Post.objects.bulk_create(batch)
        written += len(batch)
    elapsed = time.perf_counter() - started
    timer.step(
        "posts",
        started,
        f"{written:,} posts, {written / elapsed:,.0f}/s; 2 encrypted columns each at "
        f"{per_encryption * 1e6:.0f} us = {2 * written * per_encryption:.1f} s of encryption",
    )

    started = time.perf_counter()
    hot_ids = [t.pk for t in thread_rows[:hot]]
    reacted = Post.objects.filter(thread_id__in=hot_ids).values_list("pk", "thread__community_id")
    reactions = set()
    for post_id, community_id in reacted:
        for user_id in rng.sample(members_of[community_id], min(rng.randint(0, 6), len(members_of[community_id]))):
            reactions.add((post_id, user_id, rng.choice(REACTION_KINDS)))
    Reaction.objects.bulk_create(
        [Reaction(post_id=p, user_id=u, kind=k) for p, u, k in reactions], batch_size=BATCH, ignore_conflicts=True
    )
    timer.step("reactions", started, f"{len(reactions):,} on the hot threads' posts")
    return {
        "timer": timer,
        "reader": User.objects.get(pk=reader),
        "hot": thread_rows[:hot],
        "home": home,
        "communities": communities,
        "counts": (users_n, threads_n, written),
    }


def build_search_index() -> None:
    """Rows made with bulk_create skip the hooks that index published posts: rebuild the search index, if any."""
    try:
        from portal_social.core import search
    except ImportError:
        return
    if not hasattr(search, "registered"):
        return
    for indexed in search.registered():
        started = time.perf_counter()
        result = search.rebuild(indexed.scope, batch_size=500)
        print(f"  search index {indexed.scope}: {time.perf_counter() - started:.1f} s  {result}", flush=True)


# The floor ------------------------------------------------------------------------------------


def floor_urlconf():
    """The example portal's URLs plus three bare views: one query each, pre-rendered strings joined."""
    from django.conf import settings
    from django.http import HttpResponse
    from django.urls import include, path
    from django.utils.html import escape

    from portal_social.community.models import Community, Post, Thread
    from portal_social.community.views.pages import COMMUNITIES_PER_PAGE, POSTS_PER_PAGE, THREADS_PER_PAGE

    def thread_floor(request, thread_id):
        rows = (
            Post.objects.filter(thread_id=thread_id, status=Post.Status.PUBLISHED)
            .order_by("created_at", "pk")
            .values_list("pk", "body_html", "author__community_profile__handle", "created_at")[:POSTS_PER_PAGE]
        )
        parts = [
            f'<article id="post-{pk}"><b>{escape(handle or "")}</b><time>{when:%d %b %Y %H:%M}</time>'
            f"<div>{html}</div></article>"
            for pk, html, handle, when in rows
        ]
        return HttpResponse("<!doctype html><ol>" + "".join(parts) + "</ol>")

    def community_floor(request, community_id):
        rows = (
            Thread.objects.filter(community_id=community_id, visible=True)
            .order_by("-pinned", "-last_post_at", "pk")
            .values_list("pk", "title", "reply_count", "last_post_at", "author__community_profile__handle")[
                :THREADS_PER_PAGE
            ]
        )
        parts = [
            f'<li><a href="t/{pk}/">{escape(title)}</a> {count} <b>{escape(handle or "")}</b> {when:%d %b %Y}</li>'
            for pk, title, count, when, handle in rows
        ]
        return HttpResponse("<!doctype html><ol>" + "".join(parts) + "</ol>")

    def index_floor(request):
        rows = Community.objects.order_by("name", "pk").values_list("slug", "name", "description")[
            :COMMUNITIES_PER_PAGE
        ]
        parts = [f'<li><a href="{slug}/">{escape(name)}</a> {escape(text)}</li>' for slug, name, text in rows]
        return HttpResponse("<!doctype html><ul>" + "".join(parts) + "</ul>")

    module = types.ModuleType("bench_community_urls")
    module.urlpatterns = [
        path("__floor/thread/<uuid:thread_id>/", thread_floor),
        path("__floor/community/<uuid:community_id>/", community_floor),
        path("__floor/index/", index_floor),
        path("", include(settings.ROOT_URLCONF)),
    ]
    return module


# Requests -------------------------------------------------------------------------------------


def percentile(values: list[float], pct: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def queries_of(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return len(captured)


def measure(client, urls: list[str], args) -> tuple[float, float, int, int]:
    """(p50 ms, p95 ms, queries per request, requests measured): ``args.requests`` GETs cycling through
    ``urls`` after ``args.warm``, or fewer (at least 5) when a page takes more than ``args.budget`` seconds."""
    deadline = time.monotonic() + args.budget
    for n in range(args.warm):
        response = client.get(urls[n % len(urls)])
        if response.status_code != 200:
            raise SystemExit(f"{urls[n % len(urls)]} answered {response.status_code}")
        if n >= 1 and time.monotonic() > deadline:
            break
    deadline = time.monotonic() + args.budget
    times = []
    for n in range(args.requests):
        started = time.perf_counter()
        client.get(urls[n % len(urls)])
        times.append((time.perf_counter() - started) * 1000)
        if n >= 4 and time.monotonic() > deadline:
            break
    return statistics.median(times), percentile(times, 95), queries_of(client, urls[0]), len(times)


def search_route() -> str | None:
    """``/community/search/`` when it is a page of its own (not a community named "search")."""
    from django.urls import Resolver404, resolve

    try:
        match = resolve("/community/search/")
    except Resolver404:
        return None
    return "/community/search/" if match.url_name == "search" else None


def profile_thread_page(data: dict, who: str) -> None:
    """cProfile over 50 requests of the thread page: the costliest functions, by own and total time."""
    import cProfile
    import pstats

    from django.test import Client

    from tests.factories import sign_in

    member = Client()
    if who == "member":
        sign_in(member, data["reader"])
    urls = [f"/community/{data['home'].slug}/t/{t.pk}/" for t in data["hot"]]
    for url in urls[:10]:
        member.get(url)
    profiler = cProfile.Profile()
    profiler.enable()
    for n in range(50):
        member.get(urls[n % len(urls)])
    profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(30)
    stats.sort_stats("cumulative").print_stats(60)


def show_thread_queries(data: dict) -> None:
    """The SQL of one thread-page request, as a member and signed out, one statement a line (cut at 300)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from tests.factories import sign_in

    member, anonymous = Client(), Client()
    sign_in(member, data["reader"])
    url = f"/community/{data['home'].slug}/t/{data['hot'][0].pk}/"
    for name, client in (("member", member), ("signed out", anonymous)):
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        print(f"{name}: {len(captured)} queries")
        for n, query in enumerate(captured, 1):
            print(f"  {n:>2}. {query['sql'][:300]}")


def run_pages(data: dict, args) -> list[tuple]:
    from django.test import Client, override_settings

    from tests.factories import sign_in

    member, anonymous = Client(), Client()
    sign_in(member, data["reader"])
    home = data["home"]
    hot = data["hot"]
    thread_urls = [f"/community/{home.slug}/t/{t.pk}/" for t in hot]
    thread_floors = [f"/__floor/thread/{t.pk}/" for t in hot]
    shown = [c for c in data["communities"] if c.visibility == "public"][:5]
    community_urls = [f"/community/{c.slug}/" for c in shown]
    community_floors = [f"/__floor/community/{c.pk}/" for c in shown]

    rows = []
    with override_settings(ROOT_URLCONF=floor_urlconf()):
        pages = [
            ("thread page (member)", member, thread_urls, thread_floors),
            ("thread page (signed out)", anonymous, thread_urls, thread_floors),
            ("community index (member)", member, ["/community/"], ["/__floor/index/"]),
            ("community page (member)", member, community_urls, community_floors),
        ]
        search = search_route()
        if search is None:
            print("note: /community/search/ is not a route yet: the search page is skipped")
        else:
            words = ["walking", "sensor", "stairs", "sleep", "rehab"]
            pages.append(("search (member)", member, [f"{search}?q={w}" for w in words], None))
        for name, client, urls, floors in pages:
            p50, p95, queries, count = measure(client, urls, args)
            floor = measure(client, floors, args)[:3] if floors else None
            rows.append((name, p50, p95, queries, floor))
            floor_text = f"; floor p50 {floor[0]:.1f} p95 {floor[1]:.1f} ms" if floor else ""
            print(f"  measured {name}: {count} requests, p50 {p50:.1f} p95 {p95:.1f} ms{floor_text}", flush=True)
    return rows


def report(rows: list[tuple], vendor: str) -> None:
    header = (
        f"{'page':<26} {'p50 ms':>7} {'p95 ms':>7} {'queries':>7} | {'floor p50':>9} {'floor p95':>9} "
        f"{'floor q':>7} | {'x p50':>6} {'x p95':>6}"
    )
    print(header)
    print("-" * len(header))
    for name, p50, p95, queries, floor in rows:
        if floor is None:
            print(f"{name:<26} {p50:>7.1f} {p95:>7.1f} {queries:>7} | {'-':>9} {'-':>9} {'-':>7} | {'-':>6} {'-':>6}")
            continue
        f50, f95, fq = floor
        print(
            f"{name:<26} {p50:>7.1f} {p95:>7.1f} {queries:>7} | {f50:>9.1f} {f95:>9.1f} {fq:>7} | "
            f"{p50 / f50:>6.2f} {p95 / f95:>6.2f}"
        )
    print()
    thread = next(row for row in rows if row[0] == "thread page (member)")
    _name, _p50, p95, _q, (_f50, f95, _fq) = thread
    if vendor == "postgresql":
        verdict = "met" if p95 < GOAL_P95_MS else "NOT met"
        print(f"goal: thread page p95 < {GOAL_P95_MS:.0f} ms on PostgreSQL: {p95:.1f} ms, {verdict}")
    else:
        print(
            f"goal: thread page p95 < {GOAL_P95_MS:.0f} ms is set for PostgreSQL; on {vendor}: {p95:.1f} ms "
            "(run through scripts/with-services.sh for the PostgreSQL figure)"
        )
    verdict = "met" if p95 <= GOAL_RATIO * f95 else "NOT met"
    print(f"goal: thread page within {GOAL_RATIO:.0f}x of its floor (p95): {p95 / f95:.2f}x, {verdict}")


def main() -> None:
    args = parse_args()
    rng = random.Random(args.seed)
    remove_database = create_database(BENCH_DB)
    try:
        if args.pool:
            use_pool(args.pool)
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        started = time.perf_counter()
        call_command("migrate", verbosity=0, interactive=False)
        migrate_seconds = time.perf_counter() - started
        with connection.cursor() as cursor:
            version = connection.Database.sqlite_version if connection.vendor == "sqlite" else None
            if version is None:
                cursor.execute("SHOW server_version")
                version = cursor.fetchone()[0]
        pooled = f", pool of {args.pool}" if args.pool else ""
        print(f"database: {connection.vendor} {version}{pooled}")
        print(f"migrate: {migrate_seconds:.1f} s")

        started = time.perf_counter()
        data = seed(args.scale, rng)
        print(f"seed total: {time.perf_counter() - started:.1f} s")
        build_search_index()
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"ANALYZE: {time.perf_counter() - started:.1f} s")
        users_n, threads_n, posts_n = data["counts"]
        print()
        print(
            f"{users_n:,} users, {threads_n:,} threads, {posts_n:,} posts; {args.requests} warm requests per page "
            f"after {args.warm}, django.test.Client, one process; thread pages: the first page (50 posts) of "
            f"{len(data['hot'])} threads of 60-120 posts"
        )
        print(
            "floor: a bare view behind the same middleware, one query over the same rows "
            "(posts decrypted), pre-rendered strings joined"
        )
        print()
        if args.profile:
            profile_thread_page(data, args.profile)
            return
        if args.queries:
            show_thread_queries(data)
            return
        load_before = os.getloadavg()[0]
        rows = run_pages(data, args)
        print()
        report(rows, connection.vendor)
        # Server time is CPU time here: other processes on the machine inflate every figure.
        print(
            f"load average (1 min) before/after measuring: {load_before:.1f} / {os.getloadavg()[0]:.1f} "
            f"on {os.cpu_count()} CPUs"
        )
    finally:
        remove_database()


if __name__ == "__main__":
    main()
