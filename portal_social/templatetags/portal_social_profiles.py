"""Template helpers for the clinician directory and profile pages.

{% load portal_social_profiles %}
{% clinician_jsonld page %}            schema.org JSON-LD for a profile
{% star_icons 4.6 as icons %}          ["full", "full", "full", "full", "half"]
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template

from portal_social.conf import app_settings
from portal_social.profiles.directory import clinician_jsonld as build_clinician_jsonld

register = template.Library()


@register.simple_tag(takes_context=True)
def clinician_jsonld(context, page):
    """The profile's ``<script type="application/ld+json">``.

    Uses ``show_aggregate``/``aggregate`` from the page context when the
    reviews code provided them; otherwise the page's denormalised rating.
    Either way the rating appears only above the public minimum count.
    """
    aggregate = None
    if "show_aggregate" in context:
        aggregate = (context.get("aggregate") or {}) if context.get("show_aggregate") else {}
    return build_clinician_jsonld(page, context.get("request"), aggregate)


@register.simple_tag
def star_icons(average) -> list[str]:
    """Five states, "full", "half" or "empty", for an average from 0 to 5 (nearest half star)."""
    try:
        halves = int((Decimal(str(average)) * 2).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    except (InvalidOperation, TypeError, ValueError):
        halves = 0
    halves = min(max(halves, 0), 10)
    return ["full"] * (halves // 2) + ["half"] * (halves % 2) + ["empty"] * (5 - halves // 2 - halves % 2)


@register.filter
def tel_uri(phone) -> str:
    """``tel:`` URI for a public phone number: "+1 (555) 010-2000 x12" -> "tel:+15550102000,12"."""
    text = str(phone or "").strip()
    number, _, extension = text.lower().partition("x")
    digits = "".join(ch for ch in number if ch.isascii() and ch.isdigit())
    if not digits:
        return ""
    uri = "tel:" + ("+" if number.startswith("+") else "") + digits
    extension = "".join(ch for ch in extension if ch.isascii() and ch.isdigit())
    return f"{uri},{extension}" if extension else uri


@register.simple_tag
def reviews_min_count() -> int:
    """PORTAL_SOCIAL_REVIEWS_MIN_COUNT: how many ratings before stars are shown."""
    return app_settings.REVIEWS_MIN_COUNT
