"""Content kinds: how a feature plugs its content into the one moderation queue.

A feature registers each kind of content it sends to the queue once, at
import time::

    from portal_social.core import moderation

    moderation.register(
        moderation.Kind(
            key="review",
            model=Review,
            label=_("Clinician review"),
            permission="portal_social.moderate_reviews",
            reviewer_role=roles.COMMUNITY_MODERATOR,
            template="portal_social/profiles/admin/moderation_item.html",
            load=load_reviews,          # ids -> {id: target}, in a fixed number of queries
            present=present_review,     # (item, target) -> template context for the moderator
            decide=decide_review,       # (moderator, item, target, decision, data, request) -> message
            decisions=review_decisions, # (item, target) -> the decisions this item offers
            author=lambda review: review.author_id,
            space=lambda review: "",                  # optional: where the content lives
            reviewer_spaces=None,                     # optional: user -> spaces they review without the role
            space_reviewers=None,                     # optional: space -> users to tell of a new item there
        )
    )

The queue (``core.moderation.actions``) owns everything the kinds share:
which items are pending, who claimed them, their version, their score and
urgency, and the audit of the queue's own operations. The kind owns what a
decision does to its target: publishing or hiding a review is the review
feature's business, written as the review's own action with its own audit
event and notification. ``decide`` is called inside the queue's
transaction, after the queue has locked the item and checked the moderator,
the version and the claim; it must close the item by calling
``moderation.close`` (the review actions do so for every decision, however
they are reached).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db.models import Model

    from portal_social.core.moderation.models import ModerationItem

#: The decisions a moderator can make on an item. A kind offers the ones that make sense for an item.
APPROVE = "approve"
REJECT = "reject"
REDACT = "redact"
IGNORE = "ignore"
DECISIONS = (APPROVE, REJECT, REDACT, IGNORE)


@dataclass(frozen=True)
class Decision:
    """One decision an item offers, with the words its button shows."""

    key: str
    label: Any
    #: A reason is required (rejections: the author is told the content did not meet the policy).
    needs_reason: bool = False
    #: The moderator chooses parts of the text to hide.
    chooses_spans: bool = False
    #: The styling the button gets: "primary", "secondary" or "danger".
    style: str = "primary"


@dataclass(frozen=True)
class Kind:
    """What the queue needs to know about one kind of content."""

    key: str
    model: type[Model]
    label: Any
    #: The permission (``app_label.codename``) a reviewer must hold through a role.
    permission: str
    #: The role told, without content, that an item is waiting.
    reviewer_role: str
    #: The template that shows one item to a moderator (it gets ``item``, ``target`` and ``view``).
    template: str
    #: ``load(ids) -> {str(id): target}`` in a fixed number of queries, whatever the number of ids.
    load: Callable[[list[str]], Mapping[str, Any]]
    #: ``present(item, target) -> dict``: the template context for one item (no queries of its own).
    present: Callable[[ModerationItem, Any], dict]
    #: ``decisions(item, target) -> [Decision]``: what this item offers, in button order.
    decisions: Callable[[ModerationItem, Any], list[Decision]]
    #: ``decide(moderator, item, target, decision, data, request) -> str``: carry out a decision,
    #: returning the confirmation shown to the moderator. ``data`` holds ``reason`` and ``spans``.
    decide: Callable[..., str]
    #: ``author(target) -> user id``: whose content this is (the patient the queue's audit names).
    author: Callable[[Any], int | None]
    #: ``space(target) -> str``: the community or space the content lives in, for filtering.
    space: Callable[[Any], str] = field(default=lambda target: "")
    #: The notification template role holders receive when an item of this kind is queued.
    notification: str = "moderation.needs_review"
    #: Optional: ``reviewer_spaces(user) -> set[str]``: the spaces whose items ``user`` reviews without
    #: holding ``permission`` (a community's own moderators). Asked only for people who do not hold the
    #: permission, and only when the portal asks them for a second factor (see ``rules.kind_spaces``).
    #: It can only add spaces: ``None`` or an empty set is "none".
    reviewer_spaces: Callable[[Any], Iterable[str] | None] | None = None
    #: Optional: ``space_reviewers(space) -> users``: the people ``reviewer_spaces`` names for ``space``,
    #: told (besides ``reviewer_role``) when an item of that space is queued or made urgent.
    space_reviewers: Callable[[str], Iterable[Any]] | None = None


_kinds: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Make ``kind`` known to the queue. Registering one key twice is a programming error."""
    if kind.key in _kinds and _kinds[kind.key] != kind:
        raise ValueError(f"Moderation kind {kind.key!r} is registered twice")
    _kinds[kind.key] = kind
    from portal_social.core import realtime

    # Every open queue screen of this kind follows one stream; reviewers of the kind may follow it.
    realtime.register_stream(f"moderation.{kind.key}", permission=kind.permission)
    return kind


def get(key: str) -> Kind:
    """The kind registered as ``key``; ``LookupError`` for one nobody registered."""
    try:
        return _kinds[key]
    except KeyError:
        raise LookupError(f"No moderation kind {key!r} is registered") from None


def kinds() -> Iterable[Kind]:
    """Every registered kind, in registration order."""
    return tuple(_kinds.values())
