import pytest
from django.contrib.auth.models import Group

from portal_social import signals
from portal_social.core import roles


@pytest.mark.django_db
def test_migration_creates_every_role_group_with_its_permissions():
    for role in roles.ROLES.values():
        group = Group.objects.get(name=role.group_name)
        held = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        assert set(role.permissions) <= held, role.slug


@pytest.mark.django_db
def test_patient_role_has_no_phi_or_break_glass_permission(make_user):
    patient = make_user(roles.PATIENT)
    assert patient.has_perm("portal_social.participate_community")
    assert not patient.has_perm("portal_social.view_phi")
    assert not patient.has_perm("portal_social.break_glass")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "perm", "expected"),
    [
        (roles.PATIENT, "portal_social.review_clinician", True),
        (roles.CAREGIVER, "portal_social.review_clinician", False),
        (roles.CAREGIVER, "portal_social.view_phi", False),
        (roles.CLINICIAN, "portal_social.view_phi", True),
        (roles.CLINICIAN, "portal_social.work_feedback_cases", False),
        (roles.CARE_TEAM, "portal_social.message_patients", True),
        (roles.COMMUNITY_MODERATOR, "portal_social.moderate_community", True),
        (roles.COMMUNITY_MODERATOR, "portal_social.view_phi", False),
        (roles.COMMUNITY_MENTOR, "portal_social.moderate_community", False),
        (roles.PATIENT_EXPERIENCE, "portal_social.work_feedback_cases", True),
        (roles.PATIENT_EXPERIENCE, "portal_social.view_audit_log", False),
        (roles.RISK_MANAGER, "portal_social.view_audit_log", True),
        (roles.RISK_MANAGER, "portal_social.receive_escalations", True),
        (roles.PORTAL_ADMINISTRATOR, "portal_social.manage_roles", True),
        (roles.PORTAL_ADMINISTRATOR, "portal_social.view_phi", False),
    ],
)
def test_role_permission_matrix(make_user, role, perm, expected):
    assert make_user(role).has_perm(perm) is expected


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_grant_and_revoke_role_change_membership_and_signal_once(make_user):
    user = make_user()
    granted, revoked = [], []

    def on_grant(sender, user, role, granted_by, **kw):
        granted.append(role)

    def on_revoke(sender, user, role, revoked_by, **kw):
        revoked.append(role)

    signals.role_granted.connect(on_grant)
    signals.role_revoked.connect(on_revoke)
    try:
        assert roles.grant_role(user=user, role=roles.CLINICIAN) is True
        assert roles.grant_role(user=user, role=roles.CLINICIAN) is False
        assert roles.has_role(user, roles.CLINICIAN)
        assert roles.revoke_role(user=user, role=roles.CLINICIAN) is True
        assert roles.revoke_role(user=user, role=roles.CLINICIAN) is False
        assert not roles.has_role(user, roles.CLINICIAN)
    finally:
        signals.role_granted.disconnect(on_grant)
        signals.role_revoked.disconnect(on_revoke)
    assert granted == [roles.CLINICIAN]
    assert revoked == [roles.CLINICIAN]


@pytest.mark.django_db
def test_unknown_role_is_refused_with_the_known_roles_named(make_user):
    with pytest.raises(roles.UnknownRole, match="patient"):
        roles.grant_role(user=make_user(), role="surgeon")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "needs_mfa"),
    [
        (roles.PATIENT, False),
        (roles.CAREGIVER, False),
        (roles.CLINICIAN, True),
        (roles.CARE_TEAM, True),
        (roles.COMMUNITY_MODERATOR, True),
        (roles.COMMUNITY_MENTOR, True),
        (roles.PATIENT_EXPERIENCE, True),
        (roles.RISK_MANAGER, True),
        (roles.PORTAL_ADMINISTRATOR, True),
    ],
)
def test_staff_roles_require_mfa_and_patients_do_not(make_user, role, needs_mfa):
    assert roles.requires_mfa(make_user(role)) is needs_mfa


@pytest.mark.django_db
def test_superuser_without_role_requires_mfa(make_user):
    assert roles.requires_mfa(make_user(is_superuser=True))


@pytest.mark.django_db
def test_user_roles_is_one_query_and_cached(make_user, django_assert_num_queries):
    user = make_user([roles.PATIENT, roles.COMMUNITY_MENTOR])
    user = type(user).objects.get(pk=user.pk)
    with django_assert_num_queries(1):
        assert roles.user_roles(user) == {roles.PATIENT, roles.COMMUNITY_MENTOR}
        assert roles.has_role(user, roles.PATIENT)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("actor_role", "allowed"), [(roles.PORTAL_ADMINISTRATOR, True), (roles.RISK_MANAGER, False), (roles.PATIENT, False)]
)
def test_only_role_managers_may_grant_or_revoke_roles(make_user, actor_role, allowed):
    actor, target = make_user(actor_role), make_user()
    if allowed:
        assert roles.grant_role(user=target, role=roles.CLINICIAN, granted_by=actor)
        assert roles.revoke_role(user=target, role=roles.CLINICIAN, revoked_by=actor)
    else:
        with pytest.raises(roles.RoleChangeDenied):
            roles.grant_role(user=target, role=roles.CLINICIAN, granted_by=actor)
        assert not roles.has_role(target, roles.CLINICIAN)


@pytest.mark.django_db
def test_deleted_role_group_is_recreated_with_its_permissions(make_user):
    Group.objects.filter(name=roles.GROUP_NAMES[roles.CLINICIAN]).delete()
    clinician = make_user(roles.CLINICIAN)
    assert type(clinician).objects.get(pk=clinician.pk).has_perm("portal_social.break_glass")
