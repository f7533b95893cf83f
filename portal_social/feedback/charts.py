"""Server-side SVG charts for the reports page: no script, no external assets, readable without colour.

Each chart is an ``<svg role="img">`` with a ``<title>`` and a text
description; the page shows the same figures in a table beside it, so
screen readers and printouts lose nothing. Labels are escaped.
"""

from __future__ import annotations

import datetime as dt
from html import escape

from django.utils.safestring import SafeString, mark_safe

#: Colours come from the stylesheet's custom properties (``.ps-chart__bar--N``); shapes carry a class only.
SERIES = 6


def _svg(width: int, height: int, title: str, description: str, body: list[str], ident: str) -> SafeString:
    title_id, desc_id = f"{ident}-title", f"{ident}-desc"
    return mark_safe(  # noqa: S308 - every label below is escaped
        f'<svg class="ps-chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{title_id} {desc_id}" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{title_id}">{escape(title)}</title><desc id="{desc_id}">{escape(description)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def stacked_columns(
    series: list[tuple[dt.date, dict[str, int]]], keys: list[str], labels: dict[str, str], *, title: str, ident: str
) -> SafeString:
    """Columns per period, stacked by ``keys`` (channels), with a legend."""
    width, height, left, bottom, top = 720, 300, 40, 40, 16
    count = max(1, len(series))
    step = (width - left - 10) / count
    peak = max([sum(values.values()) for _day, values in series] + [1])
    scale = (height - bottom - top) / peak
    body = [
        f'<line class="ps-chart__axis" x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}"/>',
        f'<text class="ps-chart__label" x="{left - 6}" y="{top + 4}" text-anchor="end">{peak}</text>',
        f'<text class="ps-chart__label" x="{left - 6}" y="{height - bottom}" text-anchor="end">0</text>',
    ]
    for index, (day, values) in enumerate(series):
        x = left + index * step + step * 0.15
        y = height - bottom
        for position, key in enumerate(keys):
            value = values.get(key, 0)
            if not value:
                continue
            h = value * scale
            y -= h
            body.append(
                f'<rect class="ps-chart__bar ps-chart__bar--{position % SERIES}" x="{x:.1f}" y="{y:.1f}" '
                f'width="{step * 0.7:.1f}" height="{h:.1f}"><title>{escape(labels.get(key, key))} '
                f"{escape(day.isoformat())}: {value}</title></rect>"
            )
        if count <= 16 or index % max(1, count // 12) == 0:
            body.append(
                f'<text class="ps-chart__label" x="{x + step * 0.35:.1f}" y="{height - bottom + 14}" '
                f'text-anchor="middle">{escape(day.strftime("%d %b"))}</text>'
            )
    for position, key in enumerate(keys):
        lx = left + position * 110
        body.append(
            f'<rect class="ps-chart__bar ps-chart__bar--{position % SERIES}" x="{lx}" y="{height - 14}" '
            f'width="10" height="10"/><text class="ps-chart__label" x="{lx + 14}" y="{height - 5}">'
            f"{escape(labels.get(key, key))}</text>"
        )
    total = sum(sum(values.values()) for _day, values in series)
    description = f"{total} cases over {len(series)} periods; the table below gives each figure."
    return _svg(width, height, title, description, body, ident)


def bars(rows: list[tuple[str, int]], *, title: str, ident: str) -> SafeString:
    """Horizontal bars, one per row, labelled with the name and the count."""
    rows = rows[:15]
    height = 24 * max(1, len(rows)) + 10
    width, label_width = 720, 260
    peak = max([n for _name, n in rows] + [1])
    body = []
    for index, (name, n) in enumerate(rows):
        y = 5 + index * 24
        w = (width - label_width - 60) * n / peak
        shown = name if len(name) <= 38 else name[:37] + "…"
        body.append(
            f'<text class="ps-chart__label" x="{label_width - 8}" y="{y + 14}" text-anchor="end">{escape(shown)}</text>'
            f'<rect class="ps-chart__bar ps-chart__bar--0" x="{label_width}" y="{y}" width="{w:.1f}" height="18"/>'
            f'<text class="ps-chart__label" x="{label_width + w + 6:.1f}" y="{y + 14}">{n}</text>'
        )
    description = "; ".join(f"{name}: {n}" for name, n in rows) or "No cases."
    return _svg(width, height, title, description, body, ident)
