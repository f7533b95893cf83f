"""Server time of the feedback reports page (and its neighbours) over 100,000 cases, on SQLite and PostgreSQL.

Run from the repository root::

    .venv/bin/python bench/feedback.py                          # both stacks, 100,000 cases each
    .venv/bin/python bench/feedback.py --scale 0.05             # 5,000 cases, for a quick look
    .venv/bin/python bench/feedback.py --stack sqlite           # SQLite only
    scripts/with-services.sh .venv/bin/python bench/feedback.py --stack postgres

Uses the test settings (``tests.settings``), like ``bench/community.py``.
``--stack sqlite`` runs on SQLite in a temporary file. ``--stack postgres``
needs ``DATABASE_URL`` (PostgreSQL); without it the bench runs itself under
``scripts/with-services.sh``, which starts private PostgreSQL and Redis
instances and stops them at the end. It creates a database named
``portal_social_bench_feedback`` next to the one named there
(``bench/_database.py``) and drops it at the end. ``--stack both`` (the
default) runs the two one after the other, each in a process of its own,
and prints their figures side by side.

Each run migrates (the nine default categories come from the migration),
then seeds, at ``--scale`` 1:

* five teams (three PX offices, billing, risk management) with 20 members,
  5,000 patients, five sites, six service lines and 30 published clinician
  pages;
* 100,000 cases received over the last two years, across every channel,
  type, status, severity and priority, with SLA fields as the clocks would
  leave them (deadlines; acknowledgement, first reply and resolution times,
  some late and listed in ``breaches``; paused cases awaiting the patient;
  escalations), about 2 % with medical risk (owned by risk management),
  10 % about past experience, outcomes on resolved cases (taken offline,
  review updated…), references ``PX-<year>-<number>`` numbered in order of
  receipt, one or two categories each and a clinician on a quarter.

Rows go in with ``bulk_create``, not through the intake actions, which
would take hours at this size (numbering, routing, clocks, timeline and
audit for each case): the cases have no timeline events and no audit
trail, which the measured pages do not read. What people wrote is
encrypted at rest, so it is left empty except on 1 % of the cases (the tip
sheet quotes those).

Then, after ``ANALYZE``, a PX staff member with TOTP (a session that passed
the second factor, ``tests/factories.sign_in``) sends ``--warm`` unmeasured
and ``--requests`` measured GETs per page through ``django.test.Client``
(the real URL configuration, middleware and views; no network), and the
bench prints p50, p95 and maximum server time in milliseconds and the SQL
queries of one request, for:

* ``/px/reports/`` with the default period (the last 12 weeks, by week);
* ``/px/reports/?from=<two years ago>&to=<today>&by=month``, every case;
* ``/px/reports/export.csv`` (the default period);
* ``/px/reports/tips/`` (the default period);
* ``/px/?queue=open``, the workspace's "All open" queue.

``--slowest N`` lists the N slowest SQL statements of one request of each
page. The goal printed against: the reports page under 500 ms on
PostgreSQL at 100,000 cases.

This is a benchmark: it prints figures and asserts nothing. It is not part
of the test suite.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _database import create_database  # bench/ is on sys.path when a benchmark runs

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "example_site")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

BENCH_DB = "portal_social_bench_feedback"
FULL_CASES = 100_000
DAYS = 730
BATCH = 2_000
GOAL_MS = 500.0
UNDER_SERVICES = "PORTAL_SOCIAL_BENCH_FEEDBACK_UNDER_SERVICES"

TEAMS = [
    ("Patient relations", "patient-relations", {"fallback": True}),
    ("North campus patient experience", "north-px", {}),
    ("South campus patient experience", "south-px", {}),
    ("Billing office", "billing-office", {}),
    ("Risk management", "risk-management", {"risk_management": True}),
]
SITES = ["Main Hospital", "North Campus", "South Campus", "Riverside Clinic", "Lakeside Medical Center"]
SERVICE_LINES = ["Cardiovascular", "Women's health", "Emergency", "Orthopedics", "Oncology", "Primary care"]
FIRST = ["Avery", "Jordan", "Priya", "Samuel", "Mei", "Omar", "Grace", "Luis", "Hannah", "Kwame"]
LAST = ["Nguyen", "Patel", "Okafor", "Garcia", "Kim", "Novak", "Haddad", "Brown", "Silva", "Larsen"]

# Weights: how often each value turns up.
CHANNELS = {
    "portal": 30, "review": 14, "community": 4, "social": 8, "api": 6,
    "phone": 16, "letter": 3, "email": 11, "in_person": 6, "import": 2,
}  # fmt: skip
TYPES = {"compliment": 22, "suggestion": 10, "question": 14, "complaint": 46, "grievance": 8}
SEVERITIES = {"low": 35, "medium": 45, "high": 16, "critical": 4}
PLATFORMS = ["facebook", "x", "instagram", "google", "yelp", "other"]
PUBLIC = ("social", "review", "community")
OPEN_STATUSES = {"new": 25, "acknowledged": 30, "investigating": 30, "awaiting_patient": 15}
SENTENCES = [
    "The front desk was rude when I asked about my bill.",
    "I waited two hours past my appointment time without any update.",
    "Nobody called me back after I left three messages.",
    "The nurse explained everything clearly and kindly.",
    "The parking garage was full and the signs were confusing.",
    "I was charged twice for the same visit.",
    "My test results took weeks to appear in the portal.",
    "The room was not clean when we arrived.",
    "The doctor did not listen to my concerns about the medication.",
    "Scheduling a follow-up took four phone calls.",
]
HOUR = datetime.timedelta(hours=1)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="share of the 100,000 cases (default 1)")
    parser.add_argument("--stack", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--requests", type=int, default=20, help="measured requests per page (default 20)")
    parser.add_argument("--warm", type=int, default=3, help="unmeasured requests per page first (default 3)")
    parser.add_argument("--seed", type=int, default=1, help="random seed for the data")
    parser.add_argument("--slowest", type=int, default=3, help="list the N slowest SQL statements of each page")
    parser.add_argument("--results", help=argparse.SUPPRESS)  # where a run of one stack writes its figures
    return parser.parse_args()


# Running on each stack ------------------------------------------------------------------------------


def _child_args(args, stack: str, results: str) -> list[str]:
    return [
        str(Path(__file__).resolve()),
        "--stack",
        stack,
        "--scale",
        str(args.scale),
        "--requests",
        str(args.requests),
        "--warm",
        str(args.warm),
        "--seed",
        str(args.seed),
        "--slowest",
        str(args.slowest),
        "--results",
        results,
    ]


def _is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://"))


def run_both(args) -> None:
    """SQLite, then PostgreSQL, each in a process of its own; then their figures side by side."""
    folder = tempfile.mkdtemp(prefix="portal-social-bench-feedback-")
    figures = {}
    for stack in ("sqlite", "postgres"):
        results = str(Path(folder) / f"{stack}.json")
        env = dict(os.environ)
        command = [sys.executable, *_child_args(args, stack, results)]
        if stack == "sqlite":
            env.pop("DATABASE_URL", None)
            env.pop("REDIS_URL", None)
        elif not _is_postgres(env.get("DATABASE_URL", "")):
            env[UNDER_SERVICES] = "1"
            command = ["bash", str(REPO_ROOT / "scripts" / "with-services.sh"), *command]
        print(f"=== {stack} ===", flush=True)
        status = subprocess.run(command, env=env, check=False).returncode
        if status:
            print(f"{stack}: the run failed (exit status {status})", flush=True)
            continue
        figures[stack] = json.loads(Path(results).read_text())
        print(flush=True)
    if figures:
        print("=== summary ===")
        summary(figures)


def summary(figures: dict) -> None:
    stacks = list(figures)
    first = figures[stacks[0]]
    print(f"{first['cases']:,} cases; seeding: " + ", ".join(f"{s} {figures[s]['seed_s']:.1f} s" for s in stacks))
    header = f"{'page':<34}" + "".join(f" | {s + ' p50/p95/max ms':>30} {'queries':>7}" for s in stacks)
    print(header)
    print("-" * len(header))
    for n, row in enumerate(first["pages"]):
        line = f"{row['name']:<34}"
        for s in stacks:
            other = figures[s]["pages"][n]
            times = f"{other['p50']:.0f} / {other['p95']:.0f} / {other['max']:.0f}"
            line += f" | {times:>30} {other['queries']:>7}"
        print(line)
    if "postgres" in figures:
        goal(figures["postgres"])


def goal(figures: dict) -> None:
    page = figures["pages"][0]
    verdict = "met" if page["p95"] < GOAL_MS else "NOT met"
    print(
        f"goal: reports page (12 weeks) under {GOAL_MS:.0f} ms on PostgreSQL at {figures['cases']:,} cases: "
        f"p50 {page['p50']:.0f} ms, p95 {page['p95']:.0f} ms, {verdict}"
    )


def run_under_services() -> None:
    """``--stack postgres`` without PostgreSQL in the environment: run again under scripts/with-services.sh."""
    if os.environ.get(UNDER_SERVICES):
        raise SystemExit("scripts/with-services.sh did not give a PostgreSQL DATABASE_URL")
    os.environ[UNDER_SERVICES] = "1"
    script = str(REPO_ROOT / "scripts" / "with-services.sh")
    print("no PostgreSQL DATABASE_URL: running under scripts/with-services.sh", flush=True)
    os.execv("/bin/bash", ["bash", script, sys.executable, str(Path(__file__).resolve()), *sys.argv[1:]])


# Seeding ----------------------------------------------------------------------------------------


def _pick(rng: random.Random, weights: dict) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _step(name: str, started: float, note: str = "") -> None:
    print(f"  seed {name:<26} {time.perf_counter() - started:>7.1f} s  {note}", flush=True)


def _person(username: str, role: str | None, **fields):
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    from portal_social.core import roles

    user = get_user_model().objects.create(username=username, email=f"{username}@example.org", **fields)
    user.set_unusable_password()  # sessions are made directly: the bench measures the portal, not the hash
    user.save(update_fields=["password"])
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    if role:
        roles.grant_role(user=user, role=role)
    return user


def seed_setup(rng: random.Random, scale: float) -> dict:
    """Teams and their members, patients, sites, service lines and clinician pages."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.test import override_settings
    from wagtail.models import Site

    from portal_social.core import roles
    from portal_social.feedback.models import Category, ServiceLine, Team, TeamMember
    from portal_social.profiles.models import ClinicianIndexPage, ClinicianPage, Location
    from portal_social.profiles.npi import npi_is_valid
    from tests.factories import enrol_totp

    User = get_user_model()
    started = time.perf_counter()
    teams = [Team.objects.create(name=name, slug=slug, **flags) for name, slug, flags in TEAMS]
    members: dict = {}
    for t, team in enumerate(teams):
        risk = team.risk_management
        people = [
            _person(
                f"px{t}{n}",
                roles.RISK_MANAGER if risk else roles.PATIENT_EXPERIENCE,
                first_name=rng.choice(FIRST),
                last_name=rng.choice(LAST),
            )
            for n in range(2 if risk else 4 + (t == 0) * 2)
        ]
        for person in people:
            TeamMember.objects.create(team=team, user=person)
        team.lead = people[0]
        team.save(update_fields=["lead"])
        members[team.pk] = [p.pk for p in people]
    reader = User.objects.get(username="px00")  # the measured PX staff member (not a risk manager)
    enrol_totp(reader)
    patients_n = max(int(5_000 * scale), 100)
    patients_group = Group.objects.get(name=roles.GROUP_NAMES[roles.PATIENT])
    User.objects.bulk_create(
        [
            User(username=f"patient{n:05d}", email=f"patient{n:05d}@example.org", password="!unusable")
            for n in range(patients_n)
        ],
        batch_size=BATCH,
    )
    patients = list(User.objects.filter(username__startswith="patient").values_list("pk", flat=True))
    User.groups.through.objects.bulk_create(
        [User.groups.through(user_id=pk, group_id=patients_group.pk) for pk in patients], batch_size=BATCH
    )
    _step("teams and people", started, f"{sum(map(len, members.values()))} staff, {patients_n:,} patients")

    started = time.perf_counter()
    sites = [
        Location.objects.create(name=name, slug=name.lower().replace(" ", "-"), address=f"{n + 1} Health Way")
        for n, name in enumerate(SITES)
    ]
    lines = [
        ServiceLine.objects.create(name=name, slug=name.lower().replace("'", "").replace(" ", "-"))
        for name in SERVICE_LINES
    ]
    home = Site.objects.get(is_default_site=True).root_page
    directory = ClinicianIndexPage(title="Find a clinician", slug="clinicians")
    home.add_child(instance=directory)
    clinicians = []
    # Search indexing is a background task: not run here (the measured pages do not search).
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}):
        for n in range(30):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            base = f"{200000000 + n:09d}"
            page = ClinicianPage(
                title=f"{first} {last}",
                slug=f"{first}-{last}-{n}".lower(),
                first_name=first,
                last_name=last,
                npi=next(base + d for d in "0123456789" if npi_is_valid(base + d)),
            )
            directory.add_child(instance=page)
            clinicians.append(page.pk)
    _step("sites, lines, clinicians", started, f"{len(sites)} sites, {len(lines)} lines, {len(clinicians)} pages")
    categories = {c.slug: c for c in Category.objects.all()}
    return {
        "teams": teams,
        "members": members,
        "reader": reader,
        "patients": patients,
        "sites": [s.pk for s in sites],
        "lines": [line.pk for line in lines],
        "clinicians": clinicians,
        "categories": categories,
    }


def _case(rng: random.Random, setup: dict, received: datetime.datetime, now: datetime.datetime):
    """One case as the intake actions and a team working it would leave it (no timeline)."""
    from portal_social.feedback.models import Case

    channel, type_ = _pick(rng, CHANNELS), _pick(rng, TYPES)
    severity = _pick(rng, SEVERITIES)
    categories = set(rng.sample([s for s in setup["categories"] if s != "patient-safety"], rng.choice((1, 1, 2))))
    medical_risk = rng.random() < 0.02
    if medical_risk:
        categories.add("patient-safety")
        severity = rng.choice(("high", "critical"))
    teams = setup["teams"]
    if medical_risk:
        team = teams[4]
    elif "billing" in categories:
        team = teams[3]
    else:
        team = teams[rng.choice((0, 0, 1, 2))]
    age = now - received
    if age < datetime.timedelta(days=21):
        status = _pick(rng, OPEN_STATUSES) if rng.random() < 0.65 else rng.choice(("resolved", "closed"))
    else:
        status = _pick(rng, OPEN_STATUSES) if rng.random() < 0.03 else rng.choice(("resolved", "closed", "closed"))
    patient = rng.choice(setup["patients"]) if rng.random() < 0.6 else None
    case = Case(
        channel=channel,
        type=type_,
        severity=severity,
        priority=2 if severity == "critical" else (1 if rng.random() < 0.08 else 0),
        site_id=rng.choice(setup["sites"]) if rng.random() < 0.9 else None,
        service_line_id=rng.choice(setup["lines"]) if rng.random() < 0.8 else None,
        past_experience=rng.random() < 0.1,
        patient_id=patient,
        submitted_by_id=patient if channel == "portal" else None,
        shared_with_submitter=channel == "portal" and patient is not None,
        contact_requested=rng.random() < 0.3,
        status=status,
        team=team,
        owner_id=rng.choice(setup["members"][team.pk]) if status != "new" or rng.random() < 0.6 else None,
        medical_risk=medical_risk,
        risk_source="category" if medical_risk else "",
        received_at=received,
        created_at=received,
    )
    if channel == "social":
        case.platform = rng.choice(PLATFORMS)
        case.post_public = rng.random() < 0.7
    if rng.random() < 0.01:  # written words: encrypted, and quoted by the tip sheet
        words = " ".join(rng.sample(SENTENCES, 2))
        case.summary, case.description_source, case.description_html = words[:60], words, f"<p>{words}</p>"

    # Clocks: deadlines from receipt (business time approximated by real time), met on time or late.
    breaches = []
    if channel in PUBLIC:
        case.first_reply_due_at = received + HOUR * rng.choice((1, 2, 4))
    acknowledge_hours = 2 if severity == "critical" else (48 if type_ in ("compliment", "suggestion") else 24)
    case.acknowledge_due_at = received + HOUR * acknowledge_hours
    if type_ in ("question", "complaint", "grievance"):
        resolve_hours = 168 if type_ == "grievance" else (24 if severity == "critical" else 72)
        case.resolve_due_at = received + HOUR * resolve_hours
    worked = status != "new"
    if case.first_reply_due_at and (worked or rng.random() < 0.5):
        case.first_replied_at = received + HOUR * rng.uniform(0.1, 6)
    if worked:
        case.acknowledged_at = received + HOUR * rng.expovariate(1 / (acknowledge_hours * 0.45))
    if status in ("resolved", "closed"):
        spread = (case.resolve_due_at - received) / HOUR if case.resolve_due_at else 96
        case.resolved_at = max(case.acknowledged_at, received + HOUR * rng.expovariate(1 / (spread * 0.55)))
        if status == "closed":
            case.closed_at = case.resolved_at + HOUR * rng.uniform(1, 240)
        public = channel in PUBLIC
        outcomes = {
            "resolved": 25 if public else 55,
            "offline": 35 if public else 0,
            "review_updated": 25 if channel == "review" else 0,
            "explained": 10 if public else 20,
            "no_response": 10 if public else 15,
            "not_actionable": 5 if public else 10,
        }
        case.outcome = _pick(rng, outcomes)
        if channel == "portal" and rng.random() < 0.5:
            case.survey_sent_at = case.resolved_at + HOUR
            case.survey_score = rng.randint(1, 5) if rng.random() < 0.4 else None
    if status == "awaiting_patient":
        case.paused_since = min(now, (case.acknowledged_at or received) + HOUR * rng.uniform(1, 48))
    if status in Case.OPEN_STATUSES and rng.random() < 0.03:
        case.escalated_at = received + HOUR * rng.uniform(1, 24)
    for clock, due, met in (
        ("first_reply", case.first_reply_due_at, case.first_replied_at),
        ("acknowledge", case.acknowledge_due_at, case.acknowledged_at),
        ("resolve", case.resolve_due_at, case.resolved_at),
    ):
        if due and ((met and met > due) or (not met and due < now and case.paused_since is None)):
            breaches.append(clock)
    case.breaches = breaches
    clinician = rng.choice(setup["clinicians"]) if rng.random() < 0.25 else None
    return case, categories, clinician


def seed_cases(rng: random.Random, setup: dict, count: int) -> None:
    """``count`` cases over the last two years, numbered per year in order of receipt, with their categories."""
    from django.utils import timezone

    from portal_social.feedback.models import Case, CaseCounter

    now = timezone.now()
    started = time.perf_counter()
    # Volume grows a little over the two years (weights on the age in days).
    received = sorted(
        now - datetime.timedelta(days=DAYS * (1 - rng.random() ** 0.85), seconds=rng.randint(0, 86399))
        for _ in range(count)
    )
    received = [min(when, now - datetime.timedelta(minutes=5)) for when in received]
    numbers: dict[int, int] = {}
    categories = setup["categories"]
    written = 0
    links, clinician_links = [], []
    batch = []
    for when in received:
        case, slugs, clinician = _case(rng, setup, when, now)
        year = timezone.localtime(when).year
        numbers[year] = numbers.get(year, 0) + 1
        case.reference = f"PX-{year}-{numbers[year]:06d}"
        batch.append(case)
        links += [Case.categories.through(case_id=case.pk, category_id=categories[slug].pk) for slug in slugs]
        if clinician:
            clinician_links.append(Case.clinicians.through(case_id=case.pk, clinicianpage_id=clinician))
        if len(batch) >= BATCH:
            Case.objects.bulk_create(batch)
            written += len(batch)
            batch = []
    if batch:
        Case.objects.bulk_create(batch)
        written += len(batch)
    CaseCounter.objects.bulk_create([CaseCounter(year=year, last=last) for year, last in numbers.items()])
    elapsed = time.perf_counter() - started
    _step("cases", started, f"{written:,} cases, {written / elapsed:,.0f}/s")
    started = time.perf_counter()
    Case.categories.through.objects.bulk_create(links, batch_size=BATCH * 5)
    Case.clinicians.through.objects.bulk_create(clinician_links, batch_size=BATCH * 5)
    _step("categories, clinicians", started, f"{len(links):,} category and {len(clinician_links):,} clinician links")


# Requests -------------------------------------------------------------------------------------------


def percentile(values: list[float], pct: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def measure(client, name: str, url: str, args) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(args.warm):
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
    times = []
    for _ in range(args.requests):
        started = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    row = {
        "name": name,
        "url": url,
        "p50": statistics.median(times),
        "p95": percentile(times, 95),
        "max": max(times),
        "queries": len(captured),
        "sql_ms": sum(float(q["time"]) for q in captured.captured_queries) * 1000,
    }
    print(
        f"  {name:<34} p50 {row['p50']:>7.1f}  p95 {row['p95']:>7.1f}  max {row['max']:>7.1f} ms  "
        f"{row['queries']:>3} queries ({row['sql_ms']:.0f} ms of SQL in one request)",
        flush=True,
    )
    if args.slowest:
        slowest = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[: args.slowest]
        for query in slowest:
            sql = " ".join(query["sql"].split())
            print(f"      {float(query['time']) * 1000:>7.1f} ms  {sql[:220]}{'…' if len(sql) > 220 else ''}")
    return row


def run_pages(reader, args) -> list[dict]:
    from django.test import Client
    from django.utils import timezone

    from tests.factories import sign_in

    client = Client()
    sign_in(client, reader)
    today = timezone.localdate()
    since = today - datetime.timedelta(days=DAYS)
    pages = [
        ("reports, last 12 weeks", "/px/reports/"),
        ("reports, two years by month", f"/px/reports/?from={since.isoformat()}&to={today.isoformat()}&by=month"),
        ("export.csv, last 12 weeks", "/px/reports/export.csv"),
        ("tip sheet, last 12 weeks", "/px/reports/tips/"),
        ("workspace, all open", "/px/?queue=open"),
    ]
    return [measure(client, name, url, args) for name, url in pages]


def run_stack(args) -> None:
    rng = random.Random(args.seed)
    remove_database = create_database(BENCH_DB)
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from portal_social.feedback.models import Case

        started = time.perf_counter()
        call_command("migrate", verbosity=0, interactive=False)
        migrate_seconds = time.perf_counter() - started
        with connection.cursor() as cursor:
            version = connection.Database.sqlite_version if connection.vendor == "sqlite" else None
            if version is None:
                cursor.execute("SHOW server_version")
                version = cursor.fetchone()[0]
        print(f"database: {connection.vendor} {version}; migrate: {migrate_seconds:.1f} s", flush=True)

        count = max(int(FULL_CASES * args.scale), 200)
        print(f"seeding {count:,} cases over {DAYS} days")
        started = time.perf_counter()
        setup = seed_setup(rng, args.scale)
        seed_cases(rng, setup, count)
        seed_seconds = time.perf_counter() - started
        print(f"seed total: {seed_seconds:.1f} s")
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"ANALYZE: {time.perf_counter() - started:.1f} s")
        open_n = Case.objects.filter(status__in=Case.OPEN_STATUSES).count()
        print()
        print(
            f"{count:,} cases ({open_n:,} open); {args.requests} requests per page after {args.warm}, "
            f"django.test.Client, one process, as a PX staff member with TOTP"
        )
        load_before = os.getloadavg()[0]
        pages = run_pages(setup["reader"], args)
        # Server time is CPU time here: other processes on the machine inflate every figure.
        print(
            f"load average (1 min) before/after measuring: {load_before:.1f} / {os.getloadavg()[0]:.1f} "
            f"on {os.cpu_count()} CPUs"
        )
        figures = {"vendor": connection.vendor, "cases": count, "seed_s": seed_seconds, "pages": pages}
        if connection.vendor == "postgresql":
            goal(figures)
        if args.results:
            Path(args.results).write_text(json.dumps(figures))
    finally:
        remove_database()


def main() -> None:
    args = parse_args()
    if args.stack == "both":
        run_both(args)
        return
    if args.stack == "postgres" and not _is_postgres(os.environ.get("DATABASE_URL", "")):
        run_under_services()
    if args.stack == "sqlite":
        os.environ.pop("DATABASE_URL", None)
        os.environ.pop("REDIS_URL", None)
    run_stack(args)


if __name__ == "__main__":
    main()
