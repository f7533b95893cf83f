"""The moderation queue's write side: every change to an item goes through a function here.

Queueing and flagging (called by a feature's own actions, inside their
transaction):

* :func:`enqueue` puts content in the queue with one or more reasons, or adds
  the reasons to the item already pending for it.

A moderator's operations (called by the queue's views, with the item's
``version`` as the moderator's screen showed it):

* :func:`claim` and :func:`release`: take an item so colleagues leave it, or
  give it back;
* :func:`escalate`: make it urgent and tell the reviewers;
* :func:`decide`: approve, reject (with a reason), redact chosen spans, or
  close without action. The content kind carries the decision out on its
  target, in its own action, which calls :func:`close`.

Every operation checks the moderator through the access policy
(``ModerationDenied``), locks the item, refuses a stale version, a decided
item, or one a colleague has claimed (``ValidationError`` with code
``stale``, ``decided`` or ``claimed``), writes one audit event, and defers
notifications and live updates until the transaction commits.

Lock order, everywhere: the pending item first, then the target. The
review actions take the item's lock before the review's (see
:func:`lock_pending`), so a moderator deciding from the queue and a reader
flagging the same review never wait on each other in opposite orders.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from portal_social.core import access, locking, notify, text, user_text
from portal_social.core.errors import Denied, refusal
from portal_social.core.moderation import events, registry
from portal_social.core.moderation import reasons as reason_codes
from portal_social.core.moderation.models import NOTE_MAX_LENGTH, ModerationItem, ModerationReason

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

__all__ = [
    "ModerationDenied",
    "claim",
    "close",
    "decide",
    "enqueue",
    "escalate",
    "lock_pending",
    "pending_item",
    "release",
]

#: The stream every queue screen of a kind follows: ``moderation.<kind>``.
STREAM_PREFIX = "moderation."


class ModerationDenied(Denied):
    """The person holds no role that reviews this kind of content."""

    default_message = _lazy("Only moderators of this kind of content can do that.")
    code = "moderation_denied"


def _signed_in(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def may_review(user, item: ModerationItem) -> bool:
    """Whether ``user`` reviews items like ``item`` (a permission held through a role)."""
    return _signed_in(user) and access.can(user, "review", item)


def _require(user, item: ModerationItem) -> None:
    if not may_review(user, item):
        raise ModerationDenied()


def _target_key(target: Model) -> tuple[ContentType, str]:
    return ContentType.objects.get_for_model(type(target), for_concrete_model=False), str(target.pk)


def pending_item(target: Model) -> ModerationItem | None:
    """The item pending for ``target``, if any (no lock)."""
    content_type, target_id = _target_key(target)
    return ModerationItem.objects.filter(
        target_type=content_type, target_id=target_id, status=ModerationItem.Status.PENDING
    ).first()


def lock_pending(target: Model) -> ModerationItem | None:
    """Inside a transaction: lock and return the item pending for ``target`` (None when there is none).

    Call it before locking the target itself (the lock order every
    moderation path follows).
    """
    content_type, target_id = _target_key(target)
    return (
        locking.locked(ModerationItem.objects.all())
        .filter(target_type=content_type, target_id=target_id, status=ModerationItem.Status.PENDING)
        .first()
    )


def _tell_reviewers(kind: registry.Kind, item: ModerationItem, key: str) -> None:
    """Tell the kind's reviewer role, and the reviewers of the item's space (``Kind.space_reviewers``),
    about ``item`` with the notification ``key`` (generic words; nobody is told twice)."""
    from portal_social.core.moderation import rules

    told = {notification.recipient_id for notification in notify.notify_role(kind.reviewer_role, key)}
    others = [person for person in rules.space_reviewers(kind, item.space) if person.pk not in told]
    if others:
        notify.notify_many(others, key)


def _stream(kind: str) -> str:
    return STREAM_PREFIX + kind


def _publish(item: ModerationItem, change: str) -> None:
    """Tell every open queue screen of this kind that ``item`` changed (ids only, after commit)."""
    from portal_social.core import realtime

    realtime.publish_to_stream(_stream(item.kind), None, {"kind": change, "item": str(item.pk)})


def _bump(item: ModerationItem, *fields: str) -> None:
    item.version += 1
    item.updated_at = timezone.now()
    item.save(update_fields=["version", "updated_at", *fields])


def _clean_note(note: str) -> str:
    note = text.clean_plain(note or "", field="note", required=False, max_length=NOTE_MAX_LENGTH)
    user_text.validate(ModerationReason, {"note": note})
    return note


def enqueue(
    target: Model,
    *,
    kind: str,
    reasons: Sequence[reason_codes.Reason],
    actor: AbstractBaseUser | None = None,
    request: HttpRequest | None = None,
) -> ModerationItem:
    """Put ``target`` in the queue for ``reasons``, or add them to its pending item.

    Call inside the feature action's transaction, before locking the target.
    A new item tells the kind's reviewer role (no content, no names); more
    reasons on a pending item tell nobody again, unless they make it
    urgent. Writes ``moderation.queue`` or ``moderation.flag``. Notes are
    cleaned and length-checked (``ValidationError`` on ``note``).
    """
    if not reasons:
        raise ValueError("enqueue needs at least one reason")
    registered = registry.get(kind)
    notes = [_clean_note(reason.note) for reason in reasons]
    known = [reason_codes.get(reason.code) for reason in reasons]
    weights = [
        code.weight if reason.weight is None else Decimal(str(reason.weight))
        for reason, code in zip(reasons, known, strict=True)
    ]
    added, urgent = sum(weights, Decimal(0)), any(code.urgent for code in known)
    content_type, target_id = _target_key(target)
    with transaction.atomic():
        item = lock_pending(target)
        created = item is None
        if created:
            try:
                with transaction.atomic():
                    item = ModerationItem.objects.create(
                        kind=kind,
                        target_type=content_type,
                        target_id=target_id,
                        reviewer_permission=registered.permission,
                        author_id=registered.author(target),
                        space=(registered.space(target) or "")[:100],
                        score=added,
                        urgent=urgent,
                    )
            except IntegrityError:  # a concurrent request queued it first: add to theirs
                created = False
                item = lock_pending(target)
                if item is None:
                    raise
        was_urgent = False if created else item.urgent
        ModerationReason.objects.bulk_create(
            ModerationReason(
                item=item, code=reason.code, weight=weight, added_by=reason.added_by, details=reason.details, note=note
            )
            for reason, weight, note in zip(reasons, weights, notes, strict=True)
        )
        if not created:
            item.score = (item.score or Decimal(0)) + added
            item.urgent = item.urgent or urgent
            _bump(item, "score", "urgent")
        codes = [reason.code for reason in reasons]
        if created:
            events.item_queued(actor=actor, item=item, codes=codes, request=request)
            _tell_reviewers(registered, item, registered.notification)
        else:
            events.reason_added(actor=actor, item=item, codes=codes, request=request)
        if item.urgent and not was_urgent:
            _tell_reviewers(registered, item, "moderation.urgent")
        _publish(item, "queued" if created else "changed")
    return item


def close(target: Model, *, status: str, moderator: AbstractBaseUser) -> ModerationItem | None:
    """Close the item pending for ``target`` with the decision ``status``; None when nothing was pending.

    Called by a content kind's own actions (approve, reject, redact…), inside
    their transaction; their audit event records the decision.
    """
    if status not in (ModerationItem.Status.APPROVED, ModerationItem.Status.REJECTED, ModerationItem.Status.IGNORED):
        raise ValueError(f"not a decision: {status!r}")
    item = lock_pending(target)
    if item is None:
        return None
    item.status = status
    item.decided_by = moderator
    item.decided_at = timezone.now()
    item.claimed_by = None
    item.claimed_at = None
    _bump(item, "status", "decided_by", "decided_at", "claimed_by", "claimed_at")
    _publish(item, "decided")
    return item


def _stale() -> ValidationError:
    return refusal(_("This item changed since you opened it. It is shown again as it is now."), "stale")


def _version(value: Any) -> int | None:
    """The version a form sent: ASCII digits only (``int()`` reads "١" as 1 and "²" not at all), else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text_value = str(value or "")
    if 0 < len(text_value) <= 9 and text_value.isascii() and text_value.isdecimal():
        return int(text_value)
    return None


def _locked_for(moderator, item: ModerationItem, version: Any, *, claimable_by_others: bool = False):
    """Lock ``item`` and check it is pending, at ``version``, and not claimed by a colleague."""
    _require(moderator, item)
    locked = locking.locked(ModerationItem.objects.all()).get(pk=item.pk)
    if not locked.is_pending:
        raise refusal(_("This item has already been decided."), "decided")
    if _version(version) != locked.version:
        raise _stale()
    if not claimable_by_others and locked.claimed_by_id not in (None, moderator.pk):
        raise refusal(_("A colleague is working on this item. Ask them, or take it over."), "claimed")
    return locked


def _sync(target: ModerationItem, source: ModerationItem) -> None:
    for name in ("status", "version", "urgent", "score", "claimed_by_id", "claimed_at", "decided_by_id", "decided_at"):
        setattr(target, name, getattr(source, name))


def claim(
    *, moderator: AbstractBaseUser, item: ModerationItem, version: Any, request: HttpRequest | None = None
) -> ModerationItem:
    """Take ``item``: colleagues may not decide it until it is released. Taking over a colleague's claim
    is allowed (they may be away) and audited as a release naming them, then a claim."""
    with transaction.atomic():
        locked = _locked_for(moderator, item, version, claimable_by_others=True)
        if locked.claimed_by_id == moderator.pk:
            raise refusal(_("You are already working on this item."), "claimed")
        previous = locked.claimed_by_id
        locked.claimed_by = moderator
        locked.claimed_at = timezone.now()
        _bump(locked, "claimed_by", "claimed_at")
        if previous is not None:
            events.item_released(actor=moderator, item=locked, request=request, from_user=previous)
        events.item_claimed(actor=moderator, item=locked, request=request)
        _publish(locked, "claimed")
    _sync(item, locked)
    return item


def release(
    *, moderator: AbstractBaseUser, item: ModerationItem, version: Any, request: HttpRequest | None = None
) -> ModerationItem:
    """Give back an item you claimed."""
    with transaction.atomic():
        locked = _locked_for(moderator, item, version)
        if locked.claimed_by_id != moderator.pk:
            raise refusal(_("You are not working on this item."), "claimed")
        locked.claimed_by = None
        locked.claimed_at = None
        _bump(locked, "claimed_by", "claimed_at")
        events.item_released(actor=moderator, item=locked, request=request)
        _publish(locked, "released")
    _sync(item, locked)
    return item


def escalate(
    *, moderator: AbstractBaseUser, item: ModerationItem, version: Any, request: HttpRequest | None = None
) -> ModerationItem:
    """Make ``item`` urgent (first in the queue) and tell every reviewer of its kind."""
    with transaction.atomic():
        locked = _locked_for(moderator, item, version)
        if locked.urgent:
            raise refusal(_("This item is already urgent."), "urgent")
        ModerationReason.objects.create(item=locked, code="escalated", weight=0, added_by=moderator)
        locked.urgent = True
        _bump(locked, "urgent")
        events.item_escalated(actor=moderator, item=locked, request=request)
        _tell_reviewers(registry.get(locked.kind), locked, "moderation.urgent")
        _publish(locked, "escalated")
    _sync(item, locked)
    return item


def decide(
    *,
    moderator: AbstractBaseUser,
    item: ModerationItem,
    version: Any,
    decision: str,
    data: dict | None = None,
    request: HttpRequest | None = None,
) -> str:
    """Carry out ``decision`` on ``item`` and return the confirmation for the moderator.

    ``decision`` must be one the item's kind offers for it now (else
    ``ValidationError``). ``ignore`` closes the item and leaves the content as
    it is; the others are the kind's to carry out (its ``decide``), and it
    closes the item. ``data`` holds what the decision needs: ``reason``
    (reject) and ``spans`` / ``use_findings`` (redact).
    """
    data = data or {}
    kind = registry.get(item.kind)
    with transaction.atomic():
        locked = _locked_for(moderator, item, version)
        target = kind.load([locked.target_id]).get(str(locked.target_id))
        if target is None:  # the content is gone: nothing left to decide
            close_missing(locked, moderator)
            return _("The content was deleted; the item is closed.")
        offered = {choice.key for choice in kind.decisions(locked, target)}
        if decision not in offered:
            raise refusal(_("Choose a decision."), "decision")
        if decision == registry.IGNORE:
            close(target, status=ModerationItem.Status.IGNORED, moderator=moderator)
            locked.refresh_from_db()
            events.item_ignored(actor=moderator, item=locked, request=request)
            done = _("The item is closed; the content is unchanged.")
        else:
            done = kind.decide(moderator, locked, target, decision, data, request)
            locked.refresh_from_db()
            if locked.is_pending:
                raise RuntimeError(f"the {kind.key!r} kind's {decision!r} decision left its item pending")
    _sync(item, locked)
    return done


def close_missing(item: ModerationItem, moderator) -> None:
    """Close an item whose target no longer exists (deleted content needs no decision)."""
    item.status = ModerationItem.Status.IGNORED
    item.decided_by = moderator
    item.decided_at = timezone.now()
    _bump(item, "status", "decided_by", "decided_at")
    events.item_ignored(actor=moderator, item=item)
