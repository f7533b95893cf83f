"""Server time and queries per request of the clinician directory, on a throwaway database.

Run from the repository root::

    .venv/bin/python bench/profiles.py [--count 5000] [--requests 200] [--seed 1]
    scripts/with-services.sh .venv/bin/python bench/profiles.py --count 5000   # PostgreSQL

Uses the test settings (``tests.settings``). Without ``DATABASE_URL`` it runs
on SQLite in a temporary file; with ``DATABASE_URL`` (PostgreSQL) it creates
a database named ``portal_social_bench`` next to the one named there, and
drops it at the end. Either way it migrates, seeds ``--count`` published
clinicians under a directory page with taxonomies and ratings, builds the
search index, and then issues ``--requests`` GET requests through
``django.test.Client`` (no network) spread over a mix of directory URLs: no
filter, a specialty, a language with accepting new patients, a name search, a
specialty word search combined with filters, sort by rating, and a deep page.

Prints, per kind of URL and overall, p50/p95/max server time in milliseconds
and the queries per request, plus the database vendor and version: once as
loaded, and once more after ``ANALYZE``. Without planner statistics SQLite
drives modelsearch's FTS5 subquery from the index-entry table instead of the
full-text match, which costs about 30 ms a search query at 5,000 clinicians;
after ``ANALYZE`` it matches first and the search costs well under 1 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlencode

from _database import create_database  # bench/ is on sys.path when a benchmark runs

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "example_site")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

BENCH_DB = "portal_social_bench"
#: The results heading of the directory page: "1,234 clinicians found".
FOUND = re.compile(r"([0-9,]+) clinicians? found")

# fmt: off
FIRST = [
    "Ana", "Bob", "Carla", "Dan", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jamal", "Kofi", "Lena", "Mateo",
    "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tara", "Uma", "Victor", "Wen", "Ximena", "Yusuf", "Zoe",
    "Aaron", "Beatriz", "Chen", "Dmitri",
]
LAST = [
    "Lopez", "Smith", "Garcia", "Nguyen", "Okafor", "Patel", "Kim", "Johnson", "Williams", "Brown", "Jones",
    "Miller", "Davis", "Rodriguez", "Martinez", "Hernandez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
    "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis",
    "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Hill", "Flores", "Green", "Adams",
    "Nelson", "Baker", "Hall",
]
SPECIALTIES = [
    "Allergy and immunology", "Anesthesiology", "Cardiology", "Cardiac surgery", "Dermatology",
    "Emergency medicine", "Endocrinology", "Family medicine", "Gastroenterology", "Geriatrics", "Hematology",
    "Infectious disease", "Internal medicine", "Nephrology", "Neurology", "Neurosurgery",
    "Obstetrics and gynecology", "Oncology", "Ophthalmology", "Orthopedic surgery", "Otolaryngology",
    "Palliative care", "Pathology", "Pediatrics", "Physical medicine", "Plastic surgery", "Podiatry", "Psychiatry",
    "Pulmonology", "Radiology", "Rheumatology", "Sleep medicine", "Sports medicine", "General surgery",
    "Thoracic surgery", "Urology", "Vascular surgery", "Midwifery", "Nurse practitioner", "Physician assistant",
]
LANGUAGES = [
    "English", "Spanish", "Vietnamese", "Mandarin", "Cantonese", "Arabic", "French", "Haitian-Creole", "Portuguese",
    "Russian", "Korean", "Tagalog",
]
CONDITIONS = [
    "Heart failure", "Atrial fibrillation", "Hypertension", "Diabetes", "Asthma", "COPD", "Migraine", "Epilepsy",
    "Arthritis", "Back pain", "Depression", "Anxiety", "Eczema", "Psoriasis", "Acne", "Kidney stones",
    "Chronic kidney disease", "Thyroid disease", "Obesity", "Sleep apnea", "Cataracts", "Glaucoma", "Breast cancer",
    "Prostate cancer", "Lung cancer", "Anemia", "Crohn disease", "Osteoporosis", "Pregnancy", "Menopause",
    "Allergies", "Sinusitis", "Stroke", "Parkinson disease", "Dementia", "Concussion",
]
LOCATIONS = [
    f"{name} Clinic"
    for name in ("Main", "North", "South", "East", "West", "River", "Lake", "Hill", "Park", "Valley", "Harbor", "Mill")
]
# fmt: on


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=5000, help="clinicians to seed (default 5000)")
    parser.add_argument("--requests", type=int, default=200, help="measured requests (default 200)")
    parser.add_argument("--seed", type=int, default=1, help="random seed for data and URLs")
    return parser.parse_args()


# Seeding ----------------------------------------------------------------------------------------


def valid_npi(n: int) -> str:
    from portal_social.profiles.npi import npi_is_valid

    base = f"{100000000 + n:09d}"
    return next(base + d for d in "0123456789" if npi_is_valid(base + d))


def seed(count: int, rng: random.Random) -> dict:
    from django.core.management import call_command
    from django.test import override_settings
    from django.utils.text import slugify
    from wagtail.models import Site

    from portal_social.profiles.models import (
        ClinicianIndexPage,
        ClinicianPage,
        ClinicianRating,
        Condition,
        Language,
        Location,
        Specialty,
    )

    timings = {}
    started = time.perf_counter()
    specialties = [Specialty.objects.create(name=n, slug=slugify(n)) for n in SPECIALTIES]
    languages = [Language.objects.create(name=n, slug=slugify(n)) for n in LANGUAGES]
    conditions = [Condition.objects.create(name=n, slug=slugify(n)) for n in CONDITIONS]
    locations = [
        Location.objects.create(
            name=n,
            slug=slugify(n),
            address=f"{i + 1} Health Way\nSpringfield, IL 627{i:02d}",
            phone=f"+1 217 555 01{i:02d}",
        )
        for i, n in enumerate(LOCATIONS)
    ]
    home = Site.objects.get(is_default_site=True).root_page
    directory = ClinicianIndexPage(title="Find a clinician", slug="clinicians")
    home.add_child(instance=directory)

    # Search indexing is a background task; run it once, in bulk, after seeding.
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}):
        directory.save_revision().publish()
        pages = []
        ratings = []
        for n in range(count):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            rated = rng.random() < 0.6
            rating_count = rng.choice([rng.randint(1, 29), rng.randint(30, 400)]) if rated else 0
            page = ClinicianPage(
                title=f"{first} {last}",
                slug=f"{first}-{last}-{n}".lower(),
                first_name=first,
                last_name=last,
                credentials=rng.choice(["MD", "DO", "MD, PhD", "NP", "PA-C"]),
                npi=valid_npi(n),
                accepting_new_patients=rng.random() < 0.7,
                telehealth=rng.random() < 0.4,
                bio=f"<p>{first} {last} cares for patients at our {rng.choice(LOCATIONS)}.</p>",
            )
            directory.add_child(instance=page)
            pages.append(page)
            if rated:
                ratings.append(
                    ClinicianRating(clinician_id=page.pk, count=rating_count, average=round(rng.uniform(2.5, 5.0), 2))
                )
        ClinicianRating.objects.bulk_create(ratings, batch_size=2000)
    timings["pages"] = time.perf_counter() - started

    started = time.perf_counter()
    links = {
        ClinicianPage.specialties.through: ("specialty_id", specialties, (1, 2)),
        ClinicianPage.languages.through: ("language_id", languages, (1, 3)),
        ClinicianPage.conditions.through: ("condition_id", conditions, (2, 5)),
        ClinicianPage.locations.through: ("location_id", locations, (1, 2)),
    }
    for through, (column, choices, (low, high)) in links.items():
        rows = []
        for page in pages:
            for choice in rng.sample(choices, rng.randint(low, high)):
                rows.append(through(clinicianpage_id=page.pk, **{column: choice.pk}))
        through.objects.bulk_create(rows, batch_size=2000)
    # English is spoken by most clinicians; Spanish by many.
    english, spanish = languages[0], languages[1]
    rows = [
        ClinicianPage.languages.through(clinicianpage_id=page.pk, language_id=lang.pk)
        for page in pages
        for lang in (english, spanish)
        if rng.random() < (0.8 if lang is english else 0.3)
    ]
    ClinicianPage.languages.through.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    timings["taxonomy links"] = time.perf_counter() - started

    started = time.perf_counter()
    call_command("update_index", verbosity=0)
    timings["search index"] = time.perf_counter() - started
    return {"directory": directory, "timings": timings, "specialties": specialties, "languages": languages}


# Requests -------------------------------------------------------------------------------------------


def url_mix(base: str, data: dict, count: int, rng: random.Random) -> list[tuple[str, str]]:
    specialties = [s.slug for s in data["specialties"]]
    languages = [lang.slug for lang in data["languages"]]
    words = [s.name.split()[0].lower() for s in data["specialties"]]
    pages = max(count // 20, 1)
    kinds = {
        "no filter": lambda: {},
        "specialty": lambda: {"specialty": rng.choice(specialties)},
        "language+accepting": lambda: {"language": rng.choice(languages), "accepting": "1"},
        "q name": lambda: {"q": rng.choice(LAST)},
        "q word+filters": lambda: {"q": rng.choice(words), "language": "english", "telehealth": "1"},
        "sort=rating": lambda: {"sort": "rating", "page": str(rng.randint(1, 5))},
        "page=N": lambda: {"page": str(rng.randint(2, pages))},
    }
    names = list(kinds)
    mix = []
    for i in range(count):
        kind = names[i % len(names)]
        params = kinds[kind]()
        mix.append((kind, f"{base}?{urlencode(params)}" if params else base))
    return mix


def percentile(values: list[float], pct: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def measure(mix: list[tuple[str, str]]) -> dict[str, list[tuple[float, int, int]]]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    for _kind, url in mix[:10]:  # warm: templates, content types, site root paths
        client.get(url)
    results: dict[str, list[tuple[float, int, int]]] = defaultdict(list)
    for kind, url in mix:
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        found = FOUND.search(response.content.decode())
        results[kind].append(
            (elapsed, len(queries.captured_queries), int(found.group(1).replace(",", "")) if found else -1)
        )
    return results


def report(results: dict[str, list[tuple[float, int, int]]]) -> None:
    header = (
        f"{'URL kind':<20} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>9} {'results (median)':>17}"
    )
    print(header)
    print("-" * len(header))
    everything = []
    for kind, rows in results.items():
        everything.extend(rows)
        times = [r[0] for r in rows]
        queries = sorted({r[1] for r in rows})
        query_text = str(queries[0]) if len(queries) == 1 else f"{queries[0]}-{queries[-1]}"
        print(
            f"{kind:<20} {len(rows):>4} {statistics.median(times):>8.1f} {percentile(times, 95):>8.1f} "
            f"{max(times):>8.1f} {query_text:>9} {statistics.median(r[2] for r in rows):>17.0f}"
        )
    times = [r[0] for r in everything]
    queries = sorted({r[1] for r in everything})
    print("-" * len(header))
    print(
        f"{'all':<20} {len(everything):>4} {statistics.median(times):>8.1f} {percentile(times, 95):>8.1f} "
        f"{max(times):>8.1f} {f'{queries[0]}-{queries[-1]}':>9}"
    )


def main() -> None:
    args = parse_args()
    rng = random.Random(args.seed)
    remove_database = create_database(BENCH_DB)
    try:
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
        print(f"database: {connection.vendor} {version}")
        print(f"migrate: {migrate_seconds:.1f} s")

        data = seed(args.count, rng)
        for step, seconds in data["timings"].items():
            print(f"seed {step}: {seconds:.1f} s")
        base = data["directory"].url
        mix = url_mix(base, data, args.requests, rng)
        print(f"{args.count} clinicians under {base}; {args.requests} requests, django.test.Client, one process")
        print()
        print("As loaded (no planner statistics yet):")
        report(measure(mix))
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print()
        print("After ANALYZE (what a routine PRAGMA optimize / autovacuum gives a live site):")
        report(measure(mix))
    finally:
        remove_database()


if __name__ == "__main__":
    main()
