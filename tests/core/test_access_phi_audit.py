"""``access.require`` on an action marked ``phi=True`` writes the PHI-read audit event itself."""

import uuid

import pytest

from portal_social.core import access, audit_events, roles
from portal_social.core.models import AuditEvent


class Chart:
    """A throwaway stand-in for any feature's model: a type, an id, a patient."""

    class _meta:  # what the access policy and the audit trail read of a model
        label_lower = "tests.chart"

    def __init__(self, patient_id, *, open_to=()):
        self.pk = uuid.uuid4()
        self.patient_id = patient_id
        self.open_to = set(open_to)


def _may_read(user, chart):
    return user.pk in chart.open_to


def _may_list(user, chart):
    return user.pk in chart.open_to


@pytest.fixture
def chart_rules():
    """``read`` opens PHI (with a patient hook); ``list`` does not. Removed after the test."""
    access.rule(Chart, "read", phi=True, patient=lambda chart: chart.patient_id)(_may_read)
    access.rule(Chart, "list")(_may_list)
    yield
    access._rules.pop((Chart, "read"), None)
    access._rules.pop((Chart, "list"), None)
    access._patients.pop(Chart, None)


def _phi_reads():
    return AuditEvent.objects.filter(action=audit_events.PHI_READ.name)


@pytest.mark.django_db
def test_require_on_a_phi_rule_writes_exactly_one_phi_read_naming_the_patient(chart_rules, make_user):
    nurse, patient = make_user(roles.CARE_TEAM), make_user(roles.PATIENT)
    chart = Chart(patient.pk, open_to=[nurse.pk])
    assert access.require(nurse, "read", chart) is chart
    event = _phi_reads().get()
    assert event.actor_id == nurse.pk
    assert event.patient_id == patient.pk
    assert (event.target_type, event.target_id) == ("tests.chart", str(chart.pk))
    assert event.details == {"action": "read"}
    assert event.severity == "info"


@pytest.mark.django_db
def test_the_patient_named_by_the_caller_wins_over_the_hook(chart_rules, make_user):
    nurse, patient, other = make_user(roles.CARE_TEAM), make_user(roles.PATIENT), make_user(roles.PATIENT)
    chart = Chart(other.pk, open_to=[nurse.pk])
    access.require(nurse, "read", chart, patient=patient, reason="pre-visit review")
    event = _phi_reads().get()
    assert event.patient_id == patient.pk
    assert event.reason == "pre-visit review"


@pytest.mark.django_db
def test_require_on_a_rule_without_phi_writes_nothing(chart_rules, make_user):
    nurse = make_user(roles.CARE_TEAM)
    before = AuditEvent.objects.count()
    access.require(nurse, "list", Chart(None, open_to=[nurse.pk]))
    assert AuditEvent.objects.count() == before


@pytest.mark.django_db
def test_a_refused_require_writes_nothing(chart_rules, make_user):
    stranger, patient = make_user(roles.CARE_TEAM), make_user(roles.PATIENT)
    before = AuditEvent.objects.count()
    with pytest.raises(access.NotFound):
        access.require(stranger, "read", Chart(patient.pk))
    assert AuditEvent.objects.count() == before


@pytest.mark.django_db
def test_asking_with_can_records_nothing(chart_rules, make_user):
    nurse, patient = make_user(roles.CARE_TEAM), make_user(roles.PATIENT)
    before = AuditEvent.objects.count()
    assert access.can(nurse, "read", Chart(patient.pk, open_to=[nurse.pk]))
    assert AuditEvent.objects.count() == before


@pytest.mark.django_db
def test_every_allowed_require_is_recorded(chart_rules, make_user):
    nurse, patient = make_user(roles.CARE_TEAM), make_user(roles.PATIENT)
    chart = Chart(patient.pk, open_to=[nurse.pk])
    for _ in range(3):
        access.require(nurse, "read", chart)
    assert _phi_reads().count() == 3


def test_a_model_has_one_patient_hook(chart_rules):
    with pytest.raises(ValueError, match="patient hook"):
        access.register_patient(Chart, lambda chart: None)
    access.register_patient(Chart, access._patients[Chart])  # the same hook again is fine


@pytest.mark.django_db
def test_moderating_a_review_is_recorded_as_a_phi_read(moderator, make_patient, clinician):
    """Reviews' ``moderate`` rule is marked phi=True: moderators read comments as written."""
    from portal_social.conf import app_settings
    from portal_social.profiles import actions
    from portal_social.profiles.models import Review

    ratings = {key: 4 for key, _label in app_settings.REVIEW_QUESTIONS}
    review = actions.submit_review(author=make_patient(), clinician=clinician, ratings=ratings, comment="Kind.")
    assert access.is_phi_action(Review, "moderate")
    before = _phi_reads().count()
    access.require(moderator, "moderate", review, patient=review.author_id)
    event = _phi_reads().get(sequence__gt=AuditEvent.objects.filter(action="review.submit").latest("sequence").sequence)
    assert _phi_reads().count() == before + 1
    assert event.patient_id == review.author_id
    assert (event.target_type, event.target_id) == ("portal_social.review", str(review.pk))
