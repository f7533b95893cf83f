import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from portal_social.core import caregivers, roles
from portal_social.core.models import CaregiverRelation

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


@pytest.fixture
def patient(make_user):
    return make_user(roles.PATIENT)


@pytest.fixture
def helper(make_user):
    return make_user()


@pytest.mark.django_db
def test_patient_links_caregiver_who_gets_caregiver_role_and_scopes(patient, helper):
    relation = caregivers.link_caregiver(actor=patient, caregiver=helper, patient=patient, scopes=["messaging"])
    assert relation.scopes == ["messaging"]
    assert roles.has_role(type(helper).objects.get(pk=helper.pk), roles.CAREGIVER)
    assert caregivers.is_proxy_for(helper, patient, "messaging")
    assert not caregivers.is_proxy_for(helper, patient, "feedback")
    assert list(caregivers.patients_for(helper, "messaging")) == [patient]


@pytest.mark.django_db
def test_link_outside_its_dates_grants_nothing(patient, helper):
    caregivers.link_caregiver(
        actor=patient,
        caregiver=helper,
        patient=patient,
        scopes=["feedback"],
        starts_on=TODAY + 2 * DAY,
        ends_on=TODAY + 5 * DAY,
    )
    assert not caregivers.is_proxy_for(helper, patient, "feedback")
    assert caregivers.is_proxy_for(helper, patient, "feedback", on=TODAY + 3 * DAY)
    assert not caregivers.is_proxy_for(helper, patient, "feedback", on=TODAY + 6 * DAY)


@pytest.mark.django_db
def test_ending_a_link_stops_the_proxy_today(patient, helper):
    relation = caregivers.link_caregiver(
        actor=patient, caregiver=helper, patient=patient, scopes=["messaging"], starts_on=TODAY - 10 * DAY
    )
    caregivers.end_caregiver_link(actor=patient, relation=relation)
    assert not caregivers.is_proxy_for(helper, patient, "messaging")


@pytest.mark.django_db
def test_stranger_cannot_link_themselves_as_caregiver(patient, helper):
    with pytest.raises(caregivers.CaregiverLinkDenied):
        caregivers.link_caregiver(actor=helper, caregiver=helper, patient=patient, scopes=["messaging"])
    assert not CaregiverRelation.objects.exists()


@pytest.mark.django_db
def test_superuser_without_a_role_may_not_link_for_a_patient(patient, helper, make_user):
    superuser = make_user(is_superuser=True, is_staff=True)
    with pytest.raises(caregivers.CaregiverLinkDenied):
        caregivers.link_caregiver(actor=superuser, caregiver=helper, patient=patient, scopes=["community"])
    assert not caregivers.is_proxy_for(helper, patient, "community")


@pytest.mark.django_db
def test_administrator_may_link_for_a_patient(patient, helper, make_user):
    admin = make_user(roles.PORTAL_ADMINISTRATOR)
    caregivers.link_caregiver(actor=admin, caregiver=helper, patient=patient, scopes=["community"])
    assert caregivers.is_proxy_for(helper, patient, "community")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"scopes": []}, "scopes"),
        ({"scopes": ["billing"]}, "scopes"),
        ({"scopes": ["messaging"], "ends_on": TODAY - DAY}, "ends_on"),
    ],
)
def test_invalid_link_is_refused_with_a_field_message_and_nothing_saved(patient, helper, kwargs, field):
    with pytest.raises(ValidationError) as excinfo:
        caregivers.link_caregiver(actor=patient, caregiver=helper, patient=patient, **kwargs)
    assert field in excinfo.value.message_dict
    assert not CaregiverRelation.objects.exists()


@pytest.mark.django_db
def test_patient_cannot_be_own_caregiver(patient):
    with pytest.raises(ValidationError):
        caregivers.link_caregiver(actor=patient, caregiver=patient, patient=patient, scopes=["messaging"])


@pytest.mark.django_db
def test_only_patients_can_have_caregivers(make_user, helper):
    clinician = make_user(roles.CLINICIAN)
    with pytest.raises(ValidationError, match="Only a patient"):
        caregivers.link_caregiver(actor=clinician, caregiver=helper, patient=clinician, scopes=["messaging"])


@pytest.mark.django_db
def test_anonymous_is_never_a_proxy(patient):
    from django.contrib.auth.models import AnonymousUser

    assert not caregivers.is_proxy_for(AnonymousUser(), patient, "messaging")


def test_unknown_scope_query_is_an_error():
    with pytest.raises(ValueError):
        CaregiverRelation.objects.with_scope("billing")


@pytest.mark.django_db
def test_link_withdrawn_before_it_starts_never_applies(patient, helper):
    relation = caregivers.link_caregiver(
        actor=patient, caregiver=helper, patient=patient, scopes=["messaging"], starts_on=TODAY + 3 * DAY
    )
    caregivers.end_caregiver_link(actor=patient, relation=relation)
    assert not caregivers.is_proxy_for(helper, patient, "messaging", on=TODAY + 3 * DAY)


@pytest.mark.django_db
def test_caregiver_role_goes_with_the_last_link(patient, helper, make_user):
    other_patient = make_user(roles.PATIENT)
    first = caregivers.link_caregiver(actor=patient, caregiver=helper, patient=patient, scopes=["messaging"])
    second = caregivers.link_caregiver(
        actor=other_patient, caregiver=helper, patient=other_patient, scopes=["feedback"]
    )
    caregivers.end_caregiver_link(actor=patient, relation=first)
    assert roles.has_role(type(helper).objects.get(pk=helper.pk), roles.CAREGIVER)
    caregivers.end_caregiver_link(actor=other_patient, relation=second)
    assert not roles.has_role(type(helper).objects.get(pk=helper.pk), roles.CAREGIVER)


@pytest.mark.django_db
def test_stranger_cannot_end_someone_elses_link(patient, helper, make_user):
    relation = caregivers.link_caregiver(actor=patient, caregiver=helper, patient=patient, scopes=["messaging"])
    with pytest.raises(caregivers.CaregiverLinkDenied):
        caregivers.end_caregiver_link(actor=make_user(roles.PATIENT), relation=relation)
    assert caregivers.is_proxy_for(helper, patient, "messaging")


@pytest.mark.django_db
@pytest.mark.parametrize("granted", [True, False])
def test_ending_a_link_agrees_with_the_access_policy(patient, helper, make_user, granted):
    """A worker granted ``change`` on one link may end it, as the policy says; without the grant, neither allows."""
    from guardian.shortcuts import assign_perm

    from portal_social.core import access

    relation = caregivers.link_caregiver(actor=patient, caregiver=helper, patient=patient, scopes=["messaging"])
    worker = make_user(roles.CARE_TEAM)
    if granted:
        assign_perm("portal_social.change_caregiverrelation", worker, relation)
    assert access.can(worker, "change", relation) is granted
    if granted:
        caregivers.end_caregiver_link(actor=worker, relation=relation)
        assert not caregivers.is_proxy_for(helper, patient, "messaging")
    else:
        with pytest.raises(caregivers.CaregiverLinkDenied):
            caregivers.end_caregiver_link(actor=worker, relation=relation)
        assert caregivers.is_proxy_for(helper, patient, "messaging")
