"""The example portal's environments and demo data."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from portal_social.core import caregivers, roles

EXAMPLE_SITE = Path(__file__).resolve().parents[2] / "example_site"
KEY = "dGhpcy1pcy1hLXRlc3Qtb25seS1rZXktMzItYnl0ZXM="


def _manage(*args, env_overrides):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=EXAMPLE_SITE, env=env, capture_output=True, text=True, timeout=120
    )


PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "example_site.settings.production",
    "SECRET_KEY": secrets.token_urlsafe(60),
    "ALLOWED_HOSTS": "portal.example.org",
    "DATABASE_URL": "postgres://portal:secret@127.0.0.1:5432/portal",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "PORTAL_SOCIAL_ENCRYPTION_KEYS": KEY,
}


def test_production_settings_pass_check_deploy_with_no_warnings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env_overrides=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL", "REDIS_URL", "PORTAL_SOCIAL_ENCRYPTION_KEYS"])
def test_production_settings_name_the_missing_environment_variable(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = _manage("check", env_overrides=env)
    assert result.returncode != 0
    assert f"Set the {missing} environment variable" in result.stderr
    assert "Traceback" not in result.stderr.splitlines()[-1]


def _database_options(**overrides) -> subprocess.CompletedProcess:
    show = "from django.conf import settings; print(repr(settings.DATABASES['default'].get('OPTIONS', {}).get('pool')))"
    return _manage("shell", "-c", show, env_overrides={**PRODUCTION_ENV, **overrides})


@pytest.mark.parametrize(
    ("pool_setting", "expected"),
    [(None, "'max_size': 8,"), ("", "'max_size': 8,"), ("3", "'max_size': 3,"), ("0", "None")],
)
def test_production_pools_eight_connections_per_process_unless_told(pool_setting, expected):
    overrides = {} if pool_setting is None else {"PORTAL_DB_POOL_MAX_SIZE": pool_setting}
    result = _database_options(**overrides)
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout


@pytest.mark.parametrize("bad", ["eight", "-1", "2.5"])
def test_production_refuses_a_pool_size_that_is_not_a_whole_number(bad):
    result = _database_options(PORTAL_DB_POOL_MAX_SIZE=bad)
    assert result.returncode != 0
    assert "Set PORTAL_DB_POOL_MAX_SIZE to a whole number" in result.stderr


def test_production_with_malformed_key_fails_check_naming_the_setting():
    result = _manage("check", env_overrides={**PRODUCTION_ENV, "PORTAL_SOCIAL_ENCRYPTION_KEYS": "oops"})
    assert result.returncode != 0
    assert "portal_social.E001" in result.stderr
    assert "oops" not in result.stderr


@pytest.mark.django_db
def test_no_model_changes_are_missing_a_migration():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db
def test_seed_demo_creates_every_demo_user_in_role_and_is_idempotent(capsys):
    call_command("seed_demo")
    first = capsys.readouterr().out
    invitations_first = _invitation_rows()
    call_command("seed_demo")
    User = get_user_model()
    expected = {
        "patient1": roles.PATIENT,
        "patient2": roles.PATIENT,
        "caregiver1": roles.CAREGIVER,
        "clinician1": roles.CLINICIAN,
        "clinician2": roles.CLINICIAN,
        "nurse1": roles.CARE_TEAM,
        "moderator1": roles.COMMUNITY_MODERATOR,
        "px1": roles.PATIENT_EXPERIENCE,
        "risk1": roles.RISK_MANAGER,
        "admin": roles.PORTAL_ADMINISTRATOR,
    }
    # guardian keeps its own "AnonymousUser" row; the demo adds exactly these.
    # Besides "reviewerNN" sample patients who wrote the demo reviews.
    assert User.objects.exclude(username="AnonymousUser").exclude(username__startswith="reviewer").count() == len(
        expected
    )
    for username, role in expected.items():
        user = User.objects.get(username=username)
        assert roles.has_role(user, role), username
        assert user.check_password("riverside-demo-2026")
        assert user.emailaddress_set.filter(verified=True, primary=True).count() == 1
    assert User.objects.get(username="admin").is_superuser
    assert caregivers.is_proxy_for(
        User.objects.get(username="caregiver1"), User.objects.get(username="patient1"), "messaging"
    )
    assert "/accounts/login/" in first and "riverside-demo-2026" in first
    _assert_demo_invitations(invitations_first)


def _invitation_rows() -> dict:
    from portal_social.core.notify.models import Notification
    from portal_social.profiles.invitation_models import InvitationOptOut, ReviewInvitation, Visit
    from portal_social.profiles.models import Review

    return {
        "visits": Visit.objects.count(),
        "opt_outs": InvitationOptOut.objects.count(),
        "invitations": sorted(
            ReviewInvitation.objects.values_list("encounter_digest", "status", "not_sent_reason", "review_id")
        ),
        "invitation_emails": Notification.objects.filter(key="review.invitation").count(),
        "reviews": Review.objects.count(),
    }


def _assert_demo_invitations(after_first_run: dict) -> None:
    """seed_demo's review invitations: every status, the reasons for not sending, an opt-out; once only."""
    from portal_social.profiles.actions import invitations
    from portal_social.profiles.invitation_models import InvitationOptOut, ReviewInvitation, Visit

    User = get_user_model()
    statuses = set(ReviewInvitation.objects.values_list("status", flat=True))
    assert {"sent", "opened", "completed", "expired", "not_sent"} <= statuses, statuses
    reasons = set(ReviewInvitation.objects.filter(status="not_sent").values_list("not_sent_reason", flat=True))
    assert {"opted_out", "excluded", "unknown_clinician", "recent", "capped"} <= reasons, reasons
    patient2 = User.objects.get(username="patient2")
    assert InvitationOptOut.objects.filter(patient=patient2, clinician__isnull=True).exists()
    assert set(ReviewInvitation.objects.filter(patient=patient2).values_list("status", "not_sent_reason")) == {
        ("not_sent", "opted_out")
    }
    completed = ReviewInvitation.objects.get(status="completed")
    assert completed.review is not None and completed.review.author_id == completed.patient_id
    assert completed.review.clinician_id == completed.clinician_id and completed.opened_at is not None
    # Each invitation comes from a demo visit; their encounter ids are only held as digests.
    assert Visit.objects.filter(encounter_digest=invitations.encounter_digests("DEMO-ENC-0001")[0]).exists()
    assert ReviewInvitation.objects.count() == Visit.objects.count() >= 12
    # The second run changed nothing.
    assert _invitation_rows() == after_first_run


@pytest.mark.django_db
def test_demo_users_can_sign_in(client):
    call_command("seed_demo", verbosity=0)
    response = client.post("/accounts/login/", {"login": "patient1", "password": "riverside-demo-2026"})
    assert response.status_code == 302
    assert client.get("/messages/").status_code == 200
