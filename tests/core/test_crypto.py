"""Encryption at rest: no plaintext in the database or on disk, keys rotate.

These canaries cover one encrypted column; tests/privacy walks every field a
person can write and searches the whole database for it.
"""

import os
import subprocess

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from portal_social.core import crypto, roles
from portal_social.core.models import BreakGlassGrant

CANARY = "CANARY-7f3a9c-patient-was-admitted-for-chest-pain"


def _grant(user, reason=CANARY):
    from django.contrib.contenttypes.models import ContentType

    return BreakGlassGrant.objects.create(
        user=user,
        target_type=ContentType.objects.get_for_model(user),
        target_id=str(user.pk),
        reason=reason,
        expires_at=timezone.now(),
    )


@pytest.mark.django_db
def test_field_round_trips_and_stores_only_a_token(make_user):
    grant = _grant(make_user(roles.CLINICIAN))
    assert BreakGlassGrant.objects.get(pk=grant.pk).reason == CANARY
    with connection.cursor() as cursor:
        cursor.execute("SELECT reason FROM portal_social_breakglassgrant")
        [(raw,)] = cursor.fetchall()
    assert raw.startswith("fernet:")
    assert "CANARY" not in raw


@pytest.mark.django_db
def test_sqlite_database_bytes_hold_no_plaintext(make_user):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite run")
    _grant(make_user(roles.CLINICIAN))
    connection.ensure_connection()
    # The exact bytes of the database file SQLite would write.
    data = connection.connection.serialize()
    assert b"portal_social_breakglassgrant" in data  # the table really is in this file
    assert CANARY.encode() not in data
    assert b"chest pain" not in data and b"CANARY" not in data


# serialized_rollback: the flush after a committed test would otherwise take
# the migrations' data (roles, Wagtail's page tree) from the tests after it.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_pg_dump_holds_no_plaintext(make_user):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL run")
    pg_bin = os.environ.get("PORTAL_SOCIAL_PG_BIN", "")
    pg_dump = os.path.join(pg_bin, "pg_dump") if pg_bin else "pg_dump"
    _grant(make_user(roles.CLINICIAN))
    db = connection.settings_dict
    dump = subprocess.run(
        [pg_dump, "-h", db["HOST"], "-p", str(db["PORT"]), "-U", db["USER"], "-d", db["NAME"], "--data-only"],
        capture_output=True,
        check=True,
        timeout=120,
        env={**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""},
    ).stdout
    assert b"fernet:" in dump  # the encrypted row is in the dump
    assert CANARY.encode() not in dump


@pytest.mark.django_db
@pytest.mark.parametrize("keys", [[], ["not-a-key"]])
def test_missing_or_malformed_keys_refuse_to_write(make_user, settings, keys):
    user = make_user(roles.CLINICIAN)
    settings.PORTAL_SOCIAL_ENCRYPTION_KEYS = keys
    with pytest.raises(ImproperlyConfigured, match="PORTAL_SOCIAL_ENCRYPTION_KEYS"), transaction.atomic():
        _grant(user)
    settings.PORTAL_SOCIAL_ENCRYPTION_KEYS = ["dGhpcy1pcy1hLXRlc3Qtb25seS1rZXktMzItYnl0ZXM="]
    assert not BreakGlassGrant.objects.exists()


@pytest.mark.django_db
def test_removed_key_gives_a_clear_error_not_garbage(make_user, settings):
    grant = _grant(make_user(roles.CLINICIAN))
    settings.PORTAL_SOCIAL_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(crypto.DecryptionFailed, match="rotate"):
        BreakGlassGrant.objects.get(pk=grant.pk)


@pytest.mark.django_db
def test_rotation_re_encrypts_under_new_key_and_can_be_resumed(make_user, settings, capsys):
    old = settings.PORTAL_SOCIAL_ENCRYPTION_KEYS[0]
    user = make_user(roles.CLINICIAN)
    grants = [_grant(user, reason=f"{CANARY}-{i}") for i in range(5)]
    new = Fernet.generate_key().decode()
    settings.PORTAL_SOCIAL_ENCRYPTION_KEYS = [new, old]
    call_command("portal_social_rotate_keys", "--batch-size", "2")
    assert "5 rows re-encrypted" in capsys.readouterr().out
    # Running again (as after an interruption) skips what is already done.
    call_command("portal_social_rotate_keys")
    assert "0 rows re-encrypted" in capsys.readouterr().out
    settings.PORTAL_SOCIAL_ENCRYPTION_KEYS = [new]
    assert [BreakGlassGrant.objects.get(pk=g.pk).reason for g in grants] == [f"{CANARY}-{i}" for i in range(5)]


@pytest.mark.django_db
def test_rotation_with_bad_keys_stops_before_touching_anything(settings):
    settings.PORTAL_SOCIAL_ENCRYPTION_KEYS = []
    with pytest.raises(ImproperlyConfigured):
        call_command("portal_social_rotate_keys")


def test_encrypted_storage_keeps_no_plaintext_on_disk_and_rotates(tmp_path, settings):
    storage = crypto.EncryptedFileSystemStorage(location=tmp_path)
    name = storage.save("attachments/lab.txt", ContentFile(CANARY.encode()))
    on_disk = (tmp_path / name).read_bytes()
    assert on_disk.startswith(b"fernet:") and CANARY.encode() not in on_disk
    with storage.open(name) as handle:
        assert handle.read() == CANARY.encode()
    assert storage.size(name) == len(CANARY)

    old = settings.PORTAL_SOCIAL_ENCRYPTION_KEYS[0]
    new = Fernet.generate_key().decode()
    settings.PORTAL_SOCIAL_ENCRYPTION_KEYS = [new, old]
    assert storage.rotate(name) is True
    assert storage.rotate(name) is False
    settings.PORTAL_SOCIAL_ENCRYPTION_KEYS = [new]
    with storage.open(name) as handle:
        assert handle.read() == CANARY.encode()


def test_encrypted_storage_refuses_plain_files(tmp_path):
    (tmp_path / "plain.txt").write_bytes(b"hello")
    storage = crypto.EncryptedFileSystemStorage(location=tmp_path)
    with pytest.raises(crypto.DecryptionFailed):
        storage.open("plain.txt")


@pytest.mark.django_db
def test_rotation_covers_mfa_secrets(make_user, settings):
    from allauth.mfa.models import Authenticator

    from portal_social.core.mfa import PortalMFAAdapter
    from tests.factories import enrol_totp

    user = make_user(roles.CLINICIAN)
    secret = enrol_totp(user)
    old = settings.PORTAL_SOCIAL_ENCRYPTION_KEYS[0]
    new = Fernet.generate_key().decode()
    settings.PORTAL_SOCIAL_ENCRYPTION_KEYS = [new, old]
    call_command("portal_social_rotate_keys")
    settings.PORTAL_SOCIAL_ENCRYPTION_KEYS = [new]
    stored = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP).data["secret"]
    assert PortalMFAAdapter().decrypt(stored) == secret
