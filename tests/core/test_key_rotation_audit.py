"""Rotating the encryption keys is on the audit record, with fingerprints, never keys."""

import base64
import json

import pytest
from cryptography.fernet import Fernet
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.utils import timezone

from portal_social.core import audit, crypto, roles
from portal_social.core.models import AuditEvent, BreakGlassGrant


def _grants(user, count):
    return [
        BreakGlassGrant.objects.create(
            user=user,
            target_type=ContentType.objects.get_for_model(user),
            target_id=str(user.pk),
            reason=f"reason {i}",
            expires_at=timezone.now(),
        )
        for i in range(count)
    ]


@pytest.mark.django_db
def test_rotation_command_records_one_notice_event_with_counts_and_fingerprints(make_user, settings):
    old = settings.PORTAL_SOCIAL_ENCRYPTION_KEYS[0]
    _grants(make_user(roles.CLINICIAN), 3)
    new = Fernet.generate_key().decode()
    settings.PORTAL_SOCIAL_ENCRYPTION_KEYS = [new, old]

    call_command("portal_social_rotate_keys", "--batch-size", "2")

    event = AuditEvent.objects.get(action="keys.rotated")
    assert event.severity == audit.Severity.NOTICE
    assert event.actor_id is None  # run by the system, from the command line
    assert event.details["rows"]["portal_social.BreakGlassGrant"] == 3
    assert event.details["total"] == sum(event.details["rows"].values())
    assert event.details["current_key_id"] == crypto.key_fingerprint(new)
    assert event.details["key_ids"] == [crypto.key_fingerprint(new), crypto.key_fingerprint(old)]
    # A second run (resuming, or checking) is recorded too, with nothing left to do.
    call_command("portal_social_rotate_keys")
    again = AuditEvent.objects.filter(action="keys.rotated").latest("sequence")
    assert again.details["total"] == 0
    assert audit.verify_chain()[1] is None


@pytest.mark.django_db
def test_the_rotation_event_never_holds_a_key(make_user, settings):
    old = settings.PORTAL_SOCIAL_ENCRYPTION_KEYS[0]
    new = Fernet.generate_key().decode()
    settings.PORTAL_SOCIAL_ENCRYPTION_KEYS = [new, old]
    crypto.rotate_keys()
    event = AuditEvent.objects.get(action="keys.rotated")
    stored = json.dumps(event.details) + event.reason + event.target_id + event.target_type
    for key in (new, old):
        raw = base64.urlsafe_b64decode(key)
        for form in (key, key.rstrip("="), raw.hex(), base64.b64encode(raw).decode()):
            assert form not in stored
            assert form[:16] not in stored


def test_fingerprints_name_keys_stably_and_distinctly():
    first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    assert crypto.key_fingerprint(first) == crypto.key_fingerprint(first)
    assert crypto.key_fingerprint(first) != crypto.key_fingerprint(second)
    assert len(crypto.key_fingerprint(first)) == 16


@pytest.mark.django_db
def test_rotation_refused_for_bad_keys_records_nothing(settings):
    from django.core.exceptions import ImproperlyConfigured

    before = AuditEvent.objects.count()
    settings.PORTAL_SOCIAL_ENCRYPTION_KEYS = ["not-a-key"]
    with pytest.raises(ImproperlyConfigured):
        call_command("portal_social_rotate_keys")
    assert AuditEvent.objects.count() == before
