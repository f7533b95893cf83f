"""Roles: the Django groups portal_social creates, and granting them.

A role is a Django ``Group`` whose name is fixed here. Code asks about roles by
slug (``has_role(user, "clinician")``); the group names are what administrators
see in the Wagtail and Django admin.

The groups and their permissions are created by a data migration that calls
``sync_role_groups``; later migrations call it again when a feature adds
permissions, so it is idempotent and only ever adds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext_lazy as _lazy

from portal_social import signals
from portal_social.conf import app_settings
from portal_social.core.errors import Denied

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


@dataclass(frozen=True)
class Role:
    slug: str
    group_name: str
    description: str
    #: "app_label.codename" strings.
    permissions: tuple[str, ...] = ()


PATIENT = "patient"
CAREGIVER = "caregiver"
CLINICIAN = "clinician"
CARE_TEAM = "care_team"
COMMUNITY_MODERATOR = "community_moderator"
COMMUNITY_MENTOR = "community_mentor"
PATIENT_EXPERIENCE = "patient_experience"
RISK_MANAGER = "risk_manager"
PORTAL_ADMINISTRATOR = "portal_administrator"

_P = "portal_social."
#: Wagtail admin access: staff screens (moderation, PX workspace, audit log) live there.
_ADMIN = "wagtailadmin.access_admin"

ROLES: dict[str, Role] = {
    role.slug: role
    for role in (
        Role(
            PATIENT,
            "Patient",
            "A patient or member using the portal for their own care.",
            (_P + "participate_community", _P + "message_care_team", _P + "submit_feedback", _P + "review_clinician"),
        ),
        Role(
            CAREGIVER,
            "Caregiver",
            "Acts for a patient within the scopes the patient granted.",
            (_P + "participate_community", _P + "message_care_team", _P + "submit_feedback"),
        ),
        Role(
            CLINICIAN,
            "Clinician",
            "A physician, nurse practitioner or other licensed clinician.",
            (
                _P + "view_phi",
                _P + "message_patients",
                _P + "edit_own_profile",
                _P + "use_clinician_spaces",
                _P + "participate_community",
                _P + "break_glass",
            ),
        ),
        Role(
            CARE_TEAM,
            "Care team staff",
            "Nurses, medical assistants and coordinators answering patients.",
            (_P + "view_phi", _P + "message_patients", _P + "use_clinician_spaces", _P + "break_glass"),
        ),
        Role(
            COMMUNITY_MODERATOR,
            "Community moderator",
            "Reviews held posts and reported content in patient communities.",
            (
                _P + "moderate_community",
                _P + "participate_community",
                _P + "moderate_reviews",
                # The watched-word lists that screening applies to public text.
                *(_P + f"{verb}_watchedword" for verb in ("view", "add", "change", "delete")),
                # Setting up communities: name, description, guidelines, visibility.
                *(_P + f"{verb}_community" for verb in ("view", "add", "change")),
                _ADMIN,
            ),
        ),
        Role(
            COMMUNITY_MENTOR,
            "Community mentor",
            "A trained peer who welcomes and guides community members.",
            (_P + "participate_community", _P + "mentor_community"),
        ),
        Role(
            PATIENT_EXPERIENCE,
            "Patient experience staff",
            "Works feedback cases and service recovery against SLA clocks.",
            (
                _P + "view_phi",
                _P + "work_feedback_cases",
                _P + "respond_to_reviews",
                _P + "view_feedback_reports",
                # The wording of grievance letters and public replies (screened before saving).
                *(
                    _P + f"{verb}_{model}"
                    for model in ("lettertemplate", "responsetemplate")
                    for verb in ("view", "add", "change")
                ),
                _ADMIN,
            ),
        ),
        Role(
            RISK_MANAGER,
            "Risk manager",
            "Receives escalated cases and reviews the audit log.",
            (
                _P + "view_phi",
                _P + "work_feedback_cases",
                _P + "view_feedback_reports",
                _P + "view_audit_log",
                _P + "receive_escalations",
                _ADMIN,
            ),
        ),
        Role(
            PORTAL_ADMINISTRATOR,
            "Portal administrator",
            "Manages roles, caregiver links and portal configuration.",
            (
                _P + "manage_roles",
                _P + "manage_caregivers",
                _P + "view_audit_log",
                _P + "view_caregiverrelation",
                _P + "add_caregiverrelation",
                _P + "change_caregiverrelation",
                # Business calendars (opening hours, holidays, closures) behind SLA clocks.
                _P + "view_businesscalendar",
                _P + "add_businesscalendar",
                _P + "change_businesscalendar",
                _P + "delete_businesscalendar",
                *(_P + f"{verb}_watchedword" for verb in ("view", "add", "change", "delete")),
                *(_P + f"{verb}_community" for verb in ("view", "add", "change", "delete")),
                # Secure messaging: care-team pools, who answers them, and which patients may write to them.
                *(
                    _P + f"{verb}_{model}"
                    for model in ("carepool", "poolmember", "poolpatient")
                    for verb in ("view", "add", "change", "delete")
                ),
                # Feedback: teams, who works them, categories, service lines and routing rules.
                *(
                    _P + f"{verb}_{model}"
                    for model in (
                        "team",
                        "teammember",
                        "category",
                        "serviceline",
                        "routingrule",
                        "intakekey",
                        "lettertemplate",
                        "responsetemplate",
                    )
                    for verb in ("view", "add", "change", "delete")
                ),
                _P + "view_calendarclosure",
                _P + "add_calendarclosure",
                _P + "change_calendarclosure",
                _P + "delete_calendarclosure",
                _ADMIN,
            ),
        ),
    )
}

GROUP_NAMES: dict[str, str] = {slug: role.group_name for slug, role in ROLES.items()}
SLUGS_BY_GROUP_NAME: dict[str, str] = {role.group_name: slug for slug, role in ROLES.items()}


class UnknownRole(ValueError):
    pass


class RoleChangeDenied(Denied):
    """The acting user may not grant or revoke roles."""

    default_message = _lazy("Only portal administrators can grant or revoke roles.")
    code = "role_change_denied"


def _check_may_manage_roles(actor: AbstractBaseUser | None) -> None:
    # ``None`` is the system itself: sign-up, migrations, caregiver links,
    # the demo data. A person must hold ``manage_roles``.
    from portal_social.core import access

    if actor is not None and not access.holds(actor, "portal_social.manage_roles"):
        raise RoleChangeDenied()


def _role(slug: str) -> Role:
    try:
        return ROLES[slug]
    except KeyError:
        raise UnknownRole(f"Unknown portal_social role {slug!r}; known roles: {', '.join(ROLES)}") from None


def user_roles(user: AbstractBaseUser) -> frozenset[str]:
    """The role slugs a user holds, cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_portal_social_roles", None)
    if cached is None:
        names = user.groups.filter(name__in=SLUGS_BY_GROUP_NAME).values_list("name", flat=True)
        cached = frozenset(SLUGS_BY_GROUP_NAME[name] for name in names)
        user._portal_social_roles = cached
    return cached


def has_role(user: AbstractBaseUser, slug: str) -> bool:
    _role(slug)
    return slug in user_roles(user)


def requires_mfa(user: AbstractBaseUser) -> bool:
    """Whether this user must have MFA before opening a page that can show PHI."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or user.is_staff:
        return True
    return bool(user_roles(user) & set(app_settings.MFA_REQUIRED_ROLES))


def grant_role(*, user: AbstractBaseUser, role: str, granted_by: AbstractBaseUser | None = None) -> bool:
    """Put ``user`` in the group for ``role``. Returns ``False`` if already held.

    ``granted_by`` is the person acting (who must hold ``manage_roles``, else
    ``RoleChangeDenied``), or ``None`` when the system grants it. Sends
    ``portal_social.signals.role_granted`` after commit; the audit event is
    written in the same transaction as the change.
    """

    from portal_social.core import audit_events

    definition = _role(role)
    _check_may_manage_roles(granted_by)
    with transaction.atomic():
        group = _role_group(definition)
        if user.groups.filter(pk=group.pk).exists():
            return False
        user.groups.add(group)
        audit_events.role_granted(actor=granted_by, user=user, role=role)
    user.__dict__.pop("_portal_social_roles", None)
    user.__dict__.pop("_portal_social_role_perms", None)
    transaction.on_commit(lambda: signals.role_granted.send(sender=Role, user=user, role=role, granted_by=granted_by))
    return True


def revoke_role(*, user: AbstractBaseUser, role: str, revoked_by: AbstractBaseUser | None = None) -> bool:
    """Take ``user`` out of the group for ``role``. Returns ``False`` if not held.

    Same rules for ``revoked_by`` as ``grant_role``.
    """
    from django.contrib.auth.models import Group

    from portal_social.core import audit_events

    definition = _role(role)
    _check_may_manage_roles(revoked_by)
    with transaction.atomic():
        group = Group.objects.filter(name=definition.group_name).first()
        if group is None or not user.groups.filter(pk=group.pk).exists():
            return False
        user.groups.remove(group)
        audit_events.role_revoked(actor=revoked_by, user=user, role=role)
    user.__dict__.pop("_portal_social_roles", None)
    user.__dict__.pop("_portal_social_role_perms", None)
    transaction.on_commit(lambda: signals.role_revoked.send(sender=Role, user=user, role=role, revoked_by=revoked_by))
    return True


def _role_group(definition: Role):
    """The role's group; recreated with its permissions if it was removed."""
    from django.apps import apps as live_apps
    from django.contrib.auth.models import Group

    group = Group.objects.filter(name=definition.group_name).first()
    if group is None:
        # Someone deleted the group (or flushed the database): put it back as
        # the migration made it rather than granting an empty role.
        sync_role_groups(live_apps)
        group = Group.objects.get(name=definition.group_name)
    return group


def sync_role_groups(apps, schema_editor=None) -> None:
    """Create every role's group and give it its permissions (idempotent).

    Written for data migrations: it uses the historical ``apps`` registry and
    creates content types and permissions that do not exist yet, because
    Django creates permissions only after all migrations have run.
    """
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias if schema_editor else "default"
    labels = _permission_labels()

    for role in ROLES.values():
        group, _ = Group.objects.using(db).get_or_create(name=role.group_name)
        for dotted in role.permissions:
            app_label, codename = dotted.split(".", 1)
            model_name = _PERMISSION_MODELS.get(dotted, "access")
            content_type, _ = ContentType.objects.using(db).get_or_create(app_label=app_label, model=model_name)
            permission, _ = Permission.objects.using(db).get_or_create(
                content_type=content_type,
                codename=codename,
                defaults={"name": labels.get(codename, codename.replace("_", " ").capitalize())},
            )
            group.permissions.add(permission)


#: Permissions on concrete models; everything else lives on ``Access``.
_PERMISSION_MODELS = {
    _P + "view_caregiverrelation": "caregiverrelation",
    _P + "add_caregiverrelation": "caregiverrelation",
    _P + "change_caregiverrelation": "caregiverrelation",
    **{
        _P + f"{verb}_{model}": model
        for verb in ("view", "add", "change", "delete")
        for model in ("businesscalendar", "calendarclosure", "watchedword", "community")
    },
    _ADMIN: "admin",
}


def _permission_labels() -> dict[str, str]:
    """Human labels: the portal-wide ones from ``Access.Meta``, plus the few others."""
    from portal_social.core.models import Access

    labels = dict(Access._meta.permissions)
    labels.update(
        {
            "view_caregiverrelation": "Can view caregiver relation",
            "add_caregiverrelation": "Can add caregiver relation",
            "change_caregiverrelation": "Can change caregiver relation",
            "access_admin": "Can access Wagtail admin",
            **{
                f"{verb}_{model}": f"Can {verb} {label}"
                for verb in ("view", "add", "change", "delete")
                for model, label in (
                    ("businesscalendar", "business calendar"),
                    ("calendarclosure", "calendar closure"),
                    ("watchedword", "watched word"),
                )
            },
        }
    )
    return labels
