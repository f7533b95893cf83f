"""Importing historical cases from CSV: row by row, bad rows reported by line, nobody told, nothing escalated late."""

from __future__ import annotations

import csv
import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from portal_social.core.models import AuditEvent
from portal_social.core.notify.models import Notification
from portal_social.feedback import actions, tasks
from portal_social.feedback.actions import integrations
from portal_social.feedback.importing import import_cases
from portal_social.feedback.models import Case, CaseCounter, CaseEvent
from portal_social.profiles.models import Location

pytestmark = pytest.mark.django_db

HEADER = [
    "reference_external",
    "received_at",
    "channel",
    "type",
    "severity",
    "status",
    "resolved_at",
    "categories",
    "site",
    "summary",
    "description",
    "outcome",
]
WORDS = "The billing office charged my husband twice for the same MRI"


def csv_text(rows, header=HEADER) -> str:
    out = StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(column, "") for column in header] if isinstance(row, dict) else row)
    return out.getvalue()


def good_rows():
    return [
        {
            "reference_external": "OLD-1",
            "received_at": "2024-02-05T09:15:00-05:00",
            "channel": "phone",
            "type": "complaint",
            "severity": "high",
            "status": "closed",
            "categories": "billing;communication",
            "site": "main-campus",
            "summary": "Charged twice",
            "description": WORDS,
            "outcome": "resolved",
        },
        {
            "reference_external": "OLD-2",
            "received_at": "2024-03-01",
            "type": "grievance",
            "status": "resolved",
            "resolved_at": "2024-03-06T16:00:00Z",
            "description": "Nobody called back about the lost hearing aid",
            "outcome": "explained",
        },
        {
            "reference_external": "OLD-3",
            "received_at": "2024-04-10T08:00:00Z",
            "type": "compliment",
            "status": "closed",
            "description": "The night nurses on 4 West were wonderful",
        },
        {
            "reference_external": "",
            "received_at": "2024-05-02T11:00:00Z",
            "type": "complaint",
            "description": "Still waiting for an answer about the parking fine",
        },
    ]


@pytest.fixture
def site():
    return Location.objects.create(name="Main campus", slug="main-campus", address="1 Main St")


def run(text: str, **kwargs):
    return import_cases(StringIO(text), **kwargs)


def test_a_good_file_is_imported_numbered_routed_and_audited_once_per_case(world, site):
    before = AuditEvent.objects.count()
    report = run(csv_text(good_rows()), actor=world.px)
    assert (report.imported, report.duplicates, report.errors, report.stopped) == (4, 0, [], "")
    assert report.lines()[:3] == ["imported 4", "duplicates skipped 0", "errors 0"]

    closed = Case.objects.get(external_id="OLD-1")
    assert (closed.external_source, closed.channel, closed.type, closed.severity) == (
        "import",
        "phone",
        "complaint",
        "high",
    )
    assert closed.reference == "PX-2024-000001"  # numbered for the year it was received
    assert closed.site == site
    assert {c.slug for c in closed.categories.all()} == {"billing", "communication"}
    assert closed.team == world.billing_team and closed.owner is None  # a team for reports, nobody's queue
    received = dt.datetime(2024, 2, 5, 14, 15, tzinfo=dt.UTC)
    assert closed.received_at == received
    assert closed.resolved_at == closed.closed_at == received
    assert closed.outcome == "resolved" and closed.summary == "Charged twice"
    assert closed.submitted_by == world.px

    resolved = Case.objects.get(external_id="OLD-2")
    assert resolved.channel == "import"  # the default
    assert resolved.resolved_at == dt.datetime(2024, 3, 6, 16, tzinfo=dt.UTC) and resolved.closed_at is None
    assert timezone.localtime(resolved.received_at).date() == dt.date(2024, 3, 1)

    no_id = Case.objects.get(external_id="")
    assert no_id.external_source == "" and no_id.status == "new"
    assert no_id.team == world.team and no_id.owner in (world.px, world.px2)

    assert CaseCounter.objects.get(year=2024).last == 4
    for case in Case.objects.all():
        [event] = AuditEvent.objects.filter(target_id=str(case.pk))
        assert event.action == "feedback.case_receive"
        assert event.details["imported"] is True and event.details["channel"] == case.channel
        assert event.actor_id == world.px.pk
        assert WORDS not in str(event.details)
    timeline = list(CaseEvent.objects.filter(case=closed).values_list("kind", flat=True))
    assert timeline == [CaseEvent.Kind.RECEIVED, CaseEvent.Kind.ROUTED, CaseEvent.Kind.STATUS]
    assert AuditEvent.objects.count() - before == 4


def test_nobody_is_told_of_an_import_even_a_medical_risk_case(world, site):
    rows = good_rows()
    rows.append(
        {
            "reference_external": "OLD-9",
            "received_at": "2024-06-01T10:00:00Z",
            "type": "complaint",
            "description": "My father was given the wrong medication and fell",
        }
    )
    report = run(csv_text(rows))
    assert report.imported == 5
    risky = Case.objects.get(external_id="OLD-9")
    assert risky.medical_risk and risky.team == world.risk_team and risky.owner == world.risk
    assert not Notification.objects.exists()


def test_closed_cases_run_no_clocks_and_are_never_escalated_open_ones_run_from_receipt(world, site):
    run(csv_text(good_rows()))
    for reference in ("OLD-1", "OLD-2", "OLD-3"):
        done = Case.objects.get(external_id=reference)
        assert (done.acknowledge_due_at, done.resolve_due_at, done.first_reply_due_at) == (None, None, None)
    still_open = Case.objects.get(external_id="")
    assert still_open.acknowledge_due_at is not None and still_open.resolve_due_at < timezone.now()
    assert still_open.resolve_due_at - still_open.received_at < dt.timedelta(days=10)

    # The sweep escalates the overdue open case, and only that one.
    assert tasks.sweep() == 1
    escalated = set(Case.objects.exclude(escalated_at=None).values_list("external_id", flat=True))
    assert escalated == {""}
    assert Case.objects.get(external_id="OLD-1").breaches == []


def test_an_open_case_past_new_runs_only_the_resolve_clock_and_awaiting_the_patient_is_paused(world):
    recent = (timezone.now() - dt.timedelta(hours=2)).isoformat()
    rows = [
        {"reference_external": "A", "received_at": recent, "type": "complaint", "status": "investigating"},
        {"reference_external": "B", "received_at": recent, "type": "complaint", "status": "awaiting_patient"},
    ]
    for row in rows:
        row["description"] = "The discharge papers were wrong"
    report = run(csv_text(rows))
    assert report.imported == 2, report.lines()
    investigating = Case.objects.get(external_id="A")
    assert investigating.acknowledge_due_at is None and investigating.resolve_due_at is not None
    waiting = Case.objects.get(external_id="B")
    assert waiting.paused_since is not None and waiting.pauses.count() == 1


def test_malformed_rows_are_reported_by_line_and_the_rest_is_imported(world, site):
    text = (
        "reference_external,received_at,type,status,description,outcome,categories,site\n"  # line 1
        "R1,2024-01-02,complaint,new,The lift was broken,,,\n"  # line 2
        "R2,yesterday,complaint,new,Bad date,,,\n"  # line 3
        "R3,2024-01-03,rant,new,Bad type,,,\n"  # line 4
        'R4,2024-01-04,question,new,"A description\n'  # line 5
        'over two lines",,,\n'  # line 6
        "R5,2024-01-05,complaint,new,,,,\n"  # line 7
        "R6,2024-01-06,complaint,new,Outcome on an open case,resolved,,\n"  # line 8
        "R7,2024-01-07,complaint,new,Unknown category,,parking-tickets,\n"  # line 9
        "R8,2024-01-08,complaint,new,Unknown site,,,mars-campus\n"  # line 10
        "R9,2024-01-09,complaint,new,Too few values\n"  # line 11
        "R10,2999-01-01,complaint,new,In the future,,,\n"  # line 12
        "\n"  # line 13: blank
        "R11,2024-01-11,compliment,closed,Thank you,,,main-campus\n"  # line 14
    )
    report = run(text)
    assert report.imported == 3
    assert sorted(Case.objects.values_list("external_id", flat=True)) == ["R1", "R11", "R4"]
    assert Case.objects.get(external_id="R4").description_source == "A description\nover two lines"
    lines = [str(error) for error in report.errors]
    assert lines[0].startswith("line 3: received_at: not a date")
    assert lines[1].startswith("line 4: type: ")
    assert lines[2:] == [
        "line 7: description: This field is required.",
        "line 8: outcome: Only a resolved or closed case has an outcome.",
        "line 9: categories: Unknown category: parking-tickets.",
        "line 10: site: No site has this slug.",
        "line 11: 5 values for 8 columns",
        "line 12: received_at: This cannot be in the future.",
    ]
    assert report.lines()[:3] == ["imported 3", "duplicates skipped 0", "errors 8"]


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("received_at,type,descripton\n", "unknown columns: descripton"),
        ("received_at,type\n", "missing required columns: description"),
        ("received_at,type,description,type\n", "named twice"),
        ("", "empty"),
    ],
)
def test_a_bad_header_stops_before_any_row(world, header, problem):
    report = run(header + "2024-01-02,complaint,Words\n" if header else "")
    assert problem in report.stopped and report.stopped.startswith("line 1: ")
    assert not Case.objects.exists()


def test_a_dry_run_checks_everything_and_writes_nothing(world, site):
    rows = [*good_rows(), {"reference_external": "BAD", "received_at": "soon", "type": "complaint"}]
    rows.append(dict(good_rows()[0]))  # the same old id twice in one file
    before = (AuditEvent.objects.count(), CaseEvent.objects.count(), CaseCounter.objects.count())
    report = run(csv_text(rows), dry_run=True)
    assert report.lines()[:3] == ["would import 4", "duplicates skipped 1", "errors 1"]
    assert [str(e) for e in report.errors] == [
        "line 6: received_at: not a date (use ISO 8601, such as 2024-03-01 or 2024-03-01T14:30)"
    ]
    assert not Case.objects.exists()
    assert (AuditEvent.objects.count(), CaseEvent.objects.count(), CaseCounter.objects.count()) == before
    assert not Notification.objects.exists()


def test_rows_imported_before_are_skipped_as_duplicates(world, site):
    first = run(csv_text(good_rows()))
    assert first.imported == 4
    again = run(csv_text(good_rows()[:3]))
    assert (again.imported, again.duplicates, again.errors) == (0, 3, [])
    assert Case.objects.count() == 4
    # The same id twice in one file: the second is a duplicate of the first.
    twice = run(csv_text([{**good_rows()[2], "reference_external": "NEW-1"}] * 2))
    assert (twice.imported, twice.duplicates) == (1, 1)
    assert Case.objects.filter(external_id="NEW-1").count() == 1


def test_what_was_written_is_encrypted_at_rest(world, site):
    run(csv_text(good_rows()))
    case = Case.objects.get(external_id="OLD-1")
    columns = ("summary", "description_source", "description_html")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(columns)} FROM {Case._meta.db_table} WHERE id = %s",
            [Case._meta.pk.get_db_prep_value(case.pk, connection)],
        )
        raw = cursor.fetchone()
    for column, value in zip(columns, raw, strict=True):
        assert value.startswith("fernet:"), column
        for word in ("billing", "husband", "MRI", "Charged"):
            assert word not in value, column
    assert case.description_source == WORDS and "husband" in case.description_html


def test_only_px_staff_may_be_named_as_the_importer(world):
    with pytest.raises(actions.FeedbackDenied):
        integrations.import_row(good_rows()[2], actor=world.patient)
    assert not Case.objects.exists()


# --------------------------------------------------------------------------- the command


def test_the_command_prints_the_report_and_fails_when_rows_were_refused(world, site, tmp_path):
    path = tmp_path / "cases.csv"
    rows = [*good_rows(), {"reference_external": "BAD", "received_at": "not a date", "type": "complaint"}]
    path.write_text("\ufeff" + csv_text(rows), encoding="utf-8")  # as a spreadsheet saves it
    out = StringIO()
    with pytest.raises(CommandError, match="not imported"):
        call_command("portal_social_feedback_import", str(path), "--actor", world.px.username, stdout=out)
    printed = out.getvalue()
    assert "imported 4" in printed and "duplicates skipped 0" in printed
    assert "line 6: received_at: not a date" in printed
    assert WORDS not in printed
    assert Case.objects.count() == 4

    out = StringIO()
    path.write_text(csv_text(good_rows()), encoding="utf-8")
    call_command("portal_social_feedback_import", str(path), "--dry-run", stdout=out)
    # A row without an old reference cannot be recognised again: it would be imported a second time.
    assert out.getvalue().splitlines()[:2] == ["would import 1", "duplicates skipped 3"]


def test_the_command_refuses_an_unknown_actor_or_file(world, tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text(csv_text(good_rows()), encoding="utf-8")
    with pytest.raises(CommandError, match="--actor"):
        call_command("portal_social_feedback_import", str(path), "--actor", world.patient.username)
    with pytest.raises(CommandError, match="--actor"):
        call_command("portal_social_feedback_import", str(path), "--actor", "nobody-by-this-name")
    with pytest.raises(CommandError):
        call_command("portal_social_feedback_import", str(tmp_path / "missing.csv"))
    assert not Case.objects.exists()
