"""Public-response templates: screened as staff public replies when saved and again when shown.

A template is what the organisation publishes under a social-media post or a
review: thanks, an apology, the patient-experience contact and an offer to
talk privately, and nothing that confirms anyone's care. One that names a
person, a condition or a date of care cannot be saved; one that screening
holds later (a watched word added since) is not offered on the case page.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from portal_social.core.models import AuditEvent
from portal_social.core.screening import policy
from portal_social.core.screening.models import WatchedWord
from portal_social.feedback import actions
from portal_social.feedback.models import LetterTemplate, ResponseTemplate
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

SNIPPETS = "/cms/snippets/portal_social/"

#: The examples in docs/feedback.md.
SOCIAL = (
    "Thank you for taking the time to share this. We are sorry your experience fell short of what you "
    "expected. We cannot discuss anyone's care here, but our Patient Experience team would like to hear "
    "from you: please call 1-800-555-0199 or use the Contact us page on our website, and we will follow up "
    "privately."
)
REVIEW = (
    "Thank you for your review. We are sorry to hear you were disappointed. To protect everyone's privacy "
    "we do not discuss individual circumstances here. Please contact our Patient Experience office at "
    "1-800-555-0199 so we can talk with you directly."
)
PRAISE = (
    "Thank you for your kind words. We will share them with our team. If you would like to tell us more, "
    "please contact our Patient Experience office at 1-800-555-0199."
)
NAMES_A_PATIENT = "Thank you, Maria Lopez. We are sorry to hear about your experience."
NAMES_A_CONDITION = "We are sorry your diabetes appointment went badly. Please call us."
DATES_CARE = "We are sorry about your visit on 3 June. Please call us."


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (NAMES_A_PATIENT, "a person's name"),
        (NAMES_A_CONDITION, "wording that confirms they are a patient"),
        (DATES_CARE, "a date"),
    ],
)
def test_screening_refuses_a_template_that_names_a_patient_a_condition_or_a_date_of_care(body, named):
    refused = actions.template_refusal(body)
    assert refused is not None and named in refused
    assert "Maria" not in refused and "diabetes" not in refused  # what was found, never the words


@pytest.mark.parametrize("body", [SOCIAL, REVIEW, PRAISE])
def test_clean_templates_pass(body):
    assert actions.template_refusal(body) is None


def test_a_watched_word_held_for_staff_replies_refuses_a_template_when_it_is_used():
    template = ResponseTemplate.objects.create(name="Sorry", use="social", body=SOCIAL)
    assert actions.usable_response_template(template) == SOCIAL
    WatchedWord.objects.create(word="disappointed", action=policy.BLOCK, destinations=["staff_public_reply"])
    template.body = REVIEW
    with pytest.raises(ValidationError) as refused:
        actions.usable_response_template(template)
    assert "language that our policy does not allow" in refused.value.message_dict["body"][0]
    template.active = False
    with pytest.raises(ValidationError):
        actions.usable_response_template(template)


# --------------------------------------------------------------------------- the Wagtail admin


@pytest.fixture
def px_admin(world):
    client = Client()
    sign_in(client, world.px)
    return client


def test_px_staff_cannot_save_a_template_that_screening_refuses(px_admin, world):
    response = px_admin.post(
        f"{SNIPPETS}responsetemplate/add/", {"name": "Personal", "use": "social", "body": DATES_CARE, "active": "on"}
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "Responses are public" in content and "a date" in content
    assert not ResponseTemplate.objects.exists()


def test_px_staff_save_a_clean_template_and_it_is_audited(px_admin, world):
    response = px_admin.post(
        f"{SNIPPETS}responsetemplate/add/", {"name": "Sorry", "use": "social", "body": SOCIAL, "active": "on"}
    )
    assert response.status_code == 302, response.content[:2000]
    template = ResponseTemplate.objects.get(name="Sorry")
    event = AuditEvent.objects.get(action="feedback.setup", target_id=str(template.pk))
    assert event.actor_id == world.px.pk and event.details == {"change": "added"}
    edit = px_admin.post(
        f"{SNIPPETS}responsetemplate/edit/{template.pk}/",
        {"name": "Sorry", "use": "social", "body": NAMES_A_PATIENT, "active": "on"},
    )
    assert edit.status_code == 200 and "a person&#x27;s name" in edit.content.decode()
    assert ResponseTemplate.objects.get(pk=template.pk).body == SOCIAL


def test_a_letter_template_must_use_known_placeholders_and_give_every_required_part(px_admin):
    bad = px_admin.post(f"{SNIPPETS}lettertemplate/add/", {"name": "Short", "body": "Dear {patient_name}, {diagnosis}"})
    assert bad.status_code == 200
    content = bad.content.decode()
    assert "Unknown placeholders: {diagnosis}" in content and "{contact_person}" in content
    assert not LetterTemplate.objects.exists()
    good = px_admin.post(
        f"{SNIPPETS}lettertemplate/add/",
        {"name": "Ours", "body": "{contact_person} {steps} {results} {completed_on}", "default": "on"},
    )
    assert good.status_code == 302
    assert LetterTemplate.objects.get(name="Ours").default


def test_patients_and_moderators_cannot_reach_the_templates(world):
    for who in (world.patient, world.moderator):
        client = Client()
        sign_in(client, who)
        for model in ("responsetemplate", "lettertemplate"):
            response = client.get(f"{SNIPPETS}{model}/add/")
            assert response.status_code in (302, 403), (who, model, response.status_code)


# --------------------------------------------------------------------------- the case page


@pytest.fixture
def templates(db):
    return {
        "social": ResponseTemplate.objects.create(name="Social apology", use="social", body=SOCIAL),
        "review": ResponseTemplate.objects.create(name="Review apology", use="review", body=REVIEW),
        "inactive": ResponseTemplate.objects.create(name="Retired", use="social", body=PRAISE, active=False),
    }


def _social_case(world, public=True):
    return actions.record_case(
        actor=world.px,
        channel="social",
        type="complaint",
        description="Posted that nobody answers the phones at the clinic.",
        platform="facebook",
        post_public=public,
    )


def test_a_social_case_shows_its_active_templates_to_copy(client, world, templates):
    case = _social_case(world)
    sign_in(client, world.px)
    content = client.get(f"/px/c/{case.pk}/").content.decode()
    assert "Social apology" in content and "readonly>Thank you for taking the time" in content
    assert "Review apology" not in content and "Retired" not in content
    assert "The first public reply was posted" in content


@pytest.mark.parametrize("where", ["portal", "private post"])
def test_a_portal_case_or_a_private_post_shows_no_public_templates(client, world, submit, templates, where):
    case = submit() if where == "portal" else _social_case(world, public=False)
    sign_in(client, world.px)
    content = client.get(f"/px/c/{case.pk}/").content.decode()
    assert "Public-response templates" not in content
    assert "Social apology" not in content and "Review apology" not in content


def test_a_template_screening_now_holds_is_not_offered(client, world, templates):
    case = _social_case(world)
    WatchedWord.objects.create(word="fell short", match=policy.ANYWHERE, action=policy.REQUIRE_APPROVAL)
    sign_in(client, world.px)
    content = client.get(f"/px/c/{case.pk}/").content.decode()
    assert "This template cannot be used now." in content
    assert "Thank you for taking the time" not in content
