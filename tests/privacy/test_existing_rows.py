"""Migration 0006 encrypts rows written before it, in place, and unapplying decrypts them."""

import importlib
import io

import pytest
from django.apps import apps
from django.db import connection

from portal_social.conf import app_settings
from portal_social.core import caregivers
from portal_social.core.crypto import TOKEN_PREFIX
from portal_social.profiles import actions
from portal_social.profiles.models import Review, ReviewAppeal, ReviewReport, ReviewResponse

migration = importlib.import_module("portal_social.migrations.0006_encrypt_rendered_html")

PHONE = "(617) 555-0199"


class _SchemaEditor:
    """What the migration's functions use of a schema editor."""

    connection = connection


def _raw(model, column: str) -> list[str]:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote(column)} FROM {quote(model._meta.db_table)} ORDER BY {quote(model._meta.pk.column)}"  # noqa: S608
        )
        return [value for (value,) in cursor.fetchall()]


def _write_plaintext(model, column: str, text: str) -> None:
    """Store ``text`` the way the code before 0006 did: as it is."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {quote(model._meta.db_table)} SET {quote(column)} = %s", [text])  # noqa: S608


@pytest.fixture
def legacy_rows(make_patient, make_user, clinician, clinician_user, px):
    """Three reviews with a response, an appeal, a report and a caregiver link, all in plaintext."""
    ratings = {key: 4 for key, _label in app_settings.REVIEW_QUESTIONS}
    reviews = [
        actions.submit_review(author=make_patient(), clinician=clinician, ratings=ratings, comment=f"Fine {n}.")
        for n in range(3)
    ]
    actions.respond_to_review(staff=px, review=reviews[0], body="Thank you.")
    actions.report_review(reporter=make_patient(), review=reviews[1], reason="other")
    actions.appeal_review(clinician_user=clinician_user, review=reviews[2], reason="Unfair.")
    patient = make_patient()
    caregivers.link_caregiver(actor=patient, caregiver=make_user(), patient=patient, scopes=["messaging"])
    plain = {}
    for model_name, columns in migration.ENCRYPTED:
        model = apps.get_model("portal_social", model_name)
        for column in columns:
            text = f"{model_name}.{column} {PHONE}"
            _write_plaintext(model, column, text)
            plain[(model, column)] = text
    return plain


@pytest.mark.django_db
def test_plaintext_rows_are_encrypted_in_place_in_batches(legacy_rows, monkeypatch):
    monkeypatch.setattr(migration, "BATCH_SIZE", 2)  # three reviews: more than one batch
    migration.encrypt_existing_text(apps, _SchemaEditor())
    for (model, column), text in legacy_rows.items():
        stored = _raw(model, column)
        assert stored and all(value.startswith(TOKEN_PREFIX) and PHONE not in value for value in stored), column
    assert {review.comment_html for review in Review.objects.all()} == {f"review.comment_html {PHONE}"}
    assert Review.objects.first().rejection_reason == f"review.rejection_reason {PHONE}"
    assert ReviewResponse.objects.get().body_html == f"reviewresponse.body_html {PHONE}"
    assert ReviewAppeal.objects.get().reason == f"reviewappeal.reason {PHONE}"
    assert ReviewReport.objects.get().reason == f"reviewreport.reason {PHONE}"


@pytest.mark.django_db
def test_running_again_changes_nothing(legacy_rows):
    migration.encrypt_existing_text(apps, _SchemaEditor())
    first = {key: _raw(*key) for key in legacy_rows}
    migration.encrypt_existing_text(apps, _SchemaEditor())
    assert {key: _raw(*key) for key in legacy_rows} == first


@pytest.mark.django_db
def test_unapplying_decrypts_for_the_code_before(legacy_rows):
    migration.encrypt_existing_text(apps, _SchemaEditor())
    migration.decrypt_for_unapply(apps, _SchemaEditor())
    for (model, column), text in legacy_rows.items():
        assert set(_raw(model, column)) == {text}


@pytest.mark.django_db
def test_empty_values_stay_empty(make_patient, clinician):
    ratings = {key: 4 for key, _label in app_settings.REVIEW_QUESTIONS}
    actions.submit_review(author=make_patient(), clinician=clinician, ratings=ratings)
    migration.encrypt_existing_text(apps, _SchemaEditor())
    assert _raw(Review, "comment_html") == [""] and _raw(Review, "rejection_reason") == [""]


def test_every_encrypted_column_of_the_migration_is_encrypted_in_the_models():
    from portal_social.core.crypto import EncryptedTextField

    for model_name, columns in migration.ENCRYPTED:
        model = apps.get_model("portal_social", model_name)
        for column in columns:
            assert isinstance(model._meta.get_field(column), EncryptedTextField), f"{model_name}.{column}"


@pytest.mark.django_db
def test_key_rotation_covers_the_newly_encrypted_columns(legacy_rows, settings):
    from cryptography.fernet import Fernet
    from django.core.management import call_command

    migration.encrypt_existing_text(apps, _SchemaEditor())
    old = settings.PORTAL_SOCIAL_ENCRYPTION_KEYS[0]
    new = Fernet.generate_key().decode()
    settings.PORTAL_SOCIAL_ENCRYPTION_KEYS = [new, old]
    call_command("portal_social_rotate_keys", stdout=io.StringIO())
    settings.PORTAL_SOCIAL_ENCRYPTION_KEYS = [new]
    for (model, column), text in legacy_rows.items():
        assert {getattr(row, column) for row in model.objects.all()} == {text}
