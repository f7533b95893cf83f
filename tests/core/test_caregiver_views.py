"""The caregivers page: a patient sees who acts for them and ends it; a caregiver steps down; nobody else can."""

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

INDEX = reverse("portal_social_caregivers")
TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


def _end_url(relation) -> str:
    return reverse("portal_social_caregiver_end", args=[relation.pk])


@pytest.fixture
def people(make_user):
    class People:
        patient = make_user(roles.PATIENT, first_name="Rosalind", last_name="Quennell")
        caregiver = make_user(roles.PATIENT, first_name="Tobias", last_name="Quennell")
        other_patient = make_user(roles.PATIENT, first_name="Ines", last_name="Varga")
        other_caregiver = make_user(first_name="Marta", last_name="Varga")
        clinician = make_user(roles.CLINICIAN, mfa=True, first_name="Ana", last_name="Rivera")
        manager = make_user(roles.PORTAL_ADMINISTRATOR, mfa=True)
        superuser = make_user(is_superuser=True, is_staff=True, mfa=True)

    people = People()
    people.link = caregivers.link_caregiver(
        actor=people.patient,
        caregiver=people.caregiver,
        patient=people.patient,
        scopes=["messaging", "feedback"],
        relationship="Son, power of attorney",
        starts_on=TODAY - 30 * DAY,
    )
    people.other_link = caregivers.link_caregiver(
        actor=people.other_patient, caregiver=people.other_caregiver, patient=people.other_patient, scopes=["community"]
    )
    return people


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        sign_in(client, user)
    return client


def _unlinks(relation) -> int:
    return AuditEvent.objects.filter(action="caregiver.unlink", target_id=str(relation.pk)).count()


def test_the_patient_sees_who_acts_for_them_and_what_they_may_do(people):
    page = _client(people.patient).get(INDEX)
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    html = page.content.decode()
    assert "People who act for you" in html
    assert "Tobias Quennell" in html and "Son, power of attorney" in html
    assert "Read and send your secure messages" in html and "Give feedback for you" in html
    assert "Take part in communities" not in html
    assert _end_url(people.link) in html
    # Nobody else's link is on it.
    assert "Varga" not in html and str(people.other_link.pk) not in html


def test_the_caregiver_sees_whom_they_act_for(people):
    html = _client(people.caregiver).get(INDEX).content.decode()
    assert "People you act for" in html
    assert "Rosalind Quennell" in html
    assert "Read and send their secure messages" in html
    assert "Stop acting for Rosalind Quennell" in html
    assert "Nobody acts for you in this portal." in html  # the caregiver is a patient too, with no caregiver
    assert "Son, power of attorney" not in html  # the patient's word for them is the patient's


def test_someone_who_only_acts_for_others_is_not_asked_about_their_own_caregivers(people, make_user):
    helper = make_user(first_name="Wren", last_name="Oduya")
    caregivers.link_caregiver(actor=people.patient, caregiver=helper, patient=people.patient, scopes=["feedback"])
    html = _client(helper).get(INDEX).content.decode()
    assert "People you act for" in html and "Rosalind Quennell" in html
    assert "People who act for you" not in html


@pytest.mark.parametrize("who", ["other_patient", "other_caregiver", "clinician", "manager", "superuser"])
def test_anyone_else_sees_none_of_it(people, who):
    html = _client(getattr(people, who)).get(INDEX).content.decode()
    assert "Quennell" not in html and str(people.link.pk) not in html and "Son, power" not in html


def test_signed_out_visitors_are_sent_to_sign_in(people):
    response = Client().get(INDEX)
    assert response.status_code == 302 and "login" in response["Location"]
    response = Client().post(_end_url(people.link))
    assert response.status_code == 302 and "login" in response["Location"]
    assert caregivers.is_proxy_for(people.caregiver, people.patient, "messaging")


def test_staff_without_a_second_factor_are_stopped_first(people):
    client = Client()
    client.force_login(people.clinician)  # a password-only session
    response = client.get(INDEX)
    assert response.status_code in (302, 403)
    assert "Quennell" not in response.content.decode()


def test_the_patient_ends_a_caregivers_access_after_being_asked(people):
    client = _client(people.patient)
    ask = client.get(_end_url(people.link))
    assert ask.status_code == 200
    html = ask.content.decode()
    assert "End Tobias Quennell's access?" in html
    assert "Read and send your secure messages" in html
    assert caregivers.is_proxy_for(people.caregiver, people.patient, "messaging")  # asking changes nothing

    done = client.post(_end_url(people.link), follow=True)
    assert done.redirect_chain == [(INDEX, 302)]
    html = done.content.decode()
    assert "Tobias Quennell can no longer act for you." in html
    assert "Access that has ended" in html and "Tobias Quennell acted for you" in html
    assert not caregivers.is_proxy_for(people.caregiver, people.patient, "messaging")
    assert not caregivers.is_proxy_for(people.caregiver, people.patient, "feedback")
    event = AuditEvent.objects.get(action="caregiver.unlink", target_id=str(people.link.pk))
    assert event.actor_id == people.patient.pk and event.patient_id == people.patient.pk
    # The caregiver had no other link: the caregiver role goes with this one.
    assert not roles.has_role(type(people.caregiver).objects.get(pk=people.caregiver.pk), roles.CAREGIVER)


def test_ending_twice_changes_and_records_nothing_more(people):
    client = _client(people.patient)
    client.post(_end_url(people.link))
    ended_on = CaregiverRelation.objects.get(pk=people.link.pk).ends_on
    again = client.post(_end_url(people.link), follow=True)
    assert "That access has already ended." in again.content.decode()
    assert _unlinks(people.link) == 1
    assert CaregiverRelation.objects.get(pk=people.link.pk).ends_on == ended_on
    # The action itself, called again with a stale copy (two tabs), also leaves the link as it is.
    caregivers.end_caregiver_link(actor=people.patient, relation=people.link)
    assert _unlinks(people.link) == 1


def test_a_link_that_has_not_started_yet_is_withdrawn(people, make_user):
    later = caregivers.link_caregiver(
        actor=people.patient,
        caregiver=make_user(first_name="Wren"),
        patient=people.patient,
        scopes=["community"],
        starts_on=TODAY + 7 * DAY,
    )
    client = _client(people.patient)
    assert "Starts" in client.get(INDEX).content.decode()
    client.post(_end_url(later))
    later.refresh_from_db()
    assert later.revoked_at is not None
    assert not caregivers.is_proxy_for(later.caregiver, people.patient, "community", on=TODAY + 8 * DAY)


def test_a_caregiver_steps_down(people):
    client = _client(people.caregiver)
    ask = client.get(_end_url(people.link))
    assert "Stop acting for Rosalind Quennell?" in ask.content.decode()
    done = client.post(_end_url(people.link), follow=True)
    assert "You no longer act for Rosalind Quennell." in done.content.decode()
    assert not caregivers.is_proxy_for(people.caregiver, people.patient, "messaging")
    assert AuditEvent.objects.get(action="caregiver.unlink", target_id=str(people.link.pk)).actor_id == (
        people.caregiver.pk
    )


@pytest.mark.parametrize("who", ["other_patient", "other_caregiver", "clinician", "manager", "superuser"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_nobody_else_can_end_a_link_and_is_answered_as_for_none(people, who, method):
    client = _client(getattr(people, who))
    theirs = getattr(client, method)(_end_url(people.link))
    made_up = getattr(client, method)(reverse("portal_social_caregiver_end", args=[uuid.uuid4()]))
    assert theirs.status_code == made_up.status_code == 404
    assert "Quennell" not in theirs.content.decode()
    assert caregivers.is_proxy_for(people.caregiver, people.patient, "messaging")
    assert _unlinks(people.link) == 0


def test_the_action_refuses_what_the_page_refuses(people):
    for who in (people.other_patient, people.other_caregiver, people.clinician, people.superuser):
        with pytest.raises(caregivers.CaregiverLinkDenied):
            caregivers.end_caregiver_link(actor=who, relation=people.link)
    assert caregivers.is_proxy_for(people.caregiver, people.patient, "messaging")


def test_the_page_reads_a_fixed_number_of_queries(people, make_user, django_assert_max_num_queries):
    client = _client(people.patient)
    client.get(INDEX)
    with django_assert_max_num_queries(12) as few:
        client.get(INDEX)
    for n in range(15):
        link = caregivers.link_caregiver(
            actor=people.patient,
            caregiver=make_user(first_name=f"Helper{n}"),
            patient=people.patient,
            scopes=["feedback"],
        )
        if n % 3 == 0:
            caregivers.end_caregiver_link(actor=people.patient, relation=link)
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        page = client.get(INDEX)
    html = page.content.decode()
    assert all(f"Helper{n}" in html for n in range(15))
    assert html.count("acted for you") == 5  # the ended ones, listed apart
    assert len(many.captured_queries) == len(few.captured_queries)
