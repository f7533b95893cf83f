"""What screening knows without a database: destinations, finding kinds,
watched-word actions and match modes, outcomes, and the per-destination
policy that turns findings into a recommended outcome.

Kept free of models so that any module may import it at start-up.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

#: Where a text is going. The stable names of ARCHITECTURE.md.
COMMUNITY_POST = "community_post"
REVIEW_COMMENT = "review_comment"
STAFF_PUBLIC_REPLY = "staff_public_reply"
MESSAGE = "message"
CLINICIAN_SPACE = "clinician_space"

DESTINATIONS: tuple[str, ...] = (COMMUNITY_POST, REVIEW_COMMENT, STAFF_PUBLIC_REPLY, MESSAGE, CLINICIAN_SPACE)

DESTINATION_LABELS = {
    COMMUNITY_POST: _("Community post"),
    REVIEW_COMMENT: _("Review comment"),
    STAFF_PUBLIC_REPLY: _("Staff public reply"),
    MESSAGE: _("Secure message"),
    CLINICIAN_SPACE: _("Clinician space"),
}

#: Destinations the public reads: the trust rules (new accounts) apply to these.
PUBLIC_DESTINATIONS = frozenset((COMMUNITY_POST, REVIEW_COMMENT))

# Finding kinds (the family of a finding; its ``code`` says exactly what).
PHI = "phi"  # core.phi.scan
DISCLOSURE = "disclosure"  # core.public_reply.scan_reply: staff replies only
WATCHED_WORD = "watched_word"
CRISIS = "crisis"
URGENT_SYMPTOM = "urgent_symptom"  # looked for only where the policy names it (secure messages)
TRUST = "trust"

KINDS: tuple[str, ...] = (PHI, DISCLOSURE, WATCHED_WORD, CRISIS, URGENT_SYMPTOM, TRUST)

# What a watched word asks for (chosen per word in the admin).
BLOCK = "block"
REQUIRE_APPROVAL = "require_approval"
CENSOR = "censor"
FLAG = "flag"

ACTIONS: tuple[str, ...] = (BLOCK, REQUIRE_APPROVAL, CENSOR, FLAG)
ACTION_CHOICES = (
    (BLOCK, _("Block: refuse the text")),
    (REQUIRE_APPROVAL, _("Require approval: hold for a moderator")),
    (CENSOR, _("Censor: publish with the word replaced")),
    (FLAG, _("Flag: publish, and mark for moderators")),
)

# How a watched word matches.
WHOLE_WORD = "word"
ANYWHERE = "phrase"
REGEX = "regex"

MATCH_CHOICES = (
    (WHOLE_WORD, _("Whole word or words (\u201cass\u201d does not match \u201cclass\u201d)")),
    (ANYWHERE, _("Anywhere, even inside a longer word")),
    (REGEX, _("Regular expression (bounded, checked for safety)")),
)

# Recommended outcomes, from the strongest. The caller decides what to do.
OUTCOME_BLOCK = "block"  # refuse: the author must change the text
OUTCOME_HOLD = "hold"  # keep it from the public until a moderator approves it
OUTCOME_WARN = "warn"  # tell the author before it is sent; they may send it anyway
OUTCOME_MARK = "mark"  # send it, marked for staff (urgency, a flagged word)
OUTCOME_PUBLISH = "publish"  # nothing to do

OUTCOMES: tuple[str, ...] = (OUTCOME_BLOCK, OUTCOME_HOLD, OUTCOME_WARN, OUTCOME_MARK, OUTCOME_PUBLISH)
_STRENGTH = {outcome: rank for rank, outcome in enumerate(reversed(OUTCOMES))}

#: What a finding means at a destination, keyed by the finding's *rule*: its
#: kind, or for a watched word its action. A destination missing a rule
#: publishes. The principles: a public place holds; a staff public reply is
#: refused (it is the organisation speaking); a secure message always reaches
#: the care team and is only marked for them (PHI is expected there, and
#: crisis language marks it urgent); a clinician space permits PHI and warns.
POLICY: dict[str, dict[str, str]] = {
    COMMUNITY_POST: {
        PHI: OUTCOME_HOLD,
        BLOCK: OUTCOME_BLOCK,
        REQUIRE_APPROVAL: OUTCOME_HOLD,
        FLAG: OUTCOME_MARK,
        CRISIS: OUTCOME_HOLD,
        TRUST: OUTCOME_HOLD,
    },
    REVIEW_COMMENT: {
        PHI: OUTCOME_HOLD,
        BLOCK: OUTCOME_BLOCK,
        REQUIRE_APPROVAL: OUTCOME_HOLD,
        FLAG: OUTCOME_MARK,
        CRISIS: OUTCOME_HOLD,
        TRUST: OUTCOME_HOLD,
    },
    STAFF_PUBLIC_REPLY: {
        PHI: OUTCOME_BLOCK,
        DISCLOSURE: OUTCOME_BLOCK,
        BLOCK: OUTCOME_BLOCK,
        REQUIRE_APPROVAL: OUTCOME_HOLD,
        FLAG: OUTCOME_MARK,
        CRISIS: OUTCOME_WARN,
    },
    MESSAGE: {
        BLOCK: OUTCOME_MARK,
        REQUIRE_APPROVAL: OUTCOME_MARK,
        CENSOR: OUTCOME_MARK,
        FLAG: OUTCOME_MARK,
        CRISIS: OUTCOME_MARK,
        URGENT_SYMPTOM: OUTCOME_MARK,
    },
    CLINICIAN_SPACE: {
        BLOCK: OUTCOME_WARN,
        REQUIRE_APPROVAL: OUTCOME_WARN,
        FLAG: OUTCOME_MARK,
        CRISIS: OUTCOME_MARK,
    },
}

#: Destinations where a censor word's replacement is applied to what is published.
#: A secure message reaches the care team exactly as written.
CENSORED_DESTINATIONS = frozenset((COMMUNITY_POST, REVIEW_COMMENT, STAFF_PUBLIC_REPLY, CLINICIAN_SPACE))


def outcome_for(destination: str, rule: str) -> str:
    """The recommended outcome of one finding whose rule is ``rule`` at ``destination``."""
    return POLICY[destination].get(rule, OUTCOME_PUBLISH)


def strongest(outcomes) -> str:
    """The strongest of ``outcomes`` ("publish" when there are none)."""
    return max(outcomes, key=_STRENGTH.__getitem__, default=OUTCOME_PUBLISH)
