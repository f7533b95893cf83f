"""Spans of a text to hide or highlight: merged, validated, applied, shown.

The one implementation of what reviews, moderation and ``core.phi`` need:

* :func:`merge_spans` sorts spans and merges those that overlap into one
  covering their union, labelled by the longest (idempotent);
* :func:`validate_spans` checks spans against the text they claim to cover;
* :func:`apply_redactions` replaces each merged span by a marker, so no part
  of any span survives;
* :func:`highlight` cuts the text into ``(piece, label)`` segments for
  templates that wrap marked pieces in ``<mark>`` while autoescaping.

A span is anything with ``start`` and ``end``: a :class:`Span`, a
screening or PHI finding, a stored ``{"start", "end", "kind"}`` dict or a
``(start, end[, label])`` tuple.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple

from django.utils.translation import gettext

__all__ = [
    "Span",
    "apply_redactions",
    "as_span",
    "highlight",
    "marker",
    "merge_spans",
    "moderator_redaction",
    "validate_spans",
]


class Span(NamedTuple):
    """``text[start:end]``, with a label (a PHI kind, a finding code, "details")
    and, for a censored word, the text that replaces it."""

    start: int
    end: int
    label: str = "details"
    replacement: str | None = None


def as_span(value) -> Span:
    """``value`` (a span, finding, dict or tuple) as a :class:`Span`."""
    if isinstance(value, Span):
        return value
    if isinstance(value, Mapping):
        return Span(
            int(value["start"]),
            int(value["end"]),
            str(value.get("kind") or value.get("label") or "details"),
            value.get("replacement"),
        )
    if isinstance(value, tuple) and not hasattr(value, "start"):
        start, end, *rest = value
        return Span(int(start), int(end), str(rest[0]) if rest else "details")
    label = getattr(value, "label", None) or getattr(value, "kind", None) or "details"
    code = getattr(value, "code", None)
    if code and getattr(value, "kind", None) == "phi":
        label = code.split(".", 1)[1]  # a screening PHI finding: its PHI kind
    return Span(int(value.start), int(value.end), str(label), getattr(value, "replacement", None))


def merge_spans(spans: Iterable) -> list[Span]:
    """Sorted, non-overlapping spans: spans that overlap merge into one covering
    both, with the label (and replacement) of the longer; empty spans are
    dropped. Touching spans ("ab" then "cd") stay apart. Idempotent."""
    merged: list[Span] = []
    longest: list[int] = []
    for span in sorted((as_span(s) for s in spans), key=lambda s: (s.start, -s.end, s.label)):
        if span.end <= span.start:
            continue
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            if span.end - span.start > longest[-1]:
                longest[-1] = span.end - span.start
                last = last._replace(label=span.label, replacement=span.replacement)
            # A censored word merged with anything else is no longer one word: the marker hides it all.
            if last.replacement is not None and span.end > last.end:
                last = last._replace(replacement=None)
            merged[-1] = last._replace(end=max(last.end, span.end))
        else:
            merged.append(span)
            longest.append(span.end - span.start)
    return merged


def validate_spans(text: str, spans: Iterable) -> list[Span]:
    """``spans`` merged, after checking each against ``text``: ``0 <= start < end
    <= len(text)``, and a span that carries its text (a PHI finding) covers
    exactly that text. Raises ``ValueError`` naming the first bad span by
    position only (never its text)."""
    checked = []
    for value in spans:
        span = as_span(value)
        if not (0 <= span.start < span.end <= len(text)):
            raise ValueError(f"span {span.start}:{span.end} is outside a text of {len(text)} characters")
        expected = getattr(value, "text", None)
        if isinstance(expected, str) and text[span.start : span.end] != expected:
            raise ValueError(f"span {span.start}:{span.end} does not cover the text it was found in")
        checked.append(span)
    return merge_spans(checked)


def marker(label: str) -> str:
    """What replaces a hidden span: "[phone removed]", or "[details removed]"."""
    from portal_social.core import phi

    if label in phi.LABELS:
        return phi.marker(label)
    return gettext("[details removed]")


def apply_redactions(text: str, spans: Iterable, *, replace: Callable[[Span], str] | None = None) -> str:
    """``text`` with each span replaced: a censored word by its replacement, anything
    else by ``replace(span)`` (default :func:`marker` of its label). Spans are
    validated against ``text`` first and overlapping ones merged, so no part of
    any span is left."""
    parts, pos = [], 0
    for span in validate_spans(text, spans):
        parts.append(text[pos : span.start])
        if span.replacement is not None:
            parts.append(span.replacement)
        else:
            parts.append(replace(span) if replace is not None else marker(span.label))
        pos = span.end
    parts.append(text[pos:])
    return "".join(parts)


def highlight(text: str, spans: Iterable) -> list[tuple[str, str]]:
    """``text`` cut into ``(piece, label)`` segments; the label is "" outside every
    span. Spans are clipped to the text and overlapping ones merged, so the
    pieces joined give back ``text``."""
    clipped = []
    for value in spans:
        span = as_span(value)
        start, end = max(0, span.start), min(len(text), span.end)
        if end > start:
            clipped.append(span._replace(start=start, end=end))
    segments, pos = [], 0
    for span in merge_spans(clipped):
        if span.start > pos:
            segments.append((text[pos : span.start], ""))
        segments.append((text[span.start : span.end], span.label))
        pos = span.end
    if pos < len(text):
        segments.append((text[pos:], ""))
    return segments


def moderator_redaction(
    source: str,
    *,
    spans: Iterable = (),
    use_findings: bool = False,
    previous: Iterable = (),
    outside_message: str = "",
    empty_message: str = "",
) -> tuple[list[Span], str]:
    """What a moderator hides in ``source``, and the text that is then published.

    Hidden: every finding ``core.phi.scan`` makes (``use_findings``), each
    chosen ``(start, end)`` in ``spans`` (labelled with the kind of a finding
    it matches exactly, else "details"), and the ``previous`` redactions that
    still fit the text. Returns the merged spans (offsets and labels only, as
    stored) and the text with a marker such as "[phone removed]" in place of
    each. Raises ``ValidationError`` on ``spans`` for a span that is not two
    offsets inside the text, or when nothing is chosen.
    """
    from django.core.exceptions import ValidationError

    from portal_social.core import phi

    findings = phi.scan(source)
    chosen = [Span(f.start, f.end, f.kind) for f in findings] if use_findings else []
    for span in spans or ():
        try:
            start, end = (int(part) for part in span)
        except (TypeError, ValueError):
            raise ValidationError({"spans": [outside_message or gettext("A selected part is not valid.")]}) from None
        if not 0 <= start < end <= len(source):
            raise ValidationError({"spans": [outside_message or gettext("A selected part is outside the text.")]})
        kind = next((f.kind for f in findings if f.start == start and f.end == end), "details")
        chosen.append(Span(start, end, kind))
    if not chosen:
        raise ValidationError({"spans": [empty_message or gettext("Choose at least one part of the text to hide.")]})
    # Earlier redactions were checked when they were made; one that no longer fits the text is dropped.
    kept = [as_span(s) for s in previous]
    kept = [Span(s.start, s.end, s.label or "details") for s in kept if 0 <= s.start < s.end <= len(source)]
    merged = merge_spans([*kept, *chosen])
    return merged, apply_redactions(source, merged, replace=lambda span: phi.marker(span.label))
