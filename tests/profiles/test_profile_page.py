"""A clinician's public profile page: content, locations, stars and schema.org JSON-LD."""

from __future__ import annotations

import importlib
import json
import re
import sys
import types
from io import BytesIO

import pytest
from django.db import connection
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from portal_social.profiles.directory import clinician_jsonld, clinician_jsonld_data
from portal_social.profiles.models import ClinicianRating, Condition, Location
from portal_social.templatetags.portal_social_profiles import star_icons, tel_uri

pytestmark = pytest.mark.django_db

REVIEWS_TEMPLATE = "portal_social/profiles/_reviews.html"
JSONLD = re.compile(r'<script type="application/ld\+json" id="clinician-jsonld">(.*?)</script>', re.S)


def _real_reviews_module():
    try:
        return importlib.import_module("portal_social.profiles.reviews")
    except ImportError:
        return None


@pytest.fixture
def reviews_template(settings):
    """The reviews section's template, or a stand-in while it has not been written yet."""
    try:
        get_template(REVIEWS_TEMPLATE)
    except TemplateDoesNotExist:
        options = dict(settings.TEMPLATES[0]["OPTIONS"])
        options["loaders"] = [
            "django.template.loaders.filesystem.Loader",
            "django.template.loaders.app_directories.Loader",
            ("django.template.loaders.locmem.Loader", {REVIEWS_TEMPLATE: "<h2>Reviews</h2>"}),
        ]
        settings.TEMPLATES = [dict(settings.TEMPLATES[0], APP_DIRS=False, OPTIONS=options)]


@pytest.fixture
def reviews(monkeypatch, reviews_template):
    """The reviews code's part of the profile context, with the aggregate controlled by the test.

    ``reviews.show(average, count)`` makes ``profile_context`` report a public
    aggregate. The rest of the context comes from the real
    ``portal_social.profiles.reviews.profile_context`` when it exists, or from
    a stand-in with the same keys while it does not.
    """

    class Reviews:
        override = None

        def show(self, average, count):
            self.override = {
                "show_aggregate": True,
                "aggregate": {"average": average, "count": count, "visual": "", "questions": []},
            }

    state = Reviews()
    module = _real_reviews_module()
    if module is None:
        module = types.ModuleType("portal_social.profiles.reviews")
        monkeypatch.setitem(sys.modules, "portal_social.profiles.reviews", module)
        from portal_social.conf import app_settings

        def real(request, page):
            min_count = app_settings.REVIEWS_MIN_COUNT
            summary = page.rating_summary
            return {
                "reviews": [],
                "show_aggregate": summary.count >= min_count,
                "aggregate": {"average": summary.average, "count": summary.count, "questions": []},
                "review_url": "",
                "can_review": False,
                "min_count": min_count,
            }

    else:
        real = module.profile_context

    def profile_context(request, page):
        context = real(request, page)
        context.update(state.override or {})
        return context

    monkeypatch.setattr(module, "profile_context", profile_context, raising=False)
    return state


@pytest.fixture
def location(db):
    def make(name, **fields):
        defaults = {"slug": name.lower().replace(" ", "-"), "address": "1 Main St\nSpringfield, IL 62701"}
        defaults.update(fields)
        return Location.objects.update_or_create(name=name, defaults=defaults)[0]

    return make


@pytest.fixture
def clinician(make_clinician, location):
    location("Main Campus", phone="+1 (217) 555-0100", map_url="https://maps.example.org/?q=main+campus")
    location("North Clinic", phone="", address="40 North Rd\nSpringfield, IL 62702")
    return make_clinician(
        "Ana",
        "Lopez",
        credentials="MD, FACC",
        pronouns="she/her",
        specialties=["Cardiology", "Internal medicine"],
        languages=["English", "Spanish"],
        locations=["Main Campus", "North Clinic"],
        conditions=[
            Condition.objects.create(name="Heart failure", slug="heart-failure"),
            Condition.objects.create(name="Atrial fibrillation", slug="atrial-fibrillation"),
        ],
        accepting_new_patients=True,
        telehealth=True,
        bio="<p>Dr. Lopez cares for <b>heart</b> patients.</p>",
        education='<ul><li>MD, <a href="https://example.edu">Example University</a></li></ul>',
        board_certifications="Cardiovascular disease\nInternal medicine <ABIM>",
    )


def jsonld(html: str) -> dict:
    match = JSONLD.search(html)
    assert match, "no JSON-LD script in the page"
    return json.loads(match.group(1))


def set_rating(page, count, average):
    ClinicianRating.objects.update_or_create(clinician_id=page.pk, defaults={"count": count, "average": average})


# Content ------------------------------------------------------------------------------------------


def test_profile_shows_identity_practice_and_training(client, clinician, reviews):
    response = client.get(clinician.url)
    html = response.content.decode()

    assert response.status_code == 200
    assert "<h1>Ana Lopez, MD, FACC</h1>" in html
    assert "Pronouns: she/her" in html
    assert "Cardiology · Internal medicine" in html
    assert "<li>Atrial fibrillation</li><li>Heart failure</li>" in html
    assert "<li>English</li><li>Spanish</li>" in html
    assert "Accepting new patients" in html
    assert "Telehealth visits" in html
    assert "Dr. Lopez cares for <b>heart</b> patients." in html
    assert '<a href="https://example.edu">Example University</a>' in html
    assert "<p>Cardiovascular disease<br>Internal medicine &lt;ABIM&gt;</p>" in html


def test_profile_says_when_not_accepting_new_patients(client, make_clinician, reviews):
    page = make_clinician("Bo", "Ng", accepting_new_patients=False)

    html = client.get(page.url).content.decode()

    assert "Not accepting new patients" in html
    assert "Telehealth visits" not in html


def test_location_phone_is_a_tel_link_and_map_link_sends_no_referrer(client, clinician, reviews):
    html = client.get(clinician.url).content.decode()

    assert '<a href="tel:+12175550100">+1 (217) 555-0100</a>' in html
    assert "<address>1 Main St<br>Springfield, IL 62701</address>" in html
    assert "<address>40 North Rd<br>Springfield, IL 62702</address>" in html
    assert html.count('href="tel:') == 1  # North Clinic has no public phone
    assert re.search(
        r'<a href="https://maps.example.org/\?q=main\+campus" rel="noopener noreferrer" target="_blank">'
        r"Map and directions for Main Campus",
        html,
    )


def test_profile_photo_has_alt_text(client, make_clinician, reviews, settings, tmp_path):
    from django.core.files.images import ImageFile
    from PIL import Image as PILImage
    from wagtail.images import get_image_model

    settings.MEDIA_ROOT = str(tmp_path)
    buffer = BytesIO()
    PILImage.new("RGB", (400, 400), (10, 80, 120)).save(buffer, "PNG")
    photo = get_image_model().objects.create(title="Headshot", file=ImageFile(buffer, name="ana.png"))
    page = make_clinician("Ana", "Lopez", credentials="DO", photo=photo)

    html = client.get(page.url).content.decode()

    assert re.search(r'<img alt="Photo of Ana Lopez, DO" class="clinician-profile__photo"[^>]* src="', html)


def test_profile_has_no_executable_script(client, clinician, reviews):
    html = client.get(clinician.url).content.decode()

    assert re.findall(r"<script[^>]*>", html) == ['<script type="application/ld+json" id="clinician-jsonld">']


def test_profile_query_count_does_not_grow_with_taxonomies(
    client, make_clinician, location, reviews, django_assert_max_num_queries
):
    one = make_clinician("One", "Place", specialties=["A"], languages=["B"], locations=["C"])
    many = make_clinician(
        "Many",
        "Places",
        specialties=[f"S{n}" for n in range(8)],
        languages=[f"L{n}" for n in range(8)],
        locations=[f"Site {n}" for n in range(8)],
        conditions=[Condition.objects.create(name=f"C{n}", slug=f"c{n}") for n in range(8)],
    )
    client.get(one.url)
    with CaptureQueriesContext(connection) as few:
        client.get(one.url)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(many.url).status_code == 200


# Stars ---------------------------------------------------------------------------------------------


def test_profile_header_shows_stars_when_the_aggregate_is_public(client, clinician, reviews):
    reviews.show("4.62", 42)

    html = client.get(clinician.url).content.decode()
    start = html.index('<header class="clinician-profile__header">')
    header = html[start : html.index("</header>", start)]

    assert "4.6 out of 5 stars from 42 ratings" in header
    assert '<a href="#clinician-reviews">Read reviews</a>' in header


def test_profile_header_shows_no_stars_below_the_minimum(client, clinician, reviews, settings):
    settings.PORTAL_SOCIAL_REVIEWS_MIN_COUNT = 30
    set_rating(clinician, 29, "4.90")

    html = client.get(clinician.url).content.decode()

    assert "out of 5 stars from" not in html
    assert "4.9" not in html
    assert 'class="stars__star' not in html


# JSON-LD -------------------------------------------------------------------------------------------


def test_jsonld_describes_the_physician(client, clinician, reviews):
    data = jsonld(client.get(clinician.url).content.decode())

    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "Physician"
    assert data["name"] == "Ana Lopez, MD, FACC"
    assert data["url"] == f"http://testserver{clinician.url}"
    assert data["medicalSpecialty"] == ["Cardiology", "Internal medicine"]
    assert data["knowsLanguage"] == ["English", "Spanish"]
    assert data["isAcceptingNewPatients"] is True
    assert data["telephone"] == "+1 (217) 555-0100"
    assert data["address"] == [
        {
            "@type": "PostalAddress",
            "name": "Main Campus",
            "streetAddress": "1 Main St, Springfield, IL 62701",
            "telephone": "+1 (217) 555-0100",
        },
        {"@type": "PostalAddress", "name": "North Clinic", "streetAddress": "40 North Rd, Springfield, IL 62702"},
    ]
    assert "aggregateRating" not in data


def test_jsonld_has_no_aggregate_rating_below_the_minimum(client, clinician, reviews, settings):
    settings.PORTAL_SOCIAL_REVIEWS_MIN_COUNT = 30
    set_rating(clinician, 29, "4.80")

    data = jsonld(client.get(clinician.url).content.decode())

    assert "aggregateRating" not in data


def test_jsonld_has_aggregate_rating_at_the_minimum(client, clinician, reviews, settings):
    settings.PORTAL_SOCIAL_REVIEWS_MIN_COUNT = 30
    set_rating(clinician, 30, "4.25")
    reviews.show("4.25", 30)

    data = jsonld(client.get(clinician.url).content.decode())

    assert data["aggregateRating"] == {
        "@type": "AggregateRating",
        "ratingValue": 4.25,
        "ratingCount": 30,
        "bestRating": 5,
        "worstRating": 1,
    }


def test_jsonld_never_shows_a_rating_the_reviews_code_reports_below_the_minimum(client, clinician, reviews, settings):
    settings.PORTAL_SOCIAL_REVIEWS_MIN_COUNT = 30
    reviews.show("5.00", 3)  # even if the caller says "show", too few ratings stay private

    assert "aggregateRating" not in jsonld(client.get(clinician.url).content.decode())


def test_jsonld_cannot_close_its_script_element(client, make_clinician, location, reviews):
    location("Evil", address="</script><script>alert(1)</script>", phone="<!--")
    page = make_clinician("Ana", "Lopez", credentials="</SCRIPT>&amp;", locations=["Evil"])

    html = client.get(page.url).content.decode()
    raw = JSONLD.search(html).group(1)
    data = json.loads(raw)

    assert "<" not in raw and ">" not in raw and "&" not in raw
    assert data["name"] == "Ana Lopez, </SCRIPT>&amp;"
    assert data["address"]["streetAddress"] == "</script><script>alert(1)</script>"
    assert "<script>alert(1)" not in html


def test_jsonld_builder_uses_the_page_rating_when_no_aggregate_is_given(clinician, settings):
    settings.PORTAL_SOCIAL_REVIEWS_MIN_COUNT = 30
    request = RequestFactory().get("/")
    set_rating(clinician, 31, "3.50")
    clinician.refresh_from_db()

    data = clinician_jsonld_data(clinician, request)

    assert data["aggregateRating"]["ratingValue"] == 3.5
    assert data["aggregateRating"]["ratingCount"] == 31
    assert "aggregateRating" not in clinician_jsonld_data(clinician, request, aggregate={})
    assert "aggregateRating" not in clinician_jsonld_data(clinician, request, aggregate={"average": 4, "count": 29})
    assert str(clinician_jsonld(clinician, request)).startswith('<script type="application/ld+json"')


@pytest.mark.skipif(_real_reviews_module() is None, reason="portal_social.profiles.reviews is not written yet")
def test_profile_renders_with_the_real_reviews_code(client, clinician, reviews_template):
    response = client.get(clinician.url)

    assert response.status_code == 200
    data = jsonld(response.content.decode())
    assert data["name"] == "Ana Lopez, MD, FACC"
    assert ("aggregateRating" in data) == bool(response.context.get("show_aggregate"))


# Template helpers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("average", "icons"),
    [
        ("4.62", ["full"] * 4 + ["half"]),
        ("4.75", ["full"] * 5),
        ("4.24", ["full"] * 4 + ["empty"]),
        ("4.25", ["full"] * 4 + ["half"]),
        (1, ["full"] + ["empty"] * 4),
        (0, ["empty"] * 5),
        (7, ["full"] * 5),
        (None, ["empty"] * 5),
        ("n/a", ["empty"] * 5),
    ],
)
def test_star_icons(average, icons):
    assert star_icons(average) == icons


@pytest.mark.parametrize(
    ("phone", "uri"),
    [
        ("+1 (217) 555-0100", "tel:+12175550100"),
        ("217.555.0100 ext. 12", "tel:2175550100,12"),
        ("217-555-0100 x9", "tel:2175550100,9"),
        ("", ""),
        ("call us", ""),
        ("javascript:alert(1)", "tel:1"),
    ],
)
def test_tel_uri(phone, uri):
    assert tel_uri(phone) == uri
