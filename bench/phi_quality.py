"""Quality and speed of the PHI scanner on the labelled corpus.

Run from the repository root::

    .venv/bin/python bench/phi_quality.py        # summary
    .venv/bin/python bench/phi_quality.py -v     # also list every miss and false positive
    .venv/bin/python bench/phi_quality.py --dev path/to/corpus.jsonl   # also an independent corpus
    .venv/bin/python bench/phi_quality.py --set PORTAL_SOCIAL_PHI_DATES=birth   # a setting for this run

``--dev PATH`` also reports a development corpus written independently of this
project (one JSON object a line: ``{"id", "text", "spans": [{"start", "end",
"kind"}], "note"}``); its kind names are mapped to the scanner's
(:data:`DEV_KINDS`: person_name -> name, street_address -> address,
date_of_birth -> date, fax -> phone...). Each corpus is reported on its own:
per-kind recall and precision, the hard-negative texts with any finding, and
texts per second.

Corpus: ``tests/data/phi_positive.jsonl`` (texts with PHI) and
``tests/data/phi_negative.jsonl`` (hard negatives: dosages, lab values, codes,
years, ages under 90, prices, times, clinician names, public numbers...). One
JSON object a line: ``{"text": ..., "spans": [{"kind", "start", "end"}]}``.
Gold spans cover the identifier itself, not its cue ("MRN: [00123456]").

Matching is span-level by overlap, because detectors and annotators disagree
on edges ("93" or "93-year-old") while a redaction covers the identifier
either way:

* **strict** (the targets apply to it): a gold span is found when a finding of
  the *same kind* overlaps it; a finding is correct when it overlaps a gold
  span of the same kind.
* **any kind**: the same, ignoring kinds. This is what matters for redaction
  (a member ID redacted as "[phone removed]" is still redacted).

Targets: recall >= 0.95 and precision >= 0.90 (strict). The exit status is 1
when a target is missed.

Dates follow the scanner's documented rule (``portal_social.core.phi``):
only dates with birth/death/admission/discharge/appointment context are
labelled, so "on March 3 I had surgery" is a negative here although Safe
Harbor would count it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
RECALL_TARGET = 0.95
PRECISION_TARGET = 0.90


#: The development corpus's kind names, as the scanner names them. Fax numbers
#: are phone numbers to the scanner.
DEV_KINDS = {
    "person_name": "name",
    "phone": "phone",
    "fax": "phone",
    "email": "email",
    "ssn": "ssn",
    "mrn": "mrn",
    "member_id": "member_id",
    "account_number": "account_number",
    "date_of_birth": "date",
    "street_address": "address",
    "zip": "zip",
    "ip_address": "ip_address",
    "url_personal": "url",
    "license_number": "license",
    "vehicle_id": "vehicle",
    "device_serial": "device",
}


def load_dev_corpus(path: Path) -> list[dict]:
    """A development corpus in the scanner's kind names; each span is checked."""
    records = []
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            record = json.loads(line)
            spans = []
            for span in record["spans"]:
                if not (0 <= span["start"] < span["end"] <= len(record["text"])):
                    raise ValueError(f"{path}:{number}: span {span} outside the text")
                spans.append({**span, "kind": DEV_KINDS[span["kind"]]})
            records.append({**record, "spans": spans})
    return records


def load_corpus(data: Path = DATA) -> list[dict]:
    """Every labelled text, positives first; each span's text is checked."""
    records = []
    for name in ("phi_positive.jsonl", "phi_negative.jsonl"):
        with open(data / name, encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                record = json.loads(line)
                for span in record["spans"]:
                    if not (0 <= span["start"] < span["end"] <= len(record["text"])):
                        raise ValueError(f"{name}:{number}: span {span} outside the text")
                records.append(record)
    return records


def _overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


def evaluate(records: list[dict], scan, *, strict: bool = True) -> dict:
    """Recall, precision and F1, overall and per kind, plus the misses and
    false positives. ``scan`` is ``portal_social.core.phi.scan``."""
    gold_total, gold_found = Counter(), Counter()
    pred_total, pred_correct = Counter(), Counter()
    misses, false_positives = [], []
    flagged_negatives = 0
    for record in records:
        text, spans = record["text"], record["spans"]
        findings = scan(text)
        if not spans and findings:
            flagged_negatives += 1
        for span in spans:
            gold_total[span["kind"]] += 1
            if any(
                _overlaps(f.start, f.end, span["start"], span["end"]) and (not strict or f.kind == span["kind"])
                for f in findings
            ):
                gold_found[span["kind"]] += 1
            else:
                misses.append((span["kind"], text[span["start"] : span["end"]], text))
        for f in findings:
            pred_total[f.kind] += 1
            if any(
                _overlaps(f.start, f.end, span["start"], span["end"]) and (not strict or f.kind == span["kind"])
                for span in spans
            ):
                pred_correct[f.kind] += 1
            else:
                false_positives.append((f.kind, f.text, text))

    def ratios(found, total, correct, predicted):
        recall = found / total if total else 1.0
        precision = correct / predicted if predicted else 1.0
        f1 = 2 * recall * precision / (recall + precision) if recall + precision else 0.0
        return {"recall": recall, "precision": precision, "f1": f1, "gold": total, "predicted": predicted}

    per_kind = {
        kind: ratios(gold_found[kind], gold_total[kind], pred_correct[kind], pred_total[kind])
        for kind in sorted(set(gold_total) | set(pred_total))
    }
    overall = ratios(
        sum(gold_found.values()), sum(gold_total.values()), sum(pred_correct.values()), sum(pred_total.values())
    )
    return {
        "overall": overall,
        "per_kind": per_kind,
        "misses": misses,
        "false_positives": false_positives,
        "negatives": sum(1 for r in records if not r["spans"]),
        "flagged_negatives": flagged_negatives,
    }


def throughput(records: list[dict], scan, *, repeat: int = 10, runs: int = 5) -> float:
    """Texts per second: the corpus scanned ``repeat`` times, best of ``runs``."""
    texts = [r["text"] for r in records] * repeat
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        for text in texts:
            scan(text)
        best = min(best, time.perf_counter() - started)
    return len(texts) / best


def _setup_django() -> None:
    for path in (ROOT, ROOT / "example_site"):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()


def report(name: str, records: list[dict], scan, *, verbose: bool = False) -> bool:
    """Print one corpus's figures; True when the targets are met."""
    positives = sum(1 for r in records if r["spans"])
    print(
        f"== {name}: {positives} texts with PHI ({sum(len(r['spans']) for r in records)} spans), "
        f"{len(records) - positives} hard negatives"
    )
    strict = evaluate(records, scan, strict=True)
    loose = evaluate(records, scan, strict=False)
    o, a = strict["overall"], loose["overall"]
    print(f"strict   (same kind): recall {o['recall']:.3f}  precision {o['precision']:.3f}  F1 {o['f1']:.3f}")
    print(f"any kind (redaction): recall {a['recall']:.3f}  precision {a['precision']:.3f}  F1 {a['f1']:.3f}")
    negatives, flagged = strict["negatives"], strict["flagged_negatives"]
    share = flagged / negatives if negatives else 0.0
    print(f"hard negatives flagged: {flagged} of {negatives} ({share:.1%})")
    print()
    print(f"{'kind':<16}{'gold':>6}{'found':>7}{'recall':>8}{'precision':>11}{'F1':>7}")
    for kind, r in strict["per_kind"].items():
        print(f"{kind:<16}{r['gold']:>6}{r['predicted']:>7}{r['recall']:>8.3f}{r['precision']:>11.3f}{r['f1']:>7.3f}")
    rate = throughput(records, scan)
    print()
    print(f"throughput: {rate:,.0f} texts/s (corpus x10, best of 5)")
    print(f"misses: {len(strict['misses'])}, false positives: {len(strict['false_positives'])} (-v lists them)")
    if verbose:
        print("\nmisses (kind, gold text, in):")
        for kind, span, text in strict["misses"]:
            print(f"  {kind:<15} {span!r}  in  {text!r}")
        print("\nfalse positives (kind, finding, in):")
        for kind, span, text in strict["false_positives"]:
            print(f"  {kind:<15} {span!r}  in  {text!r}")
    ok = o["recall"] >= RECALL_TARGET and o["precision"] >= PRECISION_TARGET
    print(f"\ntargets recall >= {RECALL_TARGET}, precision >= {PRECISION_TARGET}: {'met' if ok else 'MISSED'}\n")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="list misses and false positives")
    parser.add_argument("--dev", type=Path, help="also report this development corpus (JSON lines)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a Django setting for this run, e.g. PORTAL_SOCIAL_PHI_DATES=birth (repeatable)",
    )
    args = parser.parse_args(argv)
    _setup_django()
    from django.test.utils import override_settings

    from portal_social.core.phi import scan

    overrides = dict(item.split("=", 1) for item in args.set)
    if overrides:
        override_settings(**overrides).enable()
        print(f"settings: {overrides}")

    ok = report("project corpus (tests/data)", load_corpus(), scan, verbose=args.verbose)
    if args.dev:
        # Reported for information: the exit status follows the project's corpus.
        report(f"development corpus ({args.dev})", load_dev_corpus(args.dev), scan, verbose=args.verbose)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
