"""Identifiers by window: an identifier-shaped value near an identifier cue.

One mechanism for every number that identifies a person through a register
(member and policy IDs, licences and permits, plates, device serials, record,
account and claim numbers), in any format: a value that looks like an
identifier (letters and digits, an identifier's length and digit count,
possibly split by spaces or dashes, possibly after a short upper-case prefix
such as "RN" or "CDL") is an identifier when a cue word for a register comes
shortly before it in the same sentence. The kind is the nearest cue's. A cue
for something public (group number, BIN, NPI, CPT code, model, lot, room)
that comes nearer than any identifier cue makes the value public.

A second value of the same shape later in the same sentence ("charts 7021 and
7045", "is it 00918273 or 0918273?") takes the first one's kind.

Linear time: cue words are found with one alternation of bounded literals;
each cue reads a bounded window after it, and windows do not overlap.
"""

from __future__ import annotations

import re

from portal_social.core.phi.config import _Config
from portal_social.core.phi.engine import _Hit, _Text, register
from portal_social.core.phi.identifiers import _vin_valid

# Cue words, lower case, by kind. Spanish cues sit with their English
# equivalents. Longer phrases are listed so the alternation prefers them.
_CUES: dict[str, tuple[str, ...]] = {
    "member_id": (
        "member",
        "membership",
        "subscriber",
        "policy",
        "policyholder",
        "mbi",
        "medicare",
        "medicaid",
        "medi-cal",
        "bic",
        "cin",
        "ahcccs",
        "tricare",
        "beneficiary",
        "benefits number",
        "health card",
        "health insurance",
        "insurance id",
        "insurance card",
        "insurance number",
        "ohip",
        "enrollee",
        "id number",
        "id #",
        "número de identificación",
        "póliza",
        "poliza",
        "afiliado",
        "afiliación",
        "carnet",
        "tarjeta de seguro",
        "seguro médico",
        "medicaid id",
    ),
    "mrn": (
        "mrn",
        "chart",
        "charts",
        "medical record",
        "medical records",
        "record number",
        "record #",
        "patient id",
        "patient number",
        "patient #",
        "pt id",
        "hospital number",
        "nhs number",
        "nhs no",
        "expediente",
        "historia clínica",
        "número de paciente",
        "registro médico",
    ),
    "account_number": (
        "account",
        "accounts",
        "acct",
        "claim",
        "claims",
        "invoice",
        "statement",
        "guarantor",
        "har",
        "hsa",
        "fsa",
        "checking",
        "savings",
        "cuenta",
        "reclamo",
        "reclamación",
        "factura",
    ),
    "license": (
        "license",
        "licence",
        "licensed",
        "dl",
        "cdl",
        "driver's",
        "drivers",
        "permit",
        "permiso",
        "learner's",
        "licencia",
        "placard",
        "badge",
        "blue badge",
        "disability card",
        "disabled parking",
        "handicap",
        "discapacitado",
        "discapacidad",
        "cannabis card",
        "certificate",
        "certification",
        "cert",
        "passport",
        "pasaporte",
        "state id",
    ),
    "vehicle": (
        "plate",
        "plates",
        "placa",
        "placas",
        "tag",
        "car reg",
        "reg",
        "registration",
        "vin",
        "matrícula",
        "matricula",
        "patente",
    ),
    "device": (
        "serial",
        "serials",
        "s/n",
        "sn",
        "número de serie",
        "numero de serie",
        "transmitter",
        "receiver",
        "pump",
        "bomba",
        "pdm",
        "meter",
        "glucometer",
        "pacemaker",
        "marcapasos",
        "defibrillator",
        "icd device",
        "device id",
        "device",
        "hearing aid",
        "processor",
        "stimulator",
        "concentrator",
        "cpap",
        "bipap",
        "imei",
        "udi",
        "controller",
        "aparato",
    ),
    "ssn": (
        "ssn",
        "social security",
        "seguro social",
        "sin",
        "social insurance",
        "national insurance",
        "ni number",
        "itin",
    ),
}

# Cues for values that are public or shared, not a person's: group and plan
# numbers, pharmacy routing, clinicians' and organisations' numbers, billing
# and product codes, versions, places and trips.
_PUBLIC_CUES = (
    "group",
    "grp",
    "grupo",
    "bin",
    "pcn",
    "npi",
    "ein",
    "tin",
    "routing",
    "aba",
    "cpt",
    "icd",
    "icd-10",
    "drg",
    "hcpcs",
    "revenue code",
    "rev code",
    "ndc",
    "lot",
    "lote",
    "batch",
    "model",
    "modelo",
    "version",
    "firmware",
    "software",
    "app",
    "part",
    "ref",
    "510(k)",
    "k-number",
    "nct",
    "case",
    "form",
    "formulario",
    "room",
    "rm",
    "bed",
    "cama",
    "suite",
    "unit",
    "floor",
    "level",
    "spot",
    "space",
    "locker",
    "flight",
    "vuelo",
    "train",
    "bus",
    "route",
    "gate",
    "port",
    "pager",
    "code",
    "pin",
    "contract",
    "plan",
    "h-contract",
    "order",
    "tracking",
    "confirmation",
    "ticket",
    "extension",
    "ext",
    "option",
    "step",
    "page",
    "chapter",
    "section",
    "rule",
    "statute",
    "docket",
    "po box",
    "p.o. box",
    "p o box",
    "apt",
    "apartment",
)

_CUE_KIND: dict[str, str] = {}
for _kind, _words in _CUES.items():
    for _word in _words:
        _CUE_KIND[_word] = _kind
for _word in _PUBLIC_CUES:
    _CUE_KIND.setdefault(_word, "")
del _kind, _words, _word

# Longest first so "medical records" wins over "medical record"; every cue is
# a whole word (no letter on either side).
_CUE = re.compile(
    r"(?<![a-z0-9áéíóúñü])(?:"
    + "|".join(re.escape(w) for w in sorted(_CUE_KIND, key=len, reverse=True))
    + r")(?![a-z0-9áéíóúñü])",
)

# An identifier's pieces: runs of letters and digits joined by "-", "." or
# "/"; pieces joined by single spaces are read together in _value_at.
_PIECE = re.compile(r"[A-Za-z0-9]{1,24}(?:[-./\u2011][A-Za-z0-9]{1,24}){0,6}", re.ASCII)
_SENTENCE_END = re.compile(r"[.!?;](?:\s|$)|\n\s*\n|\n(?=[A-Z*#•-])")
_CHAIN_END = re.compile(r"[.!?](?:\s|$)|\n")
_UNIT_AFTER = re.compile(
    r"\s?(?:%|mg|mcg|ml|kg|lbs?|g|mm|cm|units?|iu|mmol|mmhg|bpm|am|pm|hrs?|hours?|minutes?|mins?|days?|weeks?"
    r"|months?|years?|steps|x|th|st|nd|rd|°)(?![A-Za-z])",
    re.IGNORECASE,
)
# How far after a cue its value may start, and how far after a value a second
# value of the same shape may.
_REACH = 56
_CHAIN_REACH = 64
# A cue this close to the end of its sentence may find its value in the next.
_SENTENCE_TAIL = 32


def _digits(value: str) -> int:
    return sum(c.isdigit() for c in value)


def _alnum(value: str) -> int:
    return sum(c.isalnum() for c in value)


def _shape(value: str) -> tuple[int, int]:
    return (_alnum(value), _digits(value))


def _identifier_like(value: str, kind: str) -> bool:
    """Whether ``value`` has an identifier's length and digit count for ``kind``."""
    n, d = _shape(value)
    if d == 0 or n > 24:
        return False
    letters = n - d
    if kind == "ssn":
        return d in (9,) or (d == 4 and n == 4) or (letters == 3 and d == 6)
    if len(set(value.replace("-", "").replace(" ", ""))) == 1:
        return False  # "000000": a default, not an identifier
    if kind == "vehicle":
        return (4 <= n <= 10 or n == 17) and (letters >= 1 or d >= 5)
    if n < 5:
        return False
    if letters == 0:
        return d >= 5
    return d >= 2 or (kind == "device" and d >= 1 and n >= 6)


_ZIP4 = re.compile(r"\d{5}-\d{4}", re.ASCII)
_VIN = re.compile(r"(?=[A-HJ-NPR-Z0-9]{17}$)(?=.*\d)(?=.*[A-Z])[A-Z0-9]{8}[0-9X][A-Z0-9]{8}", re.ASCII)
_PREFIX = re.compile(r"[A-Z]{1,4}(?:-[A-Z]{1,4})?", re.ASCII)
# Upper-case words before digits that are cues or filler, not part of the
# value ("ID 5558675309"); other short prefixes are ("RN 2487193", "TX 5519").
_NOT_PREFIX = frozenset(_CUE_KIND) | {"id", "no", "nr", "num", "is", "dob", "pt", "ph", "tel", "fax", "ext", "am", "pm"}
_PREFIX_THEN = re.compile(r"^[A-Za-z]{1,4}[ -](?=\d)", re.ASCII)
_OTHER_KIND = re.compile(
    r"(?:\+?1[-. ]?)?(?:\(\d{3}\) ?|\d{3}[-. ])\d{3}[-. ]\d{4}"  # a phone number written as one
    r"|1[-. ]?8[0-9]{2}[-. ]?[A-Z0-9]{3}[-. ]?[A-Z0-9]{4}"  # a toll-free line
    r"|1?[-. ]?8[0-9]{2}[-. ][A-Z]{4,10}"  # a vanity toll-free line, "1-800-MEDICARE"
    r"|\d{1,3}(?:\.\d{1,3}){3}"  # an IP address
    r"|[A-Z]{2}\s\d{5}(?:-\d{4})?"  # a state and ZIP
    r"|[A-V]\d{4}"  # a HCPCS code ("A7030")
    r"|[A-Z]\d{2}\.\d{1,4}[A-Z]?"  # an ICD-10 code ("J45.909")
    r"|\d{1,2}-(?:year|yr|month|week|day)s?-old"  # an age
    r"|(?:IP|CPT|ICD|NDC|NPI|CMS|SSA|DHS|NCT|HCPCS|DRG|UB)[- ]?[A-Z0-9.-]{2,14}",  # codes and forms
    re.ASCII | re.IGNORECASE,
)


def _looks_like_date_or_number(value: str, work: str, start: int, end: int) -> bool:
    """A date, time, amount, measurement, version, or another kind's value
    (phone, IP, ZIP+4, public code), not an identifier."""
    if start and work[start - 1] in "$€£":
        return True
    if _OTHER_KIND.fullmatch(value):
        return True
    # "DOB 11/30/1975": a prefix, then a date
    value = _PREFIX_THEN.sub("", value)
    if re.fullmatch(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}", value, re.ASCII):
        return True
    if re.fullmatch(r"(?:19|20)\d\d", value, re.ASCII):
        return True
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d{1,2}", value, re.ASCII):
        return True
    if re.fullmatch(r"v?\d{1,3}(?:\.\d{1,3}){1,3}", value, re.ASCII | re.IGNORECASE):
        return True
    return bool(_UNIT_AFTER.match(work, end))


def _value_at(work: str, pos: int) -> tuple[int, int] | None:
    """The identifier starting at ``pos``: pieces joined by single spaces
    when they read as one value ("MEM 0033 8812 4", "JT 48 19 27 B")."""
    m = _PIECE.match(work, pos)
    if m is None:
        return None
    start, end = m.span()
    first = m.group()
    pieces = 1
    while pieces < 6 and end < len(work) - 1 and work[end] == " ":
        nxt = _PIECE.match(work, end + 1)
        if nxt is None:
            break
        piece = nxt.group()
        joined = work[start:end]
        if (
            (pieces == 1 and _PREFIX.fullmatch(first) and piece[:1].isdigit() and first.lower() not in _NOT_PREFIX)
            or (joined[-1:].isdigit() and piece[:1].isdigit() and len(piece) <= 8)  # "8812 0043"
            or (joined[-1:].isdigit() and len(piece) == 1 and piece.isupper() and _PREFIX.fullmatch(piece))  # "27 B"
            or (re.fullmatch(r"[A-Z]{1,2}\d{1,2}[A-Z]?", joined) and re.fullmatch(r"[A-Z]{3}", piece))  # "LK19 XRT"
        ):
            end = nxt.end()
            pieces += 1
            continue
        break
    return start, end


_SKIP = re.compile(r"[\s:#=,(\[\"'*«“\-]{0,4}", re.ASCII)
_WORD = re.compile(r"[^\s:#=,()\[\]\"'*«»“”]{1,30}")


def _next_value(work: str, pos: int, limit: int, kind: str) -> tuple[int, int] | None:
    """The first identifier-like value for ``kind`` after ``pos`` and before
    ``limit``, passing at most ten words ("policy number on my card is ...")."""
    for _ in range(11):
        pos = _SKIP.match(work, pos).end()
        if pos >= limit:
            return None
        found = _value_at(work, pos)
        if found is not None and found[1] <= limit + 24:
            value = work[found[0] : found[1]].rstrip(".-/")
            if _identifier_like(value, kind) and not _looks_like_date_or_number(
                value, work, found[0], found[0] + len(value)
            ):
                return found[0], found[0] + len(value)
        w = _WORD.match(work, pos)
        if w is None:
            pos += 1
            continue
        pos = w.end()
    return None


def _sentence_limit(work: str, pos: int, reach: int, end: re.Pattern[str] = _SENTENCE_END) -> int:
    hi = min(len(work), pos + reach)
    m = end.search(work, pos, hi)
    return m.start() if m else hi


@register("cued_identifier")
def _detect_cued(t: _Text, config: _Config | None) -> list[_Hit]:
    """Identifier-shaped values after any identifier cue word, by the nearest cue's kind."""
    if not t.value_digits and t.ndigits < 4:
        return []
    work, low = t.work, t.low
    hits: list[_Hit] = []
    floor = 0
    for cue in _CUE.finditer(low):
        if cue.start() < floor:
            continue
        kind = _CUE_KIND[cue.group()]
        if not kind:
            continue
        limit = _sentence_limit(work, cue.end(), _REACH)
        if limit - cue.end() <= _SENTENCE_TAIL and limit < len(work):
            # "... my member number. Correct one is W22048": the value opens
            # the next sentence.
            limit = _sentence_limit(work, limit + 1, _REACH)
        # A nearer cue (public or for another register) takes over the value.
        nearer = _CUE.search(low, cue.end(), limit)
        if nearer is not None:
            limit = nearer.start()
        found = _next_value(work, cue.end(), limit, kind)
        if found is None:
            continue
        start, end = found
        value = work[start:end]
        if _ZIP4.fullmatch(value) and start - cue.end() > 3:
            continue  # "Medicaid around 10027-3311": a ZIP+4, not right after its cue
        if kind != "vehicle" and _VIN.fullmatch(value.upper()) and _vin_valid(value.upper()):
            kind = "vehicle"  # seventeen characters with a valid VIN check digit
        reason = f"cue:{kind}:{cue.group()}"
        hits.append((kind, start, end, reason))
        floor = end
        # Values of the same shape later in the sentence, joined by "or",
        # "and", "not", "instead of"...
        shape = _shape(value)
        pos = gap = end
        chain_limit = _sentence_limit(work, end, _CHAIN_REACH, _CHAIN_END)
        while pos < chain_limit:
            nxt = _PIECE.search(work, pos, chain_limit)
            if nxt is None:
                break
            nstart, nend = _value_at(work, nxt.start()) or nxt.span()
            if nstart and (work[nstart - 1].isalnum()):
                pos = nend
                continue
            other = work[nstart:nend].rstrip(".-/")
            nend = nstart + len(other)
            n, d = _shape(other)
            if (
                d
                and "/" not in other
                and abs(n - shape[0]) <= 2
                and abs(d - shape[1]) <= 2
                and not _looks_like_date_or_number(other, work, nstart, nend)
            ):
                if _CUE.search(low, gap, nstart) is not None:
                    break  # another cue speaks for what follows
                hits.append((kind, nstart, nend, reason + ":same-shape"))
                floor = gap = nend
                chain_limit = _sentence_limit(work, nend, _CHAIN_REACH, _CHAIN_END)
            pos = nend
    return hits
