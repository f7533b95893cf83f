"""Clinician spaces, write side: who belongs to a space, and what may leave a case-discussion space.

A space is a :class:`~portal_social.community.models.Community` of kind
``space``: only its active members who hold ``use_clinician_spaces``
(clinicians and care-team staff) see it or anything in it. Its owners and
moderators add members (an invitation: the colleague is a member at once and
is told so) and remove them; a removed member loses the space at their next
request, and their open live sockets are closed.

Containment: content of a space marked for case discussion (PHI permitted)
never goes anywhere else. Quoting one of its posts from another space or a
patient community is refused with a reason, and the attempt is recorded
(``space.containment``), naming the posts by id only.
"""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal_social.community import rules
from portal_social.community.actions._common import CommunityDenied
from portal_social.community.models import Community, Membership, Post
from portal_social.core import access, audit_events, locking, realtime
from portal_social.core.audit_events import register
from portal_social.core.models import AuditEvent

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

MEMBER_ADDED = register("space.member_added", gettext_lazy("Clinician space member added"))
MEMBER_REMOVED = register("space.member_removed", gettext_lazy("Clinician space member removed"))
SETTINGS = register(
    "space.settings", gettext_lazy("Clinician space case discussion or retention changed"), AuditEvent.Severity.NOTICE
)
REFERRAL = register("space.referral", gettext_lazy("Referral request assigned, answered or reopened"))
ANNOUNCED = register("space.announcement", gettext_lazy("Announcement posted in a clinician space"))
PURGED = register("space.purge", gettext_lazy("Clinician space threads past their retention deleted"))
CONTAINMENT = register(
    "space.containment",
    gettext_lazy("Content of a case-discussion space kept from another place"),
    AuditEvent.Severity.NOTICE,
)

#: The roles an owner or moderator gives in a space.
SPACE_ROLES = (Membership.Role.MEMBER, Membership.Role.MODERATOR, Membership.Role.OWNER)


_CONTAINED = gettext_lazy(
    "A post from a case-discussion space cannot be quoted or linked anywhere else: its patient details stay "
    "in that space."
)


def _require_space_manager(actor, space: Community) -> None:
    if space.kind != Community.Kind.SPACE or not rules.moderates(actor, space) or not rules.may_read(actor, space):
        raise CommunityDenied()


def add_member(
    *,
    actor: AbstractBaseUser,
    space: Community,
    user: AbstractBaseUser,
    role: str = Membership.Role.MEMBER,
    request: HttpRequest | None = None,
) -> Membership:
    """Make ``user`` an active member of ``space`` with ``role`` (an owner or moderator of the space does it).

    Only people who hold ``use_clinician_spaces`` can belong to a space; only an owner makes another owner.
    Adding someone who is already a member changes their role.
    """
    _require_space_manager(actor, space)
    if role not in SPACE_ROLES:
        raise CommunityDenied(_("Choose member, moderator or owner."))
    if role == Membership.Role.OWNER and not is_owner(actor, space):
        raise CommunityDenied(_("Only an owner of the space can make someone an owner."))
    if not (user.is_active and access.holds(user, rules.USE_SPACES)):
        raise CommunityDenied(_("Only clinicians and care-team staff can belong to a clinician space."))
    with transaction.atomic():
        membership = locking.locked(Membership.objects.filter(community=space, user=user)).first()
        if membership is None:
            membership = Membership.objects.create(community=space, user=user, role=role)
        else:
            if membership.role == Membership.Role.OWNER and role != Membership.Role.OWNER:
                if not is_owner(actor, space):
                    raise CommunityDenied(_("Only an owner of the space can change another owner's role."))
                _keep_an_owner(space, membership)
            membership.status = Membership.Status.ACTIVE
            membership.role = role
            membership.joined_at = timezone.now()
            membership.source = Membership.Source.PERSONAL  # added in person: stays when they leave a group
            membership.save(update_fields=["status", "role", "joined_at", "source"])
        MEMBER_ADDED.record(actor=actor, target=space, request=request, details={"member": str(user.pk), "role": role})
    rules.forget_moderated(user)
    return membership


def remove_member(
    *, actor: AbstractBaseUser, space: Community, user: AbstractBaseUser, request: HttpRequest | None = None
) -> None:
    """End ``user``'s membership of ``space``: they lose it at their next request, and their sockets close.

    An owner or moderator removes others; anyone may leave. The last owner cannot leave or be removed.
    """
    if actor.pk != getattr(user, "pk", None):
        _require_space_manager(actor, space)
    with transaction.atomic():
        membership = locking.locked(Membership.objects.filter(community=space, user=user)).first()
        if membership is None or membership.status != Membership.Status.ACTIVE:
            return
        if membership.role == Membership.Role.OWNER:
            if actor.pk != user.pk and not is_owner(actor, space):
                raise CommunityDenied(_("Only an owner of the space can remove another owner."))
            _keep_an_owner(space, membership)
        membership.status = Membership.Status.LEFT
        membership.role = Membership.Role.MEMBER
        membership.save(update_fields=["status", "role"])
        MEMBER_REMOVED.record(actor=actor, target=space, request=request, details={"member": str(user.pk)})
        realtime.recheck_access_after_commit([user.pk])  # their open sockets on the space's threads close
    rules.forget_moderated(user)


def _keep_an_owner(space: Community, membership: Membership) -> None:
    others = Membership.objects.filter(
        community=space, status=Membership.Status.ACTIVE, role=Membership.Role.OWNER
    ).exclude(pk=membership.pk)
    if not others.exists():
        raise CommunityDenied(_("A space needs an owner: make someone else an owner first."))


#: The longest retention period an owner may choose (ten years).
MAX_RETENTION_DAYS = 3650


def set_space_settings(
    *,
    actor: AbstractBaseUser,
    space: Community,
    phi_permitted: bool,
    retention_days: int | None,
    request: HttpRequest | None = None,
) -> Community:
    """An owner marks ``space`` for case discussion (or not) and sets how long its threads are kept."""
    _require_space_manager(actor, space)
    if not is_owner(actor, space):
        raise CommunityDenied(_("Only an owner of the space can change its settings."))
    if retention_days is not None and not 1 <= retention_days <= MAX_RETENTION_DAYS:
        raise CommunityDenied(_("Keep threads for 1 to 3650 days, or leave it empty to keep them."))
    with transaction.atomic():
        locked = locking.locked(Community.objects.filter(pk=space.pk)).get()
        before = {"phi_permitted": locked.phi_permitted, "retention_days": locked.retention_days}
        after = {"phi_permitted": bool(phi_permitted), "retention_days": retention_days}
        if before == after:
            return locked
        if before["phi_permitted"] and not after["phi_permitted"] and locked.threads.exists():
            # Its threads may hold patient details: their readings stay recorded and their posts contained.
            raise CommunityDenied(
                _("Case discussion stays on while the space has threads: they may hold patient details.")
            )
        locked.phi_permitted, locked.retention_days = after["phi_permitted"], after["retention_days"]
        locked.save(update_fields=["phi_permitted", "retention_days"])
        SETTINGS.record(actor=actor, target=locked, request=request, details={"before": before, "after": after})
    return locked


def is_owner(user, space: Community) -> bool:
    return Membership.objects.filter(
        community=space, user=user, status=Membership.Status.ACTIVE, role=Membership.Role.OWNER
    ).exists()


def record_case_read(*, actor: AbstractBaseUser, thread, request: HttpRequest | None = None, action: str = "view"):
    """Record ``actor``'s reading of ``thread`` as a PHI read when its space permits case discussion.

    The patient is the one the author tagged (``Thread.patient_reference``), where the portal's adapter
    knows them; the record number itself is never written to the audit trail.
    """
    if not thread.community.phi_permitted or not getattr(actor, "pk", None):  # only a space permits it
        return None
    patient = None
    if thread.patient_reference:
        from portal_social.adapter import get_adapter

        patient = get_adapter(request).patient_for_reference(thread.patient_reference)
    reason = "case discussion, patient tagged" if thread.patient_reference else "case discussion"
    return audit_events.phi_read(
        actor=actor, target=thread, patient=patient, action=action, request=request, reason=reason
    )


def contain(*, actor: AbstractBaseUser, quoted: Post | None, into: Community, request: HttpRequest | None = None):
    """Refuse (and record) quoting ``quoted`` into ``into`` when it comes from another case-discussion space."""
    if quoted is None:
        return
    source = quoted.thread.community
    if source.pk == into.pk or not source.phi_permitted:
        return
    _refuse(actor=actor, target=quoted, source=source, into=into, what="quote", request=request)


def _refuse(*, actor, target, source: Community, into: Community, what: str, request) -> None:
    """Record that ``target`` (a post or thread of the case space ``source``) was kept from ``into``, and say no."""
    CONTAINMENT.record(
        actor=actor,
        target=target,
        request=request,
        details={"from": str(source.pk), "into": str(into.pk), "what": what},
    )
    raise CommunityDenied(_CONTAINED)


def purge_expired(*, now=None, batch: int = 200) -> dict[str, int]:
    """Delete the threads of every space with a retention period whose last post is older than it.

    Each space's purge is recorded (``space.purge``) with counts only: how many threads and posts went,
    never a title or a word of them. Their search index rows go too. Safe to run at any time, and again.
    """
    from datetime import timedelta

    from portal_social.community.actions import search_index
    from portal_social.community.models import Thread
    from portal_social.core import search

    now = now or timezone.now()
    totals = {"spaces": 0, "threads": 0, "posts": 0}
    spaces = Community.objects.filter(kind=Community.Kind.SPACE, retention_days__isnull=False).order_by("pk")
    for space in spaces:
        cutoff = now - timedelta(days=space.retention_days)
        while True:
            with transaction.atomic():
                ids = list(
                    Thread.objects.filter(community=space, last_post_at__lt=cutoff)
                    .order_by("pk")
                    .values_list("pk", flat=True)[:batch]
                )
                if not ids:
                    break
                posts = Post.objects.filter(thread_id__in=ids).count()
                Thread.objects.filter(pk__in=ids).delete()
                search.remove(search_index.SCOPE, ids)
                PURGED.record(
                    actor=None,
                    target=space,
                    details={"threads": len(ids), "posts": posts, "retention_days": space.retention_days},
                )
            totals["threads"] += len(ids)
            totals["posts"] += posts
        totals["spaces"] += 1
    return totals


_UUID = re.compile(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}")


def contain_text(*, actor: AbstractBaseUser, text: str, into: Community, request: HttpRequest | None = None) -> None:
    """Refuse (and record) text written for ``into`` that links to a post, thread or shared file of
    another case-discussion space: a pasted quote's permalink, a thread's or a file's address, under any
    path.

    Every id in the text is looked up (three queries at most, none when there is no id), so the rule
    holds whatever address the link was copied from.
    """
    from portal_social.community.models import PostFile, Thread

    ids = {uuid.UUID(found.replace("-", "")) for found in _UUID.findall(text or "")}
    if not ids:
        return
    # Each kind of thing a link can name, the path from it to its community, and what the refusal records.
    for model, to_community, target in (
        (Thread, "community", lambda thread: thread),
        (Post, "thread__community", lambda post: post),
        (PostFile, "post__thread__community", lambda shared: shared.post),
    ):
        found = (
            model.objects.filter(pk__in=ids, **{f"{to_community}__kind": Community.Kind.SPACE})
            .filter(**{f"{to_community}__phi_permitted": True})
            .exclude(**{to_community: into})
            .select_related(to_community)
            .first()
        )
        if found is not None:
            named = target(found)
            source = named.community if isinstance(named, Thread) else named.thread.community
            _refuse(actor=actor, target=named, source=source, into=into, what="link", request=request)


# --------------------------------------------------------------------------- announcements


def announcement_fields(author, community: Community, announcement: bool, referral: dict | None) -> dict:
    """The thread fields of an announcement by ``author`` in ``community``, checked; {} for an ordinary thread.

    Only a space's owners and moderators post one (``CommunityDenied`` for anyone else, in a patient
    community, or for a referral request); it is pinned, and every member is told (``actions.following``).
    """
    if not announcement:
        return {}
    if community.kind != Community.Kind.SPACE:
        raise CommunityDenied(_("Announcements are posted in clinician spaces."))
    if referral:
        raise CommunityDenied(_("A referral request cannot also be an announcement."))
    if not access.can(author, "moderate", community):
        raise CommunityDenied(_("Only the space's owners and moderators post announcements."))
    return {"announcement": True, "pinned": True}


# --------------------------------------------------------------------------- referral requests


def referral_fields(community: Community, referral: dict | None) -> dict:
    """The thread fields of a referral request in ``community`` (a clinician space), checked; {} for none."""
    if not referral:
        return {}
    from portal_social.community.models import Thread

    if community.kind != Community.Kind.SPACE:
        raise CommunityDenied(_("Referral requests are made in clinician spaces."))
    specialty, urgency = referral.get("specialty"), referral.get("urgency")
    if specialty is None or getattr(specialty, "pk", None) is None:
        raise CommunityDenied(_("Choose the specialty you are asking."))
    if urgency not in Thread.Urgency.values:
        raise CommunityDenied(_("Choose how soon from the list."))
    return {"referral_specialty": specialty, "referral_urgency": urgency}


def _referral_or_denied(actor, thread):
    # Viewing the thread includes reading its space (rules: a space is read by its members only).
    if not thread.is_referral or not access.can(actor, "view", thread):
        raise CommunityDenied()


def assign_referral(*, actor: AbstractBaseUser, thread, assignee, request: HttpRequest | None = None):
    """Give the referral request ``thread`` to ``assignee`` (a member of its space), or to nobody (None).

    Any member may take a request themselves; giving it to someone else, or taking it from them, is for
    its author and the space's owners and moderators.
    """
    from portal_social.community.models import Thread

    _referral_or_denied(actor, thread)
    space = thread.community
    manages = thread.author_id == actor.pk or rules.moderates(actor, space)
    current = thread.referral_assignee_id
    if assignee is not None and assignee.pk != actor.pk and not manages:
        raise CommunityDenied(_("Only the author or the space's moderators give a request to someone else."))
    if assignee is None and current not in (None, actor.pk) and not manages:
        raise CommunityDenied(_("Only the author or the space's moderators take a request from someone."))
    if assignee is not None and not rules.may_read(assignee, space):
        raise CommunityDenied(_("Give the request to a member of this space."))
    with transaction.atomic():
        locked = locking.locked(Thread.objects.filter(pk=thread.pk)).get()
        new = assignee.pk if assignee is not None else None
        if locked.referral_assignee_id == new:
            return locked
        locked.referral_assignee_id = new
        locked.save(update_fields=["referral_assignee"])
        REFERRAL.record(
            actor=actor,
            target=locked,
            request=request,
            details={"assignee": str(new) if new else "", "what": "assign"},
        )
    return locked


def answer_referral(*, actor: AbstractBaseUser, thread, answered: bool = True, request: HttpRequest | None = None):
    """Mark the referral request ``thread`` answered (or open again): its author, assignee or moderators."""
    from portal_social.community.models import Thread

    _referral_or_denied(actor, thread)
    if actor.pk not in (thread.author_id, thread.referral_assignee_id) and not rules.moderates(actor, thread.community):
        raise CommunityDenied(_("Only the author, the colleague it was given to or a moderator marks it answered."))
    with transaction.atomic():
        locked = locking.locked(Thread.objects.filter(pk=thread.pk)).get()
        if bool(locked.referral_answered_at) == answered:
            return locked
        locked.referral_answered_at = timezone.now() if answered else None
        locked.save(update_fields=["referral_answered_at"])
        REFERRAL.record(
            actor=actor, target=locked, request=request, details={"what": "answered" if answered else "reopened"}
        )
    return locked
