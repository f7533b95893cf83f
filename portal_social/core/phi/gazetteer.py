"""Which words are people's names: a first-name and surname gazetteer, and
the everyday words some names share.

The names come from Faker's person providers (MIT licence), which hold the
common given names and surnames of some eighty locales: English, Spanish and
Latin American, West African (Yoruba, Igbo, Hausa, Twi), South and East
Asian, Arabic, Persian, Eastern European, Nordic and more. The everyday words
come from Faker's English and Spanish word lists plus the names below that
are also words ("Hope", "Will", "Rose"): such a name counts only with a cue.

Loaded once, on the first scan that needs it (about half a second), and kept.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
import unicodedata
from typing import NamedTuple

# Given names and surnames that are also everyday English or Spanish words,
# months and days: a name only after a cue ("my wife Hope"), never alone.
_NAME_WORDS = """
    will bill mark hope faith grace rose sky river dawn hunter summer may june april august joy art bob pat
    sue jack frank guy ray rich dean bud carol chase drew gene grant herb jay jewel lane lee mason miles
    pearl penny rob rocky rod ruby sandy skip sonny storm tex wade ward rusty stone forest brook brooks
    autumn winter spring star angel angela bliss destiny harmony honor justice liberty mercy patience
    precious promise serenity trinity unity charity christian ivy iris lily daisy holly heather olive
    violet jasmine amber crystal diamond ginger honey sugar candy misty rain sunny sunshine hazel sage
    page rich young green brown black white gray grey king long short hill wood woods rivers banks bell
    bird burns cook cross day field fields ford fox free gold hall hand hart head heart house hunt lamb
    love low mann marsh may moon more moss newman nice noble north park parks pierce plant pool porter
    price read reed rice rock rush sharp snow south spear strong swift temple tower trout turner wall
    walker west wise wolf worth baker barber bishop butler carpenter carter chandler clay cole cooper
    dale fisher fletcher gardener glass hunter judge knight marshall miller page palmer parker potter
    shepherd singer slater smith spencer stewart taylor thatcher tucker weaver webb wells
    dolores socorro rosario luz esperanza milagro milagros paz sol cruz consuelo remedios angeles
    amparo mercedes pilar soledad rocio blanca alba victoria gloria patria fe caridad trinidad
    monday tuesday wednesday thursday friday saturday sunday january february march october november
    december christmas easter god jesus lord allah
    doctor nurse patient
"""

# Everyday English verbs and other words that some locales use as given
# names: never a lower-case name ("my cousin made a page").
_EVERYDAY = """
    made make makes making did done said says told took take takes taking gave give gives got get gets getting
    went go goes going came come comes coming saw see sees seen knew know knows thought think thinks felt feel
    feels found find finds left leave leaves kept keep keeps let lets put puts set sets ran run runs sent send
    sends brought bring brings bought buy paid pay pays met meet meets called call calls asked ask asks tried
    try tries used use uses worked work works needed need needs wanted want wants started start starts helped
    help helps moved move moves lived live lives passed pass died die dies loved loves liked like likes still
    just also even only really always never often again already yet soon later here there now then today
    tonight tomorrow yesterday very much more most less least well better best bad worse worst good great
    new old big small long short high low early late next last first second third other another same
    any some all both each every many few lot lots and but or nor so because since until while when where who
    what why how which whose whom that this these those has have had was were been being is are am will would
    can could shall should may might must won't don't can't isn't wasn't didn't doesn't hasn't haven't
    about above across after against along among around at before behind below beneath beside between beyond
    by down during except for from in inside into near of off on onto out outside over past through to toward
    under up upon with within without says ok okay yes no not please thanks sorry hi hey hello
"""

# Closed-class and other words that are never names, in English and Spanish,
# whatever the gazetteer says.
_NEVER_NAMES = """
    i a an and the but or so we he she they it its this that these those my our his her their your you me us
    them is was has had have will would can could should did does do not no yes very really just still also
    always never here there today tomorrow yesterday tonight now then again finally because after before
    when while if who what where why how which from to in on at for with about of by as all everyone both
    together same some any every hi hello hey dear thanks thank please sorry ok okay well
    el la los las un una y o de del en con por para que mi mis tu su sus es era fue soy hola gracias
    señor señora don doña
    dr doc mr mrs ms mx miss md rn np pa pt pts pte
    hospital clinic center centre health medical care pharmacy university college school
    mom mum dad mommy mama mamá papa papá daddy grandma grandpa granny nana nanna abuela abuelo abuelita
    abuelito tía tío tia tio auntie aunt uncle baby bebé sis bro hubby wifey
    son daughter husband wife brother sister father mother child kid kids grandson granddaughter niece nephew
    cousin twin twins hijo hija esposo esposa hermano hermana madre padre nieto nieta sobrino sobrina
    medicare medicaid medi-cal tricare aetna cigna humana kaiser molina anthem bcbs unitedhealthcare ambetter
    centene oscar wellcare optum caresource amerigroup
    american canadian mexican spanish english british irish scottish welsh african asian latina latino latinx
    hispanic cuban indian chinese japanese korean filipino filipina vietnamese german french italian polish
    russian ukrainian haitian nigerian ghanaian jamaican dominican puertorican salvadoran guatemalan
    honduran colombian venezuelan peruvian brazilian portuguese arab arabic persian turkish greek jewish
    muslim christian catholic baptist mormon hindu sikh buddhist native indigenous aussie kiwi texan
    mon tue tues wed thu thur thurs fri sat sun jan feb mar apr jun jul aug sep sept oct nov dec
    mondays tuesdays wednesdays thursdays fridays saturdays sundays
"""


class Gazetteer(NamedTuple):
    first: frozenset[str]
    last: frozenset[str]
    words: frozenset[str]  # everyday words (lower case): a name only with a cue
    never: frozenset[str]


def fold(word: str) -> str:
    """A word as the gazetteer keys it: lower case, accents kept."""
    if word.isascii():
        return word.lower()
    return unicodedata.normalize("NFC", word).casefold().replace("’", "'")


def _strip_accents(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))


def _attribute(provider: type, name: str):
    for klass in provider.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    return None


def _usable(name: str) -> bool:
    return 2 <= len(name) <= 30 and all(c.isalpha() or c in "'-" for c in name)


@functools.lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The gazetteer, loaded on first use."""
    first: set[str] = set()
    last: set[str] = set()
    words: set[str] = set(_NAME_WORDS.split()) | set(_EVERYDAY.split())
    try:
        import faker.providers.lorem as lorem
        import faker.providers.person as person
    except ImportError:  # pragma: no cover - Faker is a dependency
        return Gazetteer(frozenset(), frozenset(), frozenset(words), frozenset(_NEVER_NAMES.split()))
    for module in pkgutil.iter_modules(person.__path__):
        provider = importlib.import_module(f"{person.__name__}.{module.name}").Provider
        for attribute, into in (
            ("first_names", first),
            ("first_names_male", first),
            ("first_names_female", first),
            ("first_romanized_names", first),
            ("last_names", last),
            ("last_romanized_names", last),
        ):
            values = _attribute(provider, attribute)
            if isinstance(values, (list, tuple, set, frozenset, dict)):
                for value in values:
                    for part in str(value).split():
                        if _usable(part):
                            into.add(fold(part))
    for locale in ("en_US", "es_ES", "es_MX"):
        try:
            provider = importlib.import_module(f"{lorem.__name__}.{locale}").Provider
        except ImportError:  # pragma: no cover
            continue
        words.update(fold(w) for w in _attribute(provider, "word_list") or () if " " not in w)
    # An accented name is also known written without its accents ("Nunez").
    first |= {_strip_accents(n) for n in first}
    last |= {_strip_accents(n) for n in last}
    never = frozenset(_NEVER_NAMES.split())
    return Gazetteer(frozenset(first - never), frozenset(last - never), frozenset(words), never)
