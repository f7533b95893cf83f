"""The audit chain: append-only, hash-linked, verifiable, linear under concurrency."""

import csv
import io
import threading

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.test import RequestFactory

from portal_social.core import audit, roles
from portal_social.core.models import AuditEvent, AuditLogIsAppendOnly


def _events(n, **kwargs):
    return [audit.record("test.event", target_type="tests.thing", target_id=str(i), **kwargs) for i in range(n)]


@pytest.mark.django_db
def test_record_links_each_event_to_the_one_before():
    first, second, third = _events(3)
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert [first.sequence + 1, first.sequence + 2] == [second.sequence, third.sequence]
    assert audit.verify_chain()[1] is None


@pytest.mark.django_db
def test_record_takes_actor_ip_and_user_agent_from_the_request(make_user):
    user = make_user(roles.CLINICIAN)
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="Browser/1.0")
    request.user = user
    event = audit.record("phi.read", request=request, target=user, patient=user)
    event = AuditEvent.objects.get(pk=event.pk)
    assert (event.actor_id, event.actor_label) == (user.pk, user.username)
    assert event.ip_address == "203.0.113.9"
    assert event.user_agent == "Browser/1.0"
    assert (event.target_type, event.target_id, event.patient_id) == ("auth.user", str(user.pk), user.pk)


@pytest.mark.django_db
def test_forwarded_for_header_is_not_trusted():
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert audit.client_ip(request) == "10.0.0.5"


@pytest.mark.django_db
def test_orm_refuses_to_update_or_delete_events():
    [event] = _events(1)
    event.reason = "changed"
    with pytest.raises(AuditLogIsAppendOnly):
        event.save()
    with pytest.raises(AuditLogIsAppendOnly):
        event.delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).update(reason="x")
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.all().delete()


@pytest.mark.django_db
def test_postgresql_trigger_rejects_raw_update_and_delete():
    if connection.vendor != "postgresql":
        pytest.skip("the trigger exists on PostgreSQL only")
    from django.db import DatabaseError, transaction

    [event] = _events(1)
    for sql in (
        "UPDATE portal_social_auditevent SET reason = 'x' WHERE id = %s",
        "DELETE FROM portal_social_auditevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [event.pk])


def _tamper(sql, params):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE portal_social_auditevent DISABLE TRIGGER portal_social_audit_append_only")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE portal_social_auditevent ENABLE TRIGGER portal_social_audit_append_only")


@pytest.mark.django_db
def test_verify_names_the_row_edited_through_raw_sql(capsys):
    events = _events(5)
    target = events[2]
    _tamper("UPDATE portal_social_auditevent SET reason = %s WHERE id = %s", ["innocent", target.pk])
    with pytest.raises(SystemExit) as exit_info:
        call_command("portal_social_audit", "verify")
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert f"event {target.sequence} ({target.public_id})" in err
    assert "content was changed" in err


@pytest.mark.django_db
def test_verify_notices_a_deleted_row():
    events = _events(4)
    _tamper("DELETE FROM portal_social_auditevent WHERE id = %s", [events[1].pk])
    checked, problem = audit.verify_chain()
    assert problem is not None
    assert problem.sequence == events[2].sequence
    assert "missing" in problem.problem


@pytest.mark.django_db
def test_verify_notices_the_last_rows_removed():
    events = _events(3)
    _tamper("DELETE FROM portal_social_auditevent WHERE id = %s", [events[-1].pk])
    assert audit.verify_chain()[1] is not None


@pytest.mark.django_db
def test_verify_command_exits_zero_when_intact(capsys):
    _events(3)
    call_command("portal_social_audit", "verify")
    assert "intact" in capsys.readouterr().out


@pytest.mark.django_db
def test_export_csv_between_dates_has_no_content_fields(capsys):
    _events(3)
    call_command("portal_social_audit", "export", "--since", "2000-01-01", "--until", "2999-12-31", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) >= 3
    assert {"sequence", "actor_id", "action", "target_id", "hash"} <= set(rows[0])
    call_command("portal_social_audit", "export", "--until", "2000-01-01")
    assert len(list(csv.DictReader(io.StringIO(capsys.readouterr().out)))) == 0


@pytest.mark.django_db
def test_export_rejects_a_bad_date():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="not a date"):
        call_command("portal_social_audit", "export", "--since", "yesterday")


@pytest.mark.django_db
def test_role_grant_and_caregiver_link_are_audited(make_user):
    from portal_social.core import caregivers

    patient, helper = make_user(roles.PATIENT), make_user()
    relation = caregivers.link_caregiver(actor=patient, caregiver=helper, patient=patient, scopes=["messaging"])
    link = AuditEvent.objects.get(action="caregiver.link")
    assert (link.actor_id, link.target_id, link.patient_id) == (patient.pk, str(relation.pk), patient.pk)
    assert AuditEvent.objects.filter(action="role.grant", target_id=str(helper.pk)).exists()


@pytest.mark.django_db(transaction=True)
def test_parallel_writers_keep_one_linear_chain():
    """Writers on separate connections never fork the chain (PostgreSQL: row lock on the head)."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite in-memory test databases cannot be shared between threads")
    audit.record("test.start")
    writers, per_writer = 8, 25
    errors = []
    barrier = threading.Barrier(writers)

    def write(n):
        try:
            barrier.wait()
            for i in range(per_writer):
                audit.record("test.parallel", target_type="tests.writer", target_id=f"{n}-{i}")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert AuditEvent.objects.filter(action="test.parallel").count() == writers * per_writer
    checked, problem = audit.verify_chain()
    assert problem is None
    assert checked == writers * per_writer + 1 + AuditEvent.objects.exclude(action__startswith="test.").count()


@pytest.mark.django_db
def test_verify_notices_an_emptied_log():
    _events(2)
    _tamper("DELETE FROM portal_social_auditevent", [])
    checked, problem = audit.verify_chain()
    assert checked == 0
    assert problem is not None and "removed" in problem.problem
