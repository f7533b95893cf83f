"""The audit chain: append-only, keyed, hash-linked, verifiable, linear under concurrency."""

import base64
import csv
import hashlib
import io
import logging
import threading
import uuid

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import DatabaseError, connection, connections, transaction
from django.test import RequestFactory

from portal_social import checks as portal_checks
from portal_social.adapter import PortalAdapter
from portal_social.core import audit, roles
from portal_social.core.models import AuditChainHead, AuditEvent, AuditLogIsAppendOnly

OLD_KEY = "old-audit-key-for-the-test-suite-only-0123456789"
NEW_KEY = "new-audit-key-for-the-test-suite-only-9876543210"


@pytest.fixture(autouse=True, scope="module")
def _flush_lifts_the_audit_guard():
    """``transaction=True`` tests end with Django's flush, which the guard refuses."""
    with audit.flush_lifts_database_guard():
        yield


def _events(n, **kwargs):
    return [audit.record("test.event", target_type="tests.thing", target_id=str(i), **kwargs) for i in range(n)]


def _head():
    return AuditChainHead.objects.get(pk=1)


def _copy(event, **changes):
    """An unsaved event with ``event``'s content and a fresh public id, for forging rows."""
    fields = {f.attname: getattr(event, f.attname) for f in AuditEvent._meta.concrete_fields if not f.primary_key}
    fields.update(public_id=uuid.uuid4(), **changes)
    return AuditEvent(**fields)


def _unkeyed_hash(prev_hash, content):
    """The scheme before keys: SHA-256 over the previous hash and the canonical content."""
    return hashlib.sha256((prev_hash + audit.canonical_payload(content)).encode("ascii")).hexdigest()


def _content(event):
    return {name: getattr(event, name) for name in audit.HASHED_FIELDS}


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
def test_database_trigger_rejects_raw_update_and_delete():
    """On PostgreSQL and SQLite alike, whatever the client."""
    [event] = _events(1)
    for sql, params in (
        ("UPDATE portal_social_auditevent SET reason = 'x' WHERE id = %s", [event.pk]),
        ("DELETE FROM portal_social_auditevent WHERE id = %s", [event.pk]),
        ("DELETE FROM portal_social_auditevent", []),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    assert AuditEvent.objects.filter(pk=event.pk, reason="").exists()


@pytest.mark.django_db
def test_truncate_is_refused_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no TRUNCATE; DELETE without WHERE is refused above")
    _events(2)
    for sql in (
        "TRUNCATE portal_social_auditevent",
        "TRUNCATE portal_social_auditevent, portal_social_auditchainhead",
    ):
        with (
            pytest.raises(DatabaseError, match="TRUNCATE refused"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    assert AuditEvent.objects.count() >= 2


@pytest.mark.django_db
def test_database_refuses_an_event_at_sequence_zero():
    first, second = _events(2)
    forged = _copy(first, sequence=0, prev_hash=audit.GENESIS_HASH, hash="f" * 64)
    with pytest.raises(DatabaseError, match="extend the chain"), transaction.atomic():
        forged.save(force_insert=True)
    assert not AuditEvent.objects.filter(sequence=0).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("gap, link", [(1, "wrong"), (2, "last"), (1, "genesis")])
def test_database_refuses_an_insert_that_does_not_extend_the_head(gap, link):
    events = _events(3)
    last = AuditEvent.objects.order_by("-sequence").first()
    prev_hash = {"wrong": events[0].hash, "last": last.hash, "genesis": audit.GENESIS_HASH}[link]
    forged = _copy(last, sequence=last.sequence + gap, prev_hash=prev_hash, hash="e" * 64)
    with pytest.raises(DatabaseError, match="extend the chain"), transaction.atomic():
        forged.save(force_insert=True)
    assert AuditEvent.objects.order_by("-sequence").first() == last


def _tamper(sql, params=()):
    """Change the events table as someone with write access and the table's ownership could."""
    with audit.database_guard_lifted(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def _insert_unguarded(event):
    with audit.database_guard_lifted():
        event.save(force_insert=True)


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
    assert {"sequence", "actor_id", "action", "target_id", "hash", "key_id"} <= set(rows[0])
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


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
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


# Forgeries the database guard cannot see: someone who lifted it (the table's
# owner) or wrote around it. The key and the head seal catch them.


@pytest.mark.django_db
def test_verify_catches_an_event_at_sequence_zero_when_the_guard_is_bypassed(capsys):
    first, second = _events(2)
    forged = _copy(first, sequence=0, prev_hash=audit.GENESIS_HASH, action="phi.read", reason="routine")
    # Even correctly signed, a row outside the chain is a forgery.
    forged.hash = audit.compute_hash(forged.prev_hash, _content(forged), key=audit.signing_key())
    _insert_unguarded(forged)
    checked, problem = audit.verify_chain()
    assert (problem.sequence, problem.public_id) == (0, str(forged.public_id))
    assert "outside the chain" in problem.problem
    with pytest.raises(SystemExit) as exit_info:
        call_command("portal_social_audit", "verify")
    assert exit_info.value.code == 1
    assert f"event 0 ({forged.public_id})" in capsys.readouterr().err


@pytest.mark.django_db
def test_verify_catches_an_event_beyond_the_head():
    _events(2)
    last = AuditEvent.objects.order_by("-sequence").first()
    extra = _copy(last, sequence=last.sequence + 1, prev_hash=last.hash)
    extra.hash = audit.compute_hash(extra.prev_hash, _content(extra), key=audit.signing_key())
    extra.save(force_insert=True)  # extends the chain, so the trigger lets it in; the head did not move
    checked, problem = audit.verify_chain()
    assert (problem.sequence, problem.public_id) == (extra.sequence, str(extra.public_id))
    assert "beyond the chain head" in problem.problem


@pytest.mark.django_db
def test_verify_catches_the_newest_events_removed_with_the_head_moved_back():
    events = _events(4)
    _tamper("DELETE FROM portal_social_auditevent WHERE id = %s", [events[-1].pk])
    # What someone without the key can do: point the head at the new last event.
    AuditChainHead.objects.filter(pk=1).update(sequence=events[-2].sequence, last_hash=events[-2].hash)
    checked, problem = audit.verify_chain()
    assert problem is not None
    assert problem.sequence == events[-2].sequence
    assert "seal does not match" in problem.problem


@pytest.mark.django_db
@pytest.mark.parametrize("forger", ["unkeyed sha256", "wrong key", "own key id"])
def test_a_rewritten_chain_computed_without_the_key_is_caught(forger, capsys):
    events = _events(5)
    target = events[2]
    wrong = audit.AuditKey(audit.signing_key().key_id, b"a guess at the audit key, 32 bytes")
    own = audit.AuditKey("0123456789abcdef", b"the forger's own key, 32 bytes long")

    def forge_hash(prev_hash, content):
        if forger == "unkeyed sha256":
            return _unkeyed_hash(prev_hash, content)
        return audit.compute_hash(prev_hash, content, key=wrong if forger == "wrong key" else own)

    # Rewrite one event's reason and recompute every hash from there on, and the head.
    rows = list(AuditEvent.objects.filter(sequence__gte=target.sequence).order_by("sequence"))
    prev_hash = rows[0].prev_hash
    for row in rows:
        content = _content(row)
        if row.pk == target.pk:
            content["reason"] = "routine check"
        new_hash = forge_hash(prev_hash, content)
        _tamper(
            "UPDATE portal_social_auditevent SET reason = %s, prev_hash = %s, hash = %s, key_id = %s WHERE id = %s",
            [content["reason"], prev_hash, new_hash, own.key_id if forger == "own key id" else row.key_id, row.pk],
        )
        prev_hash = new_hash
    seal_key = own if forger == "own key id" else wrong
    AuditChainHead.objects.filter(pk=1).update(
        last_hash=prev_hash, key_id=seal_key.key_id, seal=audit.seal_head(rows[-1].sequence, prev_hash, key=seal_key)
    )
    checked, problem = audit.verify_chain()
    assert (problem.sequence, problem.public_id) == (target.sequence, str(target.public_id))
    if forger == "own key id":
        assert "not configured" in problem.problem
    else:
        assert "content was changed" in problem.problem
    with pytest.raises(SystemExit):
        call_command("portal_social_audit", "verify")
    assert f"event {target.sequence} ({target.public_id})" in capsys.readouterr().err


# Keys


@pytest.mark.django_db
def test_events_signed_under_an_old_key_verify_after_rotation(settings):
    settings.PORTAL_SOCIAL_AUDIT_KEYS = [OLD_KEY]
    before = _events(2)
    settings.PORTAL_SOCIAL_AUDIT_KEYS = f"{NEW_KEY}, {OLD_KEY}"  # as read from the environment
    after = _events(2)
    old_id, new_id = (audit.key_fingerprint(key.encode()) for key in (OLD_KEY, NEW_KEY))
    assert [event.key_id for event in before + after] == [old_id, old_id, new_id, new_id]
    assert _head().key_id == new_id
    assert audit.verify_chain()[1] is None
    # Every event before the rotation still needs the old key listed.
    earliest = AuditEvent.objects.order_by("sequence").first()
    settings.PORTAL_SOCIAL_AUDIT_KEYS = [NEW_KEY]
    checked, problem = audit.verify_chain()
    assert problem.sequence == earliest.sequence
    assert "not configured" in problem.problem


@pytest.mark.django_db
def test_audit_key_is_derived_from_the_encryption_key_when_none_is_set(settings):
    settings.PORTAL_SOCIAL_AUDIT_KEYS = []
    [event] = _events(1)
    material = base64.urlsafe_b64decode(settings.PORTAL_SOCIAL_ENCRYPTION_KEYS[0])
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=audit.DERIVED_KEY_INFO).derive(material)
    assert audit.signing_key() == audit.AuditKey(audit.key_fingerprint(derived), derived)
    assert event.key_id == audit.key_fingerprint(derived)
    # The stored id names the key without being (part of) it.
    assert event.key_id.encode() not in derived.hex().encode() + material + derived
    settings.PORTAL_SOCIAL_AUDIT_KEYS = [NEW_KEY, OLD_KEY]
    assert audit.signing_key().key_id != event.key_id


@pytest.mark.django_db
@pytest.mark.parametrize("keys", [["too-short"], [NEW_KEY, NEW_KEY], [NEW_KEY, 42], 42])
def test_malformed_audit_keys_are_a_system_check_error_that_never_prints_a_key(settings, keys):
    settings.PORTAL_SOCIAL_AUDIT_KEYS = keys
    [error] = portal_checks.check_audit_keys()
    assert error.id == "portal_social.E017"
    assert error.level == checks.ERROR
    assert "secrets.token_urlsafe" in error.hint
    assert "too-short" not in error.msg and NEW_KEY not in error.msg
    # Nothing is signed with a bad key either.
    with pytest.raises(ImproperlyConfigured, match="PORTAL_SOCIAL_AUDIT_KEYS"):
        audit.record("test.event")


def test_well_formed_audit_keys_pass_the_system_check(settings):
    settings.PORTAL_SOCIAL_AUDIT_KEYS = f"{NEW_KEY},{OLD_KEY}"
    assert portal_checks.check_audit_keys() == []
    settings.PORTAL_SOCIAL_AUDIT_KEYS = []
    assert portal_checks.check_audit_keys() == []


# Anchoring the head outside the database


class AnchoringAdapter(PortalAdapter):
    """Keeps anchors in a list, as a host would in storage the database cannot reach."""

    anchors: list = []

    def anchor_audit_head(self, *, sequence, head_hash, at):
        self.anchors.append((sequence, head_hash, at))

    def latest_audit_anchor(self):
        return self.anchors[-1][:2] if self.anchors else None


@pytest.fixture
def anchoring_adapter(settings):
    settings.PORTAL_SOCIAL_ADAPTER = "tests.core.test_audit.AnchoringAdapter"
    AnchoringAdapter.anchors = []
    yield AnchoringAdapter
    AnchoringAdapter.anchors = []


@pytest.mark.django_db
def test_anchor_command_and_task_hand_the_head_to_the_adapter(anchoring_adapter, settings, capsys):
    from portal_social.core.audit_tasks import anchor_audit_head

    _events(3)
    head = _head()
    call_command("portal_social_audit", "anchor")
    assert f"event {head.sequence}" in capsys.readouterr().out
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    result = anchor_audit_head.enqueue()
    assert result.return_value == {"sequence": head.sequence, "head_hash": head.last_hash}
    assert [anchor[:2] for anchor in anchoring_adapter.anchors] == [(head.sequence, head.last_hash)] * 2
    assert all(anchor[2].tzinfo is not None for anchor in anchoring_adapter.anchors)


@pytest.mark.django_db
def test_default_anchor_hook_logs_hashes_only(make_user, caplog):
    user = make_user(roles.PATIENT, username="anchor-canary-name")
    audit.record("phi.read", actor=user, target=user, patient=user, reason="anchor-canary-reason")
    with caplog.at_level(logging.INFO, logger="portal_social.audit"):
        sequence, head_hash = audit.anchor_head()
    [message] = [r.getMessage() for r in caplog.records if r.name == "portal_social.audit"]
    assert f"sequence={sequence}" in message and head_hash in message
    assert "anchor-canary" not in message


@pytest.mark.django_db
def test_anchor_refuses_a_head_moved_without_the_key(anchoring_adapter, capsys):
    events = _events(3)
    _tamper("DELETE FROM portal_social_auditevent WHERE id = %s", [events[-1].pk])
    AuditChainHead.objects.filter(pk=1).update(sequence=events[-2].sequence, last_hash=events[-2].hash)
    with pytest.raises(SystemExit) as exit_info:
        call_command("portal_social_audit", "anchor")
    assert exit_info.value.code == 1
    assert "not anchored" in capsys.readouterr().err
    assert anchoring_adapter.anchors == []


@pytest.mark.django_db
def test_verify_compares_with_the_latest_external_anchor(anchoring_adapter, capsys):
    """A head replayed from an earlier, genuinely sealed state is caught only by the anchor."""
    _events(3)
    earlier = _head()
    removed = _events(2)
    audit.anchor_head()
    for event in removed:
        _tamper("DELETE FROM portal_social_auditevent WHERE id = %s", [event.pk])
    AuditChainHead.objects.filter(pk=1).update(
        sequence=earlier.sequence, last_hash=earlier.last_hash, key_id=earlier.key_id, seal=earlier.seal
    )
    assert audit.verify_chain(check_anchor=False)[1] is None
    checked, problem = audit.verify_chain()
    assert (problem.sequence, problem.public_id) == (removed[-1].sequence, "anchor")
    assert "events were removed" in problem.problem
    with pytest.raises(SystemExit):
        call_command("portal_social_audit", "verify")
    assert "anchored outside the database" in capsys.readouterr().err
    call_command("portal_social_audit", "verify", "--no-anchor")


@pytest.mark.django_db
def test_verify_catches_an_anchored_event_rewritten_in_place(anchoring_adapter):
    _events(2)
    audit.anchor_head()
    anchored = AuditEvent.objects.order_by("-sequence").first()
    anchoring_adapter.anchors[-1] = (anchored.sequence, "0" * 63 + "1", anchoring_adapter.anchors[-1][2])
    checked, problem = audit.verify_chain()
    assert (problem.sequence, problem.public_id) == (anchored.sequence, str(anchored.public_id))
    assert "anchored outside the database" in problem.problem


# Upgrading a database whose chain was hashed without a key

BEFORE_KEYS = [("portal_social", "0006_encrypt_rendered_html")]


def _legacy_chain_intact(Event, Head):
    prev_hash = audit.GENESIS_HASH
    for expected, event in enumerate(Event.objects.order_by("sequence"), start=1):
        if (event.sequence, event.prev_hash) != (expected, prev_hash) or event.hash != _unkeyed_hash(
            prev_hash, _content(event)
        ):
            return False
        prev_hash = event.hash
    head = Head.objects.get(pk=1)
    return (head.sequence, head.last_hash) == (Event.objects.count(), prev_hash)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("tampered", [False, True])
def test_upgrade_reseals_an_unkeyed_chain_under_the_key_and_records_it(tampered):
    from django.db.migrations.executor import MigrationExecutor
    from django.utils import timezone

    with audit.database_guard_lifted(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM portal_social_auditevent")
    AuditChainHead.objects.all().delete()
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE_KEYS)
    try:
        old_apps = executor.loader.project_state(BEFORE_KEYS).apps
        Event, Head = (old_apps.get_model("portal_social", name) for name in ("AuditEvent", "AuditChainHead"))
        prev_hash = audit.GENESIS_HASH
        for sequence in (1, 2, 3):
            event = Event(
                sequence=sequence,
                public_id=uuid.uuid4(),
                occurred_at=timezone.now(),
                action="test.legacy",
                target_type="tests.thing",
                target_id=str(sequence),
                details={"n": sequence},
                prev_hash=prev_hash,
            )
            event.hash = _unkeyed_hash(prev_hash, _content(event))
            event.save()
            prev_hash = event.hash
        Head.objects.update_or_create(pk=1, defaults={"sequence": 3, "last_hash": prev_hash})
        if tampered:
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute("ALTER TABLE portal_social_auditevent DISABLE TRIGGER USER")
                cursor.execute("UPDATE portal_social_auditevent SET reason = 'edited' WHERE sequence = 2")
                if connection.vendor == "postgresql":
                    cursor.execute("ALTER TABLE portal_social_auditevent ENABLE TRIGGER USER")

        MigrationExecutor(connection).migrate(latest)

        assert audit.verify_chain() == (4, None)
        assert audit.database_guard_installed(connection)
        assert set(AuditEvent.objects.values_list("key_id", flat=True)) == {audit.signing_key().key_id}
        reseal = AuditEvent.objects.get(sequence=4)
        assert reseal.action == "audit.reseal"
        assert reseal.details["events"] == 3
        if tampered:
            assert reseal.severity == "high"
            assert reseal.details["legacy_chain"].startswith("broken at event 2 (")
        else:
            assert (reseal.severity, reseal.details["legacy_chain"]) == ("notice", "intact")
        audit.record("test.after_upgrade")
        assert audit.verify_chain()[1] is None

        # Unapplying puts the unkeyed hashes back, so the code before still verifies.
        executor = MigrationExecutor(connection)
        executor.migrate(BEFORE_KEYS)
        old_apps = executor.loader.project_state(BEFORE_KEYS).apps
        Event, Head = (old_apps.get_model("portal_social", name) for name in ("AuditEvent", "AuditChainHead"))
        assert _legacy_chain_intact(Event, Head)
    finally:
        MigrationExecutor(connection).migrate(latest)


# Retiring a key


@pytest.mark.django_db
def test_reseal_lets_an_old_key_be_removed(settings, capsys):
    settings.PORTAL_SOCIAL_AUDIT_KEYS = [OLD_KEY]
    _events(3)
    settings.PORTAL_SOCIAL_AUDIT_KEYS = [NEW_KEY, OLD_KEY]
    _events(1)
    call_command("portal_social_audit", "reseal")
    assert "re-sealed" in capsys.readouterr().out
    settings.PORTAL_SOCIAL_AUDIT_KEYS = [NEW_KEY]
    new_id = audit.key_fingerprint(NEW_KEY.encode())
    assert set(AuditEvent.objects.values_list("key_id", flat=True)) == {new_id}
    assert audit.verify_chain()[1] is None
    reseal = AuditEvent.objects.order_by("-sequence").first()
    assert reseal.action == "audit.reseal"
    assert audit.key_fingerprint(OLD_KEY.encode()) in reseal.details["from_key_ids"]
    assert reseal.details["to_key_id"] == new_id


@pytest.mark.django_db
def test_reseal_refuses_a_broken_chain_and_changes_nothing(settings, capsys):
    events = _events(3)
    _tamper("UPDATE portal_social_auditevent SET reason = %s WHERE id = %s", ["innocent", events[1].pk])
    before = list(AuditEvent.objects.order_by("sequence").values_list("hash", "key_id"))
    with pytest.raises(SystemExit) as exit_info:
        call_command("portal_social_audit", "reseal")
    assert exit_info.value.code == 1
    assert f"event {events[1].sequence}" in capsys.readouterr().err
    assert list(AuditEvent.objects.order_by("sequence").values_list("hash", "key_id")) == before
    assert audit.database_guard_installed(connection)


@pytest.mark.django_db
def test_moving_from_the_derived_key_to_an_audit_key_needs_an_explicit_reseal(settings):
    settings.PORTAL_SOCIAL_AUDIT_KEYS = []
    _events(2)
    settings.PORTAL_SOCIAL_AUDIT_KEYS = [NEW_KEY]
    assert "not configured" in audit.verify_chain()[1].problem
    with pytest.raises(audit.ChainBroken):
        audit.reseal_chain()
    call_command("portal_social_audit", "reseal", "--accept-derived-keys")
    assert audit.verify_chain()[1] is None


@pytest.mark.django_db
def test_database_guard_is_installed_by_the_migrations():
    # SQLite drops a table's triggers when a later migration rebuilds it.
    assert audit.database_guard_installed(connection) is True
