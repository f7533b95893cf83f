"""The audit viewer in the Wagtail admin: risk role only, filters, bounded queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

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


def _filter(client, **values):
    """Submit the filter form as a browser does; returns the page shown after the redirect."""
    response = client.post(URL, values)
    assert response.status_code == 302, response.content[:200]
    location = response["Location"]
    for value in values.values():
        assert str(value) not in location  # the URL carries a token, never the filter values
    return client.get(location)


@pytest.mark.django_db
def test_filters_by_user_patient_object_and_date(client, make_user):
    risk = make_user(roles.RISK_MANAGER, mfa=True, username="riskviewer")
    nurse, patient = make_user(roles.CARE_TEAM), make_user(roles.PATIENT, username="patientx")
    audit.record("phi.read", actor=nurse, target_type="tests.chart", target_id="abc", patient=patient)
    audit.record("phi.read", actor=risk, target_type="tests.chart", target_id="zzz")
    sign_in(client, risk)
    by_user = _filter(client, user=nurse.username)
    assert list(by_user.context["page"]) == [AuditEvent.objects.get(actor_id=nurse.pk, action="phi.read")]
    by_patient = _filter(client, patient="patientx")
    assert [e.target_id for e in by_patient.context["page"]] == ["abc"]
    by_object = _filter(client, target_type="tests.chart", target_id="zzz")
    assert [e.actor_id for e in by_object.context["page"]] == [risk.pk]
    by_date = _filter(client, since="2000-01-01", until="2000-01-02")
    assert list(by_date.context["page"]) == []
    unknown = _filter(client, user="nobody-by-that-name")
    assert list(unknown.context["page"]) == []


@pytest.mark.django_db
def test_patient_names_never_reach_the_url_even_across_pages(client, make_user):
    """Usernames in a query string would reach history, logs and Referer headers."""
    risk = make_user(roles.RISK_MANAGER, mfa=True)
    patient = make_user(roles.PATIENT, username="maria.gonzalez")
    for i in range(60):
        audit.record("phi.read", target_type="tests.chart", target_id=str(i), patient=patient)
    sign_in(client, risk)
    page_one = _filter(client, patient="maria.gonzalez")
    assert page_one.context["page"].paginator.count == 60
    html = page_one.content.decode()
    assert "maria.gonzalez" not in html.split("<form", 1)[0]  # nowhere before the form (title, links)
    older = [part.split('"', 1)[0] for part in html.split('href="')[1:] if "p=2" in part.split('"', 1)[0]]
    assert older and all("maria" not in link for link in older)
    page_two = client.get(URL + older[0].replace("&amp;", "&"))
    assert page_two.context["page"].number == 2
    assert page_two.context["page"].paginator.count == 60


@pytest.mark.django_db
def test_a_filter_token_from_another_session_shows_nothing_of_it(client, make_user):
    from django.test import Client

    risk = make_user(roles.RISK_MANAGER, mfa=True)
    sign_in(client, risk)
    location = client.post(URL, {"patient": "patientx"})["Location"]
    other = Client()
    sign_in(other, make_user(roles.RISK_MANAGER, mfa=True))
    response = other.get(location)
    assert response.status_code == 200
    assert response.context["form"].is_bound is False


@pytest.mark.django_db
def test_bad_dates_show_an_error_and_no_rows(client, make_user):
    sign_in(client, make_user(roles.RISK_MANAGER, mfa=True))
    response = client.post(URL, {"since": "2026-05-01", "until": "2026-04-01"})
    assert response.status_code == 200
    assert "before the start date" in response.content.decode()
    response = client.post(URL, {"since": "not-a-date"})
    assert response.status_code == 200 and list(response.context["page"]) == []


@pytest.mark.django_db
def test_viewing_the_log_is_itself_audited_without_filter_values(client, make_user):
    risk = make_user(roles.RISK_MANAGER, mfa=True)
    sign_in(client, risk)
    _filter(client, patient="someone")
    event = AuditEvent.objects.filter(action="audit.view").latest("sequence")
    assert event.actor_id == risk.pk
    assert event.details["filters"] == ["patient"]
    assert "someone" not in str(event.details)


@pytest.mark.django_db
def test_audit_log_page_query_count_does_not_grow_with_events(client, make_user):
    risk = make_user(roles.RISK_MANAGER, mfa=True)
    sign_in(client, risk)
    actors = [make_user(roles.PATIENT_EXPERIENCE) for _ in range(3)]
    patients = [make_user(roles.PATIENT) for _ in range(3)]
    counts = []
    for total in (3, 120):  # a part-filled page, then a full one of 50
        for i in range(AuditEvent.objects.filter(action="phi.read").count(), total):
            audit.record(
                "phi.read", actor=actors[i % 3], patient=patients[i % 3], target_type="tests.chart", target_id=str(i)
            )
        client.get(URL)  # warm Wagtail's per-request caches
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL)
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 30, counts
    assert len(response.context["page"]) == 50


def _shown_count(response) -> int:
    import re

    found = re.search(r"<p[^>]*>\s*(\d+) events?\s*</p>", response.content.decode())
    assert found, "the page states how many events match"
    return int(found.group(1))


@pytest.mark.django_db
@pytest.mark.parametrize("total", [3, 50, 51])
def test_the_count_shown_is_the_number_of_events_listed(client, make_user, total):
    """The count and the rows describe the same events: those that matched when the page was asked for.

    Opening the page writes its own ``audit.view`` event; it must not slip
    into the rows after the count was taken (one row more than the count
    says, and every later page shifted by one).
    """
    risk = make_user(roles.RISK_MANAGER, mfa=True)
    sign_in(client, risk)
    while AuditEvent.objects.count() < total:  # signing in wrote some already
        audit.record("phi.read", target_type="tests.chart", target_id=str(AuditEvent.objects.count()))
    newest = AuditEvent.objects.latest("sequence").sequence
    response = client.get(URL)
    page = response.context["page"]
    listed = [event.sequence for event in page]
    assert _shown_count(response) == page.paginator.count == total
    assert len(listed) == min(total, 50)
    assert listed[0] == newest


@pytest.mark.django_db
def test_the_count_shown_follows_the_filter_on_every_page(client, make_user):
    risk = make_user(roles.RISK_MANAGER, mfa=True)
    patient = make_user(roles.PATIENT, username="countedpatient")
    for i in range(55):
        audit.record("phi.read", target_type="tests.chart", target_id=str(i), patient=patient)
    for i in range(7):
        audit.record("phi.read", target_type="tests.chart", target_id=f"other-{i}")
    sign_in(client, risk)
    first = _filter(client, patient="countedpatient")
    assert _shown_count(first) == 55
    assert len(first.context["page"]) == 50
    second = client.get(first.request["PATH_INFO"] + "?" + first.request["QUERY_STRING"] + "&p=2")
    assert _shown_count(second) == 55
    assert len(second.context["page"]) == 5
    everything = client.get(URL)
    assert _shown_count(everything) == AuditEvent.objects.count() - 1  # all but this page's own audit.view


@pytest.mark.django_db
def test_events_show_their_labels_and_patients_their_names(client, make_user):
    from portal_social.core import audit_events

    risk = make_user(roles.RISK_MANAGER, mfa=True)
    patient = make_user(roles.PATIENT, username="lbl.patient", first_name="Lena", last_name="Birch")
    clinician = make_user(roles.CLINICIAN)
    audit.record("review.appeal", actor=clinician, target_type="portal_social.review", target_id="r1", patient=patient)
    sign_in(client, risk)
    html = client.get(URL).content.decode()
    rows = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert str(audit_events.EVENT_TYPES["review.appeal"]) == "Review appealed by clinician"
    assert "Review appealed by clinician" in rows
    assert "review.appeal" not in rows
    row = next(row for row in rows.split("</tr>") if "Review appealed by clinician" in row)
    cells = [cell.split("</td>", 1)[0].strip() for cell in row.split("<td>")[1:]]
    assert cells[6] == "Lena Birch (lbl.patient)"  # the Patient column, never a bare id


@pytest.mark.django_db
def test_the_event_filter_offers_labels_and_filters_by_event_type(client, make_user):
    risk = make_user(roles.RISK_MANAGER, mfa=True)
    audit.record("review.appeal", target_type="portal_social.review", target_id="r1")
    audit.record("review.report", target_type="portal_social.review", target_id="r2")
    sign_in(client, risk)
    response = _filter(client, action="review.report")
    assert [event.target_id for event in response.context["page"]] == ["r2"]
    assert '<option value="review.appeal">Review appealed by clinician</option>' in response.content.decode()


@pytest.mark.django_db
def test_filter_buttons_sit_in_an_actions_container(client, make_user):
    sign_in(client, make_user(roles.RISK_MANAGER, mfa=True))
    form = client.get(URL).content.decode().split('class="portal-audit-filters"', 1)[1].split("</form>", 1)[0]
    actions = form.split('<div class="ps-actions">', 1)
    assert len(actions) == 2, "the form's buttons have a ps-actions container"
    assert 'type="submit"' in actions[1] and 'type="submit"' not in actions[0]


@pytest.mark.django_db
def test_a_patient_whose_account_is_gone_is_named_as_removed(client, make_user):
    risk = make_user(roles.RISK_MANAGER, mfa=True)
    audit.record("phi.read", target_type="tests.chart", target_id="gone", patient=987654)
    sign_in(client, risk)
    page = client.get(URL).context["page"]
    event = next(event for event in page if event.target_id == "gone")
    assert str(event.patient_label) == "Removed account"
