"""Spans in core.screening: merged, validated, applied and highlighted the same way everywhere."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal_social.core import phi, screening
from portal_social.core.screening import Span, apply_redactions, highlight, merge_spans, validate_spans

# The marker below never occurs in the texts.
TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00"), max_size=60
)


@st.composite
def text_and_spans(draw):
    text = draw(TEXT.filter(bool))
    n = len(text)
    spans = draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(1, n), st.sampled_from(["phone", "name", "details"])).map(
                lambda t: (min(t[0], t[1] - 1), t[1], t[2])
            ),
            max_size=8,
        )
    )
    return text, spans


@given(text_and_spans())
def test_merging_is_idempotent_sorted_and_disjoint(case):
    _text, spans = case
    merged = merge_spans(spans)
    assert merge_spans(merged) == merged
    assert all(a.end <= b.start for a, b in zip(merged, merged[1:], strict=False))
    # Every character covered before is covered after, and no other.
    covered = {i for s, e, _k in spans for i in range(s, e)}
    assert covered == {i for span in merged for i in range(span.start, span.end)}


@given(text_and_spans())
def test_applying_never_leaves_part_of_a_span(case):
    text, spans = case
    marker = "\x00"
    redacted = apply_redactions(text, spans, replace=lambda span: marker)
    kept = [text[i] for i in range(len(text)) if not any(s <= i < e for s, e, _k in spans)]
    assert redacted.replace(marker, "") == "".join(kept)
    assert redacted.count(marker) == len(merge_spans(spans))


@given(text_and_spans())
def test_highlight_pieces_join_back_to_the_text(case):
    text, spans = case
    segments = highlight(text, spans)
    assert "".join(piece for piece, _label in segments) == text
    marked = "".join(piece for piece, label in segments if label)
    assert len(marked) == sum(span.end - span.start for span in merge_spans(spans))


@given(TEXT, st.integers(-5, 70), st.integers(-5, 70))
def test_offsets_are_validated_against_the_text(text, start, end):
    if 0 <= start < end <= len(text):
        assert validate_spans(text, [(start, end)]) == [Span(start, end)]
    else:
        with pytest.raises(ValueError):
            validate_spans(text, [(start, end)])


def test_a_finding_must_cover_the_text_it_was_found_in():
    text = "Call 555-867-5309"
    (finding,) = phi.scan(text)
    assert validate_spans(text, [finding]) == [Span(5, 17, "phone")]
    with pytest.raises(ValueError):
        validate_spans(text, [phi.Finding("phone", 5, 17, "something else")])


def test_overlaps_take_the_longest_spans_label_and_touching_spans_stay_apart():
    assert merge_spans([(0, 4, "name"), (2, 10, "phone"), (10, 12, "date")]) == [
        Span(0, 10, "phone"),
        Span(10, 12, "date"),
    ]
    assert merge_spans([{"start": 3, "end": 5, "kind": "email"}, (4, 4, "empty")]) == [Span(3, 5, "email")]


def test_markers_name_phi_kinds_and_censored_words_show_their_replacement():
    text = "Call 555-867-5309 you frobnitz"
    spans = [(5, 17, "phone"), Span(22, 30, "watched_word.censor", "***")]
    assert apply_redactions(text, spans) == "Call [phone removed] you ***"
    assert apply_redactions("secret", [(0, 6, "whatever")]) == "[details removed]"


@pytest.mark.django_db
def test_redacting_screening_findings_matches_phi_redact():
    text = "Email me at jane@example.com or call 555-867-5309"
    result = screening.screen(text, destination="review_comment")
    assert apply_redactions(text, result.of_kind("phi")) == phi.redact(text)


# --------------------------------------------------------------------------- what a moderator hides


def test_a_moderator_redaction_keeps_earlier_ones_labels_matches_and_refuses_bad_spans():
    from django.core.exceptions import ValidationError

    from portal_social.core.screening import moderator_redaction

    source = "Call 555-867-5309 or write sam@example.com, love Sam"
    phone = source.index("555")
    email = source.index("sam@")
    merged, text = moderator_redaction(
        source, spans=[(phone, phone + 12)], previous=[{"start": email, "end": email + 15, "kind": "email"}]
    )
    assert [(s.start, s.end, s.label) for s in merged] == [(phone, phone + 12, "phone"), (email, email + 15, "email")]
    assert "555-867-5309" not in text and "sam@example.com" not in text and text.endswith("love Sam")
    # An earlier redaction that no longer fits the text is dropped, not trusted.
    merged, _text = moderator_redaction(source, spans=[(0, 4)], previous=[{"start": 0, "end": 999, "kind": "x"}])
    assert [(s.start, s.end, s.label) for s in merged] == [(0, 4, "details")]
    for bad in ([(5, 999)], [("a", "b")], [(7, 7)]):
        with pytest.raises(ValidationError) as caught:
            moderator_redaction(source, spans=bad, outside_message="Outside the post.")
        assert caught.value.message_dict == {"spans": ["Outside the post."]}
    with pytest.raises(ValidationError) as caught:
        moderator_redaction(source, empty_message="Choose something.")
    assert caught.value.message_dict == {"spans": ["Choose something."]}
    merged, text = moderator_redaction(source, use_findings=True)
    assert {s.label for s in merged} >= {"phone", "email"}
