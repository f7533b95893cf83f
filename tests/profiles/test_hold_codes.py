"""Store codes, not sentences: hold reasons are codes and PHI kinds, worded when shown in the
reader's language; the moderation queue shows labels, never codes; each patient whose comment
the queue shows finds the moderator's look in the audit trail."""

import importlib
import re

import pytest
from django.apps import apps
from django.db import connection
from django.utils import translation
from django.utils.translation import trans_real

from portal_social.conf import app_settings
from portal_social.core import moderation, roles
from portal_social.core.models import AuditEvent
from portal_social.profiles import actions, reviews
from portal_social.profiles.models import Review, ReviewAppeal, ReviewReport
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

QUEUE = "/cms/portal-social/moderation/"
SSN = "123-45-6789"
PHONE = "555-867-5309"
SENTENCE = "It may contain personal details such as %(what)s."
SPANISH = {
    SENTENCE: "Puede contener datos personales como %(what)s.",
    "a Social Security number": "un número de Seguro Social",
    "Looks like %(what)s": "Parece %(what)s",
}


def _ratings(value=4):
    return {key: value for key, _label in app_settings.REVIEW_QUESTIONS}


def submit(author, clinician, comment):
    return actions.submit_review(author=author, clinician=clinician, ratings=_ratings(), comment=comment)


@pytest.fixture
def spanish():
    """A few Spanish translations for the wording under test, removed afterwards."""
    catalog = trans_real.translation("es")._catalog
    for english, words in SPANISH.items():
        catalog[english] = words
    yield
    for key in SPANISH:
        for layer in catalog._catalogs:
            layer.pop(key, None)


def _items_html(html: str) -> str:
    """The queue's items as shown (the filter form's option values are codes by design, never shown)."""
    return "".join(re.findall(r"<article\b.*?</article>", html, flags=re.S))


def _raw_hold_reasons(review) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT hold_reasons FROM portal_social_review WHERE id = %s", [review.pk.hex])
        row = cursor.fetchone()
    assert row is not None
    return str(row[0])


def test_stored_hold_reasons_are_codes_and_kinds_without_sentences(make_patient, clinician, settings):
    settings.PORTAL_SOCIAL_REVIEW_NEW_ACCOUNT_DAYS = 30
    from django.utils import timezone

    newcomer = make_patient(date_joined=timezone.now())
    review = submit(newcomer, clinician, f"Bullshit wait. My SSN is {SSN}, call {PHONE}.")
    assert review.status == Review.Status.HELD
    stored = Review.objects.get(pk=review.pk).hold_reasons
    assert [reason["code"] for reason in stored] == ["phi", "language", "new_account"]
    assert all(set(reason) <= {"code", "kinds"} for reason in stored)
    raw = _raw_hold_reasons(review)
    for words in ("It may contain", "language", "moderator", "Social Security", SSN, PHONE):
        if words == "language":
            continue  # the code itself is the word "language"
        assert words not in raw


def test_a_reason_held_in_one_language_is_read_in_another(patient, clinician, spanish):
    with translation.override("en"):
        review = submit(patient, clinician, f"Great care. My SSN is {SSN}.")
    stored = Review.objects.get(pk=review.pk).hold_reasons
    with translation.override("es"):
        assert (
            reviews.describe_hold_reason(stored[0])
            == "Puede contener datos personales como un número de Seguro Social."
        )
    with translation.override("en"):
        assert (
            reviews.describe_hold_reason(stored[0])
            == "It may contain personal details such as a Social Security number."
        )


def test_the_queue_words_reasons_in_the_moderators_language(client, moderator, patient, clinician, spanish):
    from wagtail.users.models import UserProfile

    with translation.override("en"):
        submit(patient, clinician, f"Great care. My SSN is {SSN}.")
    profile = UserProfile.get_for_user(moderator)
    profile.preferred_language = "es"
    profile.save()
    sign_in(client, moderator)
    html = client.get(QUEUE).content.decode()
    assert "Puede contener datos personales como un número de Seguro Social." in html
    assert "It may contain personal details" not in html


def test_the_queue_shows_labels_never_codes(client, moderator, make_patient, clinician, clinician_user):
    submit(make_patient(), clinician, f"Great care. My SSN is {SSN}.")
    reported = submit(make_patient(), clinician, "Fine visit.")
    actions.report_review(reporter=make_patient(), review=reported, reason="phi: it names a nurse")
    appealed = submit(make_patient(), clinician, "Rude and slow.")
    actions.appeal_review(clinician_user=clinician_user, review=appealed, reason="Not my patient.")
    sign_in(client, moderator)
    page = client.get(QUEUE).content.decode()
    html = _items_html(page)
    assert html.count("<article") == 3
    assert "It may contain personal details such as a Social Security number." in html
    assert 'title="Looks like a Social Security number"' in html
    assert "Looks like a Social Security number: <code>" in html
    assert "It shares someone&#x27;s personal or health details: it names a nurse" in html
    assert "Personal details found" in html and "Flagged by a reader" in html and "Appeal" in html
    assert "Not my patient." in html
    for code in ("phi: ssn", "phi: it names", 'title="ssn"', "(ssn)", "review.appeal", "new_account", "flag;"):
        assert code not in html
    # The reason filter offers the same labels.
    assert ">New account</option>" in page and ">Flagged by a reader</option>" in page


def test_old_rows_lose_their_sentences_and_keep_their_codes(patient, clinician):
    review = submit(patient, clinician, f"Call {PHONE}.")
    legacy = [
        {"code": "phi", "kinds": ["phone"], "message": "It may contain personal details such as a phone number."},
        {"code": "language", "message": "It may contain language that our review policy does not allow."},
    ]
    Review.objects.filter(pk=review.pk).update(hold_reasons=legacy)
    migration = importlib.import_module("portal_social.migrations.0009_hold_reason_codes")
    migration.strip_hold_reason_sentences(apps, None)
    assert Review.objects.get(pk=review.pk).hold_reasons == [{"code": "phi", "kinds": ["phone"]}, {"code": "language"}]
    assert "It may contain" not in _raw_hold_reasons(review)
    migration.strip_hold_reason_sentences(apps, None)  # running again changes nothing
    assert Review.objects.get(pk=review.pk).hold_reasons == [{"code": "phi", "kinds": ["phone"]}, {"code": "language"}]


def test_a_legacy_reason_is_still_worded_from_its_code():
    legacy = {"code": "phi", "kinds": ["email"], "message": "stale words"}
    assert reviews.describe_hold_reason(legacy) == "It may contain personal details such as an email address."


def test_appeal_and_report_reasons_are_encrypted_at_rest(make_patient, clinician, clinician_user):
    appealed = submit(make_patient(), clinician, "Rude and slow.")
    actions.appeal_review(clinician_user=clinician_user, review=appealed, reason=f"She called me from {PHONE}.")
    reported = submit(make_patient(), clinician, "Fine visit.")
    actions.report_review(reporter=make_patient(), review=reported, reason=f"other: it has {PHONE}")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT reason FROM {ReviewAppeal._meta.db_table}")
        appeal_rows = [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT reason FROM {ReviewReport._meta.db_table}")
        report_rows = [row[0] for row in cursor.fetchall()]
    assert appeal_rows and report_rows
    for value in (*appeal_rows, *report_rows):
        assert PHONE not in value and "called" not in value and "other:" not in value


# --------------------------------------------------------------------------- who looked at my information


def test_the_queue_audits_each_patient_whose_comment_it_showed(client, moderator, make_patient, clinician):
    first, second = make_patient(), make_patient()
    one = submit(first, clinician, f"Call me at {PHONE}.")
    two = submit(second, clinician, f"My SSN is {SSN}.")
    sign_in(client, moderator)
    assert client.get(QUEUE).status_code == 200
    events = AuditEvent.objects.filter(action="moderation.view", actor_id=moderator.pk)
    by_patient = {event.patient_id: event for event in events}
    assert set(by_patient) == {first.pk, second.pk}
    item_one, item_two = moderation.pending_item(one), moderation.pending_item(two)
    assert by_patient[first.pk].details == {"items": [str(item_one.pk)], "targets": {"review": [str(one.pk)]}}
    assert by_patient[second.pk].details == {"items": [str(item_two.pk)], "targets": {"review": [str(two.pk)]}}
    assert by_patient[first.pk].target_id == str(item_one.pk)
    for event in events:
        assert PHONE not in str(event.details) and SSN not in str(event.details)


def test_an_empty_queue_shows_no_patient_and_names_none(client, moderator):
    sign_in(client, moderator)
    assert client.get(QUEUE).status_code == 200
    assert not AuditEvent.objects.filter(action="moderation.view").exists()


# --------------------------------------------------------------------------- what the pages offer


def test_write_a_review_is_not_offered_within_the_year(client, patient, clinician):
    sign_in(client, patient)
    assert ">Write a review<" in client.get(clinician.url).content.decode()
    submit(patient, clinician, "Kind.")
    html = client.get(clinician.url).content.decode()
    assert ">Write a review<" not in html
    assert "You already reviewed this clinician in" in html


def test_clinician_sees_a_link_to_edit_their_own_profile(client, clinician, clinician_user, make_user):
    edit = clinician.url + clinician.reverse_subpage("edit_profile")
    sign_in(client, clinician_user)
    assert f'href="{edit}"' in client.get(clinician.url).content.decode()
    sign_in(client, make_user(roles.CLINICIAN, mfa=True))
    assert f'href="{edit}"' not in client.get(clinician.url).content.decode()


def test_queue_decisions_sit_in_a_spaced_actions_container(client, moderator, patient, clinician):
    submit(patient, clinician, f"Call me at {PHONE}.")
    sign_in(client, moderator)
    html = client.get(QUEUE).content.decode()
    assert 'class="ps-actions ps-moderation__decisions"' in html
