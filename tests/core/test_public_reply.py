"""The stricter screen for what staff and clinicians publish: replies to reviews and biographies."""

import pytest
from django.core.exceptions import ValidationError

from portal_social.conf import app_settings
from portal_social.core import public_reply, roles, user_text
from portal_social.profiles import actions
from portal_social.profiles.models import ClinicianPage, ReviewResponse
from portal_social.profiles.self_service import submit_profile_changes
from portal_social.profiles.workflow import ensure_profile_workflow
from tests.factories import sign_in

REPORTED = "Thank you Mr. Carter, we reviewed your chart from your 3/4 visit and your A1c is improving."
ORG_NUMBER = "555-010-2000"  # the organisation's public line (PORTAL_SOCIAL_PHI_ALLOWED_NUMBERS)
MODEL_REPLY = (
    "Thank you for your feedback. We're sorry your experience fell short. Please call our patient "
    f"relations team at {ORG_NUMBER} so we can look into this."
)


@pytest.fixture(autouse=True)
def org_number(settings):
    settings.PORTAL_SOCIAL_PHI_ALLOWED_NUMBERS = [ORG_NUMBER]


# Replies that name the reader, date a visit or confirm a care relationship: each must be refused.
BAD_REPLIES = [
    (REPORTED, {"name", "date", "care_relationship", "health_detail"}),
    ("Dear Mrs. Alvarez, we are sorry for the wait.", {"name"}),
    ("Hi Maria, thanks for letting us know about the noise.", {"name"}),
    ("Thank you, Jamal. We hear you and we are sorry.", {"name"}),
    ("Ms Okafor, please accept our apologies for the delay.", {"name"}),
    ("Carter, we are sorry to hear this and want to make it right.", {"name"}),
    ("We apologise for what happened on 03/04/2026.", {"date"}),
    ("We are sorry about the wait on March 4.", {"date"}),
    ("We are sorry the front desk was short with you last Tuesday.", {"date"}),
    ("We regret that Tuesday's check-in took so long.", {"date"}),
    ("We looked into what happened yesterday and are sorry.", {"date"}),
    ("We are sorry about the parking on 2026-03-04.", {"date"}),
    ("We are sorry about the wait on the 4th of March.", {"date"}),
    ("We are sorry your visit was so rushed.", {"care_relationship"}),
    ("We are sorry about the delay with your test results.", {"care_relationship"}),
    ("Our team will call about your upcoming appointment.", {"care_relationship"}),
    ("During your stay the unit was short-staffed; we apologise.", {"care_relationship"}),
    ("We are sorry your procedure was rescheduled twice.", {"care_relationship"}),
    ("We have shared this with your doctor.", {"care_relationship"}),
    ("We're sorry your medication was not ready at discharge.", {"care_relationship"}),
    ("We are sorry about the delay with your records request.", {"care_relationship"}),
    ("We understand your diagnosis was hard to hear.", {"care_relationship"}),
    ("We are sorry the room was cold when you were here.", {"care_relationship"}),
    ("We are sorry about how you were treated in the ER; you were seen late.", {"care_relationship"}),
    ("We checked and our records show the order was placed.", {"care_relationship"}),
    ("We reviewed the notes from your time with us and you were discharged too early.", {"care_relationship"}),
    ("We're glad the care you received in the ICU helped.", {"care_relationship"}),
    ("We're glad your blood pressure is better now.", {"care_relationship"}),
    ("Good news: the HbA1c came down and we are proud of you.", {"health_detail"}),
    ("Please come back and ask for Mr. Reyes at the desk.", {"name"}),
    ("Call 555-867-5309 and we will fix your bill.", {"phone", "care_relationship"}),
]

# Replies that thank, apologise and take it offline: each must be published.
GOOD_REPLIES = [
    MODEL_REPLY,
    "Thank you for taking the time to share this. We are sorry to hear about this experience.",
    "We appreciate your feedback and would like to learn more. Please contact Patient Relations.",
    "Thank you for your kind words! We will share them with the team.",
    "We're sorry to hear this. Our patient experience team would like to talk with you privately.",
    "Thank you for your review. Dr. Patel and the whole team appreciate it.",
    "We take all feedback seriously. Please reach out through the portal so we can follow up.",
    "Thank you. We are always working to improve, and comments like yours help.",
    f"Our nurse advice line is available 24/7 at {ORG_NUMBER}.",
    "Our patient relations office is open Monday to Friday, 8am to 5pm.",
    "We aim to reply within 1-2 business days.",
    "Thank you for the 4.5 stars and for your thoughtful comments.",
    "We're sorry you had a frustrating experience. Please call us so we can listen.",
    "Thank you for your feedback about parking; we have shared it with facilities.",
    "We are committed to respectful, timely care for everyone in our community.",
    "Hello, and thank you for writing. We would welcome the chance to talk with you.",
    "Thanks so much for the kind words about our team at Riverside Medical Center.",
    f"We're grateful you took the time to write. Please call our patient advocate at {ORG_NUMBER}.",
    "Thank you for your patience while we look into this.",
    "We hear your concerns and want to make this right. Please contact us directly.",
    "We are sorry to hear about the wait times. We are adding staff to the front desk.",
    "Thank you for recognising our nurses; we will pass on your message.",
    "Your comments have been shared with the clinic manager. Please contact us privately.",
    "We value your trust and would like to hear more. Please contact the patient relations team.",
    "Thank you for your time and your honesty.",
    "Sorry to hear this. We'd like to speak with you directly; please call Patient Experience.",
    "Thank you for sharing. The team at our Northside clinic appreciates your words.",
    "We're glad the new check-in kiosks helped. Thanks for letting us know.",
]


def _refused(value):
    return user_text.screen(value, destination="staff_public_reply").refused


def _kinds(value):
    return set(user_text.screen(value, destination="staff_public_reply").kinds)


@pytest.mark.parametrize(("reply", "kinds"), BAD_REPLIES)
def test_a_reply_that_names_dates_or_confirms_care_is_refused(reply, kinds):
    assert _refused(reply)
    assert kinds <= _kinds(reply)


@pytest.mark.parametrize("reply", GOOD_REPLIES)
def test_a_reply_that_thanks_apologises_and_takes_it_offline_passes(reply):
    assert not user_text.screen(reply, destination="staff_public_reply").held, reply


def test_the_corpus_is_large_enough_and_scores_perfectly():
    assert len(BAD_REPLIES) >= 25 and len(GOOD_REPLIES) >= 25
    caught = sum(_refused(reply) for reply, _kinds in BAD_REPLIES)
    passed = sum(not _refused(reply) for reply in GOOD_REPLIES)
    assert (caught, passed) == (len(BAD_REPLIES), len(GOOD_REPLIES))


def test_the_refusal_names_kinds_and_gives_guidance_without_echoing():
    result = user_text.screen(REPORTED, destination="staff_public_reply")
    message = result.message()
    assert "name" in message and "date" in message and "confirms they are a patient" in message
    for finding in result.findings:
        assert finding.text not in message
    for part in ("Carter", "3/4", "A1c"):
        assert part not in message
    assert result.guidance == public_reply.GUIDANCE
    assert not user_text.screen(MODEL_REPLY, destination="staff_public_reply").guidance


def test_a_disguised_date_is_still_refused():
    assert _refused("We are sorry about the wait on \uff13/\uff14.")  # full-width digits
    assert _refused("We are sorry about your **visit**.")  # Markdown emphasis


def test_the_patient_screen_keeps_its_own_rules():
    # A patient's own story keeps its dates and "your": only staff replies get the stricter rules.
    story = "Thank you Dr. Lee, your team was kind to me last Tuesday and my A1c is improving."
    assert not user_text.screen(story, destination="review_comment").held
    assert _refused(story)


# --------------------------------------------------------------------------- biographies

GOOD_BIOS = [
    "I care for hearts.",
    "I speak Spanish with my patients.",
    "I believe in patient-centred care and chair the Patient Safety Committee.",
    "I have practised family medicine since 2009 and love working with families.",
    "My patients are my partners in care.",
    "I treat adults with diabetes, heart failure and high blood pressure.",
]
BAD_BIOS = [
    "I still remember my patient Jane Doe, who taught me patience.",
    "A patient of mine once ran a marathon after her transplant.",
    "One of my patients, a 52-year-old teacher, inspired me to specialise.",
    "Last year I treated a 9-year-old girl with a rare lymphoma.",
    "I was moved when patient Tom Reyes thanked me.",
    "I treated Mrs. Whitfield for ten years until she passed.",
]


@pytest.mark.parametrize("bio", BAD_BIOS)
def test_a_biography_may_not_name_or_describe_a_patient(bio):
    result = user_text.screen(bio, destination="public_profile")
    assert result.refused
    assert "Do not name or describe a particular patient" in result.message()


@pytest.mark.parametrize("bio", GOOD_BIOS)
def test_a_biography_about_patients_in_general_passes(bio):
    assert not user_text.screen(bio, destination="public_profile").held


# --------------------------------------------------------------------------- where the text is written


def _ratings():
    return {key: 4 for key, _label in app_settings.REVIEW_QUESTIONS}


def _respond_url(review):
    return f"/cms/portal-social/reviews/{review.pk}/respond/"


@pytest.mark.django_db
def test_the_reported_reply_is_refused_by_the_action(patient, clinician, px):
    review = actions.submit_review(author=patient, clinician=clinician, ratings=_ratings(), comment="Kind staff.")
    with pytest.raises(ValidationError) as caught:
        actions.respond_to_review(staff=px, review=review, body=REPORTED)
    [message] = caught.value.message_dict["body"]
    assert "Carter" not in message and "3/4" not in message
    assert not ReviewResponse.objects.exists()


@pytest.mark.django_db
def test_the_reported_reply_is_held_in_the_view_with_guidance(client, patient, clinician, px):
    review = actions.submit_review(author=patient, clinician=clinician, ratings=_ratings(), comment="Kind staff.")
    sign_in(client, px)
    response = client.post(_respond_url(review), {"body": REPORTED})
    assert response.status_code == 200
    html = response.content.decode()
    assert "must not contain personal or health details" in html
    assert "How to answer a review in public" in html
    for step in public_reply.GUIDANCE:
        assert str(step) in html
    assert "Carter" in html.split("<textarea", 1)[1]  # kept in the form to edit, never published
    assert "Carter" not in html.split("<textarea", 1)[0]
    assert not ReviewResponse.objects.exists()


@pytest.mark.django_db
def test_a_good_reply_is_published_from_the_view(client, patient, clinician, px):
    review = actions.submit_review(author=patient, clinician=clinician, ratings=_ratings(), comment="Kind staff.")
    sign_in(client, px)
    response = client.post(_respond_url(review), {"body": MODEL_REPLY})
    assert response.status_code == 302
    assert ReviewResponse.objects.get().body_source == MODEL_REPLY


@pytest.fixture
def own_page(make_clinician, make_user, directory_page):
    ensure_profile_workflow(directory_page)
    owner = make_user(roles.CLINICIAN, mfa=True)
    return owner, make_clinician("Ana", "Ruiz", user=owner, bio="<p>Old bio</p>")


FORM = {"pronouns": "she/her", "bio": "I care for hearts.", "accepting_new_patients": "on"}


@pytest.mark.django_db
def test_a_biography_naming_a_patient_is_refused_in_self_service(client, own_page):
    owner, page = own_page
    sign_in(client, owner)
    edit = page.url + page.reverse_subpage("edit_profile")
    response = client.post(edit, {**FORM, "bio": "My patient Jane Doe taught me patience."})
    assert response.status_code == 200
    assert "Do not name or describe a particular patient" in response.content.decode()
    assert not ClinicianPage.objects.get(pk=page.pk).has_unpublished_changes
    data = {**FORM, "bio": "A patient of mine ran a marathon.", "accepting_new_patients": True}
    data.update(telehealth=False, languages=[], conditions=[])
    with pytest.raises(ValidationError) as caught:
        submit_profile_changes(clinician_user=owner, page=page, data=data)
    assert set(caught.value.message_dict) == {"bio"}
    assert client.post(edit, {**FORM, "bio": "I speak Spanish with my patients."}).status_code == 302
