"""The blind search index: normalised words, keyed hashes (never the words), queries, keys and rebuilding."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import connection

from portal_social.community.models import Community, Thread
from portal_social.core import search
from portal_social.core.search_models import SearchTerm

SCOPE = "test.thread"


# --------------------------------------------------------------------------- words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Café CAFÉ cafe", ["cafe", "cafe", "cafe"]),
        ("Straße", ["strasse"]),
        ("ｆｕｌｌ ｗｉｄｔｈ", ["full", "width"]),
        ("dia\u200bbetes", ["diabetes"]),
        ("I am a patient", ["am", "patient"]),
        ("el médico de mi madre", ["medico", "madre"]),
        ("The heart and the lungs", ["heart", "lungs"]),
        ("x y 7 ok", ["ok"]),
        ("", []),
    ],
)
def test_words_are_normalised_and_short_and_common_ones_dropped(text, expected):
    assert search.words(text) == expected


def test_word_spans_point_into_the_original_text():
    text = "Mi MÉDICO dijo"
    spans = list(search.word_spans(text))
    assert [(text[s:e], w) for s, e, w in spans] == [("MÉDICO", "medico"), ("dijo", "dijo")]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("x" * 201, "long"),
        ("the of a y el", "no_words"),
        ("one two three four five six seven eight nine", "words"),
        (["walking"], "type"),
        (None, "type"),
        (42, "type"),
    ],
)
def test_bad_queries_are_refused_with_a_code(value, code):
    with pytest.raises(ValidationError) as refused:
        search.parse_query(value)
    assert refused.value.code == code
    assert refused.value.messages[0]


def test_a_good_query_gives_distinct_words_and_200_characters_is_allowed():
    assert search.parse_query("  Walking walking AFTER surgery ") == ["walking", "after", "surgery"]
    assert search.parse_query("w" * 200) == ["w" * 64]
    eight = "one two three four five six seven eight"
    assert len(search.parse_query(eight)) == 8
    # Stop words do not count towards the eight.
    assert len(search.parse_query(eight + " the and of")) == 8


# --------------------------------------------------------------------------- hashes


def test_terms_are_16_bytes_keyed_and_scoped():
    (_kid, secret), *_ = search.search_keys()
    first = search.term(secret, SCOPE, "walking")
    assert len(first) == 16
    assert first == search.term(secret, SCOPE, "walking")
    assert first != search.term(secret, "other.scope", "walking")
    assert first != search.term(b"another secret", SCOPE, "walking")
    assert b"walking" not in first


def test_no_key_no_index(settings):
    settings.PORTAL_SOCIAL_ENCRYPTION_KEYS = []
    with pytest.raises(ImproperlyConfigured):
        search.search_keys()


@pytest.fixture
def threads(db):
    community = Community.objects.create(name="Group", slug="group", visibility="public")
    return [Thread.objects.create(community=community, title=f"Thread {n}", visible=True) for n in range(3)]


def _raw_terms() -> list[bytes]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT term, object_id, part, key_id FROM {SearchTerm._meta.db_table}")  # noqa: S608
        return cursor.fetchall()


def test_the_index_holds_no_word_in_clear(threads):
    search.index_part(SCOPE, threads[0].pk, search.Part("p1", "Cardiac rehabilitation helped my breathing"))
    rows = _raw_terms()
    assert len(rows) == 4
    blob = b"".join(bytes(row[0]) for row in rows) + "".join(str(c) for row in rows for c in row[1:]).encode()
    for word in (b"cardiac", b"rehabilitation", b"helped", b"breathing", b"Cardiac"):
        assert word not in blob


def test_matching_needs_every_word_and_ranks_by_occurrences(threads):
    first, second, third = threads
    search.index_part(SCOPE, first.pk, search.Part("a", "walking walking after surgery"))
    search.index_part(SCOPE, second.pk, search.Part("a", "walking after knee surgery"))
    search.index_part(SCOPE, third.pk, search.Part("a", "walking only"))
    found = search.matching(Thread.objects.all(), SCOPE, ["walking", "surgery"]).order_by("-search_score", "pk")
    assert [(t.pk, t.search_score) for t in found] == [(first.pk, 3), (second.pk, 2)]
    assert not search.matching(Thread.objects.all(), SCOPE, ["walking", "missing"]).exists()
    assert not search.matching(Thread.objects.all(), SCOPE, []).exists()


def test_ranked_orders_by_occurrences_then_newest_and_keeps_to_the_queryset(threads):
    import datetime

    from django.db.models import Q

    first, second, third = threads
    now = datetime.datetime(2026, 5, 1, tzinfo=datetime.UTC)
    for n, thread in enumerate(threads):
        Thread.objects.filter(pk=thread.pk).update(last_post_at=now + datetime.timedelta(hours=n))
    search.index_part(SCOPE, first.pk, search.Part("a", "walking walking after surgery"))
    search.index_part(SCOPE, second.pk, search.Part("a", "walking after surgery"))
    search.index_part(SCOPE, third.pk, search.Part("a", "walking after surgery, again"))
    everything = Thread.objects.all()
    # first has the most occurrences; third and second tie and the newer (third) comes first.
    assert search.ranked(everything, SCOPE, ["walking", "surgery"], recency="last_post_at") == [
        first.pk,
        third.pk,
        second.pk,
    ]
    allowed = everything.filter(~Q(pk=first.pk))
    assert search.ranked(allowed, SCOPE, ["walking", "surgery"], recency="last_post_at") == [third.pk, second.pk]
    assert search.ranked(everything, SCOPE, ["walking", "missing"], recency="last_post_at") == []
    assert search.ranked(everything, SCOPE, [], recency="last_post_at") == []


def test_parts_are_replaced_and_removed_alone(threads):
    thread = threads[0]
    search.index_part(SCOPE, thread.pk, search.Part("title", "Sleep"))
    search.index_part(SCOPE, thread.pk, search.Part("p1", "melatonin"))
    search.index_part(SCOPE, thread.pk, search.Part("p1", "chamomile tea"))  # replaces p1
    assert not search.matching(Thread.objects.all(), SCOPE, ["melatonin"]).exists()
    assert search.matching(Thread.objects.all(), SCOPE, ["sleep", "chamomile"]).get() == thread
    assert search.matched_parts(SCOPE, [thread.pk], ["chamomile", "sleep"]) == {
        thread.pk.hex: [("p1", 1), ("title", 1)]
    }
    search.remove(SCOPE, thread.pk, part="p1")
    assert not search.matching(Thread.objects.all(), SCOPE, ["chamomile"]).exists()
    search.remove(SCOPE, thread.pk)
    assert not SearchTerm.objects.exists()


def test_a_rotated_key_keeps_old_rows_searchable_until_rebuilt(threads, settings):
    old_key = settings.PORTAL_SOCIAL_ENCRYPTION_KEYS[0]
    first, second = threads[0], threads[1]
    search.index_part(SCOPE, first.pk, search.Part("a", "insulin pump"))
    settings.PORTAL_SOCIAL_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old_key]
    search.index_part(SCOPE, second.pk, search.Part("a", "insulin pen"))
    assert {r[3] for r in _raw_terms()} == {k for k, _secret in search.search_keys()}
    found = set(search.matching(Thread.objects.all(), SCOPE, ["insulin"]).values_list("pk", flat=True))
    assert found == {first.pk, second.pk}
    assert list(search.matching(Thread.objects.all(), SCOPE, ["insulin", "pump"]).values_list("pk", flat=True)) == [
        first.pk
    ]
    # Once the old key is gone, rows under it are no longer found (rebuild first).
    settings.PORTAL_SOCIAL_ENCRYPTION_KEYS = settings.PORTAL_SOCIAL_ENCRYPTION_KEYS[:1]
    assert list(search.matching(Thread.objects.all(), SCOPE, ["insulin"]).values_list("pk", flat=True)) == [second.pk]


def test_snippet_marks_the_words_around_the_first_match():
    text = "Before. " + "filler " * 40 + "Walking after SURGERY was hard. " + "more " * 40
    segments = search.snippet(text, ["walking", "surgery"], width=80)
    joined = "".join(piece for piece, _ in segments)
    assert joined.startswith("… ") and joined.endswith(" …")
    assert [piece for piece, found in segments if found] == ["Walking", "SURGERY"]
    assert search.snippet("nothing here", ["walking"]) == []
