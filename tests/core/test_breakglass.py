"""Break-the-glass: reasoned, expiring, audited, notified, never for patients."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from portal_social.core import access, breakglass, roles
from portal_social.core.models import AuditEvent, BreakGlassGrant, CaregiverRelation

REASON = "Patient unconscious in ED, need proxy contacts now"


@pytest.fixture
def phi_links():
    """Mark viewing a caregiver link as opening PHI, for these tests only."""

    def _nobody(user, obj):
        return False

    access.rule(CaregiverRelation, "view", phi=True)(_nobody)
    yield
    access._rules[(CaregiverRelation, "view")] = [
        r for r in access._rules[(CaregiverRelation, "view")] if r.rule is not _nobody
    ]


@pytest.fixture
def link(make_user):
    from portal_social.core import caregivers

    patient, helper = make_user(roles.PATIENT), make_user()
    return caregivers.link_caregiver(actor=patient, caregiver=helper, patient=patient, scopes=["messaging"])


@pytest.fixture
def clinician(make_user):
    return make_user(roles.CLINICIAN, mfa=True)


@pytest.mark.django_db
def test_clinician_with_reason_opens_the_record_and_it_is_audited_high(phi_links, link, clinician, make_user):
    assert not access.can(clinician, "view", link)
    grant = breakglass.break_the_glass(user=clinician, obj=link, reason=REASON, patient=link.patient)
    assert access.can(clinician, "view", link)
    access.require(clinician, "view", link, patient=link.patient)
    opened = AuditEvent.objects.get(action="break_glass.open")
    assert opened.severity == "high" and opened.actor_id == clinician.pk and opened.patient_id == link.patient_id
    assert str(grant.pk) in opened.reason and REASON not in opened.reason
    assert AuditEvent.objects.filter(action="break_glass.read", severity="high").count() == 1
    # The emergency read keeps its own event: it is not also counted as an ordinary PHI read.
    assert not AuditEvent.objects.filter(action="phi.read").exists()
    read = AuditEvent.objects.get(action="break_glass.read")
    assert read.patient_id == link.patient_id and read.details == {"action": "view"}
    assert list(access.visible(clinician, CaregiverRelation.objects.all())) == [link]
    assert BreakGlassGrant.objects.get().reason == REASON


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_risk_managers_are_notified_without_phi(phi_links, link, clinician, make_user):
    risk = make_user(roles.RISK_MANAGER)
    breakglass.break_the_glass(user=clinician, obj=link, reason=REASON)
    [message] = [m for m in mail.outbox if risk.email in m.to]
    assert "Emergency access" in message.subject
    assert REASON not in message.body and link.patient.username not in message.body


@pytest.mark.django_db
def test_grant_expires_and_cannot_be_reused(phi_links, link, clinician, settings):
    settings.PORTAL_SOCIAL_BREAK_GLASS_MINUTES = 60
    grant = breakglass.break_the_glass(user=clinician, obj=link, reason=REASON)
    assert grant.expires_at - grant.created_at == datetime.timedelta(minutes=60)
    BreakGlassGrant.objects.filter(pk=grant.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert not access.can(clinician, "view", link)
    with pytest.raises(access.NotFound):
        access.require(clinician, "view", link)


@pytest.mark.django_db
@pytest.mark.parametrize("role", [roles.PATIENT, roles.CAREGIVER])
def test_patients_and_caregivers_can_never_break_the_glass(phi_links, link, make_user, role):
    from django.contrib.auth.models import Permission

    user = make_user(role, mfa=True)
    user.user_permissions.add(Permission.objects.get(codename="break_glass"))
    user = type(user).objects.get(pk=user.pk)
    with pytest.raises(breakglass.BreakGlassDenied):
        breakglass.break_the_glass(user=user, obj=link, reason=REASON)
    assert not BreakGlassGrant.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "mfa", "allowed"),
    [
        (roles.CLINICIAN, True, True),
        (roles.CARE_TEAM, True, True),
        (roles.CLINICIAN, False, False),
        (roles.PATIENT_EXPERIENCE, True, False),
        (roles.COMMUNITY_MODERATOR, True, False),
        (roles.RISK_MANAGER, True, False),
        ("superuser", True, False),
    ],
)
def test_break_glass_permission_matrix(phi_links, link, make_user, role, mfa, allowed):
    if role == "superuser":
        user = make_user(is_superuser=True, is_staff=True, mfa=mfa)
    else:
        user = make_user(role, mfa=mfa)
    assert breakglass.may_break_glass(user) is allowed


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ["", "   ", "because", "x" * 2001])
def test_reason_is_required_and_bounded(phi_links, link, clinician, reason):
    with pytest.raises(ValidationError):
        breakglass.break_the_glass(user=clinician, obj=link, reason=reason)
    assert not BreakGlassGrant.objects.exists()
    assert not AuditEvent.objects.filter(action="break_glass.open").exists()


@pytest.mark.django_db
def test_objects_without_phi_cannot_be_opened(link, clinician):
    with pytest.raises(ValidationError, match="health information"):
        breakglass.break_the_glass(user=clinician, obj=link, reason=REASON)


@pytest.mark.django_db
def test_break_glass_is_rate_limited(phi_links, link, clinician, settings):
    from portal_social.core.ratelimit import RateLimited

    settings.PORTAL_SOCIAL_RATE_LIMITS = {"break_glass": "2/h"}
    breakglass.break_the_glass(user=clinician, obj=link, reason=REASON)
    breakglass.break_the_glass(user=clinician, obj=link, reason=REASON)
    with pytest.raises(RateLimited, match="try again in"):
        breakglass.break_the_glass(user=clinician, obj=link, reason=REASON)
