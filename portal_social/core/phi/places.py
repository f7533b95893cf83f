"""Detectors for street addresses and ZIP codes."""

from __future__ import annotations

import re

from portal_social.core.phi.config import _Config
from portal_social.core.phi.engine import _A, _AI, _Hit, _matches_at, _run_starts, _Text, register

# --------------------------------------------------------------------------
# Street addresses and ZIP codes
# --------------------------------------------------------------------------

_STATES = (
    r"(?:AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY"
    r"|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC|PR|VI|GU)"
)
_SUFFIX = (
    r"(?:street|st|avenue|ave|av|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|terrace|ter"
    r"|circle|cir|parkway|pkwy|highway|hwy|square|sq|trail|trl|plaza|crescent|alley)"
)
_DIRECTION = r"(?:[NSEW]\.?|North|South|East|West|[NS]\.?[EW]\.?)"
_CITY_STATE = r"[A-Z][a-z]{1,20}(?:\s[A-Z][a-z]{1,20}){0,2},?\s{1,3}" + _STATES + r"(?![A-Za-z])"
_ADDRESS = re.compile(
    r"(?<![\w#/.,$-])\d{1,6}[A-Za-z]?(?:-\d{1,4})?\s{1,3}(?:" + _DIRECTION + r"\s{1,3})?"
    r"(?:(?:[A-Z][A-Za-z'-]{0,24}\.?|\d{1,3}(?:st|nd|rd|th))\s{1,3}){1,4}"
    r"(?i:" + _SUFFIX + r")(?![A-Za-z])\.?"
    r"(?:\s{1,3}" + _DIRECTION + r"(?![A-Za-z]))?"
    r"(?:,?\s{1,3}(?i:apt|apartment|unit|suite|ste|rm|room|fl|floor|bldg|building|no)\.?\s{0,3}#?\s{0,2}"
    r"[A-Za-z0-9-]{1,6}(?![A-Za-z0-9])|,?\s{1,3}#\s{0,2}[A-Za-z0-9-]{1,6}(?![A-Za-z0-9]))?"
    r"(?P<city>,\s{1,3}" + _CITY_STATE + r")?"
    r"(?P<zip>,?\s{1,3}\d{5}(?:-\d{4})?(?![\w-]))?",
    _A,
)
_PO_BOX = re.compile(
    r"(?<![A-Za-z])(?:p\.?\s?o\.?\s{0,2}box|post\s{1,3}office\s{1,3}box)\s{0,3}#?\s{0,2}\d{1,8}(?!\d)", _AI
)
_CITY_STATE_ZIP = re.compile(
    r"(?<![A-Za-z])(?P<a>[A-Z][a-z]{1,20}(?:\s[A-Z][a-z]{1,20}){0,2},\s{1,3}"
    + _STATES
    + r")\s{1,3}(?P<zip>\d{5}(?:-\d{4})?)(?![\w-])",
    _A,
)
_ZIP4 = re.compile(r"(?<![\w-])\d{5}-\d{4}(?![\w-]|\.\d)", _A)
_ZIP_CUE = re.compile(
    r"(?<![A-Za-z])(?:zip(?:\s{0,2}code)?|zipcode|postal\s{1,3}code)(?![A-Za-z])[\s:#]{0,4}"
    r"(?:(?:is|was)\s{1,3})?(?P<v>\d{5})(?![\w-])",
    _AI,
)


@register("address")
def _detect_address(t: _Text, config: _Config | None) -> list[_Hit]:
    """Street addresses (number, capitalised street name, suffix, optional
    direction, unit and "City, ST"), PO boxes, and "City, ST 12345"."""
    if not t.ndigits:
        return []
    work = t.work
    hits = []
    # A street address starts with a run of at most six digits.
    for m in _matches_at(_ADDRESS, work, _run_starts(t, 6)):
        end = m.end("city") if m.group("city") else m.end()
        if m.group("zip"):
            end = m.start("zip")
            zip_start = m.start("zip") + len(m.group("zip")) - len(m.group("zip").lstrip(", "))
            hits.append(("zip", zip_start, m.end("zip")))
        hits.append(("address", m.start(), end))
    if "box" in t.low:
        hits += [("address", m.start(), m.end()) for m in _PO_BOX.finditer(work)]
    for m in _CITY_STATE_ZIP.finditer(work) if t.maxrun >= 5 else ():
        hits.append(("address", m.start("a"), m.end("a")))
        hits.append(("zip", m.start("zip"), m.end("zip")))
    return hits


@register("zip")
def _detect_zip(t: _Text, config: _Config | None) -> list[_Hit]:
    """ZIP+4 codes anywhere; five-digit ZIPs after "zip"/"postal code" (and
    after an address or "City, ST": see :func:`detect_address`)."""
    if t.maxrun < 5:  # both patterns: five digits together
        return []
    work, low = t.work, t.low
    hits = [("zip", m.start(), m.end()) for m in _ZIP4.finditer(work)]
    if "zip" in low or "postal" in low:
        hits += [("zip", m.start("v"), m.end("v")) for m in _ZIP_CUE.finditer(work)]
    return hits
