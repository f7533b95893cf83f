"""Personal names by gazetteer, capitalisation and context, in English and Spanish.

A run of capitalised words (with particles such as "de la", "van der" and
middle initials) is a person's name when:

* it has two or more words, starts with a known given name or surname and
  every word is a known name or an unknown capitalised word, at least one of
  them not an everyday word ("Keisha Lorraine Bates", "Park Hyun-woo"); or
* a cue says a person is named: a relationship ("my husband", "mi hija",
  "our neighbour"), "named", "name is", "Name:", "I'm", "soy", "pt",
  an honorific ("Mrs.", "doña"), a greeting or a sign-off. After a strong cue
  a name may be an everyday word or lower case ("my wife Hope", "my ex
  brandon"); or
* it repeats a name already found in the text (every mention is a finding).

Never a name: clinicians and staff in their role ("Dr. Rose", "nurse Kim",
"PT with Grace", "Jordan Whitfield, PA"), names in the clinician directory
(see :func:`portal_social.core.phi.config.allowed_names`), organisations and
places named after people ("St. Jude", "Ronald McDonald House"), eponyms
("Crohn's disease"), and pets ("a golden named Biscuit").
"""

from __future__ import annotations

import bisect
import functools
import re

from portal_social.core.phi.config import _Config, allowed_names
from portal_social.core.phi.engine import _Hit, _Text, register
from portal_social.core.phi.gazetteer import fold, gazetteer


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# A word: letters, inner apostrophes and hyphens ("O'Neil", "Adebayo-Smith").
_TOKEN = re.compile(r"[^\W\d_](?:[^\W\d_]|['’](?=[^\W\d_a-z])|-(?=[^\W\d_])){0,40}")
_UPPER = "A-ZÀ-ÖØ-ÞĀĂĄĆĈĊČĎĐĒĔĖĘĚĜĞĠĢĤĦĨĪĬĮİĴĶĹĻĽĿŁŃŅŇŊŌŎŐŒŔŖŘŚŜŞŠŢŤŦŨŪŬŮŰŲŴŶŸŹŻŽ"
_CAP_WORD = rf"[{_UPPER}](?:[^\W\d_]|['’](?=[{_UPPER}])|-(?=[^\W\d_])){{0,40}}"
_PARTICLE = r"(?:de|la|del|van|der|von|da|das|dos|du|le|bin|ibn|al|y|den|ten|ter|di)"
# A run of capitalised words, with particles and middle initials inside:
# "María de la Luz Cárdenas", "Dorothy A. Pruitt".
_RUN = re.compile(
    rf"(?<![^\W\d_'’-]){_CAP_WORD}(?:(?: {_PARTICLE}){{0,3}} {_CAP_WORD}|\. (?<=[ \n][{_UPPER}]\. ){_CAP_WORD}){{0,7}}"
)
_PARTICLES = _words("de la del van der von da das dos du le bin ibn al y den ten ter di st")
_HONORIFICS = _words("mr mrs ms mx miss don doña sr sra srta señor señora mister")

_RELATION = (
    r"(?:great-?|step-?|half-?)?(?:grand)?(?:mother|father|son|daughter|child|children|kids?|mom|mum|mommy|mama"
    r"|dad|daddy|papa|sister|brother|parents?)(?:-in-law)?s?"
    r"|grandma|grandpa|granny|nana|grandson|granddaughter|grandchild|husband|wife|spouse|partner|fianc[ée]e?"
    r"|boyfriend|girlfriend|bf|gf|friend|best\s+friend|neighbou?r|roommate|aunt|auntie|uncle|cousin|niece|nephew"
    r"|twins?|baby|babies|caregiver|godmother|godfather|godson|goddaughter|companion|ex|ex-husband|ex-wife"
    r"|coworker|co-worker|colleague|boss|classmate|mil|fil|sil|bil|stepson|stepdaughter|toddler|newborn|teen"
    r"|hij[oa]s?|espos[oa]|marido|mam[aá]|madre|pap[aá]|padre|abuel[oa]|abuelit[oa]|t[ií][oa]|prim[oa]"
    r"|herman[oa]|sobrin[oa]|niet[oa]|suegr[oa]|cuñad[oa]|novi[oa]|amig[oa]|vecin[oa]|beb[eé]|pareja|nuera|yerno"
    r"|compañer[oa]"
)
_DETERMINER = r"(?:my|our|his|her|their|your|a|the|mi|mis|su|sus|tu|nuestr[oa]|el|la|los|las|this|that)"
_ADJECTIVE = (
    r"(?:late|dear|beloved|elderly|little|older|younger|big|baby|oldest|youngest|eldest|new|former|sweet|amazing"
    r"|\d{1,3}[\s-]{1,2}(?:year|yr|month|week|day)s?[\s-]{1,2}old|querid[oa]|pequeñ[oa]|mayor|menor|difunt[oa])"
)
# Strong cues: what follows names a person, even an everyday word or lower case.
_ROLE = (
    r"dr|dra|drs|doctor|doctora|doc|docs|nurse|nurses|enfermer[ao]s?|np|pa|pa-c|rn|lpn|cna|crna|aprn|fnp"
    r"|therapist|terapeuta|pharmacist|farmac[eé]utic[ao]|receptionist|recepcionista|navigator|social\s+worker"
    r"|sw|trabajador[a]?\s+social|counsell?or|surgeon|cirujan[ao]|midwife|partera|chaplain|tech|technician"
    r"|dietitian|nutritionist|coordinator|manager|scheduler|provider|practitioner|resident|attending|fellow|intern"
    r"|aide|interpreter|int[eé]rprete|phlebotomist|paramedic|emt|doula|[a-z]{3,}ologist|[a-z]{2,}iatrist"
    r"|pediatrician|pediatra|hospitalist|psic[oó]log[ao]|secretary|staff|desk|registrar|clerk|supervisor"
    r"|director|administrator|rep|representative|agent|specialist|dentist|hygienist|optometrist|chiropractor"
    r"|surgeons|professor|prof|coach|instructor|teacher|maestr[ao]|pastor|fr|rabbi|imam|rev"
    r"|physician|m[eé]dic[oa]|pcp|ob|obgyn|ent|gi|cardio|oncologist|endo|neuro|psych|derm|rheum|pulm|ortho"
    r"|anesthesia|anesthesiologist|officer|guard|security|driver|volunteer|mod|moderator|admin|host|leader"
    r"|facilitator|lactation\s+consultant|consultant|assistant|ma|pt|ot|slp|rt|cnm"
)
_ROLE_AFTER = re.compile(
    r"^(?:,?\s{0,2}\(?(?:MD|DO|RN|NP|PA-C|PA|PhD|LCSW|LICSW|DPT|PT|OT|CNM|APRN|FNP|DNP|MSW|LPC|RD|PharmD|DDS|DMD"
    r"|CRNA|LPN|CNA|MA|OD|DC|NP-C|FNP-C|MSN|BSN)(?![A-Za-z])"
    r"|,?\s{1,3}(?:at|from|in|of)\s{1,3}(?:the\s{1,3})?(?:front\s+desk|billing|scheduling|registration|reception"
    r"|pharmacy|records|radiology|the\s+lab|lab|x-ray|admissions)"
    r"|,?\s{1,3}(?:the|our|my|your|his|her|el|la|nuestr[oa]|mi)\s{1,3}(?:\w+\s{1,3})?(?:" + _ROLE + r")(?![^\W\d_])"
    r"|\s{0,2}\((?:the\s+)?(?:" + _ROLE + r")\))"
    # "Philippa Wolstenholme on our ward team", "Sam from our billing office"
    r"|,?\s{1,3}(?:on|of|from|at|in|with)\s{1,3}(?:the|our|your|their)\s{1,3}(?:[\w-]+\s{1,3}){0,2}"
    r"(?:team|staff|unit|ward|floor|desk|office|department|dept|service|crew|clinic|practice)(?![^\W\d_])",
    re.IGNORECASE,
)
_NOT_A_PERSON_AFTER = re.compile(
    r"^(?:'s|’s|s')?[ \t]{1,2}(?:hospital|house|clinic|center|centre|cancer|children's|childrens|medical|health"
    r"|healthcare|foundation|institute|university|college|school|pharmacy|memorial|home|homes|hall|street|st"
    r"|avenue|ave|road|rd|drive|lane|ln|blvd|boulevard|way|court|ct|place|pl|park|county|city|lab|labs"
    r"|laboratories|insurance|group|care|church|fund|society|association|clinics|hospice|rehab|village|towers?"
    r"|disease|syndrome|palsy|sign|test|scale|score|method|procedure|operation|maneuver|manoeuvre|law|effect"
    r"|phenomenon|reflex|classification|criteria|tumou?r|lymphoma|anomaly|syndrom|enfermedad|bank|dept"
    r"|department|pavilion|tower|wing|building|campus|center's|clinic's|foundation's|valley|heights|hills"
    r"|river|lake|mountain|island|beach|bay|station|airport|mall|market|cafe|restaurant|inc|llc|co|corp|company"
    r"|brand|pharmaceuticals|health's|kitchen|gym|fitness|day|week|month|award|prize|act|walk|run|race"
    r"|scholarship|library|museum|bridge|stadium|arena|theater|theatre|lecture|fellowship|trail)(?![^\W\d_])"
    r"|^(?:'s|’s)[ \t]{1,2}(?:disease|syndrome|palsy|sign|law|ulcer|phenomenon|reflex|triad|test|score|scale)",
    re.IGNORECASE,
)
_FAMILY_AFTER = re.compile(
    r"^[ \t]{1,2}(?:family|familia|household|kids|boys|girls|twins"
    r"|(?:was|is|were)[ \t]{1,2}born|naci[óo]|turns[ \t]{1,2}\d|turned[ \t]{1,2}\d)(?![^\W\d_])",
    re.IGNORECASE,
)
_KIN_AFTER = re.compile(
    r"^(?:'s|’s)\s{1,2}(?:mom|mum|mother|dad|father|wife|husband|son|daughter|sister|brother|parents|grandma"
    r"|grandpa|aunt|uncle|partner|kids?|baby|caregiver|guardian|nanny|friend|birthday|bday|room|bed|chart"
    r"|mrn|dob|account|insurance|medicaid|medicare|case|surgery|appointment|appt|meds|labs|results)(?![^\W\d_])",
    re.IGNORECASE,
)
# A line that is only a name, after a dash or at the end: a signature.
_SIGNATURE_BEFORE = re.compile(r"(?:(?:^|\n)[ \t]*(?:[-–—~]{1,2}[ \t]*)?|[.!?)]\s{1,3}[-–—~]{1,2}[ \t]*)$")
_LINE_LIST_ITEM = re.compile(r"(?:^|\n)[ \t]*(?:[-*•·]|\d{1,2}[.)])[ \t]*$")
_LIST_ITEM = re.compile(rf"(?:^|\n)[ \t]{{0,4}}(?:[-*•·]|\d{{1,2}}[.)])[ \t]{{0,3}}(?P<n>{_CAP_WORD}):")
_SIGN_OFF_AFTER = re.compile(r"[ \t]*(?:$|\n|[.!]?\s*$)")
# Organisations, places and things whose names hold a person's name.
_ORG_WORDS = _words(
    """
    hospital hospitals house clinic clinics center centre centers foundation institute university
    college school pharmacy memorial home hall street avenue road drive lane boulevard park county city
    lab labs laboratories insurance group care church fund society association hospice rehab village
    tower towers office dept department service services project control infirmary children childrens
    watch cancer health healthcare medical medicine program programme network alliance council board
    trust partners clinic's hospital's campus pavilion wing building unit ward team line hotline
    helpline app portal system systems
    """
)
# Street types: a run with one is a street ("Ridge Ave"), not a person.
_ORG_WORDS = _ORG_WORDS | _words(
    "ave av st rd blvd ln ct pl pkwy hwy dr way terrace crescent close circle plaza placa placas matrícula"
)
_HOUSE_NUMBER_BEFORE = re.compile(r"\d[A-Za-z]?\s{1,2}(?:[NSEW]\.?\s{1,2})?$")
_PLACEHOLDERS = frozenset({"john doe", "jane doe", "baby boy", "baby girl", "patient name", "first last"})
_LOOK_BACK = 60
_PET_WORDS = (
    r"dog|dogs|cat|cats|puppy|pup|kitten|kitty|pet|pets|golden|retriever|lab|labrador|poodle|doodle|terrier"
    r"|shepherd|beagle|hamster|parrot|bird|bunny|rabbit|horse|pony|fish|perr[oa]|perrit[oa]|gat[oa]|gatit[oa]"
    r"|mascota"
)


# Any word that can end one of the cues above (checked on the last words
# before a candidate, so the cue patterns run only where one can match).
def _word_kind(word: str, g) -> str:
    """ "n" a known name (not an everyday word), "w" an everyday word that is
    also a name, "c" an everyday word, "x" never a name, "u" unknown."""
    key = fold(word)
    if key in g.never:
        return "x"
    parts = [p for p in key.split("-") if p] if "-" in key else [key]
    if len(parts) > 1 and any(p in g.words or p in g.never for p in parts):
        return "c"  # "Sky-high", "Pre-op", "Faith-based"
    named = any(p in g.first or p in g.last for p in parts)
    if key in g.words:
        return "w" if named else "c"
    if named:
        return "n"
    return "u"


def _capitalised(word: str) -> bool:
    return word[:1].isupper() and any(c.islower() for c in word[1:])


def _is_initial(work: str, start: int, end: int) -> bool:
    return end - start == 1 and work[start].isupper() and work[end : end + 1] == "."


_RELATION_WORD = re.compile(r"(?:" + _RELATION + r")", re.IGNORECASE)
_ROLE_WORD = re.compile(r"(?:" + _ROLE + r")", re.IGNORECASE)
_PET_WORD = re.compile(r"(?:" + _PET_WORDS + r"|therapy|service)", re.IGNORECASE)
_DETERMINERS = _words(
    """
    my our his her their your a the mi mis su sus tu nuestro nuestra el la los las this that
    """
)
_ADJECTIVE_WORD = re.compile(_ADJECTIVE, re.IGNORECASE)
_NAMING = _words("named called llamado llamada née nee")
_NAME_LABELS = _words("name nombre patient pt paciente")
_INTRO = _words("i'm im it's its soy")
_WEAK = _words("shoutout") | _words(
    """
    hi hey hello hola dear estimado estimada querido querida thanks gracias love xoxo bye regards
    sincerely cheers atentamente saludos cordialmente signed remember told asked sent met meet ask tell
    text email paged policyholder insured pt patient paciente pte
    """
)
_SAINTS = _words("st saint san santa santo mount mt fort ft lake port")
_ROLE_UPPER = _words("PT OT MA RT SLP RN NP PA LPN CNA Father Fr Sister Pastor Rev Reverend Rabbi Imam Chaplain")
# A word before a candidate, read backwards: the separator after it, a
# final ".", then its letters, apostrophes and hyphens.
_REV_WORD = re.compile(r"([^\w]{0,8}?)(\.?)((?:[^\W\d_]|['’\-](?=[^\W\d_])){0,40}[^\W\d_])")


def _words_before(work: str, start: int) -> list[tuple[str, str, str]]:
    """The last four words before ``start`` in the same sentence, nearest
    first: (word as written, "." if it ends with one, separator after)."""
    words: list[tuple[str, str, str]] = []
    rev = work[max(0, start - _LOOK_BACK) : start][::-1]
    pos = 0
    while len(words) < 4:
        m = _REV_WORD.match(rev, pos)
        if m is None:
            break
        sep, dot, word = m.group(1)[::-1], m.group(2), m.group(3)[::-1]
        if len(sep) > 6 or "\n" in sep[:-1] or any(c in sep for c in "!?;"):
            if not words and "\n" in sep and sep.strip(" \t\n") in ("", ":"):
                words.append((word, dot, sep))  # "Name:\n"
            break
        if (dot or "." in sep) and word.lower() not in _ABBREVIATIONS and len(word) > 1:
            break  # the previous sentence
        words.append((word, dot, sep))
        pos = m.end()
    return words


_PUNCTUATION = ".,;:!?()[]{}\"'“”‘’*_~<>/\\|#@&+=…-"
_ABBREVIATIONS = _words("dr dra mr mrs ms mx st sr sra srta mt ft fr rev prof drs pt")


_IS_ROLE, _IS_PET, _IS_RELATION, _IS_ADJECTIVE = 1, 2, 4, 8
_LINKS = _words("with by named called is was de es from llamado llamada")


@functools.lru_cache(maxsize=16384)
def _flags(word: str) -> int:
    """What a lower-case word before a candidate can be: a role, a pet, a relation, an adjective."""
    flags = 0
    if word != "pt" and (_ROLE_WORD.fullmatch(word) or word.endswith(("ologist", "iatrist"))):
        flags |= _IS_ROLE
    if _PET_WORD.fullmatch(word):
        flags |= _IS_PET
    if _RELATION_WORD.fullmatch(word):
        flags |= _IS_RELATION
    if _ADJECTIVE_WORD.fullmatch(word):
        flags |= _IS_ADJECTIVE
    return flags


def _cue_before(work: str, start: int) -> str:
    """What the words before ``start`` say about a name there: "role" (a
    clinician, staff, a pet or a saint), "strong", "weak" or ""."""
    words = _words_before(work, start)
    if not words:
        return ""
    low = [w.lower() for w, _, _ in words]
    last, dot, sep = words[0]
    last_low = low[0]
    # clinicians and staff in their role, pets, saints
    for i, (word, _, _) in enumerate(words[:3]):
        w = low[i]
        if i and (i > 1 or low[0] not in _LINKS):
            break  # only "PT with Grace", "a nurse named Tom": a link word between
        flags = _flags(w)
        if word in _ROLE_UPPER or flags & _IS_ROLE:
            if w == "pa" and word != "PA":
                continue
            return "role"
        if flags & _IS_PET:
            return "role"
    if last_low in _SAINTS and (dot or not sep.strip()) and (last_low != "st" or dot):
        return "role"
    # strong cues
    if last_low in _HONORIFICS:
        return "strong"
    if last_low in _NAMING:
        return "strong"
    if last_low in _NAME_LABELS and ":" in sep:
        return "strong"
    if len(low) > 1 and (low[1], last_low) in _STRONG_PAIRS:
        return "strong"
    if last_low in ("name", "nombre") and len(low) > 1 and (low[1] in _NAME_KINDS or low[1].endswith(("'s", "’s"))):
        return "strong"  # "her legal name", "my wife's name"
    if last_low in ("baby", "bebé", "bebe", "twins", "gemelos", "gemelas"):
        return "strong"
    for i, w in enumerate(low[:3]):
        if _flags(w) & _IS_RELATION:
            rest = low[i + 1 : i + 4]
            adjectives = all(_flags(x) & _IS_ADJECTIVE or x == "in-law" for x in low[:i])
            if adjectives and any(x in _DETERMINERS for x in rest[:3]):
                return "strong"
            break
    if last_low in _INTRO or (len(low) > 1 and (low[1], last_low) in _INTRO_PAIRS):
        return "weak"
    if last_low in _WEAK or (len(low) > 1 and (low[1], last_low) in _WEAK_PAIRS):
        return "weak"
    return ""


_STRONG_PAIRS = frozenset(
    [
        ("baby", "boy"),
        ("baby", "girl"),
        ("name", "is"),
        ("name", "was"),
        ("names", "are"),
        ("nombre", "es"),
        ("me", "llamo"),
        ("se", "llama"),
        ("widow", "of"),
        ("widower", "of"),
        ("viuda", "de"),
        ("viudo", "de"),
        ("wife", "of"),
        ("husband", "of"),
        ("name", "name's"),
    ]
)
_NAME_KINDS = _words(
    """
    maiden legal full real married former birth patient's patient pt client member
    """
)
_INTRO_PAIRS = frozenset([("i", "am"), ("this", "is"), ("it", "is"), ("yo", "soy"), ("here", "is")])
_WEAK_PAIRS = frozenset([("thank", "you"), ("out", "to"), ("behalf", "of"), ("parte", "de"), ("subscriber", "is")])


@register("name_gazetteer")
def _detect_people(t: _Text, config: _Config | None) -> list[_Hit]:
    """Personal names by gazetteer and capitalisation, or after a cue."""
    work = t.work
    g = gazetteer()
    allowed = allowed_names()
    hits: list[_Hit] = []
    found_words: set[str] = set()
    lowercase_found: set[str] = set()
    claimed: set[int] = set()
    kind_of: dict[str, str] = {}

    def word_kind(word: str) -> str:
        kind = kind_of.get(word)
        if kind is None:
            kind = kind_of[word] = _word_kind(word, g)
        return kind

    def accept(run: list[tuple[int, int]], reason: str) -> None:
        # A name that is also an everyday word is repeated only after a strong cue.
        kinds_kept = "nuw" if reason == "name:strong-cue" else "nu"
        start, end = run[0][0], run[-1][1]
        hits.append(("name", start, end, reason))
        claimed.add(start)
        for span in run:
            word = work[slice(*span)]
            if len(word) > 2 and word.lower() not in _PARTICLES and word_kind(word) in kinds_kept:
                found_words.add(fold(word))

    for tokens in _segments(work, word_kind):
        run = list(range(len(tokens)))
        # Leading words that are never names or are everyday words start the
        # sentence or a heading, not the name ("My", "Thanks", "Feedback").
        # After such a word, unknown capitalised words are a title ("Patient
        # Relations", "the Patient Safety Committee"), not a name.
        title = False
        while run:
            kind = word_kind(work[slice(*tokens[run[0]])])
            if kind in "xc" or (kind == "w" and len(run) > 1 and word_kind(work[slice(*tokens[run[1]])]) in "xc"):
                title = title or fold(work[slice(*tokens[run[0]])]) not in _HONORIFICS
                run = run[1:]
            else:
                break
        # Honorifics and initials do not end a name.
        while run and (_is_initial(work, *tokens[run[-1]]) or word_kind(work[slice(*tokens[run[-1]])]) == "x"):
            run = run[:-1]
        if not run or len(run) > 6:
            continue
        start, end = tokens[run[0]][0], tokens[run[-1]][1]
        run_words = [work[slice(*tokens[i])] for i in run]
        kinds = [
            word_kind(w)
            for i, w in zip(run, run_words, strict=True)
            if w.lower() not in _PARTICLES and not _is_initial(work, *tokens[i])
        ]
        if not kinds or "x" in kinds or (len(kinds) == 1 and kinds[0] == "c"):
            continue
        if len(kinds) >= 2 and ("c" in kinds[:1] or not any(k in "nu" for k in kinds)):
            continue
        if title and "n" not in kinds:
            continue
        if work[start:end].isupper() or not _ORG_WORDS.isdisjoint(map(fold, run_words)):
            continue
        if _HOUSE_NUMBER_BEFORE.search(work, max(0, start - 8), start):
            continue  # "1100 Ralph David Abernathy Blvd": a street
            continue
        folded = fold(work[start:end])
        if folded in allowed or folded in _PLACEHOLDERS:
            continue
        after = work[end : end + 40]
        if _NOT_A_PERSON_AFTER.match(after) or _ROLE_AFTER.match(after):
            continue
        cue = _cue_before(work, start)
        if cue == "role":
            continue
        after_cue = bool(_KIN_AFTER.match(after) or _FAMILY_AFTER.match(after))
        signature = bool(_SIGN_OFF_AFTER.match(work, end) and _SIGNATURE_BEFORE.search(work, max(0, start - 8), start))
        if len(kinds) >= 2:
            known = sum(k == "n" for k in kinds)
            first_name = fold(work[slice(*tokens[run[0]])]) in g.first
            if kinds[0] in "nw" and all(k in "nwu" for k in kinds) and (known >= 1 or first_name):
                accept([tokens[i] for i in run], "name:gazetteer")
            elif cue or after_cue or signature:
                accept([tokens[i] for i in run], "name:cue")
            continue
        (kind,) = kinds
        run = [tokens[i] for i in run]
        if kind == "w":
            if cue == "strong" or after_cue or (cue == "weak" and _intro_named(work, start, end)):
                accept(run, "name:strong-cue")
        elif (
            cue == "strong"
            or after_cue
            or (signature and kind == "n")
            or cue == "weak"
            and (kind == "n" or _unknown_named(work, start, end))
        ):
            accept(run, "name:cue" if kind == "u" else "name:cue+gazetteer")
        elif kind == "n" and work[end : end + 1] == ":" and _LINE_LIST_ITEM.search(work, max(0, start - 8), start):
            accept(run, "name:list")

    # A list of names ("• Hollander: AKI", "• Ebrahimi: CHF"): once one item
    # is a known surname, the other items of the same form are names too.
    if any(h[3] == "name:list" for h in hits):
        taken = {h[1] for h in hits}
        for m in _LIST_ITEM.finditer(work):
            start, end = m.span("n")
            if start not in taken and word_kind(m.group("n")) in "nu" and _cue_before(work, start) != "role":
                hits.append(("name", start, end, "name:list"))
                claimed.add(start)

    # Lower-case names after a strong cue ("my ex brandon", "i'm mark"):
    # one pass over the words, only when a lower-case word is a given name.
    if any(
        w in g.first and w not in g.never and len(w) > 2
        for w in (chunk.strip(_PUNCTUATION) for chunk in work.split() if chunk[:1].islower())
    ):
        for m in _TOKEN.finditer(work):
            start, end = m.span()
            key = m.group()
            if start in claimed or not key.islower() or key not in g.first or key in g.never or len(key) < 3:
                continue
            if key in g.words and work[end : end + 2].strip()[:1] not in ("(", ""):
                continue  # "it's long, get help": an everyday word; "i'm mark (": a name
            cue = _cue_before(work, start)
            words = _words_before(work, start) if cue == "weak" else ()
            if cue == "strong" or (words and words[0][0].lower() in _INTRO):
                hits.append(("name", start, end, "name:strong-cue"))
                claimed.add(start)
                found_words.add(key)
                lowercase_found.add(key)

    # Every other mention of a name already found: one pass over the words.
    if found_words:
        covered = sorted((s, e) for _, s, e, _ in hits)
        starts = [s for s, _ in covered]
        for m in _TOKEN.finditer(work):
            start, end = m.span()
            word = m.group()
            key = fold(word)
            if key not in found_words or start in claimed:
                continue
            i = bisect.bisect_right(starts, start) - 1
            if i >= 0 and covered[i][1] > start:
                continue
            if _capitalised(word) or key in lowercase_found:
                after = work[end : end + 40]
                if _NOT_A_PERSON_AFTER.match(after) or _ROLE_AFTER.match(after):
                    continue
                if _cue_before(work, start) != "role":
                    hits.append(("name", start, end, "name:repeat"))
    return hits


def _intro_named(work: str, start: int, end: int) -> bool:
    """ "It's Grace!!", "i'm mark (": an introduction and a name that stands alone."""
    words = _words_before(work, start)
    intro = bool(words) and (
        words[0][0].lower() in _INTRO or (len(words) > 1 and (words[1][0].lower(), words[0][0].lower()) in _INTRO_PAIRS)
    )
    return intro and work[end : end + 2].strip()[:1] in ("(", ",", "!", "")


def _segments(work: str, word_kind) -> list[list[tuple[int, int]]]:
    """The runs of capitalised words as lists of word spans, split at
    all-capital words ("My MIL Ingrid", "Bristol BS6 7QP": "MIL" and "BS" are
    abbreviations or codes, not names)."""
    segments = []
    for match in _RUN.finditer(work):
        if match.end() - match.start() < 2:
            continue
        if " " not in match.group() and word_kind(match.group()) in "xc":
            continue  # one everyday word: the usual capital at a sentence's start
        current: list[tuple[int, int]] = []
        for m in _TOKEN.finditer(work, *match.span()):
            if m.end() - m.start() > 1 and m.group().isupper():
                if current:
                    segments.append(current)
                current = []
                continue
            current.append(m.span())
        if current:
            segments.append(current)
    return segments


def _unknown_named(work: str, start: int, end: int) -> bool:
    """Whether an unknown capitalised word after a weak cue reads as a name:
    inside a sentence and not after "I'm", "this is" (there "Ridiculous."
    is an adjective) unless a comma, bracket or "here" follows ("I'm Aroha, 52")."""
    if not _sentence_middle(work, start):
        return False
    words = _words_before(work, start)
    intro = bool(words) and (
        words[0][0].lower() in _INTRO or (len(words) > 1 and (words[1][0].lower(), words[0][0].lower()) in _INTRO_PAIRS)
    )
    return not intro or bool(_NAMED_AFTER.match(work, end))


_NAMED_AFTER = re.compile(r",|\s{0,2}\(|\s{1,2}here(?![^\W\d_])", re.IGNORECASE)


def _sentence_middle(work: str, start: int) -> bool:
    """Whether a capitalised word at ``start`` is inside a sentence (its
    capital says something), not the sentence's first word."""
    i = start - 1
    while i >= 0 and work[i] in " \t":
        i -= 1
    return i >= 0 and work[i] not in '.!?\n:;"“*•-'
