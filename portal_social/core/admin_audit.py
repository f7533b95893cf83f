"""Audit every change staff make to a feature's settings in the Wagtail admin (snippets).

A feature names, for each of its snippet models, the audit event a change records and the small, PHI-free
details to add (ids, flags); the change itself ("added", "changed", "removed") and who made it are added
here, once for every feature::

    from portal_social.core.admin_audit import audit_snippets

    audit_snippets({Team: (events.SETUP, lambda team: {"active": team.active})})

A describer may also return ``(details, patient)`` to name the patient a change concerns (a care
relationship).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wagtail import hooks

#: model -> (event type, describe(instance) -> details dict, or (details, patient))
_AUDITED: dict[type, tuple[Any, Callable[[Any], Any]]] = {}


def audit_snippets(models: dict[type, tuple[Any, Callable[[Any], Any] | None]]) -> None:
    """Record ``event`` for every admin change to each model, with ``describe(instance)`` as details."""
    for model, (event, describe) in models.items():
        _AUDITED[model] = (event, describe or (lambda instance: {}))


def _record(request, instances, change: str) -> None:
    for instance in instances:
        found = _AUDITED.get(type(instance))
        if found is None:
            continue
        event, describe = found
        described = describe(instance)
        details, patient = described if isinstance(described, tuple) else (described, None)
        event.record(
            actor=request.user,
            target_type=type(instance)._meta.model_name,
            target_id=str(instance.pk),
            patient=patient,
            request=request,
            details={**details, "change": change},
        )


@hooks.register("after_create_snippet")
def _created(request, instance):
    _record(request, [instance], "added")


@hooks.register("after_edit_snippet")
def _edited(request, instance):
    _record(request, [instance], "changed")


@hooks.register("after_delete_snippet")
def _deleted(request, instances):
    _record(request, instances, "removed")
