"""Detectors for personal names after a cue (relationship, introduction, sign-off)."""

from __future__ import annotations

import re

from portal_social.core.phi.config import _Config
from portal_social.core.phi.engine import _A, _LETTERS, _Hit, _matches_at, _matches_in, _Text, register
from portal_social.core.phi.people import _cue_before

# --------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------

_UPPER = "A-ZÀ-ÖØ-Þ"
_LOWER = "a-zß-öø-ÿ"
# A capitalised name word: "Ann", "O'Brien", "McDonald", "Anne-Marie", "José"; a
# possessive "'s" may follow ("Jake's"), any other letter may not.
_WORD = (
    rf"[{_UPPER}][{_LOWER}]{{0,3}}(?:['-]?[{_UPPER}])?[{_LOWER}]{{1,20}}(?![{_UPPER}{_LOWER}]|'[{_UPPER}{_LOWER}]{{2}})"
)
_NAME = (
    r"(?P<n>(?:(?:Mr|Mrs|Ms|Mx|Miss)\.?\s{1,2})?"
    + _WORD
    + r"(?:\s{1,2}(?:["
    + _UPPER
    + r"]\.\s{1,2})?"
    + _WORD
    + r"){0,2})"
)
_RELATION = (
    r"(?:great-|step|half-?)?(?:grand)?(?:mother|father|son|daughter|child|children|kid|mom|mum|mommy|mama|dad"
    r"|daddy|papa|sister|brother)(?:-in-law)?"
    r"|grandma|grandpa|granny|nana|grandson|granddaughter|grandchild|husband|wife|spouse|partner|fianc[ée]e?"
    r"|boyfriend|girlfriend|friend|best\s{1,3}friend|neighbou?r|roommate|aunt|auntie|uncle|cousin|niece|nephew"
    r"|twin|baby|caregiver|godmother|godfather|godson|goddaughter|companion|sweetheart"
)
_NAME_STRONG = re.compile(
    r"(?<![A-Za-z])(?i:(?:my|our|his|her|their)\s{1,3}"
    r"(?:(?:late|dear|beloved|elderly|little|older|younger|big|baby|oldest|youngest|eldest|\d{1,3}[\s-]{1,2}"
    r"(?:year|yr|month|week)s?[\s-]{1,2}old)\s{1,3})?(?:" + _RELATION + r")"
    r"|(?:my\s{1,3})?name\s{0,2}(?:is|:|'s)|named|(?:patient|client|member|resident)\s{1,3}name\s{0,2}(?:is|:)"
    r")(?![A-Za-z'])\s{0,2},?\s{1,3}" + _NAME,
    re.ASCII,
)
_NAME_WEAK = re.compile(
    r"(?<![A-Za-z])(?i:i\s{1,2}am|i'm|im|this\s{1,2}is|it's|it\s{1,2}is)(?![A-Za-z'])\s{1,3}" + _NAME, re.ASCII
)
_NAME_SIGNOFF = re.compile(
    r"(?<![A-Za-z])(?i:sincerely|regards|best\s{1,3}regards|kind\s{1,3}regards|warmly|respectfully|cheers|love|signed"
    r"|best|gratefully|with\s{1,3}gratitude|(?:thanks|thank\s{1,3}you)(?:\s{1,3}(?:so\s{1,3}much|again|all|everyone"
    r"|for\s{1,3}(?:everything|all|your\s{1,3}help|listening)))?)\s{0,2}[,\n:-]\s{0,3}"
    + _NAME
    + r"\s{0,3}(?=$|[\n.!(])",
    re.ASCII,
)
_NAME_HERE = re.compile(
    r"(?<![A-Za-z])(?i:hi|hello|hey|greetings)(?:\s{1,3}(?i:all|everyone|folks|there|friends|team))?\s{0,2}[,!.:-]{1,2}"
    r"\s{1,3}" + _NAME + r"\s{1,2}(?i:here)(?![A-Za-z])",
    re.ASCII,
)
# Capitalised words that follow a cue but are not names ("I'm Not Sure").
_NOT_NAMES_TEXT = """
    I A An And The But Or So We He She They It Its This That These Those My Our His Her Their Your You Me Us Them
    Is Was Has Had Have Will Would Can Could Should Did Does Do Not No Yes Very Really Just Still Also Always Never
    Here There Today Tomorrow Yesterday Tonight Now Then Again Finally Because After Before When While If Who What
    Where Why How Which From To In On At For With About Of By As All Everyone Both Together Same Some Any Every
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday Dr Doctor Doc Nurse Nurses Mom Mum Dad Grandma Grandpa
    Hospital Health Medical Center Centre Clinic Type Thank Thanks Please Sorry Happy Glad Grateful Thankful Sure
    Writing Calling Going Being Feeling Doing Getting Trying Looking Hoping Waiting Here New Diabetic Pregnant Ok
    Okay Well Fine Back Home Sick Tired Frustrated Disappointed Upset Angry Confused Worried Scared Ridiculous
    Unacceptable Amazing Great Good Bad Hi Hello Hey Dear Not Unable Afraid Diagnosed Currently Recently Only
    Emergency Urgent Care Patient Patients Member Caregiver Staff Team Everybody Anyone Someone Nobody God Jesus
    Lord Christmas Easter Thanksgiving English Spanish Covid Cancer Stage Level Room Floor Unit Suite Building
    """
_NOT_NAMES = frozenset(_NOT_NAMES_TEXT.split())


def _name_hit(work: str, m: re.Match[str], min_words: int) -> _Hit | None:
    start = m.start("n")
    words = [(w.start(), w.end(), w.group()) for w in re.finditer(r"\S+", m.group("n"))]
    kept = []
    for ws, we, word in words:
        bare = word.rstrip(".")
        if bare in _NOT_NAMES:
            if kept:
                # "My Daughter Loves The Nurses": a capitalised common word
                # right after the candidate means Title Case, not a name.
                return None
            break
        kept.append((ws, we, bare))
    honorific = bool(kept) and kept[0][2] in {"Mr", "Mrs", "Ms", "Mx", "Miss"}
    real = [w for w in kept if w[2] not in {"Mr", "Mrs", "Ms", "Mx", "Miss"} and len(w[2]) > 1]
    if len(real) < (1 if honorific else min_words):
        return None
    return ("name", start, start + kept[-1][1])


# A name starts with a capital letter. In the cue patterns other than
# _NAME_HERE, what comes between the cue and the name is one to nine of the
# _NAME_GAP characters ("my husband, Tom", "name: Jo", "Love -\nAnn"), and a cue
# ends with a letter or "é" ("my fiancé Jo"). The longest cue ("their
# 12-year-old great-granddaughter-in-law") has 53 characters, and no attempt
# reads 200 characters past its start (cue, gap, three 26-letter words).
# The capital is followed by a letter, "'" or "-" (a name word has two
# letters or more), and the cue's last word, the letters (and "é", "'") before
# the gap, is one of _NAME_CUE_LAST_WORDS. Which part of the letters before the
# gap is that word is not known (the look-behind of a cue lets "é" or "'" come
# right before it), so every ending of them is looked up.
_NAME_CUE_LAST_WORDS = frozenset(
    [
        # _RELATION
        *(
            prefix + grand + base
            for prefix in ("", "step", "half")
            for grand in ("", "grand")
            for base in [
                "mother",
                "father",
                "son",
                "daughter",
                "child",
                "children",
                "kid",
                "mom",
                "mum",
                "mommy",
                "mama",
                "dad",
                "daddy",
                "papa",
                "sister",
                "brother",
            ]
        ),
        *[
            "law",
            "grandma",
            "grandpa",
            "granny",
            "nana",
            "grandson",
            "granddaughter",
            "grandchild",
            "husband",
            "wife",
            "spouse",
            "partner",
            "fiancé",
            "fiancée",
            "fiance",
            "fiancee",
            "boyfriend",
            "girlfriend",
            "friend",
            "neighbor",
            "neighbour",
            "roommate",
            "aunt",
            "auntie",
            "uncle",
            "cousin",
            "niece",
            "nephew",
            "twin",
            "baby",
            "caregiver",
            "godmother",
            "godfather",
            "godson",
            "goddaughter",
            "companion",
            "sweetheart",
        ],
        # the other cues of _NAME_STRONG, then _NAME_WEAK's, then _NAME_SIGNOFF's
        *["is", "nameis", "name", "'s", "named"],
        *["am", "'m", "im"],
        *[
            "sincerely",
            "regards",
            "warmly",
            "respectfully",
            "cheers",
            "love",
            "signed",
            "best",
            "gratefully",
            "gratitude",
            "thanks",
            "you",
            "much",
            "again",
            "all",
            "everyone",
            "everything",
            "help",
            "listening",
        ],
    ]
)
_NAME_CUE_WORD_MAX = max(map(len, _NAME_CUE_LAST_WORDS))
# So _CUE_BEFORE_CAPITAL, run on the reversed text, where the capital comes
# first (a fast scan), finds every capital that can start such a name: group 1
# is the gap, group 2 the reversed letters before it.
_CUE_BEFORE_CAPITAL = re.compile(
    f"[{_UPPER}](?<=[{_LOWER}'\\-{_UPPER}][{_UPPER}])"
    + rf"(?=([ \t\n\r\x0b\x0c,:\-]{{1,12}})([A-Za-zé']{{1,{_NAME_CUE_WORD_MAX}}}))",
    _A,
)
_NAME_HERE_STARTS = ("hi", "hello", "hey", "greetings")


def _could_end_a_name_cue(letters: str) -> bool:
    return any(letters[i:] in _NAME_CUE_LAST_WORDS for i in range(len(letters)))


@register("name")
def _detect_name(t: _Text, config: _Config | None) -> list[_Hit]:
    """Personal names after a cue (relationship, "my name is", "named", "I'm",
    a sign-off, "Hi all, X here"); never clinicians ("Dr. X")."""
    work = t.work
    last = len(work) - 1
    windows = []
    for m in _CUE_BEFORE_CAPITAL.finditer(work[::-1]):
        if _could_end_a_name_cue(m.group(2)[::-1].lower()):
            cue_end = last - m.end(1)  # the letter before the gap, in ``work``
            windows.append((cue_end - 64, cue_end + 1))
    windows.reverse()
    hits = []
    for pattern, min_words in ((_NAME_STRONG, 1), (_NAME_WEAK, 2), (_NAME_SIGNOFF, 2)):
        for m in _matches_in(pattern, work, windows, 256):
            hit = _name_hit(work, m, min_words)
            if hit:
                hits.append(hit)
    if "here" in t.low:  # "Hi all, Jamal Wright here"
        for m in _matches_at(_NAME_HERE, work, t.starts(_NAME_HERE_STARTS, _LETTERS)):
            hit = _name_hit(work, m, 2)
            if hit:
                hits.append(hit)
    # "a nurse named Tom", "a golden named Biscuit": staff in their role and pets.
    return [hit for hit in hits if _cue_before(work, hit[1]) != "role"]
