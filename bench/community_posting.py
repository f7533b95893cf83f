"""Posting under load: members reply at once to the same hot threads, through the reply action.

Seeds a community like ``bench/community.py`` (at ``--scale``), then starts ``--writers``
threads, each with its own database connection, each posting ``--posts`` replies as members of
the community to the hot threads, all at once. Every reply goes through everything a member's
reply goes through: screening for personal details and crisis language, rendering, encryption,
the thread's counters, the search index, following and notifications (queued), and audit.

It prints the replies per second, the median and 95th percentile time of one reply, how many
were refused and why (a locked database, a slow-mode pace), and then checks that nothing was
lost or counted twice: every reply the action returned is stored once, and each thread's reply
count equals its published replies.

Without ``DATABASE_URL`` it runs on SQLite in a temporary file; through
``scripts/with-services.sh`` it runs on PostgreSQL. Rate limits are lifted for the run (they
would refuse a member's 31st post in an hour, which is what they are for).
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import statistics
import sys
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "example_site")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

from _database import create_database  # noqa: E402  bench/ is on sys.path when a benchmark runs
from community import percentile, seed  # noqa: E402

BENCH_DB = "portal_social_bench_posting"
BODIES = [
    "Ten minutes of walking after lunch made a real difference for me.",
    "My cardiac rehab nurse said the same: slow and steady, every day.",
    "I keep a small notebook of how I feel after each walk. It helps at appointments.",
    "Some days are harder. On those I only walk to the end of the street, and that counts too.",
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=0.02, help="share of the page benchmark's data (default 0.02)")
    parser.add_argument("--writers", type=int, default=4, help="members posting at once (default 4)")
    parser.add_argument("--posts", type=int, default=100, help="replies per writer (default 100)")
    parser.add_argument("--threads", type=int, default=3, help="hot threads the replies go to (default 3)")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


def writer(number: int, members: list, threads: list, posts: int, results: dict, lock: threading.Lock) -> None:
    from django.db import connection

    from portal_social.community import actions

    rng = random.Random(number)
    times, stored, refused = [], [], collections.Counter()
    try:
        for n in range(posts):
            author = members[(number * posts + n) % len(members)]
            thread = threads[rng.randrange(len(threads))]
            started = time.perf_counter()
            try:
                post = actions.reply(author=author, thread=thread, body=f"{rng.choice(BODIES)} ({number}.{n})")
            except Exception as exc:  # counted and named: the figure is how often, and why
                refused[type(exc).__name__] += 1
                continue
            times.append((time.perf_counter() - started) * 1000)
            stored.append(post.pk)
    finally:
        connection.close()
        with lock:
            results["times"].extend(times)
            results["stored"].extend(stored)
            results["refused"].update(refused)


def main() -> None:
    args = parse_args()
    remove_database = create_database(BENCH_DB)
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection
        from django.db.models import Count, Q

        from portal_social.community.models import Membership, Post, Thread

        call_command("migrate", verbosity=0, interactive=False)
        data = seed(args.scale, random.Random(args.seed))
        settings.PORTAL_SOCIAL_RATE_LIMITS = {"community_post": "1000000/h,1000000/h/ip"}
        settings.PORTAL_SOCIAL_COMMUNITY_HELD_FIRST_POSTS = 0
        home = data["home"]
        members = [
            m.user
            for m in Membership.objects.filter(community=home, status=Membership.Status.ACTIVE)
            .select_related("user__community_profile")
            .order_by("pk")
            if hasattr(m.user, "community_profile")
        ]
        threads = list(Thread.objects.filter(pk__in=[t.pk for t in data["hot"][: args.threads]]))
        if not members or not threads:
            raise SystemExit("the seeded community has no members with a community name, or no thread")
        before = {t.pk: Post.objects.filter(thread=t, status=Post.Status.PUBLISHED).count() for t in threads}
        counts_before = {t.pk: t.reply_count for t in threads}
        connection.close()

        print(
            f"\n{args.writers} writers x {args.posts} replies to {len(threads)} threads of '{home.name}' "
            f"({len(members)} members), {connection.vendor}"
        )
        results = {"times": [], "stored": [], "refused": collections.Counter()}
        lock = threading.Lock()
        workers = [
            threading.Thread(target=writer, args=(n, members, threads, args.posts, results, lock))
            for n in range(args.writers)
        ]
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - started

        times = results["times"]
        stored = results["stored"]
        print(f"  replies stored: {len(stored):,} of {args.writers * args.posts:,} in {elapsed:.1f} s")
        if times:
            print(
                f"  throughput: {len(stored) / elapsed:.1f} replies/s; "
                f"one reply p50 {statistics.median(times):.1f} ms, p95 {percentile(times, 95):.1f} ms"
            )
        for name, count in results["refused"].most_common():
            print(f"  refused: {count:,} ({name})")

        # Nothing lost, nothing twice: every returned reply is stored once, and the counters agree.
        unique = Post.objects.filter(pk__in=stored).count()
        counted = Thread.objects.filter(pk__in=before).annotate(
            published=Count("posts", filter=Q(posts__status=Post.Status.PUBLISHED))
        )
        # What the run added to each thread's reply count is what it added to its published posts.
        mismatched = [t for t in counted if t.reply_count - counts_before[t.pk] != t.published - before[t.pk]]
        added = sum(t.published for t in counted) - sum(before.values())
        print(f"  check: {unique:,} of {len(stored):,} returned replies stored once; {added:,} published added")
        agreed = len(counted) - len(mismatched)
        print(f"  check: the reply counts grew by the replies published in {agreed} of {len(counted)} threads")
        load_after = os.getloadavg()[0]
        print(f"  load average (1 min) before/after: {load_before:.1f} / {load_after:.1f} on {os.cpu_count()} CPUs")
        if unique != len(stored) or mismatched or added != len(stored):
            raise SystemExit("a reply was lost or counted twice")
    finally:
        remove_database()


if __name__ == "__main__":
    main()
