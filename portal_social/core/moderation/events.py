"""The moderation queue's audit events, one function each (see ``core.audit_events``).

The queue's own operations are audited here: an item queued, a reason or
flag added, a claim taken or released, an escalation, an item closed
without action, and a moderator opening the queue. A decision that changes
the content (approve, reject, redact) is audited by the content's own
action (``review.approve``…), which names the item it closed.

Details hold ids, codes and counts only, never the content, a note or a name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

from portal_social.core.audit_events import Severity, register

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

    from portal_social.core.models import AuditEvent
    from portal_social.core.moderation.models import ModerationItem

QUEUED = register("moderation.queue", _("Content queued for moderation"))
FLAGGED = register("moderation.flag", _("Reason added to a moderation item"))
CLAIMED = register("moderation.claim", _("Moderation item claimed"))
RELEASED = register("moderation.release", _("Moderation item released"))
ESCALATED = register("moderation.escalate", _("Moderation item escalated to urgent"), Severity.NOTICE)
IGNORED = register("moderation.ignore", _("Moderation item closed without action"))
VIEWED = register("moderation.view", _("Moderation queue opened"))


def _item_event(
    event_type,
    *,
    actor: AbstractBaseUser | None,
    item: ModerationItem,
    request: HttpRequest | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """The item is the object, its author the patient; details always name the kind and the target."""
    return event_type.record(
        actor=actor,
        target=item,
        patient=item.author_id,
        request=request,
        details={"kind": item.kind, "target": item.target_id, "version": item.version, **(details or {})},
    )


def item_queued(
    *, actor: AbstractBaseUser | None, item: ModerationItem, codes: Sequence[str], request: HttpRequest | None = None
) -> AuditEvent:
    """A new pending item, for ``codes`` (the reasons' codes)."""
    return _item_event(QUEUED, actor=actor, item=item, request=request, details={"reasons": list(codes)})


def reason_added(
    *, actor: AbstractBaseUser | None, item: ModerationItem, codes: Sequence[str], request: HttpRequest | None = None
) -> AuditEvent:
    """More reasons (a flag, an appeal, a screening finding) on an item already pending."""
    return _item_event(FLAGGED, actor=actor, item=item, request=request, details={"reasons": list(codes)})


def item_claimed(*, actor: AbstractBaseUser, item: ModerationItem, request: HttpRequest | None = None) -> AuditEvent:
    return _item_event(CLAIMED, actor=actor, item=item, request=request)


def item_released(
    *, actor: AbstractBaseUser, item: ModerationItem, request: HttpRequest | None = None, from_user: int | None = None
) -> AuditEvent:
    """A claim given up: by its holder, or taken over from ``from_user`` (an id)."""
    details = {"from": str(from_user)} if from_user is not None else {}
    return _item_event(RELEASED, actor=actor, item=item, request=request, details=details)


def item_escalated(*, actor: AbstractBaseUser, item: ModerationItem, request: HttpRequest | None = None) -> AuditEvent:
    return _item_event(ESCALATED, actor=actor, item=item, request=request)


def item_ignored(*, actor: AbstractBaseUser, item: ModerationItem, request: HttpRequest | None = None) -> AuditEvent:
    return _item_event(IGNORED, actor=actor, item=item, request=request)


def queue_viewed(
    *,
    actor: AbstractBaseUser,
    items: Iterable[ModerationItem],
    patient: int | None,
    request: HttpRequest | None = None,
) -> AuditEvent:
    """The queue showed ``items`` of one ``patient`` as written: one event per patient shown.

    Details list the items and their targets by id (``targets`` by kind), so
    the patient's "who looked at my information" names what was shown.
    """
    items = list(items)
    targets: dict[str, list[str]] = {}
    for item in items:
        targets.setdefault(item.kind, []).append(str(item.target_id))
    return VIEWED.record(
        actor=actor,
        request=request,
        patient=patient,
        target=items[0] if len(items) == 1 else None,
        target_type="" if len(items) == 1 else "portal_social.moderationitem",
        details={"items": [str(item.pk) for item in items], "targets": targets},
    )
