"""The public clinician directory at /clinicians/: search, filters, sorting, pages."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal_social.profiles.directory import (
    MAX_QUERY_LENGTH,
    PER_PAGE,
    clean_query,
    parse_page_number,
    search_terms,
)
from portal_social.profiles.models import ClinicianRating, Condition

pytestmark = pytest.mark.django_db

URL = "/clinicians/"
#: Whole request, anonymous visitor: Wagtail routing, filter options, count,
#: one page of rows, prefetches. It must not depend on how many clinicians exist.
MAX_QUERIES = 15


@pytest.fixture(autouse=True)
def _index_on_publish(settings):
    """Run Wagtail's search-index task at once (production runs it in the task worker)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def condition(db):
    def make(name):
        return Condition.objects.get_or_create(name=name, defaults={"slug": name.lower().replace(" ", "-")})[0]

    return make


def names(response) -> list[str]:
    return [clinician.last_name for clinician in response.context["clinicians"]]


def set_rating(page, count, average):
    ClinicianRating.objects.update_or_create(clinician_id=page.pk, defaults={"count": count, "average": average})


# Listing -------------------------------------------------------------------------------


def test_directory_lists_live_clinicians_sorted_by_last_name(client, make_clinician):
    make_clinician("Zoe", "Young")
    make_clinician("Adam", "Baker")
    make_clinician("Carla", "Adams")

    response = client.get(URL)

    assert response.status_code == 200
    assert names(response) == ["Adams", "Baker", "Young"]
    assert response.context["result_count"] == 3
    assert "3 clinicians found" in response.content.decode()


def test_draft_clinicians_are_never_listed_or_found(client, make_clinician):
    make_clinician("Live", "Person", specialties=["Cardiology"])
    make_clinician("Draft", "Person", specialties=["Cardiology"], publish=False, live=False)
    unpublished = make_clinician("Gone", "Person", specialties=["Cardiology"])
    unpublished.unpublish()

    assert [c.first_name for c in client.get(URL).context["clinicians"]] == ["Live"]
    assert [c.first_name for c in client.get(URL, {"q": "person"}).context["clinicians"]] == ["Live"]
    assert [c.first_name for c in client.get(URL, {"specialty": "cardiology"}).context["clinicians"]] == ["Live"]


def test_card_shows_name_credentials_pronouns_taxonomies_and_badges(client, make_clinician):
    make_clinician(
        "Ana",
        "Lopez",
        credentials="MD, FACC",
        pronouns="she/her",
        specialties=["Cardiology", "Internal medicine"],
        languages=["English", "Spanish"],
        locations=["Main Campus"],
        accepting_new_patients=True,
        telehealth=True,
    )

    html = client.get(URL).content.decode()

    assert "Ana Lopez, MD, FACC" in html
    assert "she/her" in html
    assert "Cardiology, Internal medicine" in html
    assert "English, Spanish" in html
    assert "Main Campus" in html
    assert "Accepting new patients" in html
    assert "Telehealth visits" in html
    assert 'href="/clinicians/ana-lopez-' in html


def test_card_says_not_accepting_and_no_telehealth_badge(client, make_clinician):
    make_clinician("Bo", "Ng", accepting_new_patients=False, telehealth=False)

    html = client.get(URL).content.decode()

    assert "Not accepting new patients" in html
    assert "Telehealth visits" not in html


def test_directory_page_has_no_javascript_and_a_get_form(client, make_clinician):
    make_clinician("Ana", "Lopez")

    html = client.get(URL).content.decode()

    assert "<script" not in html
    assert re.search(r'<form class="directory-search" method="get" action="/clinicians/"', html)


def test_filter_options_list_every_specialty_location_and_language(client, make_clinician, make_taxonomy):
    from portal_social.profiles.models import Specialty

    make_clinician("Ana", "Lopez", specialties=["Cardiology"], languages=["Spanish"], locations=["Main Campus"])
    make_taxonomy(Specialty, "Oncology")  # no clinician yet: still offered

    response = client.get(URL, {"specialty": "cardiology"})
    html = response.content.decode()

    assert [s.slug for s in response.context["specialty_options"]] == ["cardiology", "oncology"]
    assert [loc.slug for loc in response.context["location_options"]] == ["main-campus"]
    assert [lang.slug for lang in response.context["language_options"]] == ["spanish"]
    assert '<option value="cardiology" selected>Cardiology</option>' in html
    assert '<option value="oncology">Oncology</option>' in html


# Search ----------------------------------------------------------------------------------


def test_search_by_last_name(client, make_clinician):
    make_clinician("Ana", "Lopez")
    make_clinician("Bob", "Smith")

    assert names(client.get(URL, {"q": "lopez"})) == ["Lopez"]


def test_search_by_full_name_with_doctor_title(client, make_clinician):
    make_clinician("Ana", "Lopez")
    make_clinician("Ana", "Smith")

    assert names(client.get(URL, {"q": "Dr. Ana Lopez"})) == ["Lopez"]


def test_search_by_specialty_word(client, make_clinician):
    make_clinician("Ana", "Lopez", specialties=["Cardiology"])
    make_clinician("Bob", "Smith", specialties=["Dermatology"])

    assert names(client.get(URL, {"q": "cardiology"})) == ["Lopez"]


def test_search_by_condition_word(client, make_clinician, condition):
    make_clinician("Ana", "Lopez", conditions=[condition("Heart failure")])
    make_clinician("Bob", "Smith", conditions=[condition("Eczema")])

    assert names(client.get(URL, {"q": "heart failure"})) == ["Lopez"]
    assert names(client.get(URL, {"q": "eczema"})) == ["Smith"]


def test_search_needs_every_word_to_match(client, make_clinician):
    make_clinician("Ana", "Lopez", specialties=["Cardiology"])
    make_clinician("Ana", "Smith", specialties=["Dermatology"])

    assert names(client.get(URL, {"q": "ana cardiology"})) == ["Lopez"]
    assert names(client.get(URL, {"q": "ana"})) == ["Lopez", "Smith"]


def test_search_with_no_match_shows_the_empty_state(client, make_clinician):
    make_clinician("Ana", "Lopez")

    response = client.get(URL, {"q": "podiatry"})

    assert response.context["result_count"] == 0
    assert "No clinicians match your search." in response.content.decode()
    assert "0 clinicians found" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ('"', False),
        ('"lopez', True),
        ('lopez"', True),
        ("*", False),
        ("lopez*", True),
        ("AND", False),
        ("NEAR(", False),
        ("(lopez)", True),
        ("'; DROP TABLE x; --", False),
        ("_", False),
        ("lopez OR smith", False),
    ],
)
def test_search_syntax_characters_are_plain_text(client, make_clinician, query, found):
    make_clinician("Ana", "Lopez")
    make_clinician("Bob", "Smith")

    response = client.get(URL, {"q": query})

    assert response.status_code == 200
    assert names(response) == (["Lopez"] if found else [])


def test_search_query_is_escaped_in_the_page(client, make_clinician):
    make_clinician("Ana", "Lopez")
    payload = '"><script>alert(1)</script><img src=x onerror=alert(2)>'

    html = client.get(URL, {"q": payload}).content.decode()

    assert "<script>alert(1)" not in html
    assert "<img src=x" not in html
    assert "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_oversized_query_is_cut_to_the_limit_and_says_so(client, make_clinician):
    make_clinician("Ana", "Lopez")

    response = client.get(URL, {"q": "lopez " + "x" * 500})

    assert response.status_code == 200
    assert len(response.context["query"]) == MAX_QUERY_LENGTH
    assert response.context["query_truncated"] is True
    assert f"used its first {MAX_QUERY_LENGTH} characters" in response.content.decode()


def test_clean_query_and_search_terms():
    assert clean_query("  ana \n lopez ") == ("ana lopez", False)
    assert clean_query("x" * 201) == ("x" * 200, True)
    assert search_terms("Dr. O'Brien-Smith") == "O Brien Smith"
    assert search_terms("doctor") == "doctor"
    assert search_terms('"*()') == ""
    assert search_terms("José Müller") == "José Müller"


# Filters ---------------------------------------------------------------------------------


@pytest.fixture
def clinic(make_clinician):
    """Four clinicians who differ in one attribute each."""
    return {
        "lopez": make_clinician(
            "Ana",
            "Lopez",
            specialties=["Cardiology"],
            languages=["Spanish", "English"],
            locations=["Main Campus"],
            accepting_new_patients=True,
            telehealth=True,
        ),
        "smith": make_clinician(
            "Bob",
            "Smith",
            specialties=["Cardiology"],
            languages=["English"],
            locations=["North Clinic"],
            accepting_new_patients=True,
        ),
        "garcia": make_clinician(
            "Carmen",
            "Garcia",
            specialties=["Cardiology"],
            languages=["Spanish"],
            locations=["North Clinic"],
            accepting_new_patients=False,
        ),
        "nguyen": make_clinician(
            "Dan",
            "Nguyen",
            specialties=["Dermatology"],
            languages=["Spanish", "Vietnamese"],
            locations=["Main Campus"],
            accepting_new_patients=True,
            telehealth=True,
        ),
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"specialty": "cardiology"}, ["Garcia", "Lopez", "Smith"]),
        ({"specialty": "dermatology"}, ["Nguyen"]),
        ({"location": "north-clinic"}, ["Garcia", "Smith"]),
        ({"language": "vietnamese"}, ["Nguyen"]),
        ({"language": "spanish"}, ["Garcia", "Lopez", "Nguyen"]),
        ({"accepting": "1"}, ["Lopez", "Nguyen", "Smith"]),
        ({"telehealth": "1"}, ["Lopez", "Nguyen"]),
        ({"accepting": "yes", "telehealth": "on"}, ["Garcia", "Lopez", "Nguyen", "Smith"]),
    ],
)
def test_each_filter_narrows_the_list(client, clinic, params, expected):
    assert names(client.get(URL, params)) == expected


def test_cardiologist_who_speaks_spanish_and_accepts_new_patients(client, clinic):
    """The journey: a Spanish-speaking patient looks for a cardiologist who will see them."""
    params = {"specialty": "cardiology", "language": "spanish", "accepting": "1"}

    response = client.get(URL, params)
    html = response.content.decode()

    assert names(response) == ["Lopez"]
    assert "1 clinician found" in html
    # The form remembers the choices, so the visitor can refine them.
    assert '<option value="cardiology" selected>' in html
    assert '<option value="spanish" selected>' in html
    assert 'name="accepting" value="1" checked' in html
    # The same URL is the same answer for someone it is shared with.
    assert names(client.get(URL + "?specialty=cardiology&language=spanish&accepting=1")) == ["Lopez"]


def test_search_combined_with_filters(client, clinic):
    assert names(client.get(URL, {"q": "cardiology", "location": "north-clinic"})) == ["Garcia", "Smith"]
    assert names(client.get(URL, {"q": "cardiology", "language": "spanish", "telehealth": "1"})) == ["Lopez"]
    assert names(client.get(URL, {"q": "nguyen", "specialty": "cardiology"})) == []


@pytest.mark.parametrize("param", ["specialty", "location", "language"])
def test_unknown_filter_slug_gives_no_results_and_a_friendly_message(client, clinic, param):
    response = client.get(URL, {param: "no-such-thing"})
    html = response.content.decode()

    assert response.status_code == 200
    assert names(response) == []
    assert f"We don&#x27;t recognise that {param}." in html
    assert "No clinicians match your search." in html
    assert "See all clinicians" in html


def test_empty_filter_values_mean_no_filter(client, clinic):
    response = client.get(URL, {"q": "", "specialty": "", "location": "", "language": "", "sort": ""})

    assert names(response) == ["Garcia", "Lopez", "Nguyen", "Smith"]
    assert response.context["filter_notices"] == []


# Sorting and ratings -------------------------------------------------------------------------


def test_sort_by_name_orders_by_last_then_first_name(client, make_clinician):
    make_clinician("Zed", "Adams")
    make_clinician("amy", "adams")
    make_clinician("Bea", "Carter")

    response = client.get(URL, {"sort": "name"})

    assert [c.first_name for c in response.context["clinicians"]] == ["amy", "Zed", "Bea"]


def test_sort_by_rating_lists_public_ratings_first_then_everyone_else_by_name(client, make_clinician, settings):
    settings.PORTAL_SOCIAL_REVIEWS_MIN_COUNT = 30
    good = make_clinician("Good", "Zimmer")
    best = make_clinician("Best", "Young")
    hidden_perfect = make_clinician("Hidden", "Adams")  # 5.0 from too few ratings: must not jump ahead
    unrated = make_clinician("None", "Baker")
    okay = make_clinician("Okay", "Xu")
    set_rating(good, 30, "4.20")
    set_rating(best, 120, "4.90")
    set_rating(hidden_perfect, 29, "5.00")
    set_rating(okay, 45, "3.10")

    response = client.get(URL, {"sort": "rating"})

    assert names(response) == ["Young", "Zimmer", "Xu", "Adams", "Baker"]
    assert unrated.rating_summary.average is None


def test_unknown_sort_falls_back_to_name(client, make_clinician):
    make_clinician("B", "Bravo")
    make_clinician("A", "Alpha")

    response = client.get(URL, {"sort": "rating_average; DROP"})

    assert names(response) == ["Alpha", "Bravo"]
    assert response.context["sort"] == "name"


def test_card_shows_stars_only_at_or_above_the_minimum_count(client, make_clinician, settings):
    settings.PORTAL_SOCIAL_REVIEWS_MIN_COUNT = 30
    rated = make_clinician("Ana", "Lopez")
    few = make_clinician("Bob", "Smith")
    set_rating(rated, 42, "4.62")
    set_rating(few, 29, "4.90")

    html = client.get(URL).content.decode()

    assert "4.6 out of 5 stars from 42 ratings" in html
    assert "4.9" not in html
    assert html.count("Fewer than 30 ratings yet") == 1
    assert html.count('class="stars__star stars__star--full"') == 4
    assert html.count('class="stars__star stars__star--half"') == 1


def test_minimum_rating_count_follows_the_setting(client, make_clinician, settings):
    settings.PORTAL_SOCIAL_REVIEWS_MIN_COUNT = 5
    few = make_clinician("Bob", "Smith")
    set_rating(few, 5, "3.00")

    html = client.get(URL).content.decode()

    assert "3.0 out of 5 stars from 5 ratings" in html
    assert "Fewer than" not in html


# Pagination --------------------------------------------------------------------------------------


@pytest.fixture
def many(make_clinician):
    """45 clinicians: three pages of 20, 20 and 5."""
    return [make_clinician(f"First{n:02d}", f"Last{n:02d}", specialties=["Cardiology"]) for n in range(45)]


def test_twenty_clinicians_a_page_with_links_that_keep_the_filters(client, many):
    response = client.get(URL, {"specialty": "cardiology", "page": "2"})
    html = response.content.decode()

    assert PER_PAGE == 20
    assert names(response) == [f"Last{n:02d}" for n in range(20, 40)]
    assert "Showing 21 to 40 of 45" in html
    assert response.context["prev_url"] == "/clinicians/?specialty=cardiology"
    assert response.context["next_url"] == "/clinicians/?specialty=cardiology&page=3"
    assert 'href="/clinicians/?specialty=cardiology&amp;page=3" rel="next"' in html
    assert 'aria-current="page"' in html
    assert '<ol class="clinician-list" start="21">' in html


PAGE_CASES = [
    ("0", 1),
    ("-3", 1),
    ("999", 3),
    ("99999999999999999999999", 3),
    ("-99999999999999999999999", 1),
    ("abc", 1),
    ("2.5", 1),
    ("", 1),
    ("3", 3),
    ("\u0663", 1),  # ARABIC-INDIC DIGIT THREE: not a page number here
]


def test_page_numbers_are_clamped_or_default_to_the_first_page(client, many):
    for raw, shown in PAGE_CASES:
        response = client.get(URL, {"page": raw})

        assert response.status_code == 200, raw
        assert response.context["results"].number == shown, raw
    assert len(client.get(URL, {"page": "999"}).context["clinicians"]) == 5


def test_page_number_on_an_empty_result_is_page_one(client, many):
    response = client.get(URL, {"q": "nobody", "page": "7"})

    assert response.status_code == 200
    assert response.context["results"].number == 1
    assert response.context["result_count"] == 0


def test_parse_page_number():
    assert parse_page_number("5", 3) == 3
    assert parse_page_number(" 2 ", 3) == 2
    assert parse_page_number("0", 0) == 1
    assert parse_page_number(None, 3) == 1
    assert parse_page_number("9" * 5000, 3) == 3


# Bounded queries ---------------------------------------------------------------------------


def _make_full(make_clinician, condition, n):
    return make_clinician(
        f"First{n}",
        f"Last{n}",
        credentials="MD",
        specialties=["Cardiology", f"Special {n % 4}"],
        languages=["Spanish", f"Language {n % 3}"],
        locations=["Main Campus", f"Clinic {n % 5}"],
        conditions=[condition(f"Condition {n % 6}")],
        accepting_new_patients=True,
    )


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": "cardiology"},
        {"specialty": "cardiology", "language": "spanish", "accepting": "1", "sort": "rating"},
        {"q": "first1", "location": "main-campus", "page": "2"},
    ],
)
def test_query_count_does_not_grow_with_the_number_of_clinicians(
    client, make_clinician, condition, django_assert_max_num_queries, params
):
    for n in range(3):
        set_rating(_make_full(make_clinician, condition, n), 40 + n, "4.50")
    client.get(URL, params)  # warm: content types and site root paths are cached per process
    with CaptureQueriesContext(connection) as few:
        assert client.get(URL, params).status_code == 200

    for n in range(3, 25):
        set_rating(_make_full(make_clinician, condition, n), 40 + n, "4.50")
    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(URL, params)
    with CaptureQueriesContext(connection) as more:
        client.get(URL, params)

    assert response.status_code == 200
    assert len(more.captured_queries) == len(few.captured_queries) <= MAX_QUERIES


def test_query_count_with_photos_does_not_grow(
    client, make_clinician, settings, tmp_path, django_assert_max_num_queries
):
    from django.core.files.images import ImageFile
    from PIL import Image as PILImage
    from wagtail.images import get_image_model

    settings.MEDIA_ROOT = str(tmp_path)

    def photo(n):
        buffer = BytesIO()
        PILImage.new("RGB", (200, 200), (n * 10 % 255, 80, 120)).save(buffer, "PNG")
        return get_image_model().objects.create(title=f"Photo {n}", file=ImageFile(buffer, name=f"p{n}.png"))

    for n in range(3):
        make_clinician(f"F{n}", f"L{n}", photo=photo(n), specialties=["Cardiology"])
    client.get(URL)  # renditions are generated once, on first view
    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    for n in range(3, 25):
        make_clinician(f"F{n}", f"L{n}", photo=photo(n), specialties=["Cardiology"])
    client.get(URL)
    # Two more than without photos: the images, and their renditions, each in one query.
    with django_assert_max_num_queries(MAX_QUERIES + 2):
        html = client.get(URL).content.decode()
    with CaptureQueriesContext(connection) as more:
        client.get(URL)

    assert html.count('class="clinician-card__photo"') == PER_PAGE
    assert 'alt=""' in html
    assert len(more.captured_queries) == len(few.captured_queries)


def test_search_backends_without_a_queryset_give_capped_ids(monkeypatch):
    """Elasticsearch/OpenSearch results are not SQL: their ids are used, at most MAX_EXTERNAL_HITS of them."""
    from portal_social.profiles import directory

    class Hit:
        def __init__(self, pk):
            self.pk = pk

    class ExternalResults(list):
        pass

    class Base:
        def search(self, terms, **options):
            self.seen = (terms, options)
            return ExternalResults(Hit(pk) for pk in range(5000))

    monkeypatch.setattr(directory, "MAX_EXTERNAL_HITS", 50)
    base = Base()

    assert directory._search_matches(base, "Dr. Lopez!") == list(range(50))
    assert base.seen == ("Lopez", {"operator": "and", "order_by_relevance": False})
