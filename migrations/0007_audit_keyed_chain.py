"""Key the audit chain and guard it in the database on PostgreSQL and SQLite.

Events were hashed with plain SHA-256, which anyone who can write to the
database can recompute. From here on every event carries an HMAC-SHA256 under
an audit key kept in settings (``PORTAL_SOCIAL_AUDIT_KEYS``, or derived from
``PORTAL_SOCIAL_ENCRYPTION_KEYS``) and the id of that key, and the chain head
carries a seal over its sequence number and last hash.

Events written before this migration are re-sealed once under the current
key, so ``portal_social_audit verify`` passes after the upgrade. The old chain
is checked first, and the result is itself recorded: the migration appends an
``audit.reseal`` event saying how many events were re-sealed and whether the
old chain was intact (severity "high", naming the first broken event, when it
was not). Re-sealing needs a key: with events present and no key configured
the migration stops and says what to set.

The trigger that refused UPDATE and DELETE on PostgreSQL is dropped while the
rows are re-sealed, then replaced by one that also refuses TRUNCATE and any
INSERT that does not extend the chain; SQLite gets the same triggers. Unapplying
puts the old hashes and the old PostgreSQL trigger back.
"""

import datetime
import hashlib
import json
import uuid

from django.db import migrations, models
from django.db.models import Q
from django.utils import timezone

GENESIS_HASH = "0" * 64
BATCH_SIZE = 2000

#: The PostgreSQL trigger of migration 0003, put back when unapplying.
LEGACY_GUARD_SQL = """
CREATE OR REPLACE FUNCTION portal_social_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'portal_social audit events are append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS portal_social_audit_append_only ON portal_social_auditevent;
CREATE TRIGGER portal_social_audit_append_only
    BEFORE UPDATE OR DELETE ON portal_social_auditevent
    FOR EACH ROW EXECUTE FUNCTION portal_social_audit_append_only();
"""

#: The fields the unkeyed scheme hashed, frozen here so unapplying can
#: recompute it whatever the code does later.
LEGACY_FIELDS = (
    "sequence",
    "public_id",
    "occurred_at",
    "actor_id",
    "actor_label",
    "action",
    "severity",
    "target_type",
    "target_id",
    "patient_id",
    "ip_address",
    "user_agent",
    "reason",
    "details",
)


def _legacy_canonical(value):
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if value is None or isinstance(value, dict | list | bool | int):
        return value
    return str(value)


def _legacy_hash(prev_hash, event):
    payload = json.dumps(
        {name: _legacy_canonical(getattr(event, name)) for name in LEGACY_FIELDS},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256((prev_hash + payload).encode("ascii")).hexdigest()


def _batches(AuditEvent, using):
    """Every event in (sequence, id) order, in keyset batches (rows are rewritten as we go)."""
    after = None
    while True:
        events = AuditEvent.objects.using(using).order_by("sequence", "id")
        if after is not None:
            events = events.filter(Q(sequence__gt=after[0]) | Q(sequence=after[0], id__gt=after[1]))
        batch = list(events[:BATCH_SIZE])
        if not batch:
            return
        yield batch
        after = (batch[-1].sequence, batch[-1].pk)


def _legacy_problem(AuditEvent, head, using):
    """The first problem of the unkeyed chain as the old ``verify`` saw it, or None."""
    expected_sequence, expected_prev = 1, GENESIS_HASH
    for batch in _batches(AuditEvent, using):
        for event in batch:
            where = f"event {event.sequence} ({event.public_id})"
            if event.sequence != expected_sequence:
                return f"{where}: expected sequence number {expected_sequence}"
            if event.prev_hash != expected_prev:
                return f"{where}: it does not link to the event before it"
            if _legacy_hash(event.prev_hash, event) != event.hash:
                return f"{where}: its content was changed"
            expected_sequence, expected_prev = expected_sequence + 1, event.hash
    if head is None or head.sequence != expected_sequence - 1 or head.last_hash != expected_prev:
        return "the chain head does not match the last event"
    return None


def drop_legacy_guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS portal_social_audit_append_only ON portal_social_auditevent")


def restore_legacy_guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(LEGACY_GUARD_SQL, params=None)


def reseal_under_key(apps, schema_editor):
    from django.core.exceptions import ImproperlyConfigured

    from portal_social.core.audit import compute_hash, seal_head, signing_key

    AuditEvent = apps.get_model("portal_social", "AuditEvent")
    AuditChainHead = apps.get_model("portal_social", "AuditChainHead")
    using = schema_editor.connection.alias
    head = AuditChainHead.objects.using(using).filter(pk=1).first()
    has_events = AuditEvent.objects.using(using).exists()
    try:
        key = signing_key()
    except ImproperlyConfigured as exc:
        if has_events:
            raise ImproperlyConfigured(
                f"Migration 0007 re-seals the existing audit events under the audit key, and there is none: {exc}"
            ) from exc
        return  # nothing to seal yet: record() seals the head with the first event
    if not has_events:
        AuditChainHead.objects.using(using).update_or_create(
            pk=1,
            defaults={
                "sequence": 0,
                "last_hash": GENESIS_HASH,
                "key_id": key.key_id,
                "seal": seal_head(0, GENESIS_HASH, key=key),
            },
        )
        return

    legacy_problem = _legacy_problem(AuditEvent, head, using)
    prev_hash, count, last_sequence = GENESIS_HASH, 0, 0
    for batch in _batches(AuditEvent, using):
        for event in batch:
            content = {name: getattr(event, name) for name in LEGACY_FIELDS}
            new_hash = compute_hash(prev_hash, content, key=key)
            AuditEvent.objects.using(using).filter(pk=event.pk).update(
                prev_hash=prev_hash, hash=new_hash, key_id=key.key_id
            )
            prev_hash, count, last_sequence = new_hash, count + 1, event.sequence

    # The re-sealing is itself on the record, with what the old chain looked like.
    reseal = AuditEvent(
        sequence=last_sequence + 1,
        public_id=uuid.uuid4(),
        occurred_at=timezone.now(),
        actor_id=None,
        actor_label="",
        action="audit.reseal",
        severity="high" if legacy_problem else "notice",
        target_type="",
        target_id="",
        patient_id=None,
        ip_address=None,
        user_agent="",
        reason="unkeyed SHA-256 chain re-sealed under the audit key (migration 0007)",
        details={
            "events": count,
            "legacy_chain": "intact" if legacy_problem is None else f"broken at {legacy_problem}"[:300],
        },
        prev_hash=prev_hash,
        key_id=key.key_id,
    )
    reseal.hash = compute_hash(prev_hash, {name: getattr(reseal, name) for name in LEGACY_FIELDS}, key=key)
    reseal.save(using=using, force_insert=True)
    AuditChainHead.objects.using(using).update_or_create(
        pk=1,
        defaults={
            "sequence": reseal.sequence,
            "last_hash": reseal.hash,
            "key_id": key.key_id,
            "seal": seal_head(reseal.sequence, reseal.hash, key=key),
        },
    )


def restore_unkeyed_hashes(apps, schema_editor):
    AuditEvent = apps.get_model("portal_social", "AuditEvent")
    AuditChainHead = apps.get_model("portal_social", "AuditChainHead")
    using = schema_editor.connection.alias
    prev_hash, last_sequence = GENESIS_HASH, 0
    for batch in _batches(AuditEvent, using):
        for event in batch:
            new_hash = _legacy_hash(prev_hash, event)
            AuditEvent.objects.using(using).filter(pk=event.pk).update(prev_hash=prev_hash, hash=new_hash)
            prev_hash, last_sequence = new_hash, event.sequence
    AuditChainHead.objects.using(using).update_or_create(
        pk=1, defaults={"sequence": last_sequence, "last_hash": prev_hash}
    )


def install_guard(apps, schema_editor):
    from portal_social.core.audit import install_database_guard

    install_database_guard(schema_editor.connection)


def remove_guard(apps, schema_editor):
    from portal_social.core.audit import remove_database_guard

    remove_database_guard(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("portal_social", "0006_encrypt_rendered_html"),
    ]

    operations = [
        migrations.RunPython(drop_legacy_guard, restore_legacy_guard),
        migrations.AddField(
            model_name="auditevent",
            name="key_id",
            field=models.CharField(default="", editable=False, max_length=16),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditchainhead",
            name="key_id",
            field=models.CharField(blank=True, default="", max_length=16),
        ),
        migrations.AddField(
            model_name="auditchainhead",
            name="seal",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.RunPython(reseal_under_key, restore_unkeyed_hashes),
        migrations.RunPython(install_guard, remove_guard),
    ]
