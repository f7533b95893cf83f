"""The PHI pass of screening, written once: what ``core.phi`` finds in a text, as written and as read.

Both the field register (``core.user_text``: profile fields, staff replies,
review comments) and the screening step (``core.screening.screen``) read a
text for PHI the same way, through :func:`scan`:

1. ``phi.scan`` on the text as written (it folds look-alike characters
   itself and maps its findings back);
2. for a stricter destination, the extra rules (``public_reply.scan_reply``
   for a staff reply, ``scan_biography`` for a public profile) on the text
   as written and on its reading form (invisible characters, full-width
   digits and look-alike letters folded), mapped back to the text;
3. when nothing was found and the text is Markdown, the same on the text a
   reader sees once it is rendered (``&#53;`` and ``555\\-0100`` cannot
   disguise an identifier). Those findings have no offsets in the source.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from portal_social.core import phi, public_reply
from portal_social.core.screening.matching import reading_form

#: The stricter rules a destination may add, by name.
STRICT: dict[str, Callable[[str], list[phi.Finding]]] = {
    "reply": public_reply.scan_reply,
    "biography": public_reply.scan_biography,
}


#: The ``reason`` a stricter rule's findings carry, by rule name.
STRICT_REASONS = {"reply": "public_reply.scan_reply", "biography": "public_reply.scan_biography"}


def is_strict(finding: phi.Finding) -> bool:
    """Whether a stricter rule (not ``phi.scan``) found ``finding``."""
    return finding.reason in STRICT_REASONS.values()


@dataclass(frozen=True)
class PhiScan:
    """What the PHI pass found."""

    #: Findings with offsets into the text as written (for highlighting and redaction).
    findings: list[phi.Finding] = field(default_factory=list)
    #: Findings only the rendered text shows; offsets into that text, not the source.
    shown: list[phi.Finding] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.findings or self.shown)


def rendered_text(text: str) -> str:
    """What a reader sees of Markdown ``text`` (references decoded, markup gone); "" when it cannot render."""
    from portal_social.core import text as core_text

    try:
        return core_text.render_plain(text)
    except (core_text.TextTooLong, TypeError):
        return ""  # refused for its length by the caller; the source scan still ran


def _strict(text: str, strict: str) -> list[phi.Finding]:
    """The stricter rule's findings in ``text``, each marked with the rule's reason."""
    reason = STRICT_REASONS[strict]
    return [phi.Finding(f.kind, f.start, f.end, f.text, reason) for f in STRICT[strict](text)]


def _strict_spans(text: str, strict: str) -> list[phi.Finding]:
    """The stricter rule on the text as written and on its reading form, mapped back to the text."""
    found = {(f.kind, f.start, f.end): f for f in _strict(text, strict)}
    reading = reading_form(text)
    if reading.work != text:
        for f in _strict(reading.work, strict):
            start, end = reading.span(f.start, f.end)
            found.setdefault((f.kind, start, end), phi.Finding(f.kind, start, end, text[start:end], f.reason))
    return list(found.values())


def scan(text: str, *, strict: str = "", markdown: bool = True) -> PhiScan:
    """The PHI pass over ``text``; ``strict`` names extra rules (:data:`STRICT`), ``markdown`` reads it rendered too."""
    if not isinstance(text, str) or not text:
        return PhiScan()
    if strict and strict not in STRICT:
        raise ValueError(f"unknown stricter rule {strict!r}")
    findings = list(phi.scan(text))
    if strict:
        findings += _strict_spans(text, strict)
        findings.sort(key=lambda f: (f.start, f.end, f.kind))
    shown: list[phi.Finding] = []
    if markdown and not findings:
        rendered = rendered_text(text)
        if rendered and rendered != text.strip():
            shown = list(phi.scan(rendered)) + (_strict(rendered, strict) if strict else [])
    return PhiScan(findings, shown)
