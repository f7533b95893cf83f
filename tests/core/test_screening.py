"""core.screening: one screen for every destination, its findings as codes, and what it recommends."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone, translation

from portal_social.core import screening
from portal_social.core.screening import policy, words
from portal_social.core.screening.models import WatchedWord
from tests.timing import assert_linear

pytestmark = pytest.mark.django_db

DESTINATIONS = screening.DESTINATIONS


@pytest.fixture(autouse=True)
def _fresh_list():
    words.invalidate()
    yield
    words.invalidate()


@pytest.fixture
def watched(db):
    """One made-up word per action, applying everywhere."""
    return {
        action: WatchedWord.objects.create(word=word, match=policy.WHOLE_WORD, action=action, replacement=repl)
        for action, word, repl in (
            (policy.BLOCK, "zorblax", ""),
            (policy.REQUIRE_APPROVAL, "quuxword", ""),
            (policy.CENSOR, "frobnitz", "[snip]"),
            (policy.FLAG, "blarg", ""),
        )
    }


@pytest.fixture
def newcomer(make_user):
    return make_user("patient", date_joined=timezone.now() - dt.timedelta(days=1))


@pytest.fixture
def regular(make_user):
    return make_user("patient", date_joined=timezone.now() - dt.timedelta(days=400))


# What each kind of finding recommends at each destination: the product's policy, written out.
#              community_post  review_comment  staff_public_reply  message   clinician_space
MATRIX = {
    "phi": ("hold", "hold", "block", "publish", "publish"),
    "disclosure": ("publish", "publish", "block", "publish", "publish"),
    "block": ("block", "block", "block", "mark", "warn"),
    "require_approval": ("hold", "hold", "hold", "mark", "warn"),
    "censor": ("publish", "publish", "publish", "mark", "publish"),
    "flag": ("mark", "mark", "mark", "mark", "mark"),
    "crisis": ("hold", "hold", "warn", "mark", "mark"),
    "new_account": ("hold", "hold", "publish", "publish", "publish"),
}
SAMPLES = {
    "phi": "Call me at 555-867-5309 any time",
    "disclosure": "We reviewed your chart and we are sorry",
    "block": "This is zorblax nonsense",
    "require_approval": "A quuxword appears",
    "censor": "What a frobnitz day",
    "flag": "Well blarg to that",
    "crisis": "Some days I want to kill myself",
    "new_account": "Thank you for the kind care",
}
EXPECTED_CODES = {
    "phi": "phi.phone",
    "disclosure": "disclosure.care_relationship",
    "block": "watched_word.block",
    "require_approval": "watched_word.require_approval",
    "censor": "watched_word.censor",
    "flag": "watched_word.flag",
    "crisis": "crisis.self_harm",
    "new_account": "trust.new_account",
}


@pytest.mark.parametrize("index,destination", list(enumerate(DESTINATIONS)))
@pytest.mark.parametrize("case", list(MATRIX))
def test_each_kind_of_finding_recommends_its_outcome_at_each_destination(
    case, index, destination, watched, newcomer, regular
):
    author = newcomer if case == "new_account" else regular
    result = screening.screen(SAMPLES[case], destination=destination, author=author)
    expected = MATRIX[case][index]
    assert result.outcome == expected
    assert result.held == (expected in ("hold", "block"))
    if expected != "publish" or case in ("phi", "censor", "crisis"):
        # Found everywhere it is looked for, whatever it means there.
        assert EXPECTED_CODES[case] in result.codes


def test_destinations_are_the_stable_names():
    assert DESTINATIONS == ("community_post", "review_comment", "staff_public_reply", "message", "clinician_space")
    assert set(policy.POLICY) == set(DESTINATIONS)


def test_unknown_destination_is_refused():
    with pytest.raises(ValueError):
        screening.screen("hello", destination="tweet")


def test_clean_text_and_empty_text_publish(regular):
    for destination in DESTINATIONS:
        assert screening.screen("The nurses were kind.", destination=destination, author=regular).outcome == "publish"
        assert screening.screen("", destination=destination).findings == ()


def test_findings_carry_spans_codes_and_reasons_never_sentences(watched):
    text = "blarg! call 555-867-5309"
    result = screening.screen(text, destination="community_post")
    by_code = {f.code: f for f in result.findings}
    phone = by_code["phi.phone"]
    assert (phone.kind, text[phone.start : phone.end], phone.reason) == ("phi", "555-867-5309", "phi.scan")
    flag = by_code["watched_word.flag"]
    assert (flag.kind, flag.action, text[flag.start : flag.end]) == ("watched_word", "flag", "blarg")
    assert flag.reason == f"watched_word:{watched['flag'].pk}"
    assert all(" " not in f.code for f in result.findings)


def test_the_stricter_staff_reply_screen_is_used_for_staff_replies_only():
    text = "Dear Maria, we reviewed your chart from your 3/4 visit."
    reply = screening.screen(text, destination="staff_public_reply")
    assert {"disclosure.name", "disclosure.care_relationship", "disclosure.date"} <= set(reply.codes)
    assert all(f.reason == "public_reply.scan_reply" for f in reply.of_kind("disclosure"))
    assert screening.screen(text, destination="community_post").of_kind("disclosure") == []


def test_markdown_that_hides_a_phone_number_is_found_in_what_readers_see():
    result = screening.screen("Call 555\\-867\\-5309", destination="review_comment")
    assert result.held
    assert any(f.rendered and f.code == "phi.phone" for f in result.findings)


# --------------------------------------------------------------------------- watched words


def test_censor_replaces_the_word_where_published_and_not_in_messages(watched):
    text = "What a FROBNITZ day"
    assert screening.screen(text, destination="community_post").publishable_text() == "What a [snip] day"
    assert screening.screen(text, destination="message").publishable_text() == text


def test_a_word_applies_only_to_its_destinations(db):
    WatchedWord.objects.create(word="snorkel", action=policy.BLOCK, destinations=["review_comment"])
    assert screening.screen("snorkel", destination="review_comment").outcome == "block"
    assert screening.screen("snorkel", destination="community_post").outcome == "publish"


def test_disabled_words_are_not_matched(db):
    WatchedWord.objects.create(word="snorkel", action=policy.BLOCK, enabled=False)
    assert screening.screen("snorkel", destination="community_post").outcome == "publish"


def test_whole_word_mode_spares_longer_words_and_phrase_mode_does_not(db):
    WatchedWord.objects.create(word="ass", match=policy.WHOLE_WORD, action=policy.FLAG)
    WatchedWord.objects.create(word="crap", match=policy.ANYWHERE, action=policy.FLAG)
    assert screening.screen("a class act, a grass field", destination="community_post").findings == ()
    result = screening.screen("you ass, that is crappy", destination="community_post")
    assert [result.text[f.start : f.end] for f in result.findings] == ["ass", "crap"]


def test_overlapping_words_are_all_found_so_a_block_is_never_hidden(db):
    WatchedWord.objects.create(word="bullshit", match=policy.WHOLE_WORD, action=policy.FLAG)
    WatchedWord.objects.create(word="bull", match=policy.ANYWHERE, action=policy.BLOCK)
    result = screening.screen("pure bullshit", destination="community_post")
    assert {"watched_word.flag", "watched_word.block"} <= set(result.codes)
    assert result.outcome == "block"


def test_phrases_match_across_any_run_of_spaces(db):
    WatchedWord.objects.create(word="go  away", action=policy.REQUIRE_APPROVAL)
    result = screening.screen("just go \n  away now", destination="community_post")
    assert result.held
    (finding,) = result.of_kind("watched_word")
    assert result.text[finding.start : finding.end] == "go \n  away"


def test_regex_words_match(db):
    WatchedWord.objects.create(word=r"sh[i1!]{1,2}t", match=policy.REGEX, action=policy.BLOCK)
    assert screening.screen("sh1t happens", destination="community_post").outcome == "block"


def test_settings_watched_words_hold_public_text(settings):
    settings.PORTAL_SOCIAL_WATCHED_WORDS = ["gubbins"]
    words.invalidate()
    result = screening.screen("total gubbins", destination="review_comment")
    assert result.outcome == "hold"
    assert result.findings[0].reason == "setting:WATCHED_WORDS"
    assert screening.screen("total gubbins", destination="message").outcome == "publish"


def test_changing_the_watched_words_setting_recompiles_the_list(settings, db):
    """No manual invalidation: the next screen after a settings change uses the new words."""
    settings.PORTAL_SOCIAL_WATCHED_WORDS = ["gubbins"]
    assert screening.screen("total gubbins", destination="review_comment").outcome == "hold"
    settings.PORTAL_SOCIAL_WATCHED_WORDS = ["flapdoodle"]
    assert screening.screen("total gubbins", destination="review_comment").outcome == "publish"
    assert screening.screen("utter flapdoodle", destination="review_comment").outcome == "hold"


def test_the_starter_list_holds_profanity_in_reviews(db):
    assert screening.screen("that was bullshit", destination="review_comment").outcome == "hold"


@pytest.mark.parametrize(
    "evasion",
    [
        "zorbl\u0430x",  # Cyrillic a
        "z\u200borblax",  # zero-width space
        "zor\u00adblax",  # soft hyphen
        "\uff5a\uff4f\uff52\uff42\uff4c\uff41\uff58",  # full-width letters
        "ZORBLAX",
        "z\u043erbl\u0430x",  # Cyrillic o and a
        "zo\u0301rblax",  # combining accent
        "z\u00f6rblax",  # precomposed o with diaeresis
        "zor\u2060blax",  # word joiner
    ],
)
def test_look_alike_and_invisible_characters_do_not_evade_watched_words(evasion, watched):
    text = f"this is {evasion}!"
    result = screening.screen(text, destination="community_post")
    assert result.outcome == "block"
    (finding,) = result.of_kind("watched_word")
    # Offsets point at the word as written, hidden characters included.
    assert text[finding.start : finding.end] == evasion


# --------------------------------------------------------------------------- crisis


@pytest.mark.parametrize(
    "text,language",
    [
        ("Honestly I want to kill myself", "en"),
        ("I have been thinking about suicide", "en"),
        ("Everyone would be better off without me", "en"),
        ("A veces quiero morirme", "es"),
        ("Pienso en quitarme la vida", "es"),
        ("He pensado en hacerme dano", "es"),
        ("He pensado en hacerme daño", "es"),
        ("no quiero vivir así", "es"),
    ],
)
def test_crisis_language_is_found_in_english_and_spanish(text, language):
    result = screening.screen(text, destination="message")
    assert result.urgent
    (finding,) = result.of_kind("crisis")
    assert finding.code == "crisis.self_harm"
    assert finding.reason == f"crisis:{language}"


def test_crisis_in_a_message_never_blocks_and_marks_it_urgent(watched):
    result = screening.screen("zorblax, I want to end my life", destination="message")
    assert result.outcome == "mark"
    assert not result.held
    assert result.urgent


def test_crisis_resources_are_shown_in_the_readers_language():
    result = screening.screen("I want to die", destination="community_post")
    assert any("988" in r["contact"] for r in result.resources("en"))
    with translation.override("es"):
        spanish = result.resources()
    assert spanish[0]["name"].startswith("L\u00ednea 988")
    assert screening.screen("A lovely day", destination="community_post").resources() == []


def test_crisis_phrases_and_resources_are_settings(settings):
    settings.PORTAL_SOCIAL_CRISIS_PHRASES = {"en": ["red button"]}
    settings.PORTAL_SOCIAL_CRISIS_RESOURCES = {"en": [{"name": "Local line", "contact": "Call 555-0100", "url": ""}]}
    assert screening.screen("the red button again", destination="message").urgent
    assert not screening.screen("I want to die", destination="message").urgent
    assert screening.crisis_resources("fr") == [{"name": "Local line", "contact": "Call 555-0100", "url": ""}]


def test_crisis_words_inside_other_words_do_not_count():
    assert not screening.screen("the suicidesquad fan club", destination="message").urgent


# --------------------------------------------------------------------------- trust


def test_new_accounts_are_held_in_public_places_only(newcomer, regular):
    assert screening.screen("Great care", destination="community_post", author=newcomer).outcome == "hold"
    assert screening.screen("Great care", destination="message", author=newcomer).outcome == "publish"
    assert screening.screen("Great care", destination="community_post", author=regular).outcome == "publish"
    assert screening.screen("Great care", destination="community_post", author=None).outcome == "publish"


def test_new_account_days_come_from_the_review_setting_or_per_destination(settings, make_user):
    author = make_user("patient", date_joined=timezone.now() - dt.timedelta(days=10))
    settings.PORTAL_SOCIAL_REVIEW_NEW_ACCOUNT_DAYS = 14
    assert screening.screen("Hi", destination="review_comment", author=author).held
    settings.PORTAL_SOCIAL_REVIEW_NEW_ACCOUNT_DAYS = 7
    assert not screening.screen("Hi", destination="review_comment", author=author).held
    settings.PORTAL_SOCIAL_SCREENING_NEW_ACCOUNT_DAYS = {"community_post": 30}
    assert screening.screen("Hi", destination="community_post", author=author).held
    assert not screening.screen("Hi", destination="review_comment", author=author).held


# --------------------------------------------------------------------------- describing


def test_findings_are_described_in_the_readers_language(watched):
    result = screening.screen("blarg, call 555-867-5309, I want to die", destination="community_post")
    english = screening.describe_all(result.findings, "en")
    assert any("phone number" in line for line in english)
    assert all("555" not in line and "blarg" not in line for line in english)
    for finding in result.findings:
        assert screening.describe(finding)


# --------------------------------------------------------------------------- cost


def test_watched_words_are_loaded_once_and_reloaded_after_a_change(watched, django_assert_num_queries):
    from portal_social.core import phi

    phi.scan("The PHI scanner reads the clinician directory's public names once, then keeps them.")
    words.invalidate()
    with django_assert_num_queries(1):
        screening.screen("blarg", destination="community_post")
        screening.screen("zorblax", destination="review_comment")
        screening.screen("quuxword", destination="message")
    WatchedWord.objects.create(word="newword", action=policy.BLOCK)
    with django_assert_num_queries(1):
        assert screening.screen("newword", destination="community_post").outcome == "block"
        screening.screen("newword", destination="community_post")
    watched["block"].delete()
    assert screening.screen("zorblax", destination="community_post").outcome == "publish"


ADVERSARIAL = [
    "a" * 4000,
    "kill " * 800,
    "kill" + " " * 4000,
    "zorbla" * 700,
    "\u200b" * 4000,
    ("quiero " * 400) + ("\u0430" * 1000),
]


@pytest.mark.parametrize("unit", ADVERSARIAL, ids=range(len(ADVERSARIAL)))
def test_screening_takes_linear_time_on_adversarial_input(unit, db):
    # Many words sharing prefixes, phrases with gaps, and a bounded regex.
    WatchedWord.objects.bulk_create(
        [WatchedWord(word="a" * n + "b", match=policy.ANYWHERE, action=policy.FLAG) for n in range(1, 99)]
        + [WatchedWord(word="zorbla" * 10 + "x", action=policy.BLOCK)]
        + [WatchedWord(word=r"(?:ab){1,40}c", match=policy.REGEX, action=policy.FLAG)]
    )
    words.invalidate()

    def run(text):
        return screening.screen(text, destination="community_post")

    run(unit)  # compile once
    assert_linear(run, unit, unit * 16, label="screening", attempts=10, slack=0.05)


def test_over_long_regular_expressions_are_refused():
    from portal_social.core.screening.matching import MAX_REGEX_LENGTH, UnsafeRegex, check_regex

    with pytest.raises(UnsafeRegex) as raised:
        check_regex("a" * (MAX_REGEX_LENGTH + 1))
    assert raised.value.code == "too_long"


# --------------------------------------------------------------------------- agreement with the register


def test_staff_replies_are_judged_as_the_register_of_user_text_judges_them():
    """Screening calls the stricter reply rule; on its corpus, it refuses exactly what the register refuses."""
    from portal_social.core import user_text
    from tests.core.test_public_reply import BAD_REPLIES, GOOD_REPLIES

    extra = ["We are sorry about the wait on \uff13/\uff14.", "We are sorry about your **visit**."]
    for reply in [reply for reply, _kinds in BAD_REPLIES] + list(GOOD_REPLIES) + extra:
        register = user_text.screen(reply, destination="staff_public_reply")
        result = screening.screen(reply, destination="staff_public_reply")
        assert result.blocked == register.held, reply
        assert {f.detail for f in result.findings} >= set(register.kinds), reply


# --------------------------------------------------------------------------- one PHI pass

AGREEMENT_SAMPLES = [
    "Call me on 555-867-5309 tomorrow.",
    "Write to sam.patient@example.com please",
    "My MRN is 12345678 and my DOB is 03/04/1961.",
    "Phone: 555&#45;867&#45;5309",
    "555\\-867\\-5309 is my number",
    "Thank you, Mrs Alvarez, for your visit on March 3.",
    "We are sorry about your surgery last week.",
    "Ｃａｌｌ ５５５-８６７-５３０９",
    "A kind and thorough doctor.",
]


@pytest.mark.parametrize("text", AGREEMENT_SAMPLES)
@pytest.mark.parametrize("destination", ["review_comment", "staff_public_reply"])
def test_the_field_register_and_the_screening_step_find_the_same_phi(text, destination):
    """One PHI pass: a field screened through the register finds exactly what ``screen()`` finds."""
    from portal_social.core import user_text

    registered = user_text.screen(text, destination=destination)
    screened = screening.screen(text, destination=destination)
    phi_like = [f for f in screened.findings if f.kind in ("phi", "disclosure")]
    assert sorted((f.start, f.end) for f in registered.findings) == sorted(
        (f.start, f.end) for f in phi_like if not f.rendered
    )
    assert sorted({f.kind for f in registered.shown}) == sorted({f.detail for f in phi_like if f.rendered})
    assert registered.held == any(f.outcome in ("hold", "block") for f in phi_like)
