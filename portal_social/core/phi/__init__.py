"""PHI scanner: find HIPAA Safe Harbor identifiers in text headed for a public place.

Anything a patient or caregiver writes that other people will read (community
posts, review comments, public feedback) passes :func:`scan` first; the caller
holds the text back, asks the author to edit it, or publishes :func:`redact`'s
output. The scanner covers the Safe Harbor identifiers (45 CFR 164.514(b)(2))
that free text can carry; photographs and biometrics are out of scope.

Usage::

    from portal_social.core import phi

    findings = phi.scan("Call me at 555-867-5309")
    # [Finding(kind='phone', start=11, end=23, text='555-867-5309')]
    phi.redact(text, findings)  # "Call me at [phone removed]"

Design decisions:

* **Recall first, but not at any price.** A false positive costs the author an
  edit or a moderator a click; a false negative publishes PHI. Yet a scanner
  that flags every number in "A1C 6.5, BP 120/80, 500 mg twice a day" is one
  patients learn to ignore, so numbers are flagged only by their shape
  (phone, SSN, e-mail, IP, VIN with check digit, card number with Luhn check,
  ZIP+4) or by a cue word in front of them ("MRN", "member ID", "serial",
  "zip"). A seven-digit local number ("867-5309") needs a phone word earlier
  in the sentence; whatever digits follow "my cell:" are a phone number.
* **Overlaps** merge into one finding covering the union of the spans, with
  the kind of the longest detector hit (the more specific kind on a tie:
  "Member ID 5558675309" is a member ID), so a redaction never leaves part of
  an identifier behind.
* **Dates** are flagged only with birth, death, admission, discharge or
  appointment context ("DOB 03/14/1962", "admitted 2/3", "my appointment on
  Oct 12"), and a birth year alone only when it implies an age of 90 or more.
  Safe Harbor removes every element of every date tied to a person except the
  year, but flagging every date in community posts ("on March 3 I had
  surgery", "the picnic on June 14") would drown the real findings. The date
  rule is deliberately narrower than Safe Harbor; documented in the bench.
* **Names** are flagged only after a cue: a relationship ("my husband John
  Smith", "my daughter Emily"), "my name is", "named", "I'm Jane Doe", a
  sign-off ("Sincerely, Pat Wells") or "Hi all, Jamal Wright here".
  Clinicians ("Dr. Patel", "Nurse Kim") are never flagged: their names are
  public in this product (the clinician directory, reviews are about them)
  and are not patient PHI. Honorific mentions of staff ("Ms. Rodriguez at the
  front desk") are not flagged either, for the same reason.
* **Ages** are PHI only from 90 up (Safe Harbor aggregates them into "90 or
  older"); "over 90", "in her 90s" already are that aggregate and pass.
* **Not identifiers**: room and bed numbers (they identify a place, not a
  person), NDC drug codes and NPI numbers (public product and clinician
  identifiers: a 10- or 11-digit number right after "NDC"/"NPI" is not a
  phone), public numbers (911, 988, 411, 311, 211, 1-800-273-8255, and
  ``PORTAL_SOCIAL_PHI_ALLOWED_NUMBERS``), links to public health sites, the
  portal's own hosts and ``PORTAL_SOCIAL_PHI_ALLOWED_DOMAINS``.
* **Cities and states** alone are not detected (that needs a gazetteer); a
  "City, ST" right after a street address is part of the address finding.
* **What a reader sees**, not the code points: the detectors read a folded
  copy (invisible characters dropped, NFKC, every decimal digit and full stop
  made ASCII) and, when characters can change the display order, the order a
  reader sees too; offsets are mapped back to the text as written. See "The
  screening form" below.

Every pattern runs in linear time: Python's ``re`` backtracks, so each pattern
uses bounded quantifiers only, alternatives that start differently, and
look-behind guards that stop a pattern from being retried inside a run of the
characters it has just failed on. ``tests/core/test_phi.py`` feeds 100 KB
adversarial strings to every detector and checks the time scales linearly.
Host-supplied MRN patterns (``PORTAL_SOCIAL_PHI_MRN_PATTERNS``) are the host's
responsibility: keep their quantifiers bounded too.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext

from portal_social.core.phi import (
    contact,  # noqa: F401  (registers its detectors)
    cued,  # noqa: F401  (registers its detectors)
    dates,  # noqa: F401  (registers its detectors)
    identifiers,  # noqa: F401  (registers its detectors)
    names,  # noqa: F401  (registers its detectors)
    people,  # noqa: F401  (registers its detectors)
    places,  # noqa: F401  (registers its detectors)
)
from portal_social.core.phi.config import _Config, _config
from portal_social.core.phi.engine import KINDS, LABELS, REGISTERED, Finding, _detect, _Hit, _resolve, _Text
from portal_social.core.phi.folding import _fold, _plain, _visual_texts

__all__ = ["DETECTORS", "KINDS", "LABELS", "Finding", "marker", "normalise", "redact", "scan"]


def _on_its_own(detector):
    def detect(work: str, config: _Config | None = None) -> list[_Hit]:
        return [hit[:3] for hit in detector(_Text(work), config or _config())]

    detect.__doc__ = detector.__doc__
    return detect


#: Detector per kind family, each runnable on its own over a normalised text
#: and returning ``(kind, start, end)`` tuples that may overlap. Exposed for tests.
DETECTORS = {family: _on_its_own(detector) for family, detector in REGISTERED.items()}


def normalise(text: str) -> str:
    """The text the detectors read (the screening form): invisible characters
    dropped, NFKC, every decimal digit and full stop made ASCII, exotic spaces
    and dashes made plain. It may be shorter or longer than ``text``; :func:`scan`
    maps its findings back to ``text``."""
    return _fold(text).work


def scan(text: str) -> list[Finding]:
    """Find PHI in ``text``: findings sorted by start, never overlapping.

    The detectors read the screening form of the text (:func:`normalise`) and,
    when the text holds characters that change the display order, the order a
    reader sees too; offsets always point into ``text`` itself.
    """
    if not isinstance(text, str):
        raise TypeError(f"scan() expects str, not {type(text).__name__}")
    if not text:
        return []
    config = _config()
    if _plain(text):  # nearly every post
        hits = _detect(text, config)
    else:
        folded = _fold(text)
        hits = _detect(folded.work, config)
        if folded.starts is not None:
            starts, ends = folded.starts, folded.ends
            hits = [(kind, starts[start], ends[end - 1], why) for kind, start, end, why in hits if end > start]
        if folded.reorders:
            for shown, order in _visual_texts(text):
                view = _fold(shown)
                for kind, start, end, why in _detect(view.work, config):
                    if end <= start:
                        continue
                    if view.starts is not None:
                        start, end = view.starts[start], view.ends[end - 1]
                    positions = order[start:end]
                    hits.append((kind, min(positions), max(positions) + 1, why))
    return [Finding(kind, start, end, text[start:end], why) for kind, start, end, why in _resolve(hits)]


def marker(kind: str) -> str:
    """The text that replaces a finding: "[phone removed]"."""
    return gettext("[%(label)s removed]") % {"label": LABELS.get(kind, kind)}


def redact(text: str, findings: Sequence[Finding] | None = None) -> str:
    """``text`` with every finding replaced by its marker (scans when
    ``findings`` is None). Findings must come from this very text."""
    if findings is None:
        findings = scan(text)
    parts, pos = [], 0
    for finding in sorted(findings, key=lambda f: (f.start, -f.end)):
        if not (0 <= finding.start <= finding.end <= len(text)) or text[finding.start : finding.end] != finding.text:
            raise ValueError(f"finding {finding.kind!r} at {finding.start}:{finding.end} does not match the text")
        if finding.end <= pos:
            continue  # inside a span already replaced
        if finding.start >= pos:
            parts.append(text[pos : finding.start])
            parts.append(marker(finding.kind))
        pos = finding.end
    parts.append(text[pos:])
    return "".join(parts)
