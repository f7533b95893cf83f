"""The admin's "Caregiver links" screen: staff who manage caregivers record and end links; nobody else sees it."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal_social.core import caregivers, roles
from portal_social.core.models import AuditEvent, CaregiverRelation
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

SCREEN = reverse("portal_social_caregiver_links")
TODAY = timezone.localdate()


@pytest.fixture
def people(make_user):
    class People:
        admin = make_user(roles.PORTAL_ADMINISTRATOR, mfa=True)
        patient = make_user(roles.PATIENT, first_name="Rosalind", last_name="Quennell", email="rq@example.org")
        caregiver = make_user(first_name="Tobias", last_name="Quennell", email="tobias.q@example.org")
        px = make_user(roles.PATIENT_EXPERIENCE, mfa=True)
        clinician = make_user(roles.CLINICIAN, mfa=True)
        superuser = make_user(is_superuser=True, is_staff=True, mfa=True)

    return People()


def _client(user) -> Client:
    client = Client()
    sign_in(client, user)
    return client


def _link(people, **overrides) -> dict:
    data = {
        "action": "link",
        "link-patient": people.patient.username,
        "link-caregiver": "TOBIAS.Q@example.org",  # an email address, in any case
        "link-scopes": ["messaging", "feedback"],
        "link-relationship": "Son",
        "link-checked": "on",
    }
    data.update(overrides)
    return data


def test_an_administrator_records_a_link_the_patient_then_sees(people):
    client = _client(people.admin)
    assert client.get(SCREEN).status_code == 200
    done = client.post(SCREEN, _link(people), follow=True)
    assert done.redirect_chain == [(SCREEN, 302)]
    html = done.content.decode()
    assert "The caregiver link was recorded." in html
    assert "Links of Rosalind Quennell" in html and "Tobias Quennell (Son)" in html
    relation = CaregiverRelation.objects.get(patient=people.patient, caregiver=people.caregiver)
    assert relation.scopes == ["messaging", "feedback"] and relation.created_by_id == people.admin.pk
    assert caregivers.is_proxy_for(people.caregiver, people.patient, "messaging")
    event = AuditEvent.objects.get(action="caregiver.link", target_id=str(relation.pk))
    assert event.actor_id == people.admin.pk and event.patient_id == people.patient.pk
    # The patient's own page lists it, with the way to end it.
    page = _client(people.patient).get(reverse("portal_social_caregivers")).content.decode()
    assert "Tobias Quennell" in page and reverse("portal_social_caregiver_end", args=[relation.pk]) in page


def test_nothing_that_names_a_person_is_in_a_url(people):
    client = _client(people.admin)
    found = client.post(SCREEN, {"action": "find", "find-person": "rq@example.org"})
    assert found.status_code == 302 and found["Location"] == SCREEN
    assert not AuditEvent.objects.filter(action="caregiver.links_viewed").exists()
    page = client.get(SCREEN).content.decode()
    assert "Links of Rosalind Quennell" in page
    viewed = AuditEvent.objects.get(action="caregiver.links_viewed")
    assert viewed.actor_id == people.admin.pk and viewed.patient_id == people.patient.pk
    assert "rq@example.org" not in found["Location"] and people.patient.username not in found["Location"]


@pytest.mark.parametrize(
    ("overrides", "field_error"),
    [
        ({"link-patient": "nobody-here"}, "No active portal account has that username or email address."),
        ({"link-caregiver": ""}, "This field is required."),
        ({"link-scopes": []}, "Choose at least one thing the caregiver may do."),
        ({"link-scopes": ["messaging", "prescriptions"]}, "Select a valid choice."),
        ({"link-checked": ""}, "Confirm that the caregiver&#x27;s identity and the consent were checked."),
        ({"link-starts_on": "2026-05-10", "link-ends_on": "2026-05-01"}, "The end date must be on or after"),
        ({"link-starts_on": "not a date"}, "Enter a valid date."),
        ({"link-relationship": "x" * 61}, "Ensure this value has at most 60 characters"),
    ],
)
def test_bad_input_is_refused_clearly_and_records_nothing(people, overrides, field_error):
    response = _client(people.admin).post(SCREEN, _link(people, **overrides))
    assert response.status_code == 400
    assert field_error in response.content.decode()
    assert not CaregiverRelation.objects.exists()
    assert not AuditEvent.objects.filter(action="caregiver.link").exists()


def test_self_links_patients_without_the_role_and_second_links_are_refused(people, make_user):
    client = _client(people.admin)
    itself = client.post(SCREEN, _link(people, **{"link-caregiver": people.patient.username}))
    assert itself.status_code == 400 and "cannot be their own caregiver" in itself.content.decode()
    not_a_patient = client.post(SCREEN, _link(people, **{"link-patient": people.px.username}))
    assert not_a_patient.status_code == 400 and "Only a patient can have a caregiver." in not_a_patient.content.decode()
    assert client.post(SCREEN, _link(people)).status_code == 302
    again = client.post(SCREEN, _link(people))  # a repeated submit
    assert again.status_code == 400 and "already has a current or upcoming link" in again.content.decode()
    assert CaregiverRelation.objects.count() == 1


def test_an_administrator_ends_a_link(people):
    relation = caregivers.link_caregiver(
        actor=people.patient, caregiver=people.caregiver, patient=people.patient, scopes=["messaging"]
    )
    client = _client(people.admin)
    end = reverse("portal_social_caregiver_link_end", args=[relation.pk])
    done = client.post(end, follow=True)
    assert "The caregiver link was ended." in done.content.decode()
    assert not caregivers.is_proxy_for(people.caregiver, people.patient, "messaging")
    assert AuditEvent.objects.get(action="caregiver.unlink", target_id=str(relation.pk)).actor_id == people.admin.pk
    again = client.post(end, follow=True)
    assert "That caregiver link had already ended." in again.content.decode()
    assert AuditEvent.objects.filter(action="caregiver.unlink").count() == 1
    assert client.get(end).status_code == 405
    assert client.post(reverse("portal_social_caregiver_link_end", args=[uuid.uuid4()])).status_code == 404


@pytest.mark.parametrize(
    ("who", "status"),
    [
        # Without admin access the package's staff-area page answers first (core.staff_area).
        ("patient", 403),
        ("caregiver", 403),
        ("clinician", 403),
        # In the admin, but without manage_caregivers through a role: as for a screen that does not exist.
        ("px", 404),
        ("superuser", 404),
    ],
)
def test_everyone_else_is_refused_and_changes_nothing(people, who, status):
    relation = caregivers.link_caregiver(
        actor=people.patient,
        caregiver=people.caregiver,
        patient=people.patient,
        scopes=["messaging"],
        starts_on=TODAY - datetime.timedelta(days=3),
    )
    client = _client(getattr(people, who))
    assert client.get(SCREEN).status_code == status
    assert client.post(SCREEN, _link(people)).status_code == status
    assert client.post(SCREEN, {"action": "find", "find-person": people.patient.username}).status_code == status
    assert client.post(reverse("portal_social_caregiver_link_end", args=[relation.pk])).status_code == status
    assert CaregiverRelation.objects.count() == 1
    assert caregivers.is_proxy_for(people.caregiver, people.patient, "messaging")


def test_an_administrator_without_a_second_factor_is_sent_to_enrol_first(people):
    client = Client()
    client.force_login(people.admin)  # a password-only session
    response = client.get(SCREEN)
    assert response.status_code in (302, 403)
    assert "Caregiver links" not in response.content.decode()


def test_the_menu_shows_the_screen_to_those_who_may_use_it(people):
    assert SCREEN in _client(people.admin).get(reverse("wagtailadmin_home")).content.decode()
    assert SCREEN not in _client(people.px).get(reverse("wagtailadmin_home")).content.decode()
