"""Kill the portal mid-write, restart it, and check that no acknowledged review is lost, doubled or half-written.

Run from the repository root::

    .venv/bin/python bench/crash.py                     # SQLite, one daphne
    scripts/with-services.sh .venv/bin/python bench/crash.py --stack postgres --workers 2

Builds a throwaway portal as ``bench/load.py`` does (same settings, database
and signed-in patients of clinician1). ``--writers`` clients then send
reviews without pause, each from a patient who has not reviewed yet; every
``1–3`` seconds, ``--kills`` times, every daphne process is killed with
SIGKILL while writes are in flight, and started again on the same ports. A
client whose request died with its server sends the same patient's review
again once the portal answers: the portal must either save it (it was not
saved before) or refuse it as "too soon" (it was).

At the end it checks, and prints:

* every acknowledged write (a 302 to the "submitted" page, with the review's
  id) is in the database, exactly once;
* no patient has more than one review (no write was applied twice);
* no review lacks any of its star ratings (no partial rows), and every review
  has its ``review.submit`` audit event;
* ``manage.py portal_social_audit verify`` passes.

Exits non-zero when any check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import load  # noqa: E402  (bench/load.py)

_SUBMITTED = re.compile(r"submitted=([0-9a-f-]{36})")


async def crash_run(portal: load.Portal, info: dict, *, writers: int, kills: int, https: bool) -> dict:
    sessions = list(info["sessions"])
    random.shuffle(sessions)
    queue: asyncio.Queue = asyncio.Queue()
    for n, session in enumerate(sessions):
        queue.put_nowait((n, session))
    counts = {
        "attempts": 0,
        "acknowledged": 0,
        "died-with-server": 0,
        "retry-saved": 0,
        "retry-already-saved": 0,
        "refused-4xx": 0,
        "5xx": 0,
        "patients-left-unknown": 0,
    }
    acknowledged: dict[str, str] = {}
    #: Patients whose request died with the server and whose retry found the review already saved.
    found_saved: list[str] = []
    stop = asyncio.Event()

    async def one_patient(n: int, session: dict):
        client = load.Client(
            portal.ports, https=https, cookies={info["session_cookie"]: session["session"]}, timeout=20
        )
        retried = False
        for _attempt in range(100):
            if stop.is_set() and not retried:
                return
            token_sent = False
            try:
                token = await load.prepare_review(client, info["review_url"], attempts=1)
                if token is None:
                    # The form is not offered (4xx): after a request that died
                    # with the server, because that review was saved.
                    if retried:
                        counts["retry-already-saved"] += 1
                        found_saved.append(session["user"])
                    else:
                        counts["refused-4xx"] += 1
                    return
                counts["attempts"] += 1
                token_sent = True
                answer = await client.request("POST", info["review_url"], load.review_form(token, info["questions"], n))
            except (TimeoutError, OSError, ConnectionError, ValueError):
                if token_sent:
                    counts["died-with-server"] += 1
                    retried = True
                await asyncio.sleep(0.3)
                continue
            match = _SUBMITTED.search(answer.header("location") or "")
            if answer.status == 302 and match:
                acknowledged[match.group(1)] = session["user"]
                counts["retry-saved" if retried else "acknowledged"] += 1
            elif answer.status >= 500:
                counts["5xx"] += 1
                retried = True
                await asyncio.sleep(0.3)
                continue
            elif retried:
                counts["retry-already-saved"] += 1
                found_saved.append(session["user"])
            else:
                counts["refused-4xx"] += 1
            return
        counts["patients-left-unknown"] += 1

    async def writer():
        while not stop.is_set() and not queue.empty():
            n, session = queue.get_nowait()
            await one_patient(n, session)

    async def killer():
        for _ in range(kills):
            await asyncio.sleep(random.uniform(1.0, 3.0))
            await asyncio.to_thread(portal.kill, signal.SIGKILL)
            await asyncio.sleep(0.3)
            await asyncio.to_thread(portal.start)
        await asyncio.sleep(2.0)
        stop.set()

    await asyncio.gather(killer(), *(writer() for _ in range(writers)))
    counts["acknowledged-total"] = len(acknowledged)
    return {"counts": counts, "acknowledged": acknowledged, "found_saved": found_saved}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--workers", type=int, default=None, help="daphne processes (sqlite: 1, postgres: 2)")
    parser.add_argument("--db-options", choices=["recommended", "legacy"], default="recommended")
    parser.add_argument("--writers", type=int, default=8, help="clients writing at once")
    parser.add_argument("--kills", type=int, default=5, help="times every daphne is killed with SIGKILL")
    parser.add_argument("--patients", type=int, default=600, help="patients available to write (one review each)")
    args = parser.parse_args()
    workers = args.workers or (2 if args.stack == "postgres" else 1)
    portal = load.Portal(args.stack, args.db_options == "legacy", workers)
    https = args.stack == "postgres"
    try:
        print(f"stack {args.stack}, {workers} daphne process(es); building the portal in {portal.work}", flush=True)
        info = portal.build(args.patients, "crashpatient")
        portal.start()
        started = time.time()
        result = asyncio.run(crash_run(portal, info, writers=args.writers, kills=args.kills, https=https))
        portal.kill()
        counts, acknowledged = result["counts"], result["acknowledged"]
        report = portal.internal("_report", "crashpatient")
        saved = set(report["ids"])
        missing = sorted(set(acknowledged) - saved)
        unacknowledged_saved = len(saved - set(acknowledged))
        # A retry refused because the review existed: it must really exist.
        phantom = sorted(set(result["found_saved"]) - set(report["authors"]))
        verify = subprocess.run(
            [str(load.BIN / "python"), "manage.py", "portal_social_audit", "verify"],
            cwd=load.SITE,
            env=portal.env,
            capture_output=True,
            text=True,
        )
        print(f"{args.kills} kills (SIGKILL) of {workers} daphne process(es) in {time.time() - started:.0f} s")
        print("client side: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        print(
            f"database: {report['reviews']} reviews; acknowledged but missing {len(missing)}; "
            f"saved but never acknowledged (in flight at a kill, then found saved) {unacknowledged_saved}; "
            f"patients with more than one review {report['authors_with_more_than_one']}; "
            f"reviews without all ratings {report['partial']}; reviews without their audit event "
            f"{report['unaudited']}; retries refused as already saved without a saved review {len(phantom)}"
        )
        print(f"portal_social_audit verify: exit {verify.returncode}: {verify.stdout.strip() or verify.stderr.strip()}")
        ok = (
            not missing
            and not phantom
            and report["authors_with_more_than_one"] == 0
            and report["partial"] == 0
            and report["unaudited"] == 0
            and verify.returncode == 0
            and counts["5xx"] == 0
            and counts["acknowledged-total"] > 0
        )
        print("RESULT: " + ("every acknowledged write saved exactly once, nothing partial" if ok else "FAILED"))
        return 0 if ok else 1
    finally:
        portal.close()


if __name__ == "__main__":
    sys.exit(main())
