"""Who may see and do what in communities: rules and scopes of the one access policy.

* A **public** community is read by anyone, signed in or not; a
  **members-only** one by anyone who takes part in communities (a role with
  ``participate_community``); a **private** one by its active members.
  Moderators (``moderate_community``) see every community.
* **Moderators** are of two kinds: the portal role (``moderate_community``)
  moderates every community; an active membership with the role
  ``moderator`` moderates that one community only (:func:`moderates`). What
  has not been published yet (held posts, hidden threads, earlier versions)
  is shown to a community's own moderator only when the portal asks them
  for a second factor (:func:`sees_unpublished`).
* Only active members who take part in communities **post**; nobody posts
  to a locked thread.
* A **thread** is seen where its community is, once its opening post is
  published; its author and moderators see it before that.
* A **post** is seen where its thread is, once published; its author and
  moderators see it while it waits.

Signed-out visitors see public communities and their published content only.

**Clinician spaces** (``Community.kind == "space"``) follow their own rule:
only an active member who holds ``use_clinician_spaces`` sees a space or
anything in it, and posts there. No other role reaches one: not the portal's
community moderators, not a superuser, and not break-the-glass. A space's
owners and moderators (memberships) moderate it.
"""

from __future__ import annotations

from django.db.models import Q

from portal_social.community.models import Community, Membership, Post, Thread
from portal_social.core import access

PARTICIPATE = "portal_social.participate_community"
MODERATE = "portal_social.moderate_community"
#: Portal administrators (and portal moderators) appoint a community's own moderators.
MANAGE_ROLES = "portal_social.manage_roles"
#: Clinicians and care-team staff: who may belong to a clinician space.
USE_SPACES = "portal_social.use_clinician_spaces"
#: The memberships that moderate a community or space.
_MODERATING_ROLES = ("moderator", "owner")


def is_moderator(user) -> bool:
    """A portal-wide moderator: the ``community_moderator`` role, for every community."""
    return access.holds(user, MODERATE)


def _moderates_every(user, community: Community) -> bool:
    """The portal role moderates every patient community, and never a clinician space."""
    return community.kind == Community.Kind.COMMUNITY and is_moderator(user)


def moderated_community_ids(user) -> frozenset[int]:
    """The communities ``user`` moderates through an active moderator membership (one query, cached on
    the user object for the request; :func:`forget_moderated` clears it)."""
    if not _signed_in(user):
        return frozenset()
    cached = getattr(user, "_portal_social_moderated_communities", None)
    if cached is None:
        cached = frozenset(
            Membership.objects.filter(
                user=user, status=Membership.Status.ACTIVE, role__in=_MODERATING_ROLES
            ).values_list("community_id", flat=True)
        )
        user._portal_social_moderated_communities = cached
    return cached


def remember_membership(user, community: Community, membership: Membership | None) -> None:
    """Tell :func:`moderates` and the posting rules what a page already read: ``user``'s membership of
    ``community`` (or None), so asking about this community again in the request costs no query."""
    if not _signed_in(user) or community is None:
        return
    active = bool(
        membership is not None
        and membership.user_id == user.pk
        and membership.community_id == community.pk
        and membership.status == Membership.Status.ACTIVE
    )
    user.__dict__.setdefault("_portal_social_active_in", {})[community.pk] = active
    known = user.__dict__.setdefault("_portal_social_moderates", {})
    known[community.pk] = active and membership.role in _MODERATING_ROLES


def forget_moderated(user) -> None:
    """Drop what :func:`moderated_community_ids` and :func:`remember_membership` cached (after an
    appointment changes it)."""
    if user is not None:
        user.__dict__.pop("_portal_social_moderated_communities", None)
        user.__dict__.pop("_portal_social_moderates", None)
        user.__dict__.pop("_portal_social_active_in", None)


def moderates(user, community: Community) -> bool:
    """Whether ``user`` moderates ``community``: the portal role, or an active moderator membership of it.

    Signed-out and inactive accounts never do; a superuser without either gets no pass.
    """
    if not _signed_in(user) or community is None:
        return False
    if _moderates_every(user, community):
        return True
    if community.kind == Community.Kind.SPACE and not access.holds(user, USE_SPACES):
        return False
    known = user.__dict__.get("_portal_social_moderates", {})
    if community.pk in known:
        return known[community.pk]
    return community.pk in moderated_community_ids(user)


def _second_factor_bound(user) -> bool:
    """Whether the portal asks ``user`` for a second factor on every page (staff roles, by default)."""
    from portal_social.adapter import get_adapter

    return bool(get_adapter().requires_mfa(user))


def sees_unpublished(user, community: Community) -> bool:
    """Whether ``user`` sees what is not published yet in ``community`` (held posts, hidden threads,
    earlier versions of posts): portal moderators, and the community's own moderators whom the portal
    asks for a second factor (such content may hold personal details as written)."""
    if not _signed_in(user):
        return False
    if _moderates_every(user, community):
        return True
    return moderates(user, community) and _second_factor_bound(user)


def _moderated_unpublished_ids(user):
    """A subquery of the communities whose unpublished content ``user`` sees as their own moderator."""
    if not _second_factor_bound(user):
        return Membership.objects.none().values("community_id")
    return Membership.objects.filter(user=user, status=Membership.Status.ACTIVE, role__in=_MODERATING_ROLES).values(
        "community_id"
    )


def _signed_in(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def _active_member(user, community: Community) -> bool:
    known = user.__dict__.get("_portal_social_active_in", {})
    if community.pk in known:  # read by this request's page (remember_membership)
        return known[community.pk]
    return Membership.objects.filter(community=community, user=user, status=Membership.Status.ACTIVE).exists()


def _community_condition(user, prefix: str = "") -> Q:
    """Q selecting the communities ``user`` may read, on ``prefix`` (e.g. ``"community__"``)."""
    communities = Q(**{f"{prefix}kind": Community.Kind.COMMUNITY})
    public = communities & Q(**{f"{prefix}visibility": Community.Visibility.PUBLIC})
    if not _signed_in(user):
        return public
    # A subquery, not a join: a join through memberships would repeat a community once per member.
    mine = Membership.objects.filter(user=user, status=Membership.Status.ACTIVE).values("community_id")
    if is_moderator(user):
        condition = communities
    else:
        condition = public | (
            communities & Q(**{f"{prefix}visibility": Community.Visibility.PRIVATE, f"{prefix}pk__in": mine})
        )
        if access.holds(user, PARTICIPATE):
            condition |= communities & Q(**{f"{prefix}visibility": Community.Visibility.MEMBERS})
    if access.holds(user, USE_SPACES):
        condition |= Q(**{f"{prefix}kind": Community.Kind.SPACE, f"{prefix}pk__in": mine})
    return condition


def may_read(user, community: Community) -> bool:
    if community.kind == Community.Kind.SPACE:
        return _signed_in(user) and access.holds(user, USE_SPACES) and _active_member(user, community)
    if community.visibility == Community.Visibility.PUBLIC:
        return True
    if not _signed_in(user):
        return False
    if is_moderator(user):
        return True
    if community.visibility == Community.Visibility.MEMBERS:
        return access.holds(user, PARTICIPATE)
    return _active_member(user, community)


def takes_part(user, community: Community) -> bool:
    """Whether ``user``'s role lets them write and react in ``community`` (membership aside): a role that
    takes part in patient communities, or, in a clinician space, one that uses spaces."""
    if not _signed_in(user):
        return False
    return access.holds(user, USE_SPACES if community.kind == Community.Kind.SPACE else PARTICIPATE)


@access.rule(Community, "view", anonymous=True)
def _may_view_community(user, community: Community) -> bool:
    return may_read(user, community)


@access.rule(Community, "join")
def _may_join(user, community: Community) -> bool:
    if community.kind == Community.Kind.SPACE:
        return False  # an owner or moderator adds members (actions.spaces)
    return access.holds(user, PARTICIPATE) and (
        community.visibility != Community.Visibility.MEMBERS or may_read(user, community)
    )


@access.rule(Community, "post")
def _may_post(user, community: Community) -> bool:
    if community.kind == Community.Kind.SPACE:
        return may_read(user, community)
    return access.holds(user, PARTICIPATE) and _active_member(user, community)


@access.scope(Community, anonymous=True)
def _communities_visible_to(user) -> Q:
    return _community_condition(user)


@access.rule(Thread, "view", anonymous=True)
def _may_view_thread(user, thread: Thread) -> bool:
    if not may_read(user, thread.community):
        return False
    if thread.visible:
        return True
    if not _signed_in(user):
        return False
    return sees_unpublished(user, thread.community) or (thread.author_id == user.pk and _opening_held(thread.pk))


def _opening_held(thread_id) -> bool:
    """The thread's opening post still waits for a moderator (a refused one leaves nothing to show)."""
    return Post.objects.filter(thread_id=thread_id, is_opening=True, status=Post.Status.HELD).exists()


@access.rule(Thread, "reply")
def _may_reply(user, thread: Thread) -> bool:
    return not thread.locked and thread.visible and _may_post(user, thread.community)


@access.rule(Thread, "solve")
def _may_solve(user, thread: Thread) -> bool:
    """The thread's author or a moderator chooses its answer, on a published thread they can see."""
    return (
        thread.visible
        and (thread.author_id == user.pk or moderates(user, thread.community))
        and _may_view_thread(user, thread)
    )


@access.rule(Thread, "moderate")
def _may_moderate_thread(user, thread: Thread) -> bool:
    """Pin, lock, slow mode: the community's moderators."""
    return moderates(user, thread.community) and _may_view_thread(user, thread)


@access.rule(Community, "moderate")
def _may_moderate_community(user, community: Community) -> bool:
    return moderates(user, community)


@access.rule(Thread, "follow")
def _may_follow(user, thread: Thread) -> bool:
    """Anyone signed in who can read a published thread may follow it."""
    return thread.visible and _may_view_thread(user, thread)


@access.scope(Thread, anonymous=True)
def _threads_visible_to(user) -> Q:
    readable = _community_condition(user, "community__")
    if _signed_in(user) and is_moderator(user):
        # Everything of the patient communities; in a space of theirs, what its members see.
        return readable & (Q(community__kind=Community.Kind.COMMUNITY) | _threads_shown(user))
    return readable & _threads_shown(user)


def _threads_shown(user) -> Q:
    shown = Q(visible=True)
    if _signed_in(user):
        waiting = Post.objects.filter(author=user, is_opening=True, status=Post.Status.HELD).values("thread_id")
        shown |= Q(author=user, pk__in=waiting)
        shown |= Q(community_id__in=_moderated_unpublished_ids(user))
    return shown


@access.rule(Post, "view", anonymous=True)
def _may_view_post(user, post: Post) -> bool:
    if not _may_view_thread(user, post.thread):
        return False
    if post.status == Post.Status.PUBLISHED:
        return True
    if not _signed_in(user):
        return False
    return sees_unpublished(user, post.thread.community) or (
        post.author_id == user.pk and post.status != Post.Status.DELETED
    )


@access.rule(Post, "flag")
def _may_flag(user, post: Post) -> bool:
    """Members flag for the patient communities' moderators; a space has its own (no queue reads it)."""
    return (
        post.status == Post.Status.PUBLISHED
        and post.thread.community.kind == Community.Kind.COMMUNITY
        and access.holds(user, PARTICIPATE)
        and _may_view_post(user, post)
    )


@access.rule(Post, "react")
def _may_react(user, post: Post) -> bool:
    """Active members who take part react to others' published posts they can see."""
    return (
        post.status == Post.Status.PUBLISHED
        and post.author_id != user.pk
        and _may_view_post(user, post)
        and _may_post(user, post.thread.community)
    )


@access.rule(Post, "moderate")
def _may_moderate_post(user, post: Post) -> bool:
    """Decide on a post (publish, hide parts, refuse): its community's moderators who may see it."""
    community = post.thread.community
    return moderates(user, community) and (_moderates_every(user, community) or _may_view_post(user, post))


#: What an author may still edit or delete: published or waiting (not refused, not deleted).
_CHANGEABLE = (Post.Status.PUBLISHED, Post.Status.HELD)


@access.rule(Post, "edit")
def _may_edit(user, post: Post) -> bool:
    """Its author, while they may post in the community, unless the thread is locked."""
    return (
        post.author_id == user.pk
        and post.status in _CHANGEABLE
        and not post.thread.locked
        and _may_view_post(user, post)
        and _may_post(user, post.thread.community)
    )


@access.rule(Post, "delete")
def _may_delete(user, post: Post) -> bool:
    """Its author (even after leaving, even in a locked thread), or a moderator."""
    if post.status not in _CHANGEABLE:
        return False
    if post.author_id == user.pk and _may_view_post(user, post):
        return True
    community = post.thread.community
    return _moderates_every(user, community) or (moderates(user, community) and _may_view_post(user, post))


@access.rule(Post, "history", phi=True)
def _may_read_history(user, post: Post) -> bool:
    """Earlier versions of a post, as written (they may hold personal details): moderators only
    (a community's own moderator when the portal asks them for a second factor)."""
    return sees_unpublished(user, post.thread.community)


@access.scope(Post, anonymous=True)
def _posts_visible_to(user) -> Q:
    readable = _community_condition(user, "thread__community__")
    if _signed_in(user) and is_moderator(user):
        return readable & (Q(thread__community__kind=Community.Kind.COMMUNITY) | _posts_shown(user))
    return readable & _posts_shown(user)


def _posts_shown(user) -> Q:
    shown = Q(status=Post.Status.PUBLISHED, thread__visible=True)
    if _signed_in(user):
        shown |= Q(author=user) & ~Q(status=Post.Status.DELETED)
        shown |= Q(thread__community_id__in=_moderated_unpublished_ids(user))
    return shown
