"""The audit viewer in the Wagtail admin: risk role only, filters, bounded queries."""

import pytest

from portal_social.core import audit, roles
from portal_social.core.models import AuditEvent
from tests.factories import sign_in

URL = "/cms/portal-social/audit/"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "status"),
    [
        (roles.RISK_MANAGER, 200),
        (roles.PORTAL_ADMINISTRATOR, 200),
        (roles.PATIENT_EXPERIENCE, 404),
        (roles.COMMUNITY_MODERATOR, 404),
    ],
)
def test_only_auditors_open_the_audit_log(client, make_user, role, status):
    sign_in(client, make_user(role, mfa=True))
    assert client.get(URL).status_code == status


@pytest.mark.django_db
def test_superuser_without_role_cannot_open_the_audit_log(client, make_user):
    sign_in(client, make_user(is_superuser=True, is_staff=True, mfa=True))
    assert client.get(URL).status_code == 404


@pytest.mark.django_db
def test_risk_manager_without_mfa_is_sent_to_enrolment(client, make_user):
    sign_in(client, make_user(roles.RISK_MANAGER))
    assert client.get(URL)["Location"] == "/accounts/2fa/totp/activate/"


@pytest.mark.django_db
def test_filters_by_user_patient_object_and_date(client, make_user):
    risk = make_user(roles.RISK_MANAGER, mfa=True, username="riskviewer")
    nurse, patient = make_user(roles.CARE_TEAM), make_user(roles.PATIENT, username="patientx")
    audit.record("phi.read", actor=nurse, target_type="tests.chart", target_id="abc", patient=patient)
    audit.record("phi.read", actor=risk, target_type="tests.chart", target_id="zzz")
    sign_in(client, risk)
    by_user = client.get(URL, {"user": nurse.username})
    assert list(by_user.context["page"]) == [AuditEvent.objects.get(actor_id=nurse.pk, action="phi.read")]
    by_patient = client.get(URL, {"patient": "patientx"})
    assert [e.target_id for e in by_patient.context["page"]] == ["abc"]
    by_object = client.get(URL, {"target_type": "tests.chart", "target_id": "zzz"})
    assert [e.actor_id for e in by_object.context["page"]] == [risk.pk]
    by_date = client.get(URL, {"since": "2000-01-01", "until": "2000-01-02"})
    assert list(by_date.context["page"]) == []
    unknown = client.get(URL, {"user": "nobody-by-that-name"})
    assert list(unknown.context["page"]) == []


@pytest.mark.django_db
def test_bad_dates_show_an_error_and_no_rows(client, make_user):
    sign_in(client, make_user(roles.RISK_MANAGER, mfa=True))
    response = client.get(URL, {"since": "2026-05-01", "until": "2026-04-01"})
    assert response.status_code == 200
    assert "before the start date" in response.content.decode()
    response = client.get(URL, {"since": "not-a-date"})
    assert response.status_code == 200 and list(response.context["page"]) == []


@pytest.mark.django_db
def test_viewing_the_log_is_itself_audited_without_filter_values(client, make_user):
    risk = make_user(roles.RISK_MANAGER, mfa=True)
    sign_in(client, risk)
    client.get(URL, {"patient": "someone"})
    event = AuditEvent.objects.filter(action="audit.view").latest("sequence")
    assert event.actor_id == risk.pk
    assert event.details["filters"] == ["patient"]
    assert "someone" not in str(event.details)


@pytest.mark.django_db
def test_audit_log_page_query_count_does_not_grow_with_events(client, make_user, django_assert_max_num_queries):
    risk = make_user(roles.RISK_MANAGER, mfa=True)
    sign_in(client, risk)
    for i in range(120):
        audit.record("phi.read", target_type="tests.chart", target_id=str(i))
    client.get(URL)  # warm Wagtail's per-request caches
    with django_assert_max_num_queries(30):
        response = client.get(URL)
    assert len(response.context["page"]) == 50
