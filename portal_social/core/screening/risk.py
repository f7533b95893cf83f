"""Medical risk in feedback: words that mean a complaint may be about harm, not only service.

``PORTAL_SOCIAL_MEDICAL_RISK_PHRASES`` (``{language code: [phrase, ...]}``)
replaces the defaults here. They are matched like crisis phrases: whole
words, on the text as a reader sees it (Unicode normalised, accents
optional), in any language. A feedback case whose description matches one,
or crisis language, or an urgent symptom, goes to risk management at once
(``feedback`` intake); a person still reviews it there, so the list leans
towards catching too much.
"""

from __future__ import annotations

from portal_social.core.screening.crisis import _matcher, _setting

DEFAULT_MEDICAL_RISK_PHRASES: dict[str, tuple[str, ...]] = {
    "en": (
        "wrong medication",
        "wrong medicine",
        "wrong drug",
        "wrong dose",
        "wrong dosage",
        "overdosed",
        "medication error",
        "medication mistake",
        "misdiagnosed",
        "misdiagnosis",
        "wrong diagnosis",
        "missed diagnosis",
        "delayed diagnosis",
        "delay in diagnosis",
        "wrong surgery",
        "wrong side",
        "wrong site",
        "wrong patient",
        "surgical error",
        "left inside",
        "botched",
        "infection",
        "bed sore",
        "bedsore",
        "pressure ulcer",
        "fell",
        "a fall",
        "dropped me",
        "injured",
        "injury",
        "burned",
        "burnt",
        "allergic reaction",
        "died",
        "death",
        "passed away",
        "malpractice",
        "negligence",
        "negligent",
        "lawyer",
        "attorney",
        "sue",
        "sued",
        "suing",
        "lawsuit",
        "legal action",
        "unsafe",
        "harmed",
        "ignored my pain",
        "left in pain",
        "not treated",
        "sent home too early",
        "discharged too early",
        "abuse",
        "abused",
        "assaulted",
    ),
    "es": (
        "medicamento equivocado",
        "dosis equivocada",
        "error de medicación",
        "diagnóstico equivocado",
        "mal diagnóstico",
        "infección",
        "me caí",
        "se cayó",
        "caída",
        "lesión",
        "herido",
        "herida",
        "quemadura",
        "murió",
        "falleció",
        "muerte",
        "negligencia",
        "abogado",
        "demanda",
        "demandar",
        "abuso",
    ),
}


def medical_risk_phrases() -> dict[str, tuple[str, ...]]:
    """The medical-risk phrases by language code (the setting, or the defaults)."""
    configured = _setting("MEDICAL_RISK_PHRASES", None)
    if configured is None:
        return DEFAULT_MEDICAL_RISK_PHRASES
    return {str(lang): tuple(str(p) for p in phrases) for lang, phrases in dict(configured).items()}


def medical_risk_matcher():
    """The compiled medical-risk phrases, and the language of each phrase's key."""
    phrases = medical_risk_phrases()
    return _matcher(tuple(sorted((lang, tuple(words)) for lang, words in phrases.items())))
