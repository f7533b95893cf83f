"""The stricter screen for what staff and clinicians publish about patients.

``core.phi`` finds Safe Harbor identifiers in what patients write, with cues
tuned so that a patient's own story ("on March 3 I had surgery") is not
flagged. Text written *by the organisation* for a public place is held to a
stricter rule: a public reply that merely confirms someone is a patient
("we reviewed your chart from your 3/4 visit") is a disclosure, whatever
identifiers it carries. Two rule sets, used by ``core.user_text`` for their
destinations:

* :func:`scan_reply` (``staff_public_reply``): any personal name of the
  reader ("Mr. Carter", "Dear Maria", "Thank you, Sam"), any date or visit
  time ("3/4", "March 4", "last Tuesday's visit", "yesterday"), wording that
  confirms a care relationship (second person + a care noun: "your chart",
  "your recent visit", "your lab results", "during your stay", "when you
  were here", "you were seen") and health details (lab terms such as
  "A1c"). Clinicians' names ("Dr. Patel") and the organisation's may be
  named: they are public in the directory.
* :func:`scan_biography` (``public_profile``): a clinician's biography may
  not name or describe a particular patient ("my patient Jane Doe", "a
  patient of mine", "one of my patients, a 52-year-old…"). Talking about
  patients in general ("I speak Spanish with my patients") is fine.

Findings are ``phi.Finding`` objects with offsets into the text given; the
kinds beyond ``phi.KINDS`` are listed in :data:`KINDS`. Every pattern uses
bounded quantifiers only, so it runs in linear time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.utils.translation import gettext_lazy as _

from portal_social.core import phi

__all__ = ["GUIDANCE", "KINDS", "LABELS", "PHRASES", "describe", "scan_biography", "scan_reply"]

#: Kinds this module adds to ``phi.KINDS``.
KINDS: tuple[str, ...] = ("care_relationship", "health_detail", "patient_reference")

LABELS = {
    "care_relationship": _("reference to their care"),
    "health_detail": _("health detail"),
    "patient_reference": _("reference to a patient"),
}

#: What to remove, by kind: kinds only, never the text.
PHRASES = {
    "name": _("a person's name (the reviewer's or anyone else's; the clinician's and the organisation's are fine)"),
    "date": _("a date, or when something happened (a day, a month, \u201clast week\u201d)"),
    "care_relationship": _(
        "wording that confirms they are a patient (such as their visit, chart, records, results, stay or treatment)"
    ),
    "health_detail": _("a health detail (a test, a result, a condition or a medicine)"),
    "patient_reference": _("a reference to a particular patient (by name or by description)"),
    "phone": _("a phone number"),
    "email": _("an email address"),
    "address": _("a street address"),
    "age": _("an age over 89"),
}

#: How to answer a review in public, shown with every refusal of a staff reply.
GUIDANCE = (
    _("Thank the person for taking the time to write."),
    _("Apologise that their experience fell short, without agreeing to any facts about their care."),
    _("Take it offline: invite them to contact the patient relations team privately."),
    _("Confirm nothing about their care: not that they are a patient, not a visit, a date, a name or a result."),
)

_I = re.IGNORECASE

# --------------------------------------------------------------------------- names

_CAP = r"[A-Z][a-zA-Z'\-]{1,24}"
# Honorifics that name a member of the public; clinicians' titles ("Dr.", "Nurse") are public.
_HONORIFIC_NAME = re.compile(
    r"(?<![A-Za-z])(?:Mr|Mrs|Ms|Mx|Miss|Mister|Madam|Sir)\.?\s{1,3}" + _CAP + r"(?:\s" + _CAP + r")?"
)
# "Dear Maria", "Hi Sam,", "Hello Mr. …", "Thank you, Maria", "Thanks so much Jamal".
_GREETING_NAME = re.compile(
    r"(?<![A-Za-z])(?:dear|hi|hello|hey|good\s{1,3}(?:morning|afternoon|evening)"
    r"|thanks|thank\s{1,3}you)(?:\s{1,3}(?:so\s{1,3}much|again|very\s{1,3}much))?\s{0,2},?\s{1,3}"
    r"(?P<n>" + _CAP + r"(?:\s" + _CAP + r")?)",
    _I,
)
# A capitalised word alone before a comma at the start of the reply: "Carter, we are sorry …".
_VOCATIVE = re.compile(r"\A\s{0,5}(?P<n>" + _CAP + r"(?:\s" + _CAP + r")?)\s{0,2},")
# Capitalised words after a greeting that are not a person's name.
_NOT_READER_NAMES_TEXT = """
    All Everyone Everybody Team There Again Friend Friends Folks Sir Madam Reviewer Patient Patients Member Members
    Neighbor Neighbour Neighbors Neighbours Community For So You Very Thank Thanks Dr Doctor Nurse Our The We I It
    This That Hello Hi Dear Please Sorry Again Much Yes No Ok Okay Well Unfortunately Sincerely Regards Hey
    Good Greetings Firstly First Also However Absolutely Apologies Certainly Indeed Truly Honestly Understood
    Of Course Again Welcome Hope Hoping Best Warm Kind Many Gratefully Respectfully Afternoon Morning Evening
    """
_NOT_READER_NAMES = frozenset(_NOT_READER_NAMES_TEXT.split())


def _name_hits(text: str) -> list[tuple[str, int, int]]:
    hits = [("name", m.start(), m.end()) for m in _HONORIFIC_NAME.finditer(text)]
    for pattern in (_GREETING_NAME, _VOCATIVE):
        for m in pattern.finditer(text):
            kept = []
            for word in m.group("n").split():
                if not word[0].isupper() or word.rstrip(".") in _NOT_READER_NAMES:
                    break
                kept.append(word)
            if kept:
                hits.append(("name", m.start("n"), m.start("n") + len(" ".join(kept))))
    return hits


# --------------------------------------------------------------------------- dates

_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_WEEKDAYS = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day"
_DATE_PATTERNS = (
    # 3/4, 03/04/2026, 3-4-26, 3.4.2026 (not 24/7; "1-2 days" and "4.5 stars" are not dates)
    re.compile(r"(?<![\w/.\-])(?:0?[1-9]|[12]\d|3[01])/(?:0?[1-9]|[12]\d|3[01])(?:/(?:\d{4}|\d{2}))?(?![\w/]|[.\-]\d)"),
    re.compile(
        r"(?<![\w/.\-])(?:0?[1-9]|[12]\d|3[01])(?P<s>[\-.])(?:0?[1-9]|[12]\d|3[01])(?P=s)(?:\d{4}|\d{2})(?![\w/]|[.\-]\d)"
    ),
    # 2026-03-04
    re.compile(r"(?<![\w\-])\d{4}-\d{1,2}-\d{1,2}(?![\w\-])"),
    # March 4, Mar. 4th, March 4, 2026
    re.compile(r"(?<![A-Za-z])" + _MONTHS + r"\.?\s{1,3}\d{1,2}(?:st|nd|rd|th)?(?:,?\s{1,3}\d{4})?(?!\d)", _I),
    # 4 March, 4th of March
    re.compile(r"(?<![\w])\d{1,2}(?:st|nd|rd|th)?\s{1,3}(?:of\s{1,3})?" + _MONTHS + r"(?![A-Za-z])", _I),
    # in March, last March, this past January, March 2026
    re.compile(r"(?<![A-Za-z])(?:in|last|this\s{1,3}past|early|late|mid-?)\s{1,3}" + _MONTHS + r"(?![A-Za-z])", _I),
    re.compile(r"(?<![A-Za-z])" + _MONTHS + r"\s{1,3}(?:19|20)\d\d(?!\d)", _I),
    # last Tuesday, this past Friday, on Tuesday, Tuesday's visit, Tuesday morning
    re.compile(
        r"(?<![A-Za-z])(?:(?:last|this\s{1,3}past|past|on|this|since)\s{1,3}"
        + _WEEKDAYS
        + r"|"
        + _WEEKDAYS
        + r"(?:'s|\s{1,3}(?:morning|afternoon|evening|night)))(?![A-Za-z])",
        _I,
    ),
    # yesterday, last week, the other night, earlier this month, a few days ago
    re.compile(
        r"(?<![A-Za-z])(?:yesterday|(?:last|this\s{1,3}past)\s{1,3}(?:night|week|weekend|month|year|visit)"
        r"|the\s{1,3}other\s{1,3}(?:day|night)|earlier\s{1,3}(?:today|this\s{1,3}(?:week|month|morning))"
        r"|this\s{1,3}(?:morning|past\s{1,3}week)|(?:a|one|two|three|few|\d{1,2})\s{1,3}(?:few\s{1,3})?"
        r"(?:days?|weeks?|months?)\s{1,3}ago)(?![A-Za-z])",
        _I,
    ),
)
# Public service hours and lines are not dates: "24/7", "Monday to Friday", "on Monday through Friday".
_NOT_DATES = re.compile(r"24/7|(?:on\s{1,3})?" + _WEEKDAYS + r"\s{1,3}(?:to|through|thru|-)\s{1,3}" + _WEEKDAYS, _I)


def _date_hits(text: str) -> list[tuple[str, int, int]]:
    spared = [m.span() for m in _NOT_DATES.finditer(text)]
    hits = []
    for pattern in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            if any(s <= m.start() and m.end() <= e for s, e in spared):
                continue
            hits.append(("date", m.start(), m.end()))
    return hits


# --------------------------------------------------------------------------- care relationship

_CARE_NOUNS = (
    r"chart|charts|records?|file|history|visits?|appointments?|appt|stay|admission|discharge|procedures?"
    r"|surgery|surgeries|operation|treatments?|therapy|diagnosis|diagnoses|prognosis|condition|illness|injury"
    r"|results?|labs?|lab\s{1,3}work|tests?|bloodwork|blood\s{1,3}work|scans?|mri|ct|x-?rays?|ultrasound|biopsy"
    r"|imaging|medications?|meds|prescriptions?|refills?|dose|dosage|care(?!\s{1,3}(?:team|line)\b)|care\s{1,3}plan"
    r"|care\s{1,3}team|doctor|physician|provider|surgeon|nurse|therapist|specialist|pcp|room|bed|bill|claim"
    r"|referral|follow-?up|recovery|symptoms?|pain|blood\s{1,3}pressure|cholesterol|glucose"
    r"|blood\s{1,3}sugar|a1c|weight|bmi|pregnancy|delivery|baby|labor|labour|birth|exam|check-?up|screening"
    r"|mammogram|colonoscopy|vaccine|vaccination|shot|injection|infusion|dialysis|chemo(?:therapy)?|radiation"
    r"|ed\s{1,3}visit|er\s{1,3}visit|emergency\s{1,3}visit|hospitali[sz]ation|time\s{1,3}(?:with\s{1,3}us|here|in"
    r"\s{1,3}(?:our|the)\s{1,3}(?:hospital|clinic|unit|er|ed))|cancer|diabetes|heart|knee|hip|fracture"
    r"|infection|wound|stitches|cast|medical\s{1,3}(?:care|history|records?|information)"
    r"|patient\s{1,3}(?:portal\s{1,3})?(?:record|file|chart|account)"
)
# "your chart", "your recent visit", "your 3/4 lab results": up to two words between.
_YOUR_CARE = re.compile(
    r"(?<![A-Za-z])(?:your|ur)\s{1,3}(?:[\w/'\-]{1,20}\s{1,3}){0,2}?(?:" + _CARE_NOUNS + r")"
    r"(?![A-Za-z])",
    _I,
)
_CARE_PHRASES = re.compile(
    r"(?<![A-Za-z])(?:"
    r"(?:when|while|since|after|before)\s{1,3}you\s{1,3}(?:were|was|came|visited|stayed|left|saw|had|got)"
    r"(?:\s{1,3}(?:here|in|with\s{1,3}us|seen|admitted|treated|discharged|released|born))?"
    r"|you\s{1,3}(?:were|have\s{1,3}been|had\s{1,3}been|got|'ve\s{1,3}been)\s{1,3}"
    r"(?:seen|admitted|treated|discharged|diagnosed|examined|operated|tested|prescribed|hospitali[sz]ed|here)"
    r"|(?:we|i|our\s{1,3}(?:team|staff|doctors?|nurses?))\s{1,3}(?:have\s{1,3})?"
    r"(?:reviewed|checked|looked\s{1,3}(?:at|into|over)|pulled|read|went\s{1,3}(?:through|over))\s{1,3}"
    r"(?:your|the)\s{1,3}(?:[\w'\-]{1,20}\s{1,3}){0,2}?(?:chart|records?|file|notes|results|labs|history|case)"
    r"|(?:our|the)\s{1,3}records\s{1,3}(?:show|indicate|confirm)|according\s{1,3}to\s{1,3}(?:our|your)\s{1,3}"
    r"(?:records|chart|file)|(?:we|i)\s{1,3}(?:treated|saw|admitted|discharged|examined|diagnosed|cared\s{1,3}for)"
    r"\s{1,3}you|as\s{1,3}your\s{1,3}(?:doctor|physician|provider|nurse|care\s{1,3}team|hospital)"
    r"|(?:your|the)\s{1,3}(?:patient|member)\s{1,3}(?:experience\s{1,3})?(?:record|file|account|chart)"
    r"|you\s{1,3}(?:are|were|'re)\s{1,3}(?:a|our|one\s{1,3}of\s{1,3}our)\s{1,3}(?:patients?|members?)"
    r"|(?:care|treatment|tests?|procedures?|surgery|medications?)\s{1,3}(?:that\s{1,3})?you\s{1,3}"
    r"(?:received|got|had|were\s{1,3}given|underwent)"
    r")(?![A-Za-z])",
    _I,
)
_HEALTH_TERMS = re.compile(
    r"(?<![A-Za-z])(?:(?:hb)?a1c|hemoglobin|haemoglobin|ldl|hdl|triglycerides|cholesterol\s{1,3}(?:level|is|was)"
    r"|inr|psa|tsh|egfr|creatinine|platelets?|white\s{1,3}(?:blood\s{1,3})?count|blood\s{1,3}(?:sugar|glucose)"
    r"\s{1,3}(?:level|is|was|reading)|biopsy\s{1,3}results?|(?:tests?|results?|labs?)\s{1,3}came\s{1,3}back"
    r"|mg/dl|mmol/l|\d\s{0,2}mg)(?![A-Za-z])",
    _I,
)


def _care_hits(text: str) -> list[tuple[str, int, int]]:
    hits = [("care_relationship", m.start(), m.end()) for m in _YOUR_CARE.finditer(text)]
    hits += [("care_relationship", m.start(), m.end()) for m in _CARE_PHRASES.finditer(text)]
    hits += [("health_detail", m.start(), m.end()) for m in _HEALTH_TERMS.finditer(text)]
    return hits


# --------------------------------------------------------------------------- biographies

_PATIENT_WORD = r"(?:patient|client|member|resident)"
# What follows "patient" in a biography without being a person: "patient-centred care", "Patient Safety".
_PATIENT_COMPOUND = (
    r"[\s-]{1,2}(?:care|cent(?:er|re)d|experience|safety|education|advocacy|advocate|population|panel|outcomes?"
    r"|satisfaction|relations(?:hips?)?|first|portal|services|advisory|engagement|family|families|voice|quality"
    r"|access|flow|communication|needs|perspective|journey|rights|volume|load|base|teaching)(?![A-Za-z])"
)
_BIO_PATTERNS = (
    # "my patient Jane", "my patient, Mr. Doe", "patient Jane Doe", "a patient named Jane"
    re.compile(
        r"(?<![A-Za-z])(?i:(?:my|our|a|one|the)\s{1,3})?(?i:"
        + _PATIENT_WORD
        + r")(?!(?i:"
        + _PATIENT_COMPOUND
        + r"))(?:,)?\s{1,3}(?i:(?:named|called)\s{1,3})?(?:(?:Mr|Mrs|Ms|Mx|Miss)\.?\s{1,3})?"
        + _CAP
    ),
    # "my patient", "a patient of mine", "one of my patients", "a patient I treated", "a patient who"
    re.compile(
        r"(?<![A-Za-z])(?:my\s{1,3}(?:\w{1,20}\s{1,3})?" + _PATIENT_WORD + r"(?![A-Za-z]|" + _PATIENT_COMPOUND + r")"
        r"|an?\s{1,3}(?:\w{1,20}\s{1,3})?" + _PATIENT_WORD + r"\s{1,3}(?:of\s{1,3}mine|(?:i|we)\s{1,3}\w{2,20}"
        r"|who|whose|that|named|called|with)"
        r"|one\s{1,3}of\s{1,3}my\s{1,3}(?:\w{1,20}\s{1,3})?" + _PATIENT_WORD + r"s"
        r"|(?:i|we)\s{1,3}(?:recently\s{1,3})?(?:treated|saw|cared\s{1,3}for|operated\s{1,3}on|delivered)"
        r"\s{1,3}(?:an?|this|one)\s{1,3}(?:\d{1,3}[\s-]{1,2}year[\s-]{1,2}old|young|elderly|older|man|woman|boy"
        r"|girl|child|baby|mother|father|patient|teen|teenager))(?![A-Za-z])",
        _I,
    ),
)


def _bio_hits(text: str) -> list[tuple[str, int, int]]:
    hits = []
    for pattern in _BIO_PATTERNS:
        for m in pattern.finditer(text):
            hits.append(("patient_reference", m.start(), m.end()))
    hits += [("name", m.start(), m.end()) for m in _HONORIFIC_NAME.finditer(text) if _patient_near(text, m.start())]
    return hits


def _patient_near(text: str, start: int) -> bool:
    """An honorific name in a biography counts when the sentence speaks of a patient."""
    sentence_start = max(text.rfind(".", 0, start), text.rfind("\n", 0, start)) + 1
    return re.search(r"(?i)patient|treated|cared\s+for", text[sentence_start : start + 80]) is not None


# --------------------------------------------------------------------------- scanning


def _findings(text: str, hits: Iterable[tuple[str, int, int]]) -> list[phi.Finding]:
    """Sorted findings; overlapping hits of one kind merge, so "your 3/4 visit" is
    both a date and a reference to care (the refusal names every kind)."""
    merged: dict[str, list[list]] = {}
    for kind, start, end in sorted((h for h in hits if h[2] > h[1]), key=lambda h: (h[1], -h[2])):
        runs = merged.setdefault(kind, [])
        if runs and start < runs[-1][1]:
            runs[-1][1] = max(runs[-1][1], end)
        else:
            runs.append([start, end])
    found = [phi.Finding(kind, s, e, text[s:e]) for kind, runs in merged.items() for s, e in runs]
    return sorted(found, key=lambda f: (f.start, f.end))


def scan_reply(text: str) -> list[phi.Finding]:
    """What a staff reply headed for a public place may not say (beyond ``phi.scan``)."""
    if not isinstance(text, str) or not text:
        return []
    return _findings(text, [*_name_hits(text), *_date_hits(text), *_care_hits(text)])


def scan_biography(text: str) -> list[phi.Finding]:
    """What a clinician's public biography may not say (beyond ``phi.scan``): a particular patient."""
    if not isinstance(text, str) or not text:
        return []
    return _findings(text, _bio_hits(text))


def describe(kinds: Iterable[str]) -> list[str]:
    """One plain phrase per kind, for a refusal: what to remove, never the text."""
    return [str(PHRASES.get(kind) or phi.LABELS.get(kind) or LABELS.get(kind) or kind) for kind in kinds]
