"""Detectors for street addresses and ZIP codes."""

from __future__ import annotations

import re

from portal_social.core.phi.config import _Config
from portal_social.core.phi.dates import _last
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
    r"(?P<city>,\s{1,3}"
    + _CITY_STATE
    + r"|,\s{1,3}[A-Z][a-z]{1,20}(?:\s[A-Z][a-z]{1,20}){0,2}(?=,?\s{1,3}\d{5}(?![\w-])))?"
    r"(?P<zip>,?\s{1,3}\d{5}(?:-\d{4})?(?![\w-]))?",
    _A,
)
_PO_BOX = re.compile(
    r"(?<![A-Za-z])(?:p\.?\s?o\.?\s{0,2}box|post\s{1,3}office\s{1,3}box)\s{0,3}#?\s{0,2}\d{1,8}(?!\d)", _AI
)
_CITY_STATE_ZIP = re.compile(
    r"(?<![A-Za-z])(?P<a>[A-Z][a-z]{1,20}(?:\s[A-Z][a-z]{1,20}){0,2},?\s{1,3}"
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


# Streets named type first: "4521 Calle Sol", "7 Chemin des Érables",
# "2230 Saint-Urbain", "12 Rue de la Paix"; rural routes: "Route 2 Box 118".
_UNIT = (
    r"(?:,?\s{1,3}(?i:apt|apartment|app|unit|suite|ste|flat|fl|floor|depto|departamento|int|interior|no)\.?\s{0,3}#?"
    r"\s{0,2}[A-Za-z0-9-]{1,6}(?![A-Za-z0-9])|,?\s{1,3}#\s{0,2}[A-Za-z0-9-]{1,6}(?![A-Za-z0-9]))?"
)
_NAME_WORD = r"[A-ZÀ-Þ][A-Za-zÀ-ÿ'’]{1,24}(?:-[A-ZÀ-Þ][A-Za-zÀ-ÿ'’]{1,24})?"
_ADDRESS_TYPE_FIRST = re.compile(
    r"(?<![\w#/.,$-])\d{1,6}[A-Za-z]?,?\s{1,3}"
    r"(?:(?:Calle|Avenida|Av\.|Avda\.?|Camino|Paseo|Calzada|Carrera|Carretera|Privada|Cerrada|Chemin|Rue|Rang|Route"
    r"|Boulevard|Boul\.|Via|Rua|Travessa|Strada|Viale|Saint|Sainte|St-|Ste-)\s{0,3}"
    r"(?:(?:de|del|de\s{1,3}la|de\s{1,3}los|des|du|de\s{1,3}l'|la|le|los|las)\s{1,3})?"
    + _NAME_WORD
    + r"(?:\s{1,3}"
    + _NAME_WORD
    + r"){0,2}"
    r"|Saint-" + _NAME_WORD + r"|Sainte-" + _NAME_WORD + r")" + _UNIT,
)
_RURAL_ROUTE = re.compile(
    r"(?<![A-Za-z])(?:rural\s{1,3}route|route|rr|hc|star\s{1,3}route)\s{0,2}\d{1,4},?\s{1,3}box\s{0,2}\d{1,6}(?!\d)",
    _AI,
)
# Lower-case or unusual streets after a cue that says an address follows.
_ADDRESS_CUE_LOWER = re.compile(
    r"(?<![A-Za-z])(?:address(?:\s{1,3}is)?|live\s{1,3}at|living\s{1,3}at|moved\s{1,3}to|mail\s{1,3}(?:it\s{1,3})?to|send"
    r"(?:\s{1,3}it)?\s{1,3}to|staying\s{1,3}at|direcci[oó]n(?:\s{1,3}es)?|vivo\s{1,3}en|vivimos\s{1,3}en)(?![A-Za-z])"
    r"[\s:!.,-]{0,8}(?P<a>\d{1,6}[a-z]?\s{1,3}(?:[nsew]\.?\s{1,3})?(?:[a-z0-9'-]{1,20}\s{1,3}){1,3}"
    r"(?:street|st|avenue|ave|road|rd|drive|dr|lane|ln|boulevard|blvd|court|ct|way|place|pl|terrace|circle|cir"
    r"|parkway|pkwy|highway|hwy|trail)(?![A-Za-z])\.?" + _UNIT + r")",
    _AI,
)
# An organisation named before an address in the same sentence: its address
# and ZIP are public ("The clinic is at 1550 SW 8th St", "Royal Infirmary,
# 51 Little France Crescent").
_ORG_BEFORE_ADDRESS = re.compile(
    r"(?<![A-Za-z])(?:clinic|clinics|clínica|hospital|hospitals|center|centre|centro|pharmacy|farmacia|house|lab"
    r"|labs|laboratory|office|offices|warehouse|campus|urgent\s{1,3}care|infirmary|practice|department|dept"
    r"|foundation|church|school|university|college|library|ymca|shelter|store|shop|restaurant|hotel|gym|bank"
    r"|insurer|company|plant|headquarters|hq|building|tower|pavilion|facility|agency|program|consultorio"
    r"|oficina|iglesia|escuela|tienda|sede|draws?|appeals?)(?![A-Za-z])",
    _AI,
)
_PERSON_BEFORE_ADDRESS = re.compile(
    r"(?<![A-Za-z])(?:my|our|i|i'm|we|we're|live|lives|living|home|house\s{1,3}is|mailing|his|her|their|pt|patient"
    r"|mi|mis|nuestr[oa]|vivo|vive|vivimos|casa|domicilio|dirección|address)(?![A-Za-z])",
    _AI,
)


def _organisation_address(work: str, start: int) -> bool:
    """Whether the address at ``start`` is an organisation's: one is named
    before it in the same sentence, and nothing personal comes between."""
    lo = max(0, start - 90)
    breaks = list(re.finditer(r"[.!?;]\s|\n", work[lo:start]))
    if breaks:
        lo += breaks[-1].end()
    org = _last(_ORG_BEFORE_ADDRESS.finditer(work, lo, start))
    if org is None:
        return False
    return _PERSON_BEFORE_ADDRESS.search(work, org.end(), start) is None and not _PERSON_BEFORE_ADDRESS.search(
        work, lo, org.start()
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
        if _organisation_address(work, m.start()):
            continue
        end = m.end("city") if m.group("city") else m.end()
        if m.group("zip"):
            end = m.start("zip")
            zip_start = m.start("zip") + len(m.group("zip")) - len(m.group("zip").lstrip(", "))
            hits.append(("zip", zip_start, m.end("zip")))
        hits.append(("address", m.start(), end))
    if "box" in t.low:
        hits += [
            ("address", m.start(), m.end())
            for m in _PO_BOX.finditer(work)
            if not _organisation_address(work, m.start())
        ]
        hits += [("address", m.start(), m.end()) for m in _RURAL_ROUTE.finditer(work)]
    for m in _matches_at(_ADDRESS_TYPE_FIRST, work, _run_starts(t, 6)):
        if not _organisation_address(work, m.start()):
            hits.append(("address", m.start(), m.end(), "address:street-type-first"))
    for m in _ADDRESS_CUE_LOWER.finditer(work):
        hits.append(("address", m.start("a"), m.end("a"), "address:cue"))
    for m in _CITY_STATE_ZIP.finditer(work) if t.maxrun >= 5 else ():
        if _organisation_address(work, m.start()):
            continue
        if "," in m.group("a"):  # "Springfield, IL 62704"; without the comma only the ZIP is sure
            hits.append(("address", m.start("a"), m.end("a")))
        hits.append(("zip", m.start("zip"), m.end("zip")))
    return hits


# UK and Canadian postcodes have shapes of their own ("LS6 2AF", "H2X 2N4").
_POSTCODE = re.compile(
    r"(?<![A-Za-z0-9])(?:(?:[A-PR-UWYZ][A-HK-Y]?\d[A-HJKPS-UW\d]?)\s?\d[ABD-HJLNP-UW-Z]{2}"
    r"|[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z]\s?\d[ABCEGHJ-NPRSTV-Z]\d)(?![A-Za-z0-9])",
    _A,
)
# A five-digit ZIP as a place: "near 60614", "in the 97212 area", "soy del 33135".
_ZIP_PLACE = re.compile(
    r"(?<![A-Za-z])(?:near|around|in(?:\s{1,3}the)?|from|to|at|del|en\s{1,3}el|zona|área|area|live\s{1,3}in)"
    r"\s{1,3}(?P<v>\d{5})(?![\w$%-]|[.\s]\d|\s{0,2}(?:%|mg|mcg|ml|kg|lbs?|steps|calories|units|people|dollars|usd|miles"
    r"|times|feet|ft|meters|m\b|patients|members|cases|deaths|years|hours|minutes|days))",
    _AI,
)
_ZIP_AREA_AFTER = re.compile(r"(?<![\w$#.,-])(?<!\d\s)(?P<v>\d{5})\s{1,3}(?:area|zip|zip\s{1,3}code)(?![A-Za-z])", _AI)


@register("zip")
def _detect_zip(t: _Text, config: _Config | None) -> list[_Hit]:
    """ZIP+4 codes anywhere; five-digit ZIPs after "zip"/"postal code" or
    as a place ("near 60614"), and after an address or "City, ST" (see
    :func:`_detect_address`); UK and Canadian postcodes anywhere, except in
    an organisation's address."""
    work, low = t.work, t.low
    hits: list[_Hit] = []
    if t.ndigits:
        for m in _POSTCODE.finditer(work):
            if not _organisation_address(work, m.start()):
                hits.append(("zip", m.start(), m.end(), "zip:postcode"))
    if t.maxrun < 5:  # the other patterns: five digits together
        return hits
    hits += [("zip", m.start(), m.end()) for m in _ZIP4.finditer(work)]
    if "zip" in low or "postal" in low:
        hits += [("zip", m.start("v"), m.end("v")) for m in _ZIP_CUE.finditer(work)]
    for pattern in (_ZIP_PLACE, _ZIP_AREA_AFTER):
        for m in pattern.finditer(work):
            if not _organisation_address(work, m.start("v")):
                hits.append(("zip", m.start("v"), m.end("v"), "zip:place"))
    return hits
