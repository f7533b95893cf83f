"""Moderators of one community: an active membership with the role "moderator".

The permission matrix (who x what), the moderation queue scoped to a moderator's own communities
(list, decisions, notifications), appointing and removing (audited), the member card's badge and the
second-factor rule for what is not published yet.
"""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal_social.community import actions, rules
from portal_social.community.models import Community, CommunityProfile, Membership, Post
from portal_social.community.views.people import _card_badges
from portal_social.core import access, moderation, roles
from portal_social.core.models import AuditEvent
from portal_social.core.moderation import rules as queue_rules
from portal_social.core.moderation.models import ModerationItem
from portal_social.core.notify.models import Notification
from portal_social.core.staff_area import TEMPLATE as STAFF_AREA_TEMPLATE
from tests.factories import sign_in

QUEUE = "/cms/portal-social/moderation/"
ESTABLISHED = datetime.timedelta(days=90)
PHONE = "Call me on 413-555-0199 after six."

#: The matrix: signed out; a patient who is not a member; a member; a moderator of THIS community (a
#: staff member, so the portal asks them for a second factor); a patient who moderates this community;
#: a moderator of ANOTHER community (also a plain member here); a portal moderator; a superuser
#: without any role.
WHO = ("anonymous", "outsider", "member", "cmod_here", "cmod_patient", "cmod_there", "portal_mod", "superuser")


@pytest.fixture
def people(established):
    found = {
        "anonymous": None,
        "outsider": established(roles.PATIENT),
        "member": established(roles.PATIENT),
        "author": established(roles.PATIENT),
        "cmod_here": established([roles.PATIENT_EXPERIENCE, roles.PATIENT], mfa=True),
        "cmod_patient": established(roles.PATIENT),
        "cmod_there": established([roles.PATIENT_EXPERIENCE, roles.PATIENT], mfa=True),
        "portal_mod": established(roles.COMMUNITY_MODERATOR, mfa=True),
        "admin": established(roles.PORTAL_ADMINISTRATOR, mfa=True),
        "superuser": established(None, is_superuser=True, is_staff=True, mfa=True),
    }
    for index, (who, user) in enumerate(found.items()):
        if user is not None:
            CommunityProfile.objects.create(user=user, handle=f"{who}-{index}")
    return found


@pytest.fixture
def world(people):
    """Two public communities, "here" and "there", each with a published thread, the author's published
    reply and the author's held reply (personal details, sent anyway); and their moderators."""
    communities, threads, replies, held = {}, {}, {}, {}
    for name in ("here", "there"):
        community = Community.objects.create(name=f"{name} group", slug=f"{name}-group", visibility="public")
        for who in ("member", "author", "cmod_patient", "cmod_there", "cmod_here"):
            Membership.objects.create(community=community, user=people[who])
        opening = actions.start_thread(author=people["author"], community=community, title="Walking", body="How far?")
        reply = actions.reply(author=people["author"], thread=opening.thread, body="Ten minutes, twice a day.")
        waiting = actions.reply(author=people["author"], thread=opening.thread, body=PHONE, confirm_phi=True)
        assert (opening.status, reply.status, waiting.status) == ("published", "published", "held")
        communities[name], threads[name], replies[name], held[name] = community, opening.thread, reply, waiting
    Membership.objects.filter(
        community=communities["here"], user__in=[people["cmod_here"], people["cmod_patient"]]
    ).update(role=Membership.Role.MODERATOR)
    Membership.objects.filter(community=communities["there"], user=people["cmod_there"]).update(
        role=Membership.Role.MODERATOR
    )
    return {"people": people, "communities": communities, "threads": threads, "replies": replies, "held": held}


def fresh(user):
    """The user as a new request would load it (no cached roles or memberships)."""
    if user is None:
        return AnonymousUser()
    return type(user).objects.get(pk=user.pk)


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        sign_in(client, user)
    return client


def url(name, *args) -> str:
    return reverse(f"portal_social_community:{name}", args=args)


# --------------------------------------------------------------------------- the rule itself


def test_moderates_asks_the_role_or_an_active_moderator_membership(world):
    people, here, there = world["people"], world["communities"]["here"], world["communities"]["there"]
    assert rules.moderates(fresh(people["portal_mod"]), here) and rules.moderates(fresh(people["portal_mod"]), there)
    assert rules.moderates(fresh(people["cmod_here"]), here)
    assert not rules.moderates(fresh(people["cmod_here"]), there)
    assert rules.moderates(fresh(people["cmod_there"]), there)
    assert not rules.moderates(fresh(people["cmod_there"]), here)
    for who in ("anonymous", "outsider", "member", "superuser", "admin"):
        assert not rules.moderates(fresh(people[who]), here), who
    # Is_moderator keeps meaning "portal-wide".
    assert not rules.is_moderator(fresh(people["cmod_here"]))
    # A moderator who left, or whose account is closed, moderates nothing.
    Membership.objects.filter(user=people["cmod_here"], community=here).update(status=Membership.Status.LEFT)
    assert not rules.moderates(fresh(people["cmod_here"]), here)
    Membership.objects.filter(user=people["cmod_here"], community=here).update(status=Membership.Status.ACTIVE)
    people["cmod_here"].is_active = False
    people["cmod_here"].save(update_fields=["is_active"])
    assert not rules.moderates(fresh(people["cmod_here"]), here)


# --------------------------------------------------------------------------- the permission matrix

ALLOWED = {
    # What is not published yet: portal moderators, and this community's moderators under a second factor.
    "view_held": {"portal_mod", "cmod_here"},
    "approve": {"portal_mod", "cmod_here"},
    "history": {"portal_mod", "cmod_here"},
    # Published content: every moderator of this community.
    "pin": {"portal_mod", "cmod_here", "cmod_patient"},
    "delete": {"portal_mod", "cmod_here", "cmod_patient"},
    # Appointing: portal moderators (and portal administrators, see below).
    "appoint": {"portal_mod"},
}


def _attempt(action: str, user, world) -> bool:
    here_thread, reply, held = world["threads"]["here"], world["replies"]["here"], world["held"]["here"]
    try:
        if action == "view_held":
            return access.can(user, "view", held)
        if action == "history":
            return access.can(user, "history", reply)
        if action == "approve":
            item = moderation.pending_item(held)
            moderation.decide(moderator=user, item=item, version=item.version, decision="approve")
            held.refresh_from_db()
            return held.status == Post.Status.PUBLISHED
        if action == "pin":
            actions.set_pinned(moderator=user, thread=here_thread, pinned=True)
            here_thread.refresh_from_db()
            return here_thread.pinned
        if action == "delete":
            actions.delete_post(user=user, post=reply, reason="Off topic.")
            reply.refresh_from_db()
            return reply.status == Post.Status.DELETED
        if action == "appoint":
            membership = Membership.objects.get(user=world["people"]["member"], community=world["communities"]["here"])
            actions.set_community_moderator(actor=user, membership=membership, moderator=True)
            membership.refresh_from_db()
            return membership.role == Membership.Role.MODERATOR
    except PermissionDenied:
        return False
    raise AssertionError(action)


@pytest.mark.parametrize("action", sorted(ALLOWED))
@pytest.mark.parametrize("who", WHO)
def test_permission_matrix(world, who, action):
    user = fresh(world["people"][who])
    assert _attempt(action, user, world) == (who in ALLOWED[action])


def test_a_portal_administrator_appoints_too(world):
    membership = Membership.objects.get(user=world["people"]["member"], community=world["communities"]["here"])
    actions.set_community_moderator(actor=fresh(world["people"]["admin"]), membership=membership, moderator=True)
    membership.refresh_from_db()
    assert membership.role == Membership.Role.MODERATOR


def test_a_patient_moderator_sees_held_posts_when_the_portal_asks_them_for_a_second_factor(world, settings):
    held, user = world["held"]["here"], world["people"]["cmod_patient"]
    assert not access.can(fresh(user), "view", held)
    settings.PORTAL_SOCIAL_MFA_REQUIRED_ROLES = (roles.PATIENT, roles.COMMUNITY_MODERATOR)
    assert access.can(fresh(user), "view", held)
    assert access.can(fresh(user), "history", held)
    assert not access.can(fresh(user), "view", world["held"]["there"])


def test_held_posts_and_hidden_threads_follow_the_scopes(world):
    people, communities = world["people"], world["communities"]
    hidden = actions.start_thread(
        author=people["author"], community=communities["here"], title="Numbers", body=PHONE, confirm_phi=True
    )
    assert hidden.status == Post.Status.HELD
    moderator, other = fresh(people["cmod_here"]), fresh(people["cmod_there"])
    assert access.visible(moderator, Post.objects.filter(pk=world["held"]["here"].pk)).exists()
    assert not access.visible(moderator, Post.objects.filter(pk=world["held"]["there"].pk)).exists()
    assert access.visible(moderator, type(hidden.thread).objects.filter(pk=hidden.thread_id)).exists()
    assert not access.visible(other, type(hidden.thread).objects.filter(pk=hidden.thread_id)).exists()
    # The same through the pages: the hidden thread opens for this community's moderator, 404 for another's.
    thread_url = url("thread", communities["here"].slug, hidden.thread_id)
    assert client_for(people["cmod_here"]).get(thread_url).status_code == 200
    assert client_for(people["cmod_there"]).get(thread_url).status_code == 404
    assert client_for(people["cmod_patient"]).get(thread_url).status_code == 404


def test_pages_for_another_communitys_content_answer_404(world):
    people, there = world["people"], world["threads"]["there"]
    client = client_for(people["cmod_here"])
    reply = world["replies"]["there"]
    held = world["held"]["there"]
    assert client.get(url("post_history", there.community.slug, there.pk, reply.pk)).status_code == 404
    assert client.get(url("permalink", held.pk)).status_code == 404
    # The thread itself is public: refusing the tool answers as for any reader who may not pin (403).
    assert client.post(url("pin", there.community.slug, there.pk), {"on": "1"}).status_code == 403
    there.refresh_from_db()
    assert not there.pinned
    # In their own community the buttons work.
    here = world["threads"]["here"]
    response = client.post(url("pin", here.community.slug, here.pk), {"on": "1"})
    assert response.status_code == 302
    here.refresh_from_db()
    assert here.pinned


def test_join_requests_are_decided_by_that_communitys_moderators(world, make_user):
    people = world["people"]
    private = Community.objects.create(name="Private", slug="private-group", visibility="private")
    Membership.objects.create(community=private, user=people["cmod_patient"], role=Membership.Role.MODERATOR)
    asking = make_user(roles.PATIENT)
    request = Membership.objects.create(community=private, user=asking, status=Membership.Status.REQUESTED)
    with pytest.raises(PermissionDenied):
        actions.decide_join_request(moderator=fresh(people["cmod_here"]), membership=request, approve=True)
    assert client_for(people["cmod_here"]).get(url("requests", private.slug)).status_code == 404
    assert client_for(people["cmod_patient"]).get(url("requests", private.slug)).status_code == 200
    actions.decide_join_request(moderator=fresh(people["cmod_patient"]), membership=request, approve=True)
    request.refresh_from_db()
    assert request.status == Membership.Status.ACTIVE


def test_slow_mode_spares_this_communitys_moderators_only(world):
    people, communities = world["people"], world["communities"]
    for community in communities.values():
        actions.set_slow_mode(moderator=fresh(people["portal_mod"]), target=community, seconds=3600, reason="Heated.")
    from portal_social.community.actions.tools import slow_mode_refusal

    actions.reply(author=people["cmod_patient"], thread=world["threads"]["here"], body="First.")
    assert slow_mode_refusal(fresh(people["cmod_patient"]), communities["here"]) is None
    actions.reply(author=people["cmod_patient"], thread=world["threads"]["there"], body="First there.")
    assert slow_mode_refusal(fresh(people["cmod_patient"]), communities["there"])


# --------------------------------------------------------------------------- the queue


def _rows(response):
    assert response.status_code == 200
    return {row["item"].pk for row in response.context["rows"]}


def test_the_queue_lists_only_the_moderators_communities(world):
    here_item = moderation.pending_item(world["held"]["here"])
    there_item = moderation.pending_item(world["held"]["there"])
    assert _rows(client_for(world["people"]["cmod_here"]).get(QUEUE)) == {here_item.pk}
    assert _rows(client_for(world["people"]["cmod_there"]).get(QUEUE)) == {there_item.pk}
    assert _rows(client_for(world["people"]["portal_mod"]).get(QUEUE)) >= {here_item.pk, there_item.pk}
    # Filtering by another community's slug shows nothing, never its items.
    response = client_for(world["people"]["cmod_here"]).get(QUEUE, {"space": "there-group"})
    assert _rows(response) == set()
    assert response.context["page"].paginator.count == 0


def test_people_who_cannot_open_the_queue(world, make_user):
    # A patient moderator is not staff: the admin is not theirs (the staff-area page, as for every patient).
    response = client_for(world["people"]["cmod_patient"]).get(QUEUE)
    assert response.status_code == 403
    assert STAFF_AREA_TEMPLATE in [t.name for t in response.templates]
    # Staff who moderate no community review nothing here: 404, as before.
    px = make_user(roles.PATIENT_EXPERIENCE, mfa=True)
    assert client_for(px).get(QUEUE).status_code == 404
    assert client_for(world["people"]["superuser"]).get(QUEUE).status_code == 404
    for who in ("cmod_patient", "member", "superuser"):
        assert not queue_rules.reviews_anything(fresh(world["people"][who])), who


def test_another_communitys_item_cannot_be_claimed_or_decided(world):
    there_item = moderation.pending_item(world["held"]["there"])
    client = client_for(world["people"]["cmod_here"])
    for operation in ("claim", "approve", "escalate"):
        response = client.post(f"{QUEUE}{there_item.pk}/", {"action": operation, "version": there_item.version})
        assert response.status_code == 404, operation
    there_item.refresh_from_db()
    assert there_item.is_pending and there_item.claimed_by_id is None and not there_item.urgent
    with pytest.raises(PermissionDenied):
        moderation.claim(moderator=fresh(world["people"]["cmod_here"]), item=there_item, version=there_item.version)


def test_a_community_moderator_decides_their_communitys_item_through_the_page(world):
    item = moderation.pending_item(world["held"]["here"])
    client = client_for(world["people"]["cmod_here"])
    response = client.post(f"{QUEUE}{item.pk}/", {"action": "approve", "version": item.version})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == ModerationItem.Status.APPROVED
    assert item.decided_by_id == world["people"]["cmod_here"].pk
    assert AuditEvent.objects.filter(action="community.approve", actor_id=world["people"]["cmod_here"].pk).exists()
    # Sending it again is refused as decided, never a second approval.
    again = client.post(f"{QUEUE}{item.pk}/", {"action": "approve", "version": item.version})
    assert again.status_code in (302, 404)
    assert AuditEvent.objects.filter(action="community.approve").count() == 1


def test_the_community_moderator_cannot_decide_without_the_second_factor_rule(world):
    """A patient who moderates the community is not staff: nothing of the queue is theirs."""
    item = moderation.pending_item(world["held"]["here"])
    user = fresh(world["people"]["cmod_patient"])
    assert not moderation.may_review(user, item)
    with pytest.raises(PermissionDenied):
        moderation.decide(moderator=user, item=item, version=item.version, decision="approve")


# --------------------------------------------------------------------------- notifications


def test_a_held_post_tells_the_role_and_that_communitys_moderators(world, django_capture_on_commit_callbacks):
    people = world["people"]
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        actions.reply(author=people["member"], thread=world["threads"]["here"], body=PHONE, confirm_phi=True)
    told = set(Notification.objects.filter(key="community.needs_moderation").values_list("recipient_id", flat=True))
    assert people["portal_mod"].pk in told
    assert people["cmod_here"].pk in told
    # Another community's moderator, and a moderator who cannot open the queue, are not told.
    assert people["cmod_there"].pk not in told
    assert people["cmod_patient"].pk not in told
    assert Notification.objects.filter(key="community.needs_moderation", recipient=people["cmod_here"]).count() == 1


def test_urgent_items_tell_that_communitys_moderators(world):
    people = world["people"]
    item = moderation.pending_item(world["held"]["there"])
    Notification.objects.all().delete()
    moderation.escalate(moderator=fresh(people["portal_mod"]), item=item, version=item.version)
    told = set(Notification.objects.filter(key="moderation.urgent").values_list("recipient_id", flat=True))
    assert people["cmod_there"].pk in told and people["portal_mod"].pk in told
    assert people["cmod_here"].pk not in told


# --------------------------------------------------------------------------- appointing


def _membership(world, who="member", where="here"):
    return Membership.objects.get(user=world["people"][who], community=world["communities"][where])


def test_appointing_and_removing_are_audited_with_ids_only(world):
    actor = fresh(world["people"]["portal_mod"])
    membership = _membership(world)
    actions.set_community_moderator(actor=actor, membership=membership, moderator=True)
    actions.set_community_moderator(actor=actor, membership=membership, moderator=True)  # again: nothing new
    appointed = AuditEvent.objects.filter(action="community.moderator_appointed")
    assert appointed.count() == 1
    event = appointed.get()
    assert event.actor_id == actor.pk
    assert event.details["member"] == str(membership.user_id)
    assert event.details["community"] == str(membership.community_id)
    assert event.details["from"] == "member" and event.details["to"] == "moderator"
    assert "here group" not in str(event.details) and "member-" not in str(event.details)
    assert rules.moderates(fresh(world["people"]["member"]), world["communities"]["here"])

    actions.set_community_moderator(actor=actor, membership=membership, moderator=False)
    actions.set_community_moderator(actor=actor, membership=membership, moderator=False)
    assert AuditEvent.objects.filter(action="community.moderator_removed").count() == 1
    membership.refresh_from_db()
    assert membership.role == Membership.Role.MEMBER
    assert not rules.moderates(fresh(world["people"]["member"]), world["communities"]["here"])


def test_only_active_members_are_appointed(world):
    actor = fresh(world["people"]["portal_mod"])
    membership = _membership(world)
    membership.status = Membership.Status.LEFT
    membership.save(update_fields=["status"])
    with pytest.raises(PermissionDenied):
        actions.set_community_moderator(actor=actor, membership=membership, moderator=True)
    membership.refresh_from_db()
    assert membership.role == Membership.Role.MEMBER
    assert not AuditEvent.objects.filter(action="community.moderator_appointed").exists()


def test_a_moderator_is_not_made_a_mentor_by_accident(world):
    with pytest.raises(PermissionDenied):
        actions.set_mentor(
            moderator=fresh(world["people"]["portal_mod"]), membership=_membership(world, "cmod_here"), mentor=True
        )
    assert _membership(world, "cmod_here").role == Membership.Role.MODERATOR


def test_the_member_page_appoints_and_removes(world):
    people = world["people"]
    target = people["member"]
    page = url("member", target.community_profile.handle)
    client = client_for(people["portal_mod"])
    membership = _membership(world)
    shown = client.get(page)
    assert shown.status_code == 200
    assert "Make a moderator of this community" in shown.content.decode()
    response = client.post(page, {"do": "moderator", "membership": membership.pk, "role": "moderator"})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == Membership.Role.MODERATOR
    assert "Remove as moderator of this community" in client.get(page).content.decode()
    response = client.post(page, {"do": "moderator", "membership": membership.pk, "role": "member"})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == Membership.Role.MEMBER


@pytest.mark.parametrize(
    "data",
    [
        {"do": "moderator", "membership": "abc", "role": "moderator"},
        {"do": "moderator", "membership": "9" * 40, "role": "moderator"},
        {"do": "moderator", "role": "moderator"},
        {"do": "moderator", "membership": "MEMBERSHIP", "role": "boss"},
        {"do": "moderator", "membership": "OTHER", "role": "moderator"},
    ],
)
def test_the_member_page_answers_bad_input_with_a_message(world, data):
    people = world["people"]
    data = dict(data)
    if data.get("membership") == "MEMBERSHIP":
        data["membership"] = _membership(world).pk
    if data.get("membership") == "OTHER":  # someone else's membership, on this member's page
        data["membership"] = _membership(world, "author").pk
    response = client_for(people["portal_mod"]).post(url("member", people["member"].community_profile.handle), data)
    assert response.status_code == 200
    assert response.context["errors"]
    assert not Membership.objects.filter(
        role=Membership.Role.MODERATOR, user__in=[people["member"], people["author"]]
    ).exists()


@pytest.mark.parametrize("who", ["cmod_here", "cmod_patient", "member", "superuser", "anonymous"])
def test_the_member_page_stays_with_portal_moderators(world, who):
    people = world["people"]
    page = url("member", people["member"].community_profile.handle)
    membership = _membership(world)
    response = client_for(people[who]).post(page, {"do": "moderator", "membership": membership.pk, "role": "moderator"})
    assert response.status_code in (302, 404)
    if who != "anonymous":
        assert response.status_code == 404
    membership.refresh_from_db()
    assert membership.role == Membership.Role.MEMBER


# --------------------------------------------------------------------------- the member card


def test_the_member_card_shows_this_communitys_moderators(world):
    people, here = world["people"], world["communities"]["here"]
    actions.reply(author=people["cmod_patient"], thread=world["threads"]["here"], body="Welcome, everyone.")
    actions.reply(author=people["cmod_there"], thread=world["threads"]["here"], body="Hello from a neighbour.")
    response = client_for(people["outsider"]).get(url("thread", here.slug, world["threads"]["here"].pk))
    assert response.status_code == 200
    badges = {row["post"].author_id: row["moderator"] for row in response.context["posts"]}
    assert badges[people["cmod_patient"].pk] is True
    assert badges[people["cmod_there"].pk] is False  # moderates another community only
    assert badges[people["author"].pk] is False


@pytest.mark.parametrize("size", [3, 30])
def test_the_member_card_badges_take_one_query_whatever_the_number(world, make_user, size):
    here = world["communities"]["here"]
    authors = set()
    for n in range(size):
        user = make_user(roles.CLINICIAN if n % 3 == 0 else roles.PATIENT)
        role = (
            Membership.Role.MODERATOR if n % 2 else (Membership.Role.MENTOR if n % 4 == 0 else Membership.Role.MEMBER)
        )
        Membership.objects.create(community=here, user=user, role=role)
        authors.add(user.pk)
    portal_moderator = make_user(roles.COMMUNITY_MODERATOR)
    authors.add(portal_moderator.pk)
    from portal_social.community.actions import badges
    from portal_social.community.models import MemberBadge

    first, *later = badges.configured()
    earners = sorted(authors)[::2]
    for pk in earners:
        for badge in (*later[:1], first):  # awarded out of the setting's order
            MemberBadge.objects.create(user_id=pk, badge=badge.key)
    MemberBadge.objects.create(user_id=earners[0], badge="no-longer-configured")
    with CaptureQueriesContext(connection) as queries:
        held, earned = _card_badges(authors, here)
    assert len(queries) == 1
    assert earned == {pk: [first.label, *(b.label for b in later[:1])] for pk in earners}
    assert held["moderator"] == {pk for pk in authors if pk == portal_moderator.pk} | {
        m.user_id for m in Membership.objects.filter(community=here, role=Membership.Role.MODERATOR, user__in=authors)
    }
    assert len(held["moderator"]) == size // 2 + 1
    assert len(held["mentor"]) == len([n for n in range(size) if n % 2 == 0 and n % 4 == 0])
    assert len(held["clinician"]) == len(range(0, size, 3))


def test_a_portal_moderator_cannot_validate_with_a_foreign_version(world):
    """Decisions still check the version: a stale or tampered version is refused, nothing changes."""
    item = moderation.pending_item(world["held"]["here"])
    with pytest.raises(ValidationError):
        moderation.decide(moderator=fresh(world["people"]["cmod_here"]), item=item, version="x", decision="approve")
    item.refresh_from_db()
    assert item.is_pending
