"""Crisis language, and the crisis resources shown when it is found.

Both are settings with defaults here, in English and Spanish:

* ``PORTAL_SOCIAL_CRISIS_PHRASES``: ``{language code: [phrase, ...]}``,
  matched as whole words on the text as a reader sees it, whatever the
  reader's language (a Spanish phrase in an English portal still counts);
  accents are optional ("daño" and "dano" both match).
* ``PORTAL_SOCIAL_CRISIS_RESOURCES``: ``{language code: [{"name", "contact",
  "url"}, ...]}``, shown in the reader's language (falling back to English):
  by default the 988 Suicide & Crisis Lifeline (US) and 911.

A crisis finding never stops a patient reaching staff: in a secure message
it only marks the message urgent (``Result.urgent``).
"""

from __future__ import annotations

import functools

from django.utils import translation

from portal_social.core.screening.matching import PhraseMatcher, match_key

DEFAULT_CRISIS_PHRASES: dict[str, tuple[str, ...]] = {
    "en": (
        "kill myself",
        "killing myself",
        "end my life",
        "ending my life",
        "take my own life",
        "taking my own life",
        "want to die",
        "wanna die",
        "want to be dead",
        "better off dead",
        "better off without me",
        "no reason to live",
        "nothing to live for",
        "don't want to live",
        "do not want to live",
        "don't want to be alive",
        "suicide",
        "suicidal",
        "hurt myself",
        "hurting myself",
        "harm myself",
        "self harm",
        "self-harm",
        "cut myself",
        "cutting myself",
        "overdose on purpose",
    ),
    "es": (
        "quiero morir",
        "quiero morirme",
        "me quiero morir",
        "quisiera morirme",
        "matarme",
        "me voy a matar",
        "suicidarme",
        "suicidio",
        "suicida",
        "quitarme la vida",
        "acabar con mi vida",
        "no quiero vivir",
        "no quiero seguir viviendo",
        "no vale la pena vivir",
        "mejor muerto",
        "mejor muerta",
        "hacerme daño",
        "lastimarme",
        "cortarme",
        "autolesión",
    ),
}

DEFAULT_CRISIS_RESOURCES: dict[str, tuple[dict[str, str], ...]] = {
    "en": (
        {
            "name": "988 Suicide & Crisis Lifeline",
            "contact": "Call or text 988, or chat at 988lifeline.org (24/7, free, confidential)",
            "url": "https://988lifeline.org/",
        },
        {"name": "Emergency", "contact": "If you are in immediate danger, call 911", "url": ""},
    ),
    "es": (
        {
            "name": "Línea 988 de Prevención del Suicidio y Crisis",
            "contact": "Llame o envíe un mensaje de texto al 988 (oprima 2 para español), o chatee en "
            "988lineadevida.org (24/7, gratis, confidencial)",
            "url": "https://988lineadevida.org/",
        },
        {"name": "Emergencia", "contact": "Si está en peligro inmediato, llame al 911", "url": ""},
    ),
}


#: Symptoms that need care now (``PORTAL_SOCIAL_URGENT_SYMPTOM_PHRASES`` replaces them). A secure message
#: that mentions one is marked urgent for the care team; nothing is refused or held.
DEFAULT_URGENT_SYMPTOM_PHRASES: dict[str, tuple[str, ...]] = {
    "en": (
        "chest pain",
        "chest pains",
        "chest pressure",
        "chest tightness",
        "tightness in my chest",
        "pain in my chest",
        "trouble breathing",
        "difficulty breathing",
        "can't breathe",
        "cannot breathe",
        "can not breathe",
        "short of breath",
        "shortness of breath",
        "struggling to breathe",
        "fainted",
        "passed out",
        "face drooping",
        "slurred speech",
        "sudden numbness",
        "sudden weakness",
        "worst headache",
        "coughing up blood",
        "vomiting blood",
        "severe bleeding",
        "bleeding heavily",
        "seizure",
        "allergic reaction",
        "throat is closing",
        "swollen throat",
    ),
    "es": (
        "dolor de pecho",
        "dolor en el pecho",
        "presión en el pecho",
        "opresión en el pecho",
        "no puedo respirar",
        "dificultad para respirar",
        "falta de aire",
        "me falta el aire",
        "me desmayé",
        "perdí el conocimiento",
        "convulsión",
        "sangrado abundante",
        "vomitando sangre",
        "reacción alérgica",
    ),
}


def _setting(name: str, default):
    """``app_settings.NAME`` when ``conf.py`` declares it, else ``PORTAL_SOCIAL_NAME``, else ``default``."""
    from django.conf import settings

    from portal_social.conf import app_settings

    try:
        return getattr(app_settings, name)
    except AttributeError:
        return getattr(settings, "PORTAL_SOCIAL_" + name, default)


def crisis_phrases() -> dict[str, tuple[str, ...]]:
    """The crisis phrases by language code (the setting, or the defaults)."""
    configured = _setting("CRISIS_PHRASES", None)
    if configured is None:
        return DEFAULT_CRISIS_PHRASES
    return {str(lang): tuple(str(p) for p in phrases) for lang, phrases in dict(configured).items()}


def urgent_symptom_phrases() -> dict[str, tuple[str, ...]]:
    """The urgent-symptom phrases by language code (the setting, or the defaults)."""
    configured = _setting("URGENT_SYMPTOM_PHRASES", None)
    if configured is None:
        return DEFAULT_URGENT_SYMPTOM_PHRASES
    return {str(lang): tuple(str(p) for p in phrases) for lang, phrases in dict(configured).items()}


def crisis_resources(language: str | None = None) -> list[dict[str, str]]:
    """The crisis resources to show, in ``language`` (default: the active one), falling back to English."""
    configured = _setting("CRISIS_RESOURCES", None)
    resources = DEFAULT_CRISIS_RESOURCES if configured is None else dict(configured)
    language = (language or translation.get_language() or "en").lower()
    for candidate in (language, language.split("-")[0], "en"):
        if candidate in resources:
            return [dict(r) for r in resources[candidate]]
    return [dict(r) for r in next(iter(resources.values()), ())]


@functools.lru_cache(maxsize=4)
def _matcher(phrases: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[PhraseMatcher, dict[str, str]]:
    languages: dict[str, str] = {}
    pairs = []
    for language, words in phrases:
        for phrase in words:
            pairs.append((phrase, True))
            languages.setdefault(match_key(phrase), language)
    return PhraseMatcher(pairs), languages


def crisis_matcher() -> tuple[PhraseMatcher, dict[str, str]]:
    """The compiled crisis phrases, and the language of each phrase's key."""
    phrases = crisis_phrases()
    return _matcher(tuple(sorted((lang, tuple(words)) for lang, words in phrases.items())))


def urgent_symptom_matcher() -> tuple[PhraseMatcher, dict[str, str]]:
    """The compiled urgent-symptom phrases, and the language of each phrase's key."""
    phrases = urgent_symptom_phrases()
    return _matcher(tuple(sorted((lang, tuple(words)) for lang, words in phrases.items())))
