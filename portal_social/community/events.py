"""Community audit events, one function each (see ``core.audit_events``).

Details hold ids, statuses, codes and counts: never a title, a post, a
handle or a reason anyone wrote.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

from portal_social.core.audit_events import register

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.db.models import Model
    from django.http import HttpRequest

    from portal_social.core.models import AuditEvent

POSTED = register("community.post", _("Community post written"))
APPROVED = register("community.approve", _("Community post approved by moderator"))
REJECTED = register("community.reject", _("Community post rejected by moderator"))
REDACTED = register("community.redact", _("Community post redacted by moderator"))
FLAGGED = register("community.flag", _("Community post flagged"))
HIDDEN = register("community.hide", _("Community post hidden by members' flags"))
JOINED = register("community.join", _("Community joined"))
LEFT = register("community.leave", _("Community left"))
EDITED = register("community.edit", _("Community post edited by its author"))
DELETED = register("community.delete", _("Community post deleted"))
REACTED = register("community.react", _("Community post reaction given or taken back"))
TRUST = register("community.trust", _("Community trust level changed"))
PENALTY = register("community.penalty", _("Community member silenced, suspended or released"))
ROLE = register("community.role", _("Community mentor role changed"))
WELCOMED = register("community.welcome", _("New community member welcomed by a mentor"))
JOIN_DECISION = register("community.join_decision", _("Request to join a community decided"))
MEMBER_VIEWED = register("community.member_view", _("Community member page opened by a moderator"))
SOLVED = register("community.solve", _("Community thread answer chosen or cleared"))
PINNED = register("community.pin", _("Community thread pinned or unpinned"))
LOCKED = register("community.lock", _("Community thread locked or unlocked"))
SLOW_MODE = register("community.slow_mode", _("Community slow mode set"))
MODERATOR_APPOINTED = register("community.moderator_appointed", _("Community moderator appointed"))
MODERATOR_REMOVED = register("community.moderator_removed", _("Community moderator removed"))
BADGE_AWARDED = register("community.badge_awarded", _("Community badge awarded to a member"))


def _post_event(
    event_type,
    *,
    actor: AbstractBaseUser | None,
    post: Model,
    request: HttpRequest | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """The post is the object; its author is the patient whose words it holds."""
    return event_type.record(
        actor=actor,
        target=post,
        patient=post.author_id,
        request=request,
        details={"thread": str(post.thread_id), **(details or {})},
    )


def post_written(*, actor, post, request=None, details=None) -> AuditEvent:
    return _post_event(POSTED, actor=actor, post=post, request=request, details=details)


def post_approved(*, actor, post, request=None, details=None) -> AuditEvent:
    return _post_event(APPROVED, actor=actor, post=post, request=request, details=details)


def post_rejected(*, actor, post, request=None, details=None) -> AuditEvent:
    return _post_event(REJECTED, actor=actor, post=post, request=request, details=details)


def post_redacted(*, actor, post, request=None, details=None) -> AuditEvent:
    return _post_event(REDACTED, actor=actor, post=post, request=request, details=details)


def post_flagged(*, actor, post, request=None, details=None) -> AuditEvent:
    return _post_event(FLAGGED, actor=actor, post=post, request=request, details=details)


def post_hidden(*, actor, post, request=None, details=None) -> AuditEvent:
    return _post_event(HIDDEN, actor=actor, post=post, request=request, details=details)


def post_edited(*, actor, post, request=None, details=None) -> AuditEvent:
    return _post_event(EDITED, actor=actor, post=post, request=request, details=details)


def post_deleted(*, actor, post, request=None, details=None) -> AuditEvent:
    return _post_event(DELETED, actor=actor, post=post, request=request, details=details)


def joined(*, actor, membership, request=None) -> AuditEvent:
    return JOINED.record(
        actor=actor,
        target=membership.community,
        request=request,
        details={"status": membership.status},
    )


def left(*, actor, membership, request=None) -> AuditEvent:
    return LEFT.record(actor=actor, target=membership.community, request=request)


def thread_tool(event_type, *, actor, target, request=None, details=None) -> AuditEvent:
    """A moderator's (or a thread author's) tool used on a thread or a community: ids, codes and numbers only."""
    return event_type.record(actor=actor, target=target, request=request, details=details or {})


def member_event(event_type, *, actor, member_id: int, target, request=None, details=None) -> AuditEvent:
    """An event about a member (trust, penalties, roles, welcomes, join decisions): the member is the
    subject; ``target`` the community, penalty or profile it is about. Details: ids, codes, numbers."""
    return event_type.record(
        actor=actor,
        target=target,
        patient=member_id,
        request=request,
        details={"member": str(member_id), **(details or {})},
    )
