"""Who may see and do what in communities: ``access.can`` and ``access.visible`` answer alike.

Every role (and a signed-out visitor, a superuser without a role and a
deactivated patient) against every visibility and every membership state,
for every action the rules register. The expectations are written out here
from the rules' promises, not read from the rules.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from portal_social.community import rules  # noqa: F401  (registers the rules)
from portal_social.community.models import Community, Membership, Post, Thread
from portal_social.core import access, roles

pytestmark = pytest.mark.django_db

PARTICIPANTS = {roles.PATIENT, roles.CAREGIVER, roles.CLINICIAN, roles.COMMUNITY_MODERATOR, roles.COMMUNITY_MENTOR}
VISIBILITIES = [Community.Visibility.PUBLIC, Community.Visibility.MEMBERS, Community.Visibility.PRIVATE]
#: The viewer's own membership in a community: none, or a row in each state.
MEMBERSHIPS = [None, Membership.Status.ACTIVE, Membership.Status.REQUESTED, Membership.Status.LEFT]

WHO = [
    "anonymous",
    roles.PATIENT,
    roles.CAREGIVER,
    roles.CLINICIAN,
    roles.CARE_TEAM,
    roles.COMMUNITY_MODERATOR,
    roles.COMMUNITY_MENTOR,
    roles.PATIENT_EXPERIENCE,
    roles.RISK_MANAGER,
    roles.PORTAL_ADMINISTRATOR,
    "superuser",
    "deactivated",
]


def _viewer(make_user, who):
    if who == "anonymous":
        return AnonymousUser()
    if who == "superuser":
        return make_user(None, is_superuser=True, is_staff=True)
    if who == "deactivated":
        return make_user(roles.PATIENT, is_active=False)
    return make_user(who)


def _post(thread, author, status, *, opening=False):
    return Post.objects.create(
        thread=thread,
        author=author,
        is_opening=opening,
        status=status,
        body_source="A few words.",
        body_html="<p>A few words.</p>",
    )


def _community(n, visibility, author, viewer, membership, others):
    """A community with the viewer's membership, several other members, and content of every state."""
    community = Community.objects.create(name=f"Community {n}", slug=f"community-{n}", visibility=visibility)
    for member in [author, *others]:
        Membership.objects.create(community=community, user=member, status=Membership.Status.ACTIVE)
    if membership is not None and viewer.is_authenticated:
        Membership.objects.create(community=community, user=viewer, status=membership)
    signed_in = viewer.is_authenticated
    P = Post.Status

    open_thread = Thread.objects.create(community=community, author=author, title="Open", visible=True)
    locked_thread = Thread.objects.create(community=community, author=author, title="Locked", visible=True, locked=True)
    held_thread = Thread.objects.create(community=community, author=author, title="Held", visible=False)
    threads = {"open": open_thread, "locked": locked_thread, "held_other": held_thread}
    posts = {
        "published": _post(open_thread, author, P.PUBLISHED, opening=True),
        "held_other": _post(open_thread, author, P.HELD),
        "rejected_other": _post(open_thread, author, P.REJECTED),
        "deleted_other": _post(open_thread, author, P.DELETED),
        "locked_opening": _post(locked_thread, author, P.PUBLISHED, opening=True),
        "held_thread_opening": _post(held_thread, author, P.HELD, opening=True),
    }
    if signed_in:
        own_thread = Thread.objects.create(community=community, author=viewer, title="Mine", visible=False)
        threads["held_own"] = own_thread
        posts["own_thread_opening"] = _post(own_thread, viewer, P.HELD, opening=True)
        posts["held_own"] = _post(open_thread, viewer, P.HELD)
        posts["rejected_own"] = _post(open_thread, viewer, P.REJECTED)
    return community, threads, posts


def _expected(who, visibility, membership):
    """What the rules promise, written out: {(kind, name, action): allowed}."""
    signed_in = who not in ("anonymous", "deactivated")
    participates = signed_in and who in PARTICIPANTS
    moderator = signed_in and who == roles.COMMUNITY_MODERATOR
    active = membership == Membership.Status.ACTIVE
    if not signed_in:
        readable = who == "anonymous" and visibility == Community.Visibility.PUBLIC
    elif moderator or visibility == Community.Visibility.PUBLIC:
        readable = True
    elif visibility == Community.Visibility.MEMBERS:
        readable = participates
    else:
        readable = active
    may_post = participates and active

    expected = {
        ("community", "", "view"): readable,
        ("community", "", "join"): participates and (visibility != Community.Visibility.MEMBERS or readable),
        ("community", "", "post"): may_post,
        ("thread", "open", "view"): readable,
        ("thread", "open", "reply"): may_post,
        ("thread", "locked", "view"): readable,
        ("thread", "locked", "reply"): False,
        ("thread", "held_other", "view"): readable and moderator,
        ("thread", "held_other", "reply"): False,
        ("post", "published", "view"): readable,
        ("post", "held_other", "view"): readable and moderator,
        ("post", "rejected_other", "view"): readable and moderator,
        ("post", "deleted_other", "view"): readable and moderator,
        ("post", "locked_opening", "view"): readable,
        ("post", "held_thread_opening", "view"): readable and moderator,
    }
    if who != "anonymous":
        expected.update(
            {
                ("thread", "held_own", "view"): readable,
                ("thread", "held_own", "reply"): False,
                ("post", "own_thread_opening", "view"): readable,
                ("post", "held_own", "view"): readable,
                ("post", "rejected_own", "view"): readable,
            }
        )
    for key in [k for k in expected if k[0] == "post"]:
        expected[("post", key[1], "moderate")] = moderator
    return expected


@pytest.mark.parametrize("who", WHO)
def test_can_and_visible_agree_with_the_promised_matrix(make_user, who):
    viewer = _viewer(make_user, who)
    author = make_user(roles.PATIENT)
    others = [make_user(roles.PATIENT), make_user(roles.CAREGIVER)]
    cases = []
    for n, (visibility, membership) in enumerate((v, m) for v in VISIBILITIES for m in MEMBERSHIPS):
        community, threads, posts = _community(n, visibility, author, viewer, membership, others)
        cases.append((visibility, membership, community, threads, posts))

    seen_communities = list(access.visible(viewer, Community.objects.all()).values_list("pk", flat=True))
    seen_threads = list(access.visible(viewer, Thread.objects.all()).values_list("pk", flat=True))
    seen_posts = list(access.visible(viewer, Post.objects.all()).values_list("pk", flat=True))
    # Several members each: a membership join would repeat rows.
    for seen in (seen_communities, seen_threads, seen_posts):
        assert len(seen) == len(set(seen))

    wrong = []
    for visibility, membership, community, threads, posts in cases:
        expected = _expected(who, visibility, membership)
        objects = {"community": {"": community}, "thread": threads, "post": posts}
        seen = {"community": set(seen_communities), "thread": set(seen_threads), "post": set(seen_posts)}
        for (kind, name, action), allowed in expected.items():
            obj = objects[kind][name]
            answer = access.can(viewer, action, obj)
            if answer is not allowed:
                wrong.append(f"can {action} {kind} {name} in {visibility}/{membership}: {answer}, expected {allowed}")
            if action == "view" and (obj.pk in seen[kind]) is not allowed:
                wrong.append(f"visible {kind} {name} in {visibility}/{membership}: expected {allowed}")
        # Nothing else of this community is visible (every object is listed above).
        listed = {kind: {o.pk for o in objs.values()} for kind, objs in objects.items()}
        for kind in ("thread", "post"):
            model = Thread if kind == "thread" else Post
            here = model.objects.filter(
                **({"community": community} if kind == "thread" else {"thread__community": community})
            )
            assert set(here.values_list("pk", flat=True)) == listed[kind]
    assert not wrong, "\n".join(wrong)


def test_private_and_held_content_never_leaks_into_querysets(make_user):
    """A stranger to a private community, and a signed-out visitor, get none of its rows; nobody but
    the author and moderators gets a held post or thread anywhere."""
    author = make_user(roles.PATIENT)
    stranger = make_user(roles.PATIENT)
    private = Community.objects.create(name="Private", slug="private", visibility=Community.Visibility.PRIVATE)
    public = Community.objects.create(name="Public", slug="public", visibility=Community.Visibility.PUBLIC)
    Membership.objects.create(community=private, user=author)
    Membership.objects.create(community=public, user=author)
    Membership.objects.create(community=private, user=stranger, status=Membership.Status.REQUESTED)
    secret = Thread.objects.create(community=private, author=author, title="Private", visible=True)
    _post(secret, author, Post.Status.PUBLISHED, opening=True)
    waiting = Thread.objects.create(community=public, author=author, title="Waiting", visible=False)
    _post(waiting, author, Post.Status.HELD, opening=True)
    shown = Thread.objects.create(community=public, author=author, title="Shown", visible=True)
    _post(shown, author, Post.Status.PUBLISHED, opening=True)
    _post(shown, author, Post.Status.HELD)

    for viewer in (stranger, AnonymousUser()):
        assert list(access.visible(viewer, Community.objects.all())) == [public]
        assert list(access.visible(viewer, Thread.objects.all())) == [shown]
        posts = access.visible(viewer, Post.objects.all())
        assert [(p.thread_id, p.status) for p in posts] == [(shown.pk, Post.Status.PUBLISHED)]
        # Filtering further never brings a hidden row back.
        assert not access.visible(viewer, Thread.objects.filter(community=private)).exists()
        assert not access.visible(viewer, Post.objects.filter(status=Post.Status.HELD)).exists()


def test_a_community_with_many_members_is_listed_once(make_user):
    viewer = make_user(roles.PATIENT)
    private = Community.objects.create(name="Private", slug="private", visibility=Community.Visibility.PRIVATE)
    members = Community.objects.create(name="Members", slug="members", visibility=Community.Visibility.MEMBERS)
    for community in (private, members):
        Membership.objects.create(community=community, user=viewer)
        for _n in range(4):
            Membership.objects.create(community=community, user=make_user(roles.PATIENT))
    thread = Thread.objects.create(community=private, author=viewer, title="Hello", visible=True)
    _post(thread, viewer, Post.Status.PUBLISHED, opening=True)

    assert list(access.visible(viewer, Community.objects.all()).order_by("name")) == [members, private]
    assert access.visible(viewer, Community.objects.all()).count() == 2
    assert access.visible(viewer, Thread.objects.all()).count() == 1
    assert access.visible(viewer, Post.objects.all()).count() == 1


def test_the_author_of_a_deleted_post_no_longer_sees_it_either_way(make_user):
    """A deleted post is gone for its author: ``visible`` leaves it out, and ``can`` must agree."""
    author = make_user(roles.PATIENT)
    moderator = make_user(roles.COMMUNITY_MODERATOR)
    community = Community.objects.create(name="Public", slug="public", visibility=Community.Visibility.PUBLIC)
    Membership.objects.create(community=community, user=author)
    thread = Thread.objects.create(community=community, author=author, title="Hello", visible=True)
    _post(thread, author, Post.Status.PUBLISHED, opening=True)
    deleted = _post(thread, author, Post.Status.DELETED)

    assert not access.visible(author, Post.objects.filter(pk=deleted.pk)).exists()
    assert access.can(author, "view", deleted) is False
    assert access.visible(moderator, Post.objects.filter(pk=deleted.pk)).exists()
    assert access.can(moderator, "view", deleted) is True


def test_a_forbidden_thread_answers_404_like_a_missing_one(make_user):
    stranger = make_user(roles.PATIENT)
    author = make_user(roles.PATIENT)
    private = Community.objects.create(name="Private", slug="private", visibility=Community.Visibility.PRIVATE)
    Membership.objects.create(community=private, user=author)
    thread = Thread.objects.create(community=private, author=author, title="Private", visible=True)
    with pytest.raises(access.NotFound):
        access.require(stranger, "view", thread)
    with pytest.raises(access.NotFound):
        access.require(AnonymousUser(), "view", thread)
    assert access.require(author, "view", thread) == thread
