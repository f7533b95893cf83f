"""Review pages: the star form, the submitted page, report and appeal, the policy, and the profile's review section."""

import logging
import re

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.template.loader import get_template
from django.test.client import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import include, path, reverse
from django.utils import timezone

from example_site import urls as site_urls
from portal_social.conf import app_settings
from portal_social.core import roles
from portal_social.core.models import AuditEvent, CareTeamLink
from portal_social.profiles import actions
from portal_social.profiles.models import Review, ReviewAppeal, ReviewReport
from portal_social.profiles.reviews import profile_context
from tests.factories import sign_in

# The example site with the review policy mounted where we propose hosts put it.
urlpatterns = [path("clinician-reviews/", include("portal_social.profiles.urls")), *site_urls.urlpatterns]
pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]

PHONE = "555-867-5309"
QUESTIONS = [key for key, _label in app_settings.REVIEW_QUESTIONS]


def form_data(value="4", comment="", **overrides):
    data = {f"rating_{key}": value for key in QUESTIONS}
    data["comment"] = comment
    data.update(overrides)
    return data


@pytest.fixture
def patient(make_patient):
    return make_patient(first_name="Zebulon", last_name="Quartermaine")


def review_url(page):
    return page.url + page.reverse_subpage("review")


def submit(author, page, value=4, comment=""):
    ratings = {key: value for key in QUESTIONS}
    return actions.submit_review(author=author, clinician=page, ratings=ratings, comment=comment)


# --------------------------------------------------------------------------- the review form


def test_form_is_an_accessible_star_radio_group(client, patient, clinician):
    sign_in(client, patient)
    response = client.get(review_url(clinician))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<fieldset") == len(QUESTIONS)
    assert html.count("<legend") == len(QUESTIONS)
    for key, label in app_settings.REVIEW_QUESTIONS:
        assert f'<legend class="star-rating__legend">{label}</legend>' in html
        for n in range(1, 6):
            assert f'type="radio" name="rating_{key}" id="id_rating_{key}_{n - 1}" value="{n}"' in html
    assert '<span class="visually-hidden">1 star</span>' in html
    assert '<span class="visually-hidden">5 stars</span>' in html
    form = html[html.index("<form") : html.index("</form>")]
    assert "style=" not in form and "<script" not in form and "onclick" not in form


def test_anonymous_is_sent_to_sign_in(client, clinician):
    response = client.get(review_url(clinician))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_ineligible_patient_gets_a_clear_explanation(client, make_patient, clinician):
    sign_in(client, make_patient(linked=False))
    response = client.get(review_url(clinician))
    assert response.status_code == 403
    assert "You can review clinicians who have cared for you." in response.content.decode()
    assert "review-form__form" not in response.content.decode()
    response = client.post(review_url(clinician), form_data())
    assert response.status_code == 403 and Review.objects.count() == 0


def test_valid_post_publishes_and_says_so(client, patient, clinician):
    sign_in(client, patient)
    response = client.post(review_url(clinician), form_data("5", "Kind and clear."))
    review = Review.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{review_url(clinician)}?submitted={review.pk}"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "Your review is published" in page.content.decode()


def test_phi_comment_is_held_and_the_author_told_why_without_the_phi(client, patient, clinician, caplog):
    caplog.set_level(logging.DEBUG)
    sign_in(client, patient)
    response = client.post(review_url(clinician), form_data("4", f"Great. Text me at {PHONE}."), follow=True)
    html = response.content.decode()
    assert Review.objects.get().status == Review.Status.HELD
    assert "will appear after a moderator has read it" in html
    assert "It may contain personal details such as a phone number." in html
    assert PHONE not in html
    assert PHONE not in caplog.text
    assert not any(PHONE in str(e.details) + e.reason for e in AuditEvent.objects.all())


@pytest.mark.parametrize(
    ("overrides", "bad_key"),
    [
        ({f"rating_{QUESTIONS[0]}": "0"}, QUESTIONS[0]),
        ({f"rating_{QUESTIONS[1]}": "6"}, QUESTIONS[1]),
        ({f"rating_{QUESTIONS[2]}": "abc"}, QUESTIONS[2]),
        ({f"rating_{QUESTIONS[3]}": ""}, QUESTIONS[3]),
    ],
)
def test_invalid_stars_are_shown_by_the_field_and_input_kept(client, patient, clinician, overrides, bad_key):
    sign_in(client, patient)
    response = client.post(review_url(clinician), form_data("3", "My comment stays", **overrides))
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html
    assert f'id="id_rating_{bad_key}_errors"' in html
    assert f'href="#id_rating_{bad_key}_0"' in html
    assert "My comment stays</textarea>" in html
    good = next(key for key in QUESTIONS if key != bad_key)
    assert f'name="rating_{good}" id="id_rating_{good}_2" value="3" checked' in html
    assert Review.objects.count() == 0


def test_missing_question_post(client, patient, clinician):
    sign_in(client, patient)
    data = form_data("4")
    del data[f"rating_{QUESTIONS[0]}"]
    response = client.post(review_url(clinician), data)
    assert "Choose a star rating for" in response.content.decode()
    assert Review.objects.count() == 0


def test_second_review_within_twelve_months_is_explained(client, patient, clinician):
    submit(patient, clinician)
    sign_in(client, patient)
    response = client.get(review_url(clinician))
    assert response.status_code == 403
    assert "You already reviewed this clinician" in response.content.decode()
    assert client.post(review_url(clinician), form_data()).status_code == 403
    assert Review.objects.count() == 1


def test_rate_limit_is_shown_as_a_form_error(client, patient, clinician, settings):
    settings.PORTAL_SOCIAL_RATE_LIMITS = {"review": "1/d"}
    sign_in(client, patient)
    from portal_social.core import ratelimit

    ratelimit.check("review", user=patient)  # used up elsewhere today
    response = client.post(review_url(clinician), form_data())
    assert response.status_code == 429
    assert "too many times" in response.content.decode()
    assert Review.objects.count() == 0


def test_submitted_page_is_only_for_the_author(client, patient, make_patient, clinician):
    review = submit(patient, clinician)
    sign_in(client, make_patient())
    assert client.get(f"{review_url(clinician)}?submitted={review.pk}").status_code == 404
    assert client.get(f"{review_url(clinician)}?submitted=not-a-uuid").status_code == 404


# --------------------------------------------------------------------------- report and appeal


def report_url(page, review):
    return page.url + page.reverse_subpage("report_review", args=(review.pk,))


def appeal_url(page, review):
    return page.url + page.reverse_subpage("appeal_review", args=(review.pk,))


def test_report_once(client, patient, make_patient, clinician, django_capture_on_commit_callbacks):
    review = submit(patient, clinician, comment="Fine.")
    reader = make_patient(linked=False)
    sign_in(client, reader)
    assert client.get(report_url(clinician, review)).status_code == 200
    invalid = client.post(report_url(clinician, review), {})
    assert "Choose what is wrong with this review." in invalid.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(report_url(clinician, review), {"reason": "abusive", "details": "rude"})
    assert response.status_code == 302
    assert ReviewReport.objects.get().reason == "abusive: rude"
    again = client.get(report_url(clinician, review))
    assert "You have already reported this review" in again.content.decode()
    client.post(report_url(clinician, review), {"reason": "abusive"})
    assert ReviewReport.objects.count() == 1


def test_report_needs_sign_in_and_a_published_review(client, make_patient, clinician):
    held = submit(make_patient(), clinician, comment=f"Call {PHONE}")
    assert client.get(report_url(clinician, held)).status_code == 302
    sign_in(client, make_patient(linked=False))
    assert client.get(report_url(clinician, held)).status_code == 404


def test_only_the_reviewed_clinician_may_appeal(client, patient, make_patient, make_user, clinician, clinician_user):
    review = submit(patient, clinician, comment="Rude and dismissive.")
    sign_in(client, make_patient())
    assert client.get(appeal_url(clinician, review)).status_code == 404
    sign_in(client, make_user(roles.CLINICIAN, mfa=True))
    assert client.get(appeal_url(clinician, review)).status_code == 404
    sign_in(client, clinician_user)
    page = client.get(appeal_url(clinician, review))
    assert page.status_code == 200 and "Rude and dismissive." in page.content.decode()
    response = client.post(appeal_url(clinician, review), {"reason": "Not my patient."})
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.status == Review.Status.APPEALED and ReviewAppeal.objects.count() == 1
    profile = client.get(clinician.url)
    assert "Rude and dismissive." not in profile.content.decode()


# --------------------------------------------------------------------------- the policy page


def test_exclusion_policy_is_published(client):
    url = reverse("portal_social_profiles:review_policy")
    assert url == "/clinician-reviews/review-policy/"
    html = client.get(url).content.decode()
    for words in (
        "Personal or health details",
        "Profanity, slurs or threats",
        "Content not about care",
        "not by a patient",
    ):
        assert words in html


# --------------------------------------------------------------------------- the profile's review section


def test_aggregate_only_from_the_minimum_count(client, make_patient, clinician, settings):
    settings.PORTAL_SOCIAL_REVIEWS_MIN_COUNT = 3
    for value in (5, 4):
        submit(make_patient(), clinician, value, comment="Good.")
    html = client.get(clinician.url).content.decode()
    assert "Fewer than 3 ratings so far." in html
    assert "out of 5 stars from" not in html
    submit(make_patient(), clinician, 3)
    html = client.get(clinician.url).content.decode()
    assert "Fewer than 3 ratings so far." not in html
    assert "out of 5 stars from 3 ratings" in html


def test_review_list_shows_verified_patient_month_response_and_links(client, patient, make_patient, clinician):
    review = submit(patient, clinician, 5, comment="**Listened** to me.")
    held = submit(make_patient(), clinician, 5, comment=f"Call me {PHONE}")
    px = make_patient()
    roles.grant_role(user=px, role=roles.PATIENT_EXPERIENCE)
    actions.respond_to_review(staff=px, review=review, body="Thank you for *sharing*.")
    html = client.get(clinician.url).content.decode()
    assert "Verified patient" in html
    assert "Zebulon" not in html and "Quartermaine" not in html and patient.username not in html
    assert "<strong>Listened</strong> to me." in html
    assert timezone.localtime(review.created_at).strftime("%B %Y") in html  # the month where the portal is
    assert "Thank you for <em>sharing</em>." in html
    assert report_url(clinician, review) in html
    assert report_url(clinician, held) not in html and PHONE not in html
    assert 'href="/clinician-reviews/review-policy/"' in html


def test_policy_link_even_without_reviews(client, clinician):
    html = client.get(clinician.url).content.decode()
    assert "No written reviews yet." in html
    assert 'href="/clinician-reviews/review-policy/"' in html


def test_only_reviewed_clinician_sees_appeal_links(client, patient, clinician, clinician_user):
    review = submit(patient, clinician, comment="Hmm.")
    assert appeal_url(clinician, review) not in client.get(clinician.url).content.decode()
    sign_in(client, clinician_user)
    assert appeal_url(clinician, review) in client.get(clinician.url).content.decode()


def test_write_review_link_only_for_eligible(client, patient, make_patient, clinician):
    sign_in(client, make_patient(linked=False))
    assert ">Write a review<" not in client.get(clinician.url).content.decode()
    sign_in(client, patient)
    assert ">Write a review<" in client.get(clinician.url).content.decode()


def _reviews(make_patient, page, n):
    for i in range(n):
        review = submit(make_patient(), page, 1 + i % 5, comment=f"Visit number {i}.")
        if i % 2:
            px_response(review)


def px_response(review):
    from tests.factories import UserFactory

    staff = UserFactory(role=roles.PATIENT_EXPERIENCE)
    actions.respond_to_review(staff=staff, review=review, body="Thank you.")


def _count_profile_queries(client, url):
    client.get(url)  # warm Wagtail's per-process caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_profile_page_queries_do_not_grow_with_reviews(
    client, make_patient, make_clinician, make_user, settings, django_assert_max_num_queries
):
    settings.PORTAL_SOCIAL_REVIEWS_MIN_COUNT = 3
    counts = []
    for n in (3, 20):
        doctor = make_user(roles.CLINICIAN)
        page = make_clinician("Q", f"Count{n}", user=doctor)

        def linked_patient(doctor=doctor):
            user = make_patient(linked=False)
            CareTeamLink.objects.create(patient=user, clinician_user=doctor)
            return user

        _reviews(linked_patient, page, n)
        counts.append(_count_profile_queries(client, page.url))
    assert counts[0] == counts[1], counts
    assert counts[0] <= 25, counts
    with django_assert_max_num_queries(counts[0]):
        client.get(page.url)


def test_profile_context_and_section_render_in_fixed_queries(make_patient, clinician, settings):
    from django.contrib.auth.models import AnonymousUser

    settings.PORTAL_SOCIAL_REVIEWS_MIN_COUNT = 3
    template = get_template("portal_social/profiles/_reviews.html")
    request = RequestFactory().get(clinician.url)
    request.user = AnonymousUser()
    counts = []
    for added in (3, 22):  # 3 reviews on one page, then 25 over three pages
        _reviews(make_patient, clinician, added)
        clinician.refresh_from_db()
        with CaptureQueriesContext(connection) as queries:
            context = profile_context(request, clinician)
            html = template.render({**context, "page": clinician, "request": request})
        counts.append(len(queries))
    # aggregate per question, count, page of reviews (+ response join), ratings prefetch
    assert counts[0] == counts[1] <= 5, counts
    assert context["show_aggregate"] and context["aggregate"]["count"] == 25
    assert [label for label, _avg in context["aggregate"]["questions"]] == [
        label for _key, label in app_settings.REVIEW_QUESTIONS
    ]
    assert len(re.findall(r'<li class="review">', html)) == 10
    assert "reviews_page=2" in html


def test_action_errors_map_onto_form_fields():
    from portal_social.profiles.forms import ReviewForm

    form = ReviewForm({"comment": ""})
    form.is_valid()
    form.add_action_errors(ValidationError({QUESTIONS[0]: ["Bad"], "comment": ["Too long"]}))
    assert "Bad" in form.errors[f"rating_{QUESTIONS[0]}"]
    assert "Too long" in form.errors["comment"]


@pytest.mark.django_db
def test_clinician_cannot_open_appeal_page_for_a_held_comment(client, patient, clinician, clinician_user):
    held = submit(patient, clinician, 2, comment="Call me at 413-555-0142 please.")
    assert held.status == Review.Status.HELD
    sign_in(client, clinician_user)
    response = client.get(clinician.url + clinician.reverse_subpage("appeal_review", args=[held.pk]))
    assert response.status_code == 404
    assert b"413-555-0142" not in response.content
