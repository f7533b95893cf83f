"""Reviews screened by core.screening: what holds a comment, what refuses a staff reply, and old redactions."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from portal_social.conf import app_settings
from portal_social.core.screening.models import WatchedWord
from portal_social.profiles import actions, reviews
from portal_social.profiles.models import Review, ReviewResponse
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

QUEUE = "/cms/portal-social/moderation/"


def submit(author, clinician, comment):
    ratings = {key: 4 for key, _label in app_settings.REVIEW_QUESTIONS}
    return actions.submit_review(author=author, clinician=clinician, ratings=ratings, comment=comment)


def test_crisis_language_alone_does_not_hold_a_comment(patient, clinician):
    review = submit(patient, clinician, "After this visit I no longer want to die. Thank you.")
    assert review.status == Review.Status.PUBLISHED
    assert review.hold_reasons == []


def test_a_word_moderators_hold_in_the_admin_holds_a_comment(patient, clinician):
    WatchedWord.objects.create(word="zorblax", action="require_approval", destinations=["review_comment"])
    review = submit(patient, clinician, "The zorblax at reception was rude.")
    assert review.status == Review.Status.HELD
    assert review.hold_reasons == [{"code": "language"}]


def test_a_flagged_or_censored_word_does_not_hold_a_comment(patient, clinician):
    WatchedWord.objects.create(word="zorblax", action="flag")
    WatchedWord.objects.create(word="quibble", action="censor", replacement="***")
    review = submit(patient, clinician, "One quibble about the zorblax.")
    assert review.status == Review.Status.PUBLISHED
    assert review.hold_reasons == []


def test_reasons_keep_their_order_and_shape(make_user, make_clinician, patient, clinician):
    patient.date_joined = timezone.now() - datetime.timedelta(days=1)
    patient.save(update_fields=["date_joined"])
    review = submit(patient, clinician, "Bullshit wait. Email me at sam.patient@example.com or 555-867-5309.")
    assert review.hold_reasons == [
        {"code": "phi", "kinds": ["phone", "email"]},
        {"code": "language"},
        {"code": "new_account"},
    ]


def test_a_watched_word_held_for_staff_replies_refuses_the_reply_without_phi_guidance(patient, clinician, px):
    review = submit(patient, clinician, "Clear explanations and kind staff.")
    assert review.status == Review.Status.PUBLISHED
    WatchedWord.objects.create(word="zorblax", action="require_approval", destinations=["staff_public_reply"])
    with pytest.raises(ValidationError) as refused:
        actions.respond_to_review(staff=px, review=review, body="Thank you, zorblax.")
    [error] = refused.value.error_dict["body"]
    assert error.code == "language"
    assert "zorblax" not in error.messages[0]
    assert ReviewResponse.objects.count() == 0


def test_a_reply_confirming_care_is_refused_with_the_public_reply_wording(patient, clinician, px):
    review = submit(patient, clinician, "Clear explanations and kind staff.")
    with pytest.raises(ValidationError) as refused:
        actions.respond_to_review(staff=px, review=review, body="We reviewed your chart from your visit.")
    [error] = refused.value.error_dict["body"]
    assert error.code == "phi"
    assert error.messages[0].startswith("Responses are public, so they must not contain personal or health details.")


def test_an_old_redaction_outside_the_comment_is_skipped_when_shown(patient, clinician):
    review = submit(patient, clinician, "Clear explanations and kind staff.")
    Review.objects.filter(pk=review.pk).update(
        redactions=[{"start": 0, "end": 5, "kind": "name"}, {"start": 30, "end": 400, "kind": "phone"}]
    )
    review.refresh_from_db()
    assert reviews.public_comment_text(review) == "[name removed] explanations and kind staff."


def test_queue_marks_watched_words(client, moderator, patient, clinician):
    review = submit(patient, clinician, "The wait was bullshit.")
    assert review.status == Review.Status.HELD
    sign_in(client, moderator)
    html = client.get(QUEUE).content.decode()
    assert '<mark title="Language our review policy does not allow">bullshit' in html
