"""The access policy: deny by default, 404 for forbidden, SQL filtering, object grants."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import assign_perm

from portal_social.core import access, caregivers, roles
from portal_social.core.models import AuditEvent, CaregiverRelation


@pytest.fixture
def link(make_user):
    patient, helper = make_user(roles.PATIENT), make_user()
    relation = caregivers.link_caregiver(actor=patient, caregiver=helper, patient=patient, scopes=["messaging"])
    return relation


@pytest.mark.django_db
def test_unregistered_action_is_denied_even_to_superusers(link, make_user):
    superuser = make_user(is_superuser=True)
    assert not access.can(superuser, "delete", link)
    assert not access.can(link.patient, "launch", link)


@pytest.mark.django_db
def test_model_without_scope_is_invisible(make_user):
    from django.contrib.auth.models import Group

    assert not access.visible(make_user(is_superuser=True), Group.objects.all()).exists()


@pytest.mark.django_db
def test_forbidden_and_missing_objects_answer_the_same_404(link, make_user):
    stranger = make_user(roles.PATIENT)
    with pytest.raises(access.NotFound):
        access.require(stranger, "view", link)
    from django.http import Http404

    assert issubclass(access.NotFound, Http404)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "action", "allowed"),
    [
        ("patient", "view", True),
        ("patient", "change", True),
        ("caregiver", "view", True),
        ("caregiver", "change", False),
        ("stranger", "view", False),
        ("stranger", "change", False),
        ("clinician", "view", False),
        ("admin", "view", True),
        ("admin", "change", True),
        ("risk", "view", False),
        ("superuser", "view", False),
        ("superuser", "change", False),
        ("anonymous", "view", False),
    ],
)
def test_caregiver_link_permission_matrix(link, make_user, who, action, allowed):
    users = {
        "patient": lambda: link.patient,
        "caregiver": lambda: type(link.caregiver).objects.get(pk=link.caregiver_id),
        "stranger": lambda: make_user(roles.PATIENT),
        "clinician": lambda: make_user(roles.CLINICIAN),
        "admin": lambda: make_user(roles.PORTAL_ADMINISTRATOR),
        "risk": lambda: make_user(roles.RISK_MANAGER),
        # A superuser without a role: is_superuser is no pass to PHI.
        "superuser": lambda: make_user(is_superuser=True, is_staff=True),
        "anonymous": AnonymousUser,
    }
    assert access.can(users[who](), action, link) is allowed


@pytest.mark.django_db
def test_visible_filters_links_in_sql_to_the_parties(link, make_user):
    other_patient, other_helper = make_user(roles.PATIENT), make_user()
    caregivers.link_caregiver(actor=other_patient, caregiver=other_helper, patient=other_patient, scopes=["feedback"])
    everything = CaregiverRelation.objects.all()
    assert list(access.visible(link.patient, everything)) == [link]
    assert access.visible(make_user(roles.PORTAL_ADMINISTRATOR), everything).count() == 2
    assert not access.visible(make_user(roles.CLINICIAN), everything).exists()
    assert not access.visible(AnonymousUser(), everything).exists()


@pytest.mark.django_db
def test_guardian_object_grant_opens_one_link_through_the_direct_table(link, make_user):
    from portal_social.core.models import CaregiverRelationUserObjectPermission

    social_worker = make_user(roles.CARE_TEAM)
    assert not access.can(social_worker, "view", link)
    assign_perm("portal_social.view_caregiverrelation", social_worker, link)
    assert CaregiverRelationUserObjectPermission.objects.filter(user=social_worker, content_object=link).exists()
    social_worker = type(social_worker).objects.get(pk=social_worker.pk)
    assert access.can(social_worker, "view", link)
    assert not access.can(social_worker, "change", link)
    assert list(access.visible(social_worker, CaregiverRelation.objects.all())) == [link]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "sees"),
    [
        (roles.RISK_MANAGER, True),
        (roles.PORTAL_ADMINISTRATOR, True),
        (roles.PATIENT_EXPERIENCE, False),
        (roles.PATIENT, False),
        ("superuser", False),
    ],
)
def test_audit_events_visible_to_auditors_only(make_user, role, sees):
    user = make_user(is_superuser=True, is_staff=True) if role == "superuser" else make_user(role)
    assert access.visible(user, AuditEvent.objects.all()).exists() is sees


@pytest.mark.django_db
def test_superuser_without_role_sees_no_links_and_holds_nothing(link, make_user):
    superuser = make_user(is_superuser=True, is_staff=True)
    assert superuser.has_perm("portal_social.manage_caregivers")  # what Django would say
    assert not access.holds(superuser, "portal_social.manage_caregivers")
    assert not access.visible(superuser, CaregiverRelation.objects.all()).exists()
    assert not access.has_object_grant(superuser, "portal_social.view_caregiverrelation", link)


@pytest.mark.django_db
def test_holds_counts_role_permissions_only(make_user):
    from django.contrib.auth.models import Permission

    user = make_user(roles.RISK_MANAGER)
    assert access.holds(user, "portal_social.view_audit_log")
    assert not access.holds(user, "portal_social.manage_roles")
    pinned = make_user()
    pinned.user_permissions.add(Permission.objects.get(codename="view_audit_log"))
    assert not access.holds(type(pinned).objects.get(pk=pinned.pk), "portal_social.view_audit_log")


@pytest.mark.django_db
def test_visible_is_bounded_queries(make_user):
    admin = make_user(roles.PORTAL_ADMINISTRATOR)
    counts = []
    for total in (3, 25):
        while CaregiverRelation.objects.count() < total:
            patient = make_user(roles.PATIENT)
            caregivers.link_caregiver(actor=patient, caregiver=make_user(), patient=patient, scopes=["messaging"])
        fresh = type(admin).objects.get(pk=admin.pk)  # no roles cached from the last round
        with CaptureQueriesContext(connection) as queries:
            seen = list(access.visible(fresh, CaregiverRelation.objects.all()))
        assert len(seen) == total
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 4, counts
