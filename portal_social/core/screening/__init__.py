"""One screening step for text on its way somewhere: PHI, watched words,
crisis language and trust rules, judged per destination.

Usage::

    from portal_social.core import screening

    result = screening.screen(text, destination="community_post", author=request.user)
    result.outcome      # "publish", "mark", "warn", "hold" or "block": a recommendation
    result.held         # True when the text would be held or blocked here
    result.urgent       # crisis language: flag for staff, show crisis_resources()
    result.findings     # Finding(code="phi.phone", kind="phi", start=11, end=23, ...)
    result.publishable_text()  # censored words replaced (public destinations)

The caller decides what to do with the recommendation: a clinician space
warns, a public post holds, a secure message is delivered and only marked
for staff (see :data:`policy.POLICY`). Findings are codes, never sentences
and never the text: :func:`describe` words one in the reader's language.

What is looked for:

* ``phi``: ``core.phi.scan`` on the text and, when the text is Markdown that
  reads differently once rendered ("555\\-867\\-5309"), on what a reader sees;
* ``disclosure`` (``staff_public_reply`` only): ``core.public_reply.scan_reply``,
  the stricter rule for what the organisation publishes about a patient;
* ``watched_word``: the moderators' list (:class:`models.WatchedWord`, in the
  Wagtail admin), each match with its action (block, require approval, censor
  or flag);
* ``crisis``: ``PORTAL_SOCIAL_CRISIS_PHRASES`` (English and Spanish by default);
* ``trust``: an account younger than ``PORTAL_SOCIAL_SCREENING_NEW_ACCOUNT_DAYS``
  for the destination (default: ``PORTAL_SOCIAL_REVIEW_NEW_ACCOUNT_DAYS`` for
  public destinations).

Every matcher reads the text as a reader sees it (``core.phi``'s screening
form, plus look-alike letters folded), and runs in time linear in the text.
Offsets always point into the text as given.
"""

from __future__ import annotations

import contextlib
import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from portal_social.core import public_reply
from portal_social.core.screening import phi_pass, policy
from portal_social.core.screening.crisis import crisis_matcher, crisis_resources, urgent_symptom_matcher
from portal_social.core.screening.matching import reading_form
from portal_social.core.screening.policy import DESTINATIONS, KINDS, OUTCOMES
from portal_social.core.screening.redaction import (
    Span,
    apply_redactions,
    highlight,
    marker,
    merge_spans,
    moderator_redaction,
    validate_spans,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "DESTINATIONS",
    "KINDS",
    "OUTCOMES",
    "Finding",
    "Result",
    "Span",
    "apply_redactions",
    "crisis_resources",
    "describe",
    "highlight",
    "marker",
    "medical_risk",
    "merge_spans",
    "moderator_redaction",
    "screen",
    "validate_spans",
]


@dataclass(frozen=True, slots=True)
class Finding:
    """Something screening found: a code, never a sentence and never the text.

    ``code`` is ``"<kind>.<detail>"``: ``"phi.phone"``, ``"disclosure.care_relationship"``,
    ``"watched_word.block"``, ``"crisis.self_harm"``, ``"trust.new_account"``.
    ``start``/``end`` are offsets into the screened text (``start == end == 0``
    for a finding about the author, or one only the rendered text shows:
    ``rendered`` is then True). ``reason`` names what found it: ``"phi.scan"``,
    ``"public_reply.scan_reply"``, ``"watched_word:<id>"``, ``"crisis:<language>"``,
    ``"setting:<NAME>"``. ``action`` is a watched word's action ("" otherwise);
    ``outcome`` what this finding alone recommends at the destination.
    """

    code: str
    kind: str
    start: int
    end: int
    reason: str
    outcome: str
    action: str = ""
    replacement: str | None = None
    rendered: bool = False

    @property
    def detail(self) -> str:
        """The part of the code after the kind: a PHI kind, a watched word's action."""
        return self.code.partition(".")[2]

    @property
    def rule(self) -> str:
        """What the destination policy is keyed by: a watched word's action, else the kind."""
        return self.action or self.kind


@dataclass(frozen=True)
class Result:
    """What screening made of one text for one destination."""

    text: str
    destination: str
    findings: tuple[Finding, ...] = ()

    @property
    def outcome(self) -> str:
        """The recommended outcome: the strongest of the findings' ("publish" with none)."""
        return policy.strongest(f.outcome for f in self.findings)

    @property
    def held(self) -> bool:
        """True when this text would be held or blocked at its destination."""
        return self.outcome in (policy.OUTCOME_HOLD, policy.OUTCOME_BLOCK)

    @property
    def blocked(self) -> bool:
        return self.outcome == policy.OUTCOME_BLOCK

    @property
    def urgent(self) -> bool:
        """Crisis language (or, in a secure message, urgent symptoms): staff should see this first."""
        return any(f.kind in (policy.CRISIS, policy.URGENT_SYMPTOM) for f in self.findings)

    @property
    def crisis(self) -> bool:
        """Crisis language: the author should see the crisis resources at once."""
        return any(f.kind == policy.CRISIS for f in self.findings)

    @property
    def codes(self) -> list[str]:
        """Each distinct code, in the order first found."""
        return list(dict.fromkeys(f.code for f in self.findings))

    def of_kind(self, kind: str) -> list[Finding]:
        return [f for f in self.findings if f.kind == kind]

    def resources(self, language: str | None = None) -> list[dict[str, str]]:
        """The crisis resources to show the author (none without crisis language)."""
        return crisis_resources(language) if self.crisis else []

    def publishable_text(self) -> str:
        """The text as it may be published: censored words replaced where the destination censors."""
        if self.destination not in policy.CENSORED_DESTINATIONS:
            return self.text
        spans = [Span(f.start, f.end, f.code, f.replacement) for f in self.findings if f.action == policy.CENSOR]
        return apply_redactions(self.text, spans) if spans else self.text

    def highlight(self) -> list[tuple[str, str]]:
        """The text in ``(piece, code)`` segments, every finding with a span marked."""
        return highlight(self.text, [Span(f.start, f.end, f.code) for f in self.findings if f.end > f.start])


# --------------------------------------------------------------------------- detectors


def _finding(destination: str, code: str, kind: str, start: int, end: int, reason: str, **extra) -> Finding:
    rule = extra.get("action") or kind
    return Finding(code, kind, start, end, reason, policy.outcome_for(destination, rule), **extra)


def _phi_findings(text: str, destination: str) -> list[Finding]:
    """The PHI pass (``phi_pass.scan``): PHI anywhere, and for a staff reply what it may not disclose."""
    strict = destination == policy.STAFF_PUBLIC_REPLY
    scanned = phi_pass.scan(text, strict="reply" if strict else "", markdown=True)

    def kind_and_reason(f) -> tuple[str, str]:
        return (policy.DISCLOSURE, f.reason) if phi_pass.is_strict(f) else (policy.PHI, "phi.scan")

    found = []
    for f in scanned.findings:
        kind, reason = kind_and_reason(f)
        found.append(_finding(destination, f"{kind}.{f.kind}", kind, f.start, f.end, reason))
    # Found only in what a reader sees once the Markdown is rendered: no offsets in the source.
    hits = dict.fromkeys((*kind_and_reason(f), f.kind) for f in scanned.shown)
    found += [
        _finding(destination, f"{kind}.{detail}", kind, 0, 0, reason, rendered=True) for kind, reason, detail in hits
    ]
    return found


def _watched_findings(reading, destination: str) -> list[Finding]:
    from portal_social.core.screening.words import watch_list

    found = []
    for entry, start, end in watch_list().find(reading, destination):
        start, end = reading.span(start, end)
        replacement = (entry.replacement or "***") if entry.action == policy.CENSOR else None
        found.append(
            _finding(
                destination,
                f"watched_word.{entry.action}",
                policy.WATCHED_WORD,
                start,
                end,
                entry.reason,
                action=entry.action,
                replacement=replacement,
            )
        )
    return found


def _crisis_findings(reading, destination: str) -> list[Finding]:
    matcher, languages = crisis_matcher()
    found = []
    for hit in matcher.find(reading.work):
        start, end = reading.span(hit.start, hit.end)
        found.append(
            _finding(destination, "crisis.self_harm", policy.CRISIS, start, end, f"crisis:{languages.get(hit.key, '')}")
        )
    return found


def _urgent_symptom_findings(reading, destination: str) -> list[Finding]:
    """Symptoms that need care now (chest pain, trouble breathing), where the destination's policy asks."""
    if policy.URGENT_SYMPTOM not in policy.POLICY[destination]:
        return []
    matcher, languages = urgent_symptom_matcher()
    found = []
    for hit in matcher.find(reading.work):
        start, end = reading.span(hit.start, hit.end)
        found.append(
            _finding(
                destination,
                "urgent_symptom.symptom",
                policy.URGENT_SYMPTOM,
                start,
                end,
                f"urgent:{languages.get(hit.key, '')}",
            )
        )
    return found


def new_account_days(destination: str) -> int:
    """How young an account must be for the new-account rule at ``destination`` (0: no rule).

    ``PORTAL_SOCIAL_SCREENING_NEW_ACCOUNT_DAYS`` (``{destination: days}``) when
    set; otherwise ``PORTAL_SOCIAL_REVIEW_NEW_ACCOUNT_DAYS`` for the public
    destinations and none elsewhere.
    """
    from portal_social.conf import app_settings
    from portal_social.core.screening.crisis import _setting

    configured = _setting("SCREENING_NEW_ACCOUNT_DAYS", None)
    if configured is not None:
        return int(dict(configured).get(destination, 0))
    return app_settings.REVIEW_NEW_ACCOUNT_DAYS if destination in policy.PUBLIC_DESTINATIONS else 0


def _trust_findings(author, destination: str) -> list[Finding]:
    days = new_account_days(destination)
    joined = getattr(author, "date_joined", None)
    if days > 0 and joined is not None and joined > timezone.now() - datetime.timedelta(days=days):
        return [_finding(destination, "trust.new_account", policy.TRUST, 0, 0, "setting:NEW_ACCOUNT_DAYS")]
    return []


def screen(text: str, *, destination: str, author=None) -> Result:
    """Screen ``text`` written by ``author`` (a user, or None) for ``destination``.

    ``destination`` is one of :data:`DESTINATIONS`; anything else raises
    ``ValueError``. An empty text has no findings (there is nothing to
    publish). Runs one query at most: the watched words, when they changed
    since this process last loaded them.
    """
    if destination not in policy.DESTINATIONS:
        raise ValueError(f"unknown screening destination {destination!r}; known: {', '.join(DESTINATIONS)}")
    if not isinstance(text, str):
        raise TypeError(f"screen() expects str, not {type(text).__name__}")
    if not text.strip():
        return Result(text, destination)
    reading = reading_form(text)
    findings = [
        *_phi_findings(text, destination),
        *_watched_findings(reading, destination),
        *_crisis_findings(reading, destination),
        *_urgent_symptom_findings(reading, destination),
        *_trust_findings(author, destination),
    ]
    findings.sort(key=lambda f: (f.start, f.end, f.code))
    return Result(text, destination, tuple(findings))


def medical_risk(text: str) -> tuple[str, ...]:
    """Why ``text`` (a complaint) may be about harm: codes, in the order first found, or ().

    ``"crisis"`` (crisis language), ``"urgent_symptom"`` or ``"medical_risk"``
    (``core.screening.risk``: wrong medication, a fall, "lawyer"…), matched on
    the text as a reader sees it, like the crisis phrases. Never the words.
    """
    from portal_social.core.screening.risk import medical_risk_matcher

    if not isinstance(text, str) or not text.strip():
        return ()
    work = reading_form(text).work
    found: dict[str, int] = {}
    for code, (matcher, _languages) in (
        (policy.CRISIS, crisis_matcher()),
        (policy.URGENT_SYMPTOM, urgent_symptom_matcher()),
        ("medical_risk", medical_risk_matcher()),
    ):
        hits = [hit.start for hit in matcher.find(work)]
        if hits:
            found[code] = min(hits)
    return tuple(sorted(found, key=found.__getitem__))


# --------------------------------------------------------------------------- words for readers

_WATCHED = {
    policy.BLOCK: _("Language that is not allowed here."),
    policy.REQUIRE_APPROVAL: _("Language a moderator reads before it appears."),
    policy.CENSOR: _("Language that is replaced when shown."),
    policy.FLAG: _("Language marked for moderators."),
}
_OTHER = {
    "crisis.self_harm": _("Words that may mean the writer is thinking of harming themselves."),
    "trust.new_account": _("Written from a new account: a moderator reads it before it appears."),
    "urgent_symptom.symptom": _("Words that may describe symptoms that need care now."),
}


def describe(finding: Finding, language: str | None = None) -> str:
    """One sentence about ``finding`` for a reader, in ``language`` (default: the active one).

    Says what kind of thing was found, never the text itself.
    """
    with translation.override(language) if language else contextlib.nullcontext():
        if finding.kind in (policy.PHI, policy.DISCLOSURE):
            what = str(public_reply.describe([finding.detail])[0])
            return str(_("Personal details: %(what)s.")) % {"what": what}
        if finding.kind == policy.WATCHED_WORD:
            return str(_WATCHED.get(finding.action, _("Language marked for moderators.")))
        return str(_OTHER.get(finding.code, _("Something a moderator should read.")))


def describe_all(findings: Iterable[Finding], language: str | None = None) -> list[str]:
    """:func:`describe` for each distinct code, in order."""
    seen: dict[str, Finding] = {}
    for finding in findings:
        seen.setdefault(finding.code, finding)
    return [describe(f, language) for f in seen.values()]
