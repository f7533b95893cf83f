"""Detectors for numbers that identify a person: SSN, MRN, member and account
numbers, licences, vehicles and devices."""

from __future__ import annotations

import re
from collections.abc import Sequence

from portal_social.core.phi.config import _Config
from portal_social.core.phi.engine import (
    _A,
    _AI,
    _ALNUM,
    _NON_DIGITS,
    _cue_hits,
    _cue_pattern,
    _Hit,
    _luhn,
    _matches_at,
    _run_starts,
    _Text,
    register,
)

# --------------------------------------------------------------------------
# Government and health-plan numbers
# --------------------------------------------------------------------------

_SSN = re.compile(r"(?<![\w-])(?!000|666)\d{3}(?P<s>[- ])(?!00)\d{2}(?P=s)(?!0000)\d{4}(?![\w-]|\.\d)", _A)
_SSN_CUE = _cue_pattern(
    r"ssn|ss\s{0,2}#|ss\s{1,3}number|social\s{1,3}security(?:\s{1,3}(?:number|num|no\.?|#))?"
    r"|social(?=\s{1,3}(?:is|was|number|#))",
    r"(?P<v>\d{3}[- ]?\d{2}[- ]?\d{4})(?![\w-]|\.\d)",
)


@register("ssn")
def _detect_ssn(t: _Text, config: _Config | None) -> list[_Hit]:
    """Social Security numbers: 3-2-4 with dashes or spaces anywhere, nine
    plain digits after an SSN cue."""
    if t.ndigits < 9 or t.maxrun < 4:  # both patterns: nine digits, the last four together
        return []
    hits = [("ssn", m.start(), m.end()) for m in _SSN.finditer(t.work)]
    hits += [("ssn", m.start("v"), m.end("v")) for m in _SSN_CUE.finditer(t.work)]
    return hits


_MRN_CUE = _cue_pattern(
    r"mrn|m\.r\.n\.?|mr\s{0,2}#"
    r"|medical\s{1,3}records?(?:\s{1,3}(?:number|num|no\.?|#|id))?"
    r"|med\.?\s{0,2}rec(?:ord)?\.?(?:\s{0,3}(?:#|no\.?|number|num))?"
    r"|chart\s{0,3}(?:number|num|no\.?|#|id)"
    r"|(?:patient|hospital|health\s{1,3}record)\s{1,3}(?:id|number|num|no\.?|#)"
)


# Where each cue pattern can start (lower case); a cue hit needs digits in its
# value, so the cue patterns run only when ``_Text.value_digits``.
_MRN_STARTS = ("mr", "m.r", "med", "chart", "patient", "hospital", "health")


# From the start of a cue to the start of its value: at most 42 characters of
# cue ("insurance card identification number"), 6 of _SEP, 3 x 20 of _FILLER.
_CUE_TO_VALUE = 160


def _cue_matches(
    pattern: re.Pattern[str], t: _Text, starts: Sequence[str], min_len: int, min_digits: int
) -> list[re.Match[str]]:
    """The matches of a _cue_pattern whose value _cue_hits can keep (the
    others make no hit): cues starting a little before a stretch that can
    hold such a value."""
    positions: list[int] = []
    floor = 0
    for start, end, _ in t.values(min_len, min_digits):
        lo = max(start - _CUE_TO_VALUE, floor)
        if lo < end:
            positions += t.starts(starts, _ALNUM, lo, end)
            floor = end
    return _matches_at(pattern, t.work, positions)


@register("mrn")
def _detect_mrn(t: _Text, config: _Config) -> list[_Hit]:
    """Medical record numbers after a cue ("MRN", "medical record #", "chart
    number", "patient ID") and anything PORTAL_SOCIAL_PHI_MRN_PATTERNS matches."""
    work = t.work
    hits = _cue_hits(_cue_matches(_MRN_CUE, t, _MRN_STARTS, 4, 3), "mrn", 4, 3)
    for pattern in config.mrn_patterns:
        group = "mrn" if "mrn" in pattern.groupindex else 0
        for m in pattern.finditer(work):
            start, end = m.span(group)
            if end > start >= 0:
                hits.append(("mrn", start, end))
    return hits


_MEMBER_CUE = _cue_pattern(
    r"(?:member|subscriber|policy|insurance(?:\s{1,3}card)?|beneficiary|medicare|medicaid|medi-cal"
    r"|enrollee|cardholder)"
    r"\s{0,3}(?:id(?:entification)?|#|number|num|no\.?)(?:\s{0,3}(?:#|number|no\.?))?"
)


_MEMBER_STARTS = (
    "member",
    "subscriber",
    "policy",
    "insurance",
    "beneficiary",
    "medi",
    "enrollee",
    "cardholder",
)


@register("member_id")
def _detect_member_id(t: _Text, config: _Config | None) -> list[_Hit]:
    """Health-plan member, subscriber, policy, group and Medicare/Medicaid IDs after a cue."""
    return _cue_hits(_cue_matches(_MEMBER_CUE, t, _MEMBER_STARTS, 5, 2), "member_id", 5, 2)


_ACCOUNT_CUE = _cue_pattern(
    r"(?:(?:billing|patient|guarantor|hospital|bank|checking|savings|my)\s{1,3})?(?:account|acct\.?|a/c)"
    r"(?:\s{0,3}(?:#|number|num|no\.?))?"
    r"|(?:claim|invoice|statement|bill|rx|prescription|refill)"
    r"\s{0,3}(?:#|number|num|no\.?|id)"
    r"|rx\s{0,2}#"
)
_CARD = re.compile(r"(?<![\w-])(?:\d[ -]?){12,18}\d(?![\w-]|\.\d)", _A)


_ACCOUNT_STARTS = (
    "bill",
    "patient",
    "guarantor",
    "hospital",
    "bank",
    "checking",
    "savings",
    "my",
    "account",
    "acct",
    "a/c",
    "claim",
    "invoice",
    "statement",
    "rx",
    "prescription",
    "refill",
)


@register("account_number")
def _detect_account_number(t: _Text, config: _Config | None) -> list[_Hit]:
    """Account, claim, invoice and prescription numbers after a cue, and
    payment card numbers anywhere (13-19 digits passing the Luhn check)."""
    hits = _cue_hits(_cue_matches(_ACCOUNT_CUE, t, _ACCOUNT_STARTS, 4, 4), "account_number", 4, 4)
    # A card number starts a run of digits; its 13+ digits are joined by
    # single spaces or hyphens.
    card_starts = _run_starts(t) if t.has_value(13, 13) else []
    for m in _matches_at(_CARD, t.work, card_starts):
        digits = _NON_DIGITS.sub("", m.group())
        if 13 <= len(digits) <= 19 and len(set(digits)) > 1 and _luhn(digits):
            hits.append(("account_number", m.start(), m.end()))
    return hits


_LICENSE_CUE = _cue_pattern(
    r"(?:driver'?s?|driving)\s{1,3}licen[cs]e(?!\s{1,3}plate)(?:\s{0,3}(?:number|num|no\.?|#|id))?"
    r"|(?-i:DL)\s{0,2}(?:#|:|number|no\.?)"
    r"|licen[cs]e(?!\s{1,3}plate)\s{0,3}(?:number|num|no\.?|#)"
    r"|(?:medical|nursing|professional|pharmacy|pharmacist|dental|state|board)\s{1,3}licen[cs]e"
    r"(?:\s{0,3}(?:number|num|no\.?|#))?"
    r"|dea(?:\s{0,3}(?:number|num|no\.?|#|registration))?"
    r"|(?:birth|death|marriage)\s{1,3}certificate(?:\s{0,3}(?:number|num|no\.?|#))?"
    r"|certificate\s{0,3}(?:number|num|no\.?|#)|cert(?:ification)?\s{0,3}(?:#|number|no\.?)"
    r"|passport(?:\s{0,3}(?:number|num|no\.?|#))?"
    r"|state\s{1,3}id(?:\s{0,3}(?:number|no\.?|#))?"
    r"|(?:permit|registration|green\s{1,3}card|visa|alien|a-number|uscis|tax\s{1,3}id|ein|itin)"
    r"\s{0,3}(?:number|num|no\.?|#)"
)


_LICENSE_STARTS = (
    "driv",
    "dl",
    "licen",
    "medical",
    "nursing",
    "professional",
    "pharmac",
    "dental",
    "state",
    "board",
    "dea",
    "birth",
    "marriage",
    "cert",
    "passport",
    "permit",
    "registration",
    "green",
    "visa",
    "alien",
    "a-number",
    "uscis",
    "tax",
    "ein",
    "itin",
)


@register("license")
def _detect_license(t: _Text, config: _Config | None) -> list[_Hit]:
    """Driver's, professional and DEA licence numbers, certificate, passport
    and state ID numbers, after a cue."""
    return _cue_hits(_cue_matches(_LICENSE_CUE, t, _LICENSE_STARTS, 5, 2), "license", 5, 2)


# --------------------------------------------------------------------------
# Vehicles and devices
# --------------------------------------------------------------------------

_VIN = re.compile(r"(?<![A-Za-z0-9])[A-HJ-NPR-Z0-9]{17}(?![A-Za-z0-9])", _AI)
_VIN_CUE = re.compile(r"(?<![A-Za-z])(?:vin|vehicle\s{1,3}(?:id|identification))(?![A-Za-z])[^A-Za-z0-9]{0,6}$", _AI)
_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_PLATE_CUE = _cue_pattern(
    r"licen[cs]e\s{1,3}plate(?:\s{0,3}(?:number|num|no\.?|#))?|plates?(?:\s{0,3}(?:number|num|no\.?|#))?"
    r"|tag\s{0,3}(?:number|num|no\.?|#)|registration\s{1,3}plate",
    r"(?P<v>[A-Za-z0-9]{2,8}(?:[ -](?=[A-Za-z]{0,4}\d)[A-Za-z0-9]{1,5})?)(?![A-Za-z0-9])",
)


def _vin_valid(vin: str) -> bool:
    total = sum(_VIN_VALUES[ch] * w for ch, w in zip(vin, _VIN_WEIGHTS, strict=True))
    check = total % 11
    return vin[8] == ("X" if check == 10 else str(check))


_PLATE_STARTS = ("licen", "plate", "tag", "registration")


@register("vehicle")
def _detect_vehicle(t: _Text, config: _Config | None) -> list[_Hit]:
    """VINs (17 characters with a valid check digit, or after "VIN") and
    licence plates after a cue."""
    work = t.work
    hits = []
    # A VIN is 17 letters and digits with a digit.
    for m in _VIN.finditer(work) if t.has_value(17, 1) else ():
        vin = m.group().upper()
        if not (re.search(r"\d", vin) and re.search(r"[A-Z]", vin)):
            continue
        if _vin_valid(vin) or _VIN_CUE.search(work, max(0, m.start() - 30), m.start()):
            hits.append(("vehicle", m.start(), m.end()))
    # A plate may join letters to digits with a space ("ABC 1234"): the looser value_digits.
    plates = _matches_at(_PLATE_CUE, work, t.starts(_PLATE_STARTS, _ALNUM)) if t.value_digits else []
    hits += _cue_hits(plates, "vehicle", 4, 1)
    return hits


_DEVICE_CUE = _cue_pattern(
    r"serial(?:\s{0,3}(?:number|num|no\.?|#))?|s/n|(?-i:SN)(?:\s{0,2}#)?"
    r"|device\s{0,3}(?:id|identifier|serial)|imei|meid|udi|esn|mac\s{1,3}address"
)
_MAC = re.compile(r"(?<![\w:-])[0-9A-Fa-f]{2}(?P<s>[:-])(?:[0-9A-Fa-f]{2}(?P=s)){4}[0-9A-Fa-f]{2}(?![\w:-])", _A)


_DEVICE_STARTS = ("serial", "s/n", "sn", "device", "imei", "meid", "udi", "esn", "mac")
# Every MAC address holds a separator, two hex digits and the same separator
# (a literal first character makes the search fast).
_MAC_HINTS = (re.compile(r":[0-9A-Fa-f]{2}:", _A), re.compile(r"-[0-9A-Fa-f]{2}-", _A))


@register("device")
def _detect_device(t: _Text, config: _Config | None) -> list[_Hit]:
    """Device serial numbers, device IDs, IMEI/UDI after a cue; MAC addresses."""
    hits = _cue_hits(_cue_matches(_DEVICE_CUE, t, _DEVICE_STARTS, 4, 2), "device", 4, 2)
    if _MAC_HINTS[0].search(t.work) or _MAC_HINTS[1].search(t.work):
        hits += [("device", m.start(), m.end()) for m in _MAC.finditer(t.work)]
    return hits
