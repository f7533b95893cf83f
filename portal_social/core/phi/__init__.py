"""PHI scanner: find patient identifiers in text headed for a public place.

Usage::

    from portal_social.core import phi

    findings = phi.scan("Call me at 555-867-5309")
    # [Finding(kind='phone', start=11, end=23, text='555-867-5309', reason='phone')]
    phi.redact(text, findings)  # "Call me at [phone removed]"

The design (what is found and why, what is public, the settings, linear
time, how it is measured and what remains weak) is in docs/phi-scanner.md.
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
