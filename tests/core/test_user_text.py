"""The register of user-written text: every text field is in it, and what writes one screens it."""

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import models
from django.test.utils import isolate_apps
from wagtail.fields import StreamField

from portal_social.conf import app_settings
from portal_social.core import roles, user_text
from portal_social.profiles import actions
from portal_social.profiles.models import ClinicianPage, Review, ReviewReport
from portal_social.profiles.self_service import submit_profile_changes
from portal_social.profiles.workflow import ensure_profile_workflow
from tests.factories import sign_in

TEXT_FIELDS = (models.CharField, models.TextField, StreamField)  # rich text is a TextField

RLO, PDF, ZWSP = "\u202e", "\u202c", "\u200b"


# --------------------------------------------------------------------------- the register is complete


def _text_fields(models_to_walk):
    for model in models_to_walk:
        if model._meta.proxy:
            continue
        for field in model._meta.get_fields():
            if isinstance(field, TEXT_FIELDS):
                yield model, field


def _undecided(models_to_walk):
    return [
        f"{model._meta.label}.{field.name}"
        for model, field in _text_fields(models_to_walk)
        if user_text.destination_of(model, field.name) is None and user_text.exemption_of(model, field.name) is None
    ]


def test_every_text_field_is_registered_or_declared_not_user_written():
    undecided = _undecided(apps.get_app_config("portal_social").get_models())
    assert not undecided, (
        "Register these in portal_social/core/user_text.py (register(..., destination=...)) and screen them "
        f"where they are written, or declare them not_user_written(..., reason=...): {undecided}"
    )


def test_the_register_names_only_existing_fields():
    registered, exempt = user_text.entries()
    existing = {(field.model._meta.label, field.name) for _, field in _text_fields(apps.get_models())}
    stale = sorted((set(registered) | set(exempt)) - existing)
    assert not stale, f"no such text fields: {stale}"


@isolate_apps("portal_social")
def test_a_new_text_field_is_noticed():
    class Sticker(models.Model):
        caption = models.CharField(max_length=40)
        story = models.TextField()
        blocks = StreamField([], blank=True)
        count = models.IntegerField()

        class Meta:
            app_label = "portal_social"

        def __str__(self):
            return self.caption

    assert _undecided([Sticker]) == [
        "portal_social.Sticker.caption",
        "portal_social.Sticker.story",
        "portal_social.Sticker.blocks",
    ]


@pytest.mark.parametrize(
    ("model", "field", "destination"),
    [
        (Review, "comment_source", "review_comment"),
        (ClinicianPage, "pronouns", "public_profile"),
        (ClinicianPage, "bio", "public_profile"),
        ("portal_social.ReviewResponse", "body_source", "staff_public_reply"),
        (ReviewReport, "reason", "moderation_note"),
        ("portal_social.ReviewAppeal", "reason", "moderation_note"),
        ("portal_social.BreakGlassGrant", "reason", "phi_record"),
    ],
)
def test_user_written_fields_go_where_they_are_shown(model, field, destination):
    assert user_text.destination_of(model, field).name == destination


def test_inherited_page_fields_are_looked_up_on_the_page_that_declares_them():
    assert user_text.exemption_of(ClinicianPage, "title")
    assert user_text.destination_of(ClinicianPage, "title") is None


def test_the_register_refuses_unknown_destinations_and_contradictions():
    with pytest.raises(ImproperlyConfigured):
        user_text.register("portal_social.Review", "comment_source", destination="billboard")
    with pytest.raises(ImproperlyConfigured):
        user_text.not_user_written("portal_social.Review", "comment_source", reason="it is")
    with pytest.raises(ImproperlyConfigured):
        user_text.register("portal_social.Review", "comment_html", destination="review_comment")
    with pytest.raises(ImproperlyConfigured):
        user_text.not_user_written("portal_social.Review", "nothing", reason=" ")
    with pytest.raises(ImproperlyConfigured):
        user_text.screen_field(Review, "comment_html", "x")  # not user-written: nothing to screen


# --------------------------------------------------------------------------- what a destination does


@pytest.mark.parametrize(
    "value",
    [
        "call me at 555-867-5309",
        f"call me at {RLO}9035-768-555{PDF}",
        f"555{ZWSP}867{ZWSP}5309",
        "maria@gmail\u3002com",
        "\u0665\u0665\u0665-\u0668\u0666\u0667-\u0665\u0663\u0660\u0669",
    ],
)
def test_public_profile_refuses_phi_however_it_is_written(value):
    result = user_text.screen(value, destination="public_profile")
    assert result.held and result.refused
    assert "cannot include personal details" in result.message()
    assert value not in result.message()


@pytest.mark.parametrize(
    "value",
    [
        "Call 555\\-867\\-5309",  # Markdown escapes
        "Call 555**-**867-5309",  # emphasis inside the number
        "Call &#53;&#53;&#53;-867-5309",  # character references
        "Write to maria&#64;gmail&period;com",
        "Call &rlm;5309 867 555",  # a mark, written as a reference, reorders the groups
    ],
)
def test_markdown_destinations_screen_what_the_reader_sees(value):
    assert user_text.screen(value, destination="staff_public_reply").refused
    assert user_text.screen(value, destination="review_comment").held
    # A plain-text destination shows the source as typed: nothing to decode there.
    assert not user_text.screen(value, destination="public_profile").shown


def test_notes_for_moderators_and_records_keep_their_phi():
    for destination in ("moderation_note", "phi_record", "message"):
        result = user_text.screen("his MRN 00123456, call 555-867-5309", destination=destination)
        assert not result.held and not result.findings


def test_validate_names_the_field_and_never_echoes_the_text():
    with pytest.raises(ValidationError) as caught:
        user_text.validate(ClinicianPage, {"pronouns": "she/her 555-867-5309", "bio": "I love hearts."})
    assert set(caught.value.message_dict) == {"pronouns"}
    assert "555" not in str(caught.value.message_dict)


@pytest.mark.django_db  # a new page looks up the default locale
def test_rich_text_is_screened_as_the_text_it_shows():
    page = ClinicianPage(pronouns="she/her", bio="<p>Call me at 555&#45;867&#45;5309</p>")
    results = user_text.screen_instance(page)
    assert set(results) == {"pronouns", "bio"}
    assert results["bio"].refused and not results["pronouns"].held


# --------------------------------------------------------------------------- where the fields are written


@pytest.fixture
def own_page(make_clinician, make_user, directory_page):
    ensure_profile_workflow(directory_page)
    owner = make_user(roles.CLINICIAN, mfa=True)
    page = make_clinician("Ana", "Ruiz", user=owner, bio="<p>Old bio</p>")
    return owner, page


def _edit_url(page):
    return page.url + page.reverse_subpage("edit_profile")


FORM = {"pronouns": "she/her", "bio": "I care for hearts.", "accepting_new_patients": "on"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "pronouns",
    [
        "she/her 555-867-5309",
        "they/them maria@gmail.com",
        f"she/her {RLO}9035-768-555{PDF}",
        f"he/him 555{ZWSP}867{ZWSP}5309",
        "they maria@gmail\u3002com",
    ],
)
def test_pronouns_with_phi_are_refused(client, own_page, pronouns):
    owner, page = own_page
    sign_in(client, owner)
    response = client.post(_edit_url(page), {**FORM, "pronouns": pronouns})
    assert response.status_code == 200
    body = response.content.decode()
    assert "cannot include personal details" in body
    assert 'aria-invalid="true"' in body
    assert not ClinicianPage.objects.get(pk=page.pk).has_unpublished_changes


@pytest.mark.django_db
def test_bio_with_disguised_phi_is_refused(client, own_page):
    owner, page = own_page
    sign_in(client, owner)
    response = client.post(_edit_url(page), {**FORM, "bio": "Reach me: \u0665\u0665\u0665-\u0668\u0666\u0667-5309"})
    assert response.status_code == 200
    assert "cannot include personal details" in response.content.decode()
    assert not ClinicianPage.objects.get(pk=page.pk).has_unpublished_changes


@pytest.mark.django_db
def test_clean_pronouns_and_bio_are_accepted(client, own_page):
    owner, page = own_page
    sign_in(client, owner)
    assert client.post(_edit_url(page), {**FORM, "pronouns": "they/them"}).status_code == 302
    assert ClinicianPage.objects.get(pk=page.pk).get_latest_revision_as_object().pronouns == "they/them"


@pytest.mark.django_db
def test_the_self_service_action_screens_too(own_page):
    owner, page = own_page
    data = {
        "pronouns": "maria@gmail\u3002com",
        "bio": "",
        "accepting_new_patients": True,
        "telehealth": False,
        "languages": [],
        "conditions": [],
    }
    with pytest.raises(ValidationError) as caught:
        submit_profile_changes(clinician_user=owner, page=page, data=data)
    assert set(caught.value.message_dict) == {"pronouns"}
    assert not ClinicianPage.objects.get(pk=page.pk).has_unpublished_changes


def _ratings():
    return {key: 4 for key, _label in app_settings.REVIEW_QUESTIONS}


@pytest.mark.django_db
def test_a_review_comment_disguised_by_markdown_is_held(patient, clinician):
    review = actions.submit_review(
        author=patient, clinician=clinician, ratings=_ratings(), comment="Great care. Call me: 555\\-867\\-5309"
    )
    assert review.status == Review.Status.HELD
    assert [reason["code"] for reason in review.hold_reasons] == ["phi"]


@pytest.mark.django_db
def test_an_override_never_reaches_a_review_page(patient, clinician):
    # Stored and shown without the override, "9035-768-555" reads as written: no phone number.
    review = actions.submit_review(
        author=patient, clinician=clinician, ratings=_ratings(), comment=f"Great care. {RLO}9035-768-555{PDF}"
    )
    assert RLO not in review.comment_source and RLO not in review.comment_html
    assert "9035-768-555" in review.comment_html


@pytest.mark.django_db
def test_a_public_response_with_a_disguised_phone_is_refused(patient, clinician, px):
    review = actions.submit_review(author=patient, clinician=clinician, ratings=_ratings(), comment="Kind staff.")
    with pytest.raises(ValidationError) as caught:
        actions.respond_to_review(staff=px, review=review, body="Thank you. Call us: &#53;55-867-5309")
    assert "body" in caught.value.message_dict


@pytest.mark.django_db
def test_a_report_for_moderators_may_quote_the_phi_it_reports(patient, clinician, make_patient):
    review = actions.submit_review(author=patient, clinician=clinician, ratings=_ratings(), comment="Kind staff.")
    report = actions.report_review(
        reporter=make_patient(), review=review, reason="phi: it names my number 555-867-5309"
    )
    assert report.reason.endswith("555-867-5309")
