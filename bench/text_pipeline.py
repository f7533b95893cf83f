"""Throughput of the text pipeline on realistic ~1 KB Markdown posts, one core.

Run from the repository root::

    .venv/bin/python bench/text_pipeline.py [--posts 2000] [--repeat 5]

Prints posts per second (best of ``--repeat`` runs, ``time.perf_counter``) for:
nh3.clean with its defaults (the floor: what sanitising alone costs), the
cmark-gfm step alone, ``sanitise`` alone (on cmark's output), the whole
``render``, and, when ``portal_social.core.phi.scan`` exists, ``scan`` alone
and ``render`` + ``scan``. Target: at least 8,000 posts/s for ``render``.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "example_site")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

import nh3  # noqa: E402

from portal_social.core import text  # noqa: E402

try:
    from portal_social.core.phi import scan
except ImportError:  # phi.py is optional for this benchmark
    scan = None

TARGET = 8_000

WORDS = tuple(
    " ".join(
        [
            "appointment clinic nurse doctor team follow-up thanks pharmacy refill parking waiting room",
            "results portal message discharge surgery recovery physio knee hip shoulder pain medication",
            "dose morning evening week month kind helpful quick slow phone call front desk billing insurance",
            "referral cardiology oncology maternity ward visit caregiver mother father daughter son",
            "question answer schedule rescheduled cancelled on time late friendly explained clearly",
        ]
    ).split()
)


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(6, 16))]
    if rng.random() < 0.25:
        i = rng.randrange(len(words))
        marker = rng.choice(["**", "*", "~~"])
        words[i] = marker + words[i] + marker
    if rng.random() < 0.12:
        words.append(rng.choice(["https://example.org/visiting-hours", "www.example.org/parking"]))
    if rng.random() < 0.08:
        words.append("[the leaflet](https://example.org/leaflets/knee.pdf)")
    if rng.random() < 0.05:
        words.append("`MyChart`")
    sentence = " ".join(words)
    return sentence[0].upper() + sentence[1:] + rng.choice([".", ".", ".", "!", "?"])


def make_post(rng: random.Random, size: int = 1024) -> str:
    """A post of about ``size`` characters: paragraphs, sometimes a heading, list, quote or table."""
    blocks: list[str] = []
    length = 0
    while length < size:
        roll = rng.random()
        if roll < 0.08 and not blocks:
            block = "## " + " ".join(rng.choice(WORDS) for _ in range(4)).capitalize()
        elif roll < 0.18:
            block = "\n".join(f"- {_sentence(rng)}" for _ in range(rng.randint(2, 4)))
        elif roll < 0.23:
            block = "> " + _sentence(rng)
        elif roll < 0.26:
            block = "| Day | Time |\n|:----|-----:|\n| Monday | 9:00 |\n| Thursday | 14:30 |"
        else:
            block = " ".join(_sentence(rng) for _ in range(rng.randint(2, 4)))
        blocks.append(block)
        length += len(block) + 2
    return "\n\n".join(blocks)[: size + 200]


def best_rate(function: Callable[[str], object], inputs: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for item in inputs:
            function(item)
        best = min(best, time.perf_counter() - started)
    return len(inputs) / best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20260)
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    posts = [make_post(rng) for _ in range(args.posts)]
    cmark_html = [text.markdown_to_html(post) for post in posts]
    mean = sum(map(len, posts)) / len(posts)

    rows: list[tuple[str, float]] = [
        ("nh3.clean (defaults; the floor)", best_rate(nh3.clean, cmark_html, args.repeat)),
        ("cmark-gfm alone", best_rate(text.markdown_to_html, posts, args.repeat)),
        ("sanitise alone", best_rate(text.sanitise, cmark_html, args.repeat)),
        ("render (whole pipeline)", best_rate(text.render, posts, args.repeat)),
    ]
    if scan is not None:
        rows.append(("phi.scan alone", best_rate(scan, posts, args.repeat)))

        def render_and_scan(post: str) -> None:
            scan(post)
            text.render(post)

        rows.append(("render + phi.scan", best_rate(render_and_scan, posts, args.repeat)))
    else:
        rows.append(("phi.scan", float("nan")))

    print(f"{len(posts)} posts, mean {mean:,.0f} characters, best of {args.repeat} runs, one core")
    print(f"{'step':<34}{'posts/s':>10}{'µs/post':>10}")
    for name, rate in rows:
        if rate != rate:  # NaN: not available
            print(f"{name:<34}{'n/a':>10}{'':>10}  (portal_social.core.phi.scan not importable)")
        else:
            print(f"{name:<34}{rate:>10,.0f}{1e6 / rate:>10.1f}")
    # The whole pipeline a public post goes through: screen for PHI, then render.
    measured = dict(rows)
    name = "render + phi.scan" if "render + phi.scan" in measured else "render (whole pipeline)"
    rate = measured[name]
    verdict = "ok" if rate >= TARGET else "BELOW TARGET"
    print(f"target: {name} >= {TARGET:,} posts/s: {verdict}")
    return 0 if rate >= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
