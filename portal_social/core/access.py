"""The access policy: the one place that answers "may this user do this?".

Features register a rule per (model, action) and a visibility scope per model::

    from portal_social.core import access

    @access.rule(Conversation, "view", phi=True, patient=lambda conversation: conversation.patient_id)
    def _participant_may_view(user, conversation):
        return conversation.participants.filter(pk=user.pk).exists()

    @access.scope(Conversation)
    def _conversations_visible_to(user):
        return Q(participants=user)

Then views and actions ask::

    access.can(user, "view", conversation)          # bool
    access.require(user, "view", conversation, request=request)  # raises NotFound (404)
    access.visible(user, Conversation.objects.all())  # filtered in SQL

``require`` is how a feature opens an object. When the action is marked
``phi=True`` it writes the ``phi.read`` audit event itself, naming the
patient (the ``patient`` argument, or the model's ``patient=`` hook), so no
feature can open PHI and forget to record it. ``can`` only answers the
question and records nothing: use it to decide what to show, not to open.

Deny by default: an action nobody registered is refused, a model without a
scope is invisible, and superusers get no blanket pass to PHI: rules ask
``access.holds(user, perm)`` (a permission held through a role), never
``user.has_perm``, which Django answers "yes" for every superuser. An object a
user may not see answers 404, exactly like one that does not exist.

Break-the-glass grants (``portal_social.core.breakglass``) open PHI objects to
the staff member who declared an emergency, for a limited time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.db.models import Model

Rule = Callable[["AbstractBaseUser", Any], bool]
Scope = Callable[["AbstractBaseUser"], Q]
#: ``func(obj)`` -> the patient whose record ``obj`` is: a user, a user id, or None.
PatientOf = Callable[[Any], "AbstractBaseUser | int | None"]


class NotFound(Http404):
    """Refused: rendered as 404 so ids cannot be probed."""


@dataclass(frozen=True)
class _Registered:
    rule: Rule
    phi: bool
    anonymous: bool = False


_rules: dict[tuple[type, str], list[_Registered]] = {}
_scopes: dict[type, list[Scope]] = {}
#: Scopes that also answer for signed-out visitors (public content only).
_anonymous_scopes: dict[type, list[Scope]] = {}
_patients: dict[type, PatientOf] = {}
#: Actions that break-the-glass may open (reading, never changing).
BREAK_GLASS_ACTIONS = frozenset({"view"})


def rule(
    model: type[Model],
    action: str,
    *,
    phi: bool = False,
    patient: PatientOf | None = None,
    anonymous: bool = False,
) -> Callable[[Rule], Rule]:
    """Register ``func(user, obj) -> bool`` as one way to be allowed ``action``.

    Several rules for the same (model, action) are alternatives: any one that
    allows is enough. ``phi=True`` marks the action as opening PHI:
    ``require`` then records a ``phi.read`` event each time it allows it, and
    break-the-glass may open it too.

    ``patient``, ``func(obj) -> user, user id or None``, says whose record an
    object of ``model`` is, for the audit events of every action on it (one
    per model: give it on one rule, or the same function on several).

    ``anonymous=True`` lets the rule answer for signed-out visitors too (it
    receives an ``AnonymousUser``): only for public content, and never with
    ``phi=True``. Every other rule is never asked about a signed-out visitor.
    """
    if anonymous and phi:
        raise ValueError("a rule that opens PHI cannot answer for signed-out visitors")
    if patient is not None:
        register_patient(model, patient)

    def decorator(func: Rule) -> Rule:
        _rules.setdefault((model, action), []).append(_Registered(func, phi, anonymous))
        return func

    return decorator


def register_patient(model: type[Model], func: PatientOf) -> None:
    """Name ``func(obj)`` as the way to find the patient an object of ``model`` is about."""
    existing = _patients.get(model)
    if existing is not None and existing is not func:
        raise ValueError(f"{model.__name__} already has a patient hook; register one per model")
    _patients[model] = func


def patient_of(obj: Model) -> AbstractBaseUser | int | None:
    """The patient whose record ``obj`` is, through its model's ``patient=`` hook; None without one."""
    for klass in type(obj).__mro__:
        func = _patients.get(klass)
        if func is not None:
            return func(obj)
    return None


def scope(model: type[Model], *, anonymous: bool = False) -> Callable[[Scope], Scope]:
    """Register ``func(user) -> Q`` selecting the rows of ``model`` a user may see.

    ``anonymous=True``: the scope also selects what signed-out visitors may
    see (it receives an ``AnonymousUser``); public content only.
    """

    def decorator(func: Scope) -> Scope:
        _scopes.setdefault(model, []).append(func)
        if anonymous:
            _anonymous_scopes.setdefault(model, []).append(func)
        return func

    return decorator


def _rules_for(model: type, action: str) -> list[_Registered]:
    found: list[_Registered] = []
    for klass in model.__mro__:
        found.extend(_rules.get((klass, action), ()))
    return found


def is_phi_action(model: type, action: str) -> bool:
    return any(registered.phi for registered in _rules_for(model, action))


def _signed_in(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def _decide(user, action: str, obj) -> tuple[bool, Any]:
    """(allowed, break-the-glass grant that allowed it, if that is how)."""
    if obj is None or user is None:
        return False, None
    registered = _rules_for(type(obj), action)
    if not _signed_in(user):
        # Signed out (or deactivated): only rules written for the public answer.
        public = [entry for entry in registered if entry.anonymous and not entry.phi]
        return (not getattr(user, "is_authenticated", False) and any(e.rule(user, obj) for e in public)), None
    if any(entry.rule(user, obj) for entry in registered):
        return True, None
    if action in BREAK_GLASS_ACTIONS and any(entry.phi for entry in registered):
        grant = active_break_glass(user, obj)
        return grant is not None, grant
    return False, None


def can(user: AbstractBaseUser, action: str, obj: Model, *, break_glass: bool = True) -> bool:
    """Whether ``user`` may do ``action`` to ``obj``. Deny by default.

    ``break_glass=False``: only the rules answer, not an emergency-access grant (live updates, for one, are
    not opened by a grant: the page is read, and read again, through ``require``)."""
    allowed, grant = _decide(user, action, obj)
    return allowed and (break_glass or grant is None)


def require(user: AbstractBaseUser, action: str, obj: Model, *, request=None, patient=None, reason: str = "") -> Model:
    """Return ``obj`` if ``user`` may do ``action``; otherwise raise ``NotFound`` (see ``require_opening``)."""
    require_opening(user, action, obj, request=request, patient=patient, reason=reason)
    return obj


def require_opening(user: AbstractBaseUser, action: str, obj: Model, *, request=None, patient=None, reason: str = ""):
    """Check and record as ``require`` does; return the break-the-glass grant that opened ``obj``, or None
    when a rule did (a page that shows how it was opened needs not look the grant up again).

    When a rule for the action is marked ``phi=True``, the allowed use is
    recorded as ``phi.read`` (the object, the action, and the patient:
    ``patient`` when given, else the model's ``patient=`` hook). An object
    opened only through break-the-glass is recorded instead as
    ``break_glass.read``, at high severity, with the grant it relied on.
    A refusal records nothing (and answers 404).
    """
    allowed, grant = _decide(user, action, obj)
    if not allowed:
        raise NotFound()
    if not _signed_in(user):
        return None  # only a public rule lets a signed-out visitor in: public content opens no PHI
    if grant is not None or is_phi_action(type(obj), action):
        from portal_social.core import audit_events

        if patient is None:
            patient = patient_of(obj)
        if grant is not None:
            audit_events.break_glass_read(
                actor=user, target=obj, grant=grant, action=action, patient=patient, request=request
            )
        else:
            audit_events.phi_read(
                actor=user, target=obj, patient=patient, action=action, request=request, reason=reason
            )
    return grant


def visible(user: AbstractBaseUser, queryset: QuerySet, *, break_glass: bool = True) -> QuerySet:
    """``queryset`` narrowed, in SQL, to the rows ``user`` may see.

    The union of every registered scope for the model, plus objects opened by
    an active break-the-glass grant (``break_glass=False`` leaves those out: for
    counts and lists of what is the user's own, such as unread badges). No
    scope registered: nothing is visible.
    """
    model = queryset.model
    if not _signed_in(user):
        if user is None or getattr(user, "is_authenticated", False):
            return queryset.none()  # a deactivated account sees nothing, not even what the public sees
        public = [func(user) for klass in model.__mro__ for func in _anonymous_scopes.get(klass, ())]
        if not public:
            return queryset.none()
        condition = public[0]
        for extra in public[1:]:
            condition |= extra
        return queryset.filter(condition)
    scopes = [func for klass in model.__mro__ for func in _scopes.get(klass, ())]
    conditions = [func(user) for func in scopes]
    if break_glass and is_phi_action(model, "view"):
        granted = _break_glass_ids(user, model)
        if granted:
            conditions.append(Q(pk__in=granted))
    if not conditions:
        return queryset.none()
    condition = conditions[0]
    for extra in conditions[1:]:
        condition |= extra
    return queryset.filter(condition)


def active_break_glass(user: AbstractBaseUser, obj: Model):
    """The user's unexpired break-the-glass grant for ``obj``, or None."""
    from portal_social.core.models import BreakGlassGrant

    return (
        BreakGlassGrant.objects.filter(
            user=user,
            target_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
            target_id=str(obj.pk),
            expires_at__gt=timezone.now(),
        )
        .order_by("-expires_at")
        .first()
    )


def _break_glass_ids(user: AbstractBaseUser, model: type[Model]) -> list[str]:
    from portal_social.core.models import BreakGlassGrant

    return list(
        BreakGlassGrant.objects.filter(
            user=user,
            target_type=ContentType.objects.get_for_model(model, for_concrete_model=False),
            expires_at__gt=timezone.now(),
        ).values_list("target_id", flat=True)
    )


def holds(user: AbstractBaseUser, perm: str) -> bool:
    """Whether ``user`` holds ``perm`` ("app_label.codename") through a role.

    A role is a group, so this asks the user's groups only. Unlike
    ``user.has_perm`` it gives ``is_superuser`` no pass and ignores
    permissions pinned on the user directly: reaching PHI takes a role an
    administrator granted (and the audit log recorded). Cached on the user
    object for the request.
    """
    if not _signed_in(user):
        return False
    cached = getattr(user, "_portal_social_role_perms", None)
    if cached is None:
        from django.contrib.auth.models import Permission

        rows = Permission.objects.filter(group__user=user).values_list("content_type__app_label", "codename").distinct()
        cached = frozenset(f"{app_label}.{codename}" for app_label, codename in rows)
        user._portal_social_role_perms = cached
    return perm in cached


def has_object_grant(user: AbstractBaseUser, perm: str, obj: Model) -> bool:
    """Whether guardian holds a per-object grant of ``perm`` on ``obj`` for ``user``.

    Asks the grant tables (the model's direct foreign-key tables when it has
    them) for the user and their groups. guardian's own checker answers "yes"
    to every superuser; this does not.
    """
    from guardian.shortcuts import get_group_perms, get_user_perms

    if not _signed_in(user):
        return False
    codename = perm.split(".", 1)[-1]
    return get_user_perms(user, obj).filter(codename=codename).exists() or (
        get_group_perms(user, obj).filter(codename=codename).exists()
    )
