"""A text as a moderator reads it: written as it was, with what screening finds now marked.

Kinds' ``present`` functions call :func:`marked_text` rather than each
highlighting on its own; it gives the segments a template marks up and the
PHI findings a moderator may choose to hide.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable

from portal_social.core import screening


def marked_text(
    source: str,
    *,
    destination: str,
    label: Callable[[screening.Finding], str],
    kinds: Collection[str] | None = None,
    redactions: Iterable[dict] = (),
    redacted_label: str = "",
) -> dict:
    """``{"segments": [(piece, label or "")], "findings": [...]}`` for ``source``.

    Marked: every finding with a place in the text (of ``kinds``, or every
    kind), worded by ``label(finding)``, and each earlier redaction, worded
    ``redacted_label``. ``findings`` lists the PHI found, one choice each for
    hiding (``value`` is ``"start:end"``), marked ``redacted`` when already hidden.
    """
    result = screening.screen(source, destination=destination) if source else None
    found = [f for f in result.findings if f.end > f.start and (kinds is None or f.kind in kinds)] if result else []
    hidden = {(int(r["start"]), int(r["end"])) for r in redactions}
    marks = [screening.Span(f.start, f.end, label(f)) for f in found]
    marks += [screening.Span(start, end, redacted_label) for start, end in sorted(hidden)]
    return {
        "segments": screening.highlight(source, marks),
        "findings": [
            {
                "value": f"{f.start}:{f.end}",
                "kind": f.detail,
                "label": label(f),
                "text": source[f.start : f.end],
                "redacted": (f.start, f.end) in hidden,
            }
            for f in found
            if f.kind == screening.policy.PHI
        ],
    }
