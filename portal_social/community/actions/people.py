"""People in communities: trust levels set by hand, penalties, mentors' welcomes and join requests.

* :func:`set_trust_level`: a moderator sets a member's level (0 to 3), which
  locks it against automatic changes, or gives it back to the automatic
  rules.
* :func:`penalize` / :func:`lift_penalty`: a moderator **silences** a member
  (they read, but may not post or react) or **suspends** them (no sign-in)
  for a time, with a reason the member sees; durations escalate with
  repeats (``PORTAL_SOCIAL_COMMUNITY_PENALTY_STEPS``). A silence is a
  posting check; a suspension is a sign-in check
  (``core.accounts.SIGN_IN_REFUSALS``), so the member cannot sign in and a
  signed-in one is signed out at their next request, their live sockets
  closed at once.
* :func:`set_mentor`: a moderator makes a member a mentor of a community, or
  a member again.
* :func:`welcome`: a mentor (or moderator) welcomes a new member.
* :func:`set_community_moderator`: a portal moderator (or portal
  administrator) makes an active member a moderator of that one community,
  or a member again.
* :func:`decide_join_request`: a moderator approves or declines a request to
  join a private community.

Every action is audited with ids, codes and numbers; a penalty's reason
(encrypted at rest) is never in the audit trail or a notification.
"""

from __future__ import annotations

import datetime
import time
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from portal_social.community import events, rules, trust
from portal_social.community.actions._common import (
    ON_PUBLISHED,
    ON_UNPUBLISHED,
    POSTING_CHECKS,
    CommunityDenied,
    _signed_in,
)
from portal_social.community.models import Community, CommunityProfile, Membership, Penalty
from portal_social.conf import app_settings
from portal_social.core import access, accounts, locking, notify, realtime, text
from portal_social.core.moderation import rules as moderation_rules

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

#: A penalty lasts at least a minute and at most a year.
MIN_PENALTY_SECONDS = 60
MAX_PENALTY_SECONDS = 365 * 24 * 3600
PENALTY_REASON_MAX_LENGTH = 500
#: Members who joined this recently, and were not welcomed yet, are on the mentors' list.
WELCOME_WINDOW = datetime.timedelta(days=30)
#: Earlier penalties of the same kind within this time make the next one longer.
ESCALATION_WINDOW = datetime.timedelta(days=365)


def _moderator(user) -> bool:
    return _signed_in(user) and rules.is_moderator(user)


def _require_moderator(user) -> None:
    if not _moderator(user):
        raise CommunityDenied()


def when(moment: datetime.datetime) -> str:
    """A penalty's end as people read it, in the portal's time zone."""
    return formats.date_format(timezone.localtime(moment), "j F Y, H:i")


# --------------------------------------------------------------------------- penalties


def active_penalties(user, *, now: datetime.datetime | None = None):
    """``user``'s penalties in force now (not lifted, started, not ended), latest end first."""
    now = now or timezone.now()
    return Penalty.objects.filter(user=user, lifted_at__isnull=True, starts_at__lte=now, ends_at__gt=now).order_by(
        "-ends_at", "pk"
    )


#: The penalties in force for the signed-in user, read once per request by the sign-in check
#: (``_suspended``, run by ``SessionTimeoutMiddleware``) and kept on ``request.user`` for the pages.
_REQUEST_CACHE = "_portal_social_penalties_in_force"


#: A user object lives for a request; one kept longer (a live socket's) reads afresh after this many seconds.
_REQUEST_CACHE_SECONDS = 30


def _in_force(user, *, remember: bool = False) -> list[Penalty]:
    cached = getattr(user, _REQUEST_CACHE, None)
    if cached is not None and time.monotonic() - cached[0] < _REQUEST_CACHE_SECONDS:
        return cached[1]
    found = list(active_penalties(user)[:5])
    if remember:
        setattr(user, _REQUEST_CACHE, (time.monotonic(), found))
    return found


def active_penalty(user, kind: str | None = None) -> Penalty | None:
    """The penalty in force for ``user`` (of ``kind``, or a suspension before a silence), or None."""
    if not _signed_in(user):
        return None
    found = _in_force(user)
    if kind:
        return next((p for p in found if p.kind == kind), None)
    return next((p for p in found if p.kind == Penalty.Kind.SUSPEND), found[0] if found else None)


def suggested_seconds(member, kind: str, *, now: datetime.datetime | None = None) -> int:
    """The next step of the ladder: by the member's penalties of ``kind`` that started in the last year."""
    now = now or timezone.now()
    steps = app_settings.COMMUNITY_PENALTY_STEPS
    earlier = Penalty.objects.filter(user=member, kind=kind, starts_at__gt=now - ESCALATION_WINDOW).count()
    return steps[min(earlier, len(steps) - 1)]


def _clean_seconds(value) -> int:
    value = str(value).strip()
    seconds = int(value) if value.isascii() and value.isdigit() and len(value) <= 12 else 0
    if not MIN_PENALTY_SECONDS <= seconds <= MAX_PENALTY_SECONDS:
        raise ValidationError({"duration": [_("Choose how long it lasts: from one minute to one year.")]})
    return seconds


def penalize(
    *,
    moderator: AbstractBaseUser,
    member: AbstractBaseUser,
    kind: str,
    seconds: int | None = None,
    reason: str,
    request: HttpRequest | None = None,
) -> Penalty:
    """Silence or suspend ``member`` for ``seconds`` (None: the next step of the ladder), with a reason
    they will read. Refused for oneself, for a moderator, and while one of the same kind is in force."""
    _require_moderator(moderator)
    if kind not in Penalty.Kind.values:
        raise ValidationError({"kind": [_("Choose silence or suspension.")]})
    if member.pk == moderator.pk or rules.is_moderator(member):
        raise CommunityDenied(_("A moderator cannot be silenced or suspended here. Ask a portal administrator."))
    reason = text.clean_plain(
        reason,
        field="reason",
        required=True,
        max_length=PENALTY_REASON_MAX_LENGTH,
        empty_message=_("Say why, in words the member will read."),
    )
    seconds = suggested_seconds(member, kind) if seconds is None else _clean_seconds(seconds)
    now = timezone.now()
    with transaction.atomic():
        # One at a time per member: the profile row is the lock (a member without one has never posted).
        locking.locked(CommunityProfile.objects.filter(user=member)).first()
        current = active_penalties(member).filter(kind=kind).first()
        if current is not None:
            raise CommunityDenied(
                _("This member is already %(kind)s until %(date)s. Lift that first to change it.")
                % {
                    "kind": _("silenced") if kind == Penalty.Kind.SILENCE else _("suspended"),
                    "date": when(current.ends_at),
                }
            )
        penalty = Penalty.objects.create(
            user=member,
            kind=kind,
            starts_at=now,
            ends_at=now + datetime.timedelta(seconds=seconds),
            reason=reason,
            set_by=moderator,
        )
        events.member_event(
            events.PENALTY,
            actor=moderator,
            member_id=member.pk,
            target=penalty,
            request=request,
            details={"action": "set", "kind": kind, "seconds": seconds, "penalty": str(penalty.pk)},
        )
        profile = CommunityProfile.objects.filter(user=member).first()
        if profile is not None:
            trust.recompute(trust.Counters.of(profile), actor=moderator, reason="penalty", only_lower=True)
        if kind == Penalty.Kind.SUSPEND:
            _end_sockets_after_commit(member)
    return penalty


def _end_sockets_after_commit(member) -> None:
    """Close every live socket of ``member`` (every session, every server process) once this commits."""
    group = realtime.user_group_name(member.pk)
    transaction.on_commit(lambda: realtime.publish(group, {"type": realtime.SESSION_ENDED}), robust=True)


def lift_penalty(*, moderator: AbstractBaseUser, penalty: Penalty, request: HttpRequest | None = None) -> Penalty:
    """End a penalty early. Lifting one that already ended or was lifted changes nothing."""
    _require_moderator(moderator)
    with transaction.atomic():
        penalty = locking.locked(Penalty.objects.filter(pk=penalty.pk)).first()
        if penalty is None:
            raise CommunityDenied()
        now = timezone.now()
        if penalty.lifted_at is not None or penalty.ends_at <= now:
            return penalty
        penalty.lifted_at, penalty.lifted_by = now, moderator
        penalty.save(update_fields=["lifted_at", "lifted_by"])
        events.member_event(
            events.PENALTY,
            actor=moderator,
            member_id=penalty.user_id,
            target=penalty,
            request=request,
            details={
                "action": "lift",
                "kind": penalty.kind,
                "seconds": int((penalty.ends_at - now).total_seconds()),
                "penalty": str(penalty.pk),
            },
        )
    return penalty


def _silenced(author, community, thread=None) -> str | None:
    """``POSTING_CHECKS``: a silenced (or suspended) member reads but does not post or react.

    The patient communities' penalties do not reach a clinician space: its owners run it."""
    if community is not None and community.kind == Community.Kind.SPACE:
        return None
    penalty = active_penalty(author)
    if penalty is None:
        return None
    return _("You can read but not post until %(date)s: a moderator paused your posting.") % {
        "date": when(penalty.ends_at)
    }


def _suspended(user) -> str | None:
    """``core.accounts.SIGN_IN_REFUSALS``: a suspended member stays out until the suspension ends."""
    if user is None or getattr(user, "pk", None) is None:
        return None
    if not getattr(user, "is_active", False):
        return None
    penalty = next((p for p in _in_force(user, remember=True) if p.kind == Penalty.Kind.SUSPEND), None)
    if penalty is None:
        return None
    return _(
        "Your community account is suspended until %(date)s: a moderator paused it. You can sign in again then."
    ) % {"date": when(penalty.ends_at)}


# --------------------------------------------------------------------------- trust


def set_trust_level(
    *,
    moderator: AbstractBaseUser,
    member: AbstractBaseUser,
    level: int | None,
    request: HttpRequest | None = None,
) -> CommunityProfile:
    """Set ``member``'s level by hand (0 to 3), locking it; ``None`` unlocks it for the automatic rules."""
    _require_moderator(moderator)
    if level is not None:
        level = int(level) if str(level) in {str(n) for n in trust.LEVELS} else -1
        if level not in trust.LEVELS:
            raise ValidationError({"level": [_("Choose a trust level from 0 to 3, or automatic.")]})
    with transaction.atomic():
        profile = locking.locked(CommunityProfile.objects.filter(user=member)).first()
        if profile is None:
            raise CommunityDenied(_("This member has no community name yet."))
        before, locked_before = profile.trust_level, profile.trust_level_locked
        if level is None:
            profile.trust_level_locked = False
        else:
            profile.trust_level, profile.trust_level_locked = level, True
        if (before, locked_before) == (profile.trust_level, profile.trust_level_locked):
            return profile
        profile.save(update_fields=["trust_level", "trust_level_locked"])
        events.member_event(
            events.TRUST,
            actor=moderator,
            member_id=member.pk,
            target=profile,
            request=request,
            details={
                "from": before,
                "to": profile.trust_level,
                "reason": "moderator",
                "locked": profile.trust_level_locked,
            },
        )
    return profile


# --------------------------------------------------------------------------- mentors and welcomes


def may_welcome(user, community: Community) -> bool:
    """A moderator of ``community``, or an active mentor of it."""
    if not _signed_in(user):
        return False
    if rules.moderates(user, community):
        return True
    return Membership.objects.filter(
        community=community, user=user, role=Membership.Role.MENTOR, status=Membership.Status.ACTIVE
    ).exists()


def waiting_welcome(community: Community):
    """Active members who joined in the last 30 days and were not welcomed yet, newest first."""
    return (
        Membership.objects.filter(
            community=community,
            status=Membership.Status.ACTIVE,
            role=Membership.Role.MEMBER,
            welcomed_at__isnull=True,
            joined_at__gte=timezone.now() - WELCOME_WINDOW,
        )
        .select_related("user__community_profile")
        .order_by("-joined_at", "pk")
    )


def welcome(*, mentor: AbstractBaseUser, membership: Membership, request: HttpRequest | None = None) -> Membership:
    """A mentor welcomes a new member: recorded once, and the member is told (generic words)."""
    if not may_welcome(mentor, membership.community):
        raise CommunityDenied()
    with transaction.atomic():
        locked = locking.locked(waiting_welcome(membership.community).filter(pk=membership.pk)).first()
        if locked is None or locked.user_id == mentor.pk:
            raise CommunityDenied(_("This member was welcomed already, or is not new here."))
        locked.welcomed_by, locked.welcomed_at = mentor, timezone.now()
        locked.save(update_fields=["welcomed_by", "welcomed_at"])
        events.member_event(
            events.WELCOMED, actor=mentor, member_id=locked.user_id, target=locked.community, request=request
        )
        notify.notify(locked.user, "community.welcome")
    return locked


def set_mentor(
    *, moderator: AbstractBaseUser, membership: Membership, mentor: bool, request: HttpRequest | None = None
) -> Membership:
    """Make an active member a mentor of their community, or a member again."""
    _require_moderator(moderator)
    role = Membership.Role.MENTOR if mentor else Membership.Role.MEMBER
    with transaction.atomic():
        # A clinician space's roles are its owners' to give (actions.spaces), never the portal moderators'.
        patient_communities = Membership.objects.filter(community__kind=Community.Kind.COMMUNITY)
        locked = locking.locked(patient_communities.filter(pk=membership.pk)).first()
        if locked is None or locked.status != Membership.Status.ACTIVE:
            raise CommunityDenied(_("Only an active member can be a mentor."))
        if locked.role == role:
            return locked
        if locked.role == Membership.Role.MODERATOR:
            raise CommunityDenied(_("This member moderates the community: remove them as a moderator first."))
        before = locked.role
        locked.role = role
        locked.save(update_fields=["role"])
        events.member_event(
            events.ROLE,
            actor=moderator,
            member_id=locked.user_id,
            target=locked.community,
            request=request,
            details={"from": before, "to": role},
        )
    return locked


# --------------------------------------------------------------------------- community moderators


def may_appoint(user) -> bool:
    """Who makes members moderators of one community: portal moderators and portal administrators."""
    return _signed_in(user) and (rules.is_moderator(user) or access.holds(user, rules.MANAGE_ROLES))


def set_community_moderator(
    *, actor: AbstractBaseUser, membership: Membership, moderator: bool, request: HttpRequest | None = None
) -> Membership:
    """Make an active member a moderator of their community (``moderator=True``), or a member again.

    Only an active member can be appointed; a removed moderator becomes a
    member. Doing what is done already changes nothing and records nothing.
    Audited as ``community.moderator_appointed`` or ``community.moderator_removed`` (ids only).
    """
    if not may_appoint(actor):
        raise CommunityDenied()
    with transaction.atomic():
        # A clinician space's roles are its owners' to give (actions.spaces), never the portal moderators'.
        patient_communities = Membership.objects.filter(community__kind=Community.Kind.COMMUNITY)
        locked = locking.locked(patient_communities.filter(pk=membership.pk)).first()
        if locked is None:
            raise CommunityDenied(_("Choose one of this member's communities."))
        is_moderator = locked.role == Membership.Role.MODERATOR
        if moderator:
            if locked.status != Membership.Status.ACTIVE:
                raise CommunityDenied(_("Only an active member can be a moderator of a community."))
            if is_moderator:
                return locked
            before, locked.role = locked.role, Membership.Role.MODERATOR
            event = events.MODERATOR_APPOINTED
        else:
            if not is_moderator:
                return locked
            before, locked.role = locked.role, Membership.Role.MEMBER
            event = events.MODERATOR_REMOVED
        locked.save(update_fields=["role"])
        events.member_event(
            event,
            actor=actor,
            member_id=locked.user_id,
            target=locked.community,
            request=request,
            details={"community": str(locked.community_id), "from": before, "to": locked.role},
        )
    if "user" in membership._state.fields_cache:
        rules.forget_moderated(membership.user)
        moderation_rules.forget_spaces(membership.user)
    membership.role = locked.role
    return locked


# --------------------------------------------------------------------------- join requests


def pending_requests(community: Community):
    """Requests to join ``community`` waiting for a moderator, oldest first."""
    return (
        Membership.objects.filter(community=community, status=Membership.Status.REQUESTED)
        .select_related("user__community_profile")
        .order_by("joined_at", "pk")
    )


def decide_join_request(
    *, moderator: AbstractBaseUser, membership: Membership, approve: bool, request: HttpRequest | None = None
) -> Membership:
    """Approve (the member is in) or decline (they may ask again) a request to join; they are told.

    The community's moderators decide (the portal role, or a moderator of that community)."""
    if not rules.moderates(moderator, membership.community):
        raise CommunityDenied()
    with transaction.atomic():
        locked = locking.locked(Membership.objects.filter(pk=membership.pk)).first()
        if locked is None or locked.status != Membership.Status.REQUESTED:
            raise CommunityDenied(_("This request was decided already."))
        if approve:
            locked.status, locked.joined_at = Membership.Status.ACTIVE, timezone.now()
        else:
            locked.status = Membership.Status.LEFT
        locked.save(update_fields=["status", "joined_at"])
        events.member_event(
            events.JOIN_DECISION,
            actor=moderator,
            member_id=locked.user_id,
            target=locked.community,
            request=request,
            details={"decision": "approved" if approve else "declined"},
        )
        notify.notify(locked.user, "community.join_approved" if approve else "community.join_declined")
    return locked


# --------------------------------------------------------------------------- registration

if trust.count_posts not in ON_PUBLISHED:
    ON_PUBLISHED.append(trust.count_posts)
if trust.count_posts not in ON_UNPUBLISHED:
    ON_UNPUBLISHED.append(trust.count_posts)
if _silenced not in POSTING_CHECKS:
    POSTING_CHECKS.append(_silenced)
if _suspended not in accounts.SIGN_IN_REFUSALS:
    accounts.SIGN_IN_REFUSALS.append(_suspended)
