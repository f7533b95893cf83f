"""Feedback reports: the figures are right, counted in SQL at a fixed query cost, shown only to report readers,
exported safely, and the tip sheet quotes nothing that could identify anyone."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone

from portal_social.core.models import AuditEvent
from portal_social.core.notify.models import Notification
from portal_social.feedback import actions, digest, reports
from portal_social.feedback.models import Case, Category
from tests.factories import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _room_to_submit(settings):
    """Many cases from one patient: lift the per-person feedback limit (its own tests are in test_views)."""
    settings.PORTAL_SOCIAL_RATE_LIMITS = {"feedback": "1000/h,100000/h/ip"}


def _period(days_back: int = 30) -> reports.Period:
    today = timezone.localdate()
    return reports.Period(today - dt.timedelta(days=days_back), today + dt.timedelta(days=1))


def _case(submit, **fields):
    case = submit()
    Case.objects.filter(pk=case.pk).update(**fields)
    case.refresh_from_db()
    return case


def test_volumes_keep_past_experience_apart_and_count_by_channel_type_and_category(world, submit):
    submit(categories=[world.communication.pk])
    submit(type="compliment", categories=[world.communication.pk])
    submit(past_experience=True)
    staff = actions.record_case(
        actor=world.px, channel="phone", type="complaint", description="Nobody called back.", site=None
    )
    report = reports.build(_period())
    assert report.total == 3 and report.past_experience == 1
    assert dict(report.by_channel) == {"Portal feedback form": 2, "Phone call": 1}
    assert dict(report.by_type) == {"Complaint": 2, "Compliment": 1}
    assert dict(report.by_category) == {"Communication": 2}
    assert sum(sum(v.values()) for _d, v in report.series) == 3
    assert staff.reference in {c.reference for c in Case.objects.all()}


def test_sla_compliance_and_medians_follow_their_definitions(world, submit):
    now = timezone.now()
    received = now - dt.timedelta(days=5)
    # Met on time, met late, missed and still open, not yet due (not counted).
    _case(
        submit,
        received_at=received,
        acknowledge_due_at=received + dt.timedelta(hours=8),
        acknowledged_at=received + dt.timedelta(hours=2),
    )
    _case(
        submit,
        received_at=received,
        acknowledge_due_at=received + dt.timedelta(hours=8),
        acknowledged_at=received + dt.timedelta(hours=30),
    )
    _case(submit, received_at=received, acknowledge_due_at=received + dt.timedelta(hours=8), acknowledged_at=None)
    _case(submit, received_at=now, acknowledge_due_at=now + dt.timedelta(hours=8), acknowledged_at=None)
    report = reports.build(_period(), now=now)
    assert report.compliance["acknowledge"] == (1, 3)
    assert report.medians["acknowledge"] == 16.0  # 2 h and 30 h: the mean of the middle two


def test_recovery_offline_and_review_changed_rates(world, submit):
    done = timezone.now()
    _case(submit, resolved_at=done, outcome="resolved", status="resolved")
    _case(submit, resolved_at=done, outcome="explained", status="resolved")
    _case(submit, resolved_at=done, outcome="offline", status="resolved", channel="social")
    _case(submit, resolved_at=done, outcome="review_updated", status="resolved", channel="review")
    _case(submit, resolved_at=done, outcome="no_response", status="resolved", channel="review")
    report = reports.build(_period())
    assert report.recovery == (3, 5)
    assert report.offline == (1, 3)
    assert report.review_changed == (1, 2)
    assert reports.percent(report.recovery) == 60 and reports.percent((0, 0)) is None


def test_themes_compare_with_the_previous_period(world, submit):
    period = _period(10)
    earlier = timezone.now() - dt.timedelta(days=15)
    for _ in range(2):
        submit(categories=[world.communication.pk])
    old = submit(categories=[world.communication.pk])
    Case.objects.filter(pk=old.pk).update(received_at=earlier)
    submit(type="compliment", categories=[world.billing.pk])  # compliments are not themes
    assert reports.themes(period) == [("Communication", 2, 1)]


@pytest.mark.parametrize(
    "who,status", [("px", 200), ("risk", 200), ("patient", 404), ("moderator", 404), ("superuser", 404)]
)
@pytest.mark.parametrize("path", ["/px/reports/", "/px/reports/export.csv", "/px/reports/tips/"])
def test_only_report_readers_open_the_reports(client, world, who, status, path):
    sign_in(client, getattr(world, who))
    assert client.get(path).status_code == status


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/px/reports/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_unknown_export_format_is_not_found(client, world):
    sign_in(client, world.px)
    assert client.get("/px/reports/export.pdf").status_code == 404


def test_exports_are_counts_only_and_cannot_start_a_formula(client, world, submit):
    trap = Category.objects.create(name='=HYPERLINK("http://evil.example","x")', slug="trap")
    submit(description="Maria Lopez waited three hours.", categories=[trap.pk])
    sign_in(client, world.px)
    response = client.get("/px/reports/export.csv")
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Cache-Control"] == "no-store"
    body = response.content.decode()
    assert "Maria" not in body and "waited" not in body
    rows = list(csv.reader(io.StringIO(body)))
    category_rows = [r for r in rows if r[0] == "category"]
    assert category_rows and all(not r[1].startswith("=") for r in category_rows)
    xlsx = client.get("/px/reports/export.xlsx")
    assert xlsx.content[:2] == b"PK" and xlsx["Content-Disposition"].endswith('.xlsx"')


def test_the_reports_page_draws_charts_without_script(client, world, submit):
    submit(categories=[world.communication.pk])
    sign_in(client, world.px)
    page = client.get("/px/reports/").content.decode()
    assert page.count('<svg class="ps-chart"') == 2 and "<script" not in page.split("<main", 1)[1].split("</main>")[0]
    assert 'role="img"' in page and "<title" in page


def test_chart_labels_are_escaped(client, world, submit):
    odd = Category.objects.create(name="<img src=x onerror=alert(1)>", slug="odd")
    submit(categories=[odd.pk])
    sign_in(client, world.px)
    page = client.get("/px/reports/").content.decode()
    assert "<img src=x" not in page and "&lt;img src=x" in page


@pytest.mark.parametrize("size", [3, 25])
def test_the_reports_page_costs_the_same_queries_at_any_size(
    client, world, submit, size, django_assert_max_num_queries
):
    for n in range(size):
        submit(categories=[world.communication.pk if n % 2 else world.billing.pk], type="complaint")
    sign_in(client, world.px)
    client.get("/px/reports/")
    # Session, user and roles, then about two dozen grouped aggregates; never one per case.
    with django_assert_max_num_queries(40):
        assert client.get("/px/reports/").status_code == 200


def test_the_tip_sheet_removes_identifying_details_and_never_quotes_risk_cases(client, world, submit):
    submit(
        categories=[world.communication.pk],
        description="The nurse at the desk shouted my name, Maria Lopez, and my phone 413-555-0199 across the room.",
    )
    submit(categories=[world.communication.pk], description="They gave me the wrong medication and nobody listened.")
    sign_in(client, world.px)
    page = client.get("/px/reports/tips/").content.decode()
    assert "shouted my name" in page
    assert "413-555-0199" not in page and "Maria Lopez" not in page
    assert "wrong medication" not in page
    assert AuditEvent.objects.filter(action="feedback.tips_read", actor_id=world.px.pk).exists()


def test_the_digest_carries_counts_only_to_leads_and_report_readers(world, submit):
    yesterday = timezone.now() - dt.timedelta(days=1)
    case = submit(description="Maria Lopez was kept waiting.")
    Case.objects.filter(pk=case.pk).update(received_at=yesterday)
    told = digest.send(7)
    people = set(Notification.objects.filter(key="feedback.digest").values_list("recipient_id", flat=True))
    assert told == len(people)
    assert {world.px.pk, world.px_lead.pk, world.risk.pk} <= people
    assert world.patient.pk not in people and world.moderator.pk not in people
    params = Notification.objects.filter(key="feedback.digest").first().params
    assert params["received"] == 1 and all(isinstance(v, int) for v in params.values())


def test_a_period_from_the_query_string_is_bounded_and_forgiving():
    today = dt.date(2026, 11, 30)
    assert reports.period_from({}, today=today).end == today
    swapped = reports.period_from({"from": "2026-11-30", "to": "2026-11-01"}, today=today)
    assert swapped.start < swapped.end
    wide = reports.period_from({"from": "1990-01-01", "to": "2026-11-30"}, today=today)
    assert wide.days <= reports.MAX_DAYS + 1
    junk = reports.period_from({"from": "yesterday", "by": "decade"}, today=today)
    assert junk.grouping == "week" and junk.end == today


def test_volumes_by_category_and_site_are_given_per_week_and_per_month(client, world, submit):
    from portal_social.profiles.models import Location

    clinic = Location.objects.create(name="Riverside Clinic", slug="riverside-clinic", address="1 River Rd")
    old = submit(categories=[world.billing.pk], site=clinic)
    Case.objects.filter(pk=old.pk).update(received_at=timezone.now() - dt.timedelta(days=21))
    submit(categories=[world.billing.pk], site=clinic)
    weekly = reports.build(_period(40))
    assert [n for _day, name, n in weekly.per_period["category"] if name == "Billing"] == [1, 1]
    assert sum(n for _day, name, n in weekly.per_period["site"] if name == "Riverside Clinic") == 2
    assert dict(weekly.by_category)["Billing"] == 2 and dict(weekly.by_site)["Riverside Clinic"] == 2
    sign_in(client, world.px)
    rows = list(csv.reader(io.StringIO(client.get("/px/reports/export.csv?by=month").content.decode())))
    monthly = [r for r in rows if r[0].startswith("month of ") and r[1] == "category: Billing"]
    assert sum(int(r[2]) for r in monthly) == 2
    page = client.get("/px/reports/").content.decode()
    assert "Volumes per week by category, site, service line and clinician" in page
