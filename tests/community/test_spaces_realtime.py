"""Clinician spaces on the live socket: members follow a space's thread; nobody else can, and a member
who is removed has their open socket closed at once."""

from __future__ import annotations

import uuid

from channels.db import database_sync_to_async

from portal_social.community import actions
from portal_social.community.actions import spaces as space_actions
from portal_social.community.models import Community, CommunityProfile, Membership
from portal_social.core import realtime, roles
from tests.messaging.test_realtime import _closed_with, _connect, _subscribe, committed

STREAM = actions.THREAD_STREAM


def _world(make_user):
    people = {
        who: make_user(role, mfa=role != roles.PATIENT)
        for who, role in (
            ("owner", roles.CLINICIAN),
            ("colleague", roles.CLINICIAN),
            ("outside", roles.CLINICIAN),
            ("moderator", roles.COMMUNITY_MODERATOR),
            ("patient", roles.PATIENT),
        )
    }
    for who, user in people.items():
        CommunityProfile.objects.create(user=user, handle=f"{who}-live")
    space = Community.objects.create(name="Case review", slug="case-review-live", kind="space")
    space.phi_permitted = True
    space.save()
    Membership.objects.create(community=space, user=people["owner"], role=Membership.Role.OWNER)
    space_actions.add_member(actor=people["owner"], space=space, user=people["colleague"])
    thread = actions.start_thread(
        author=people["owner"], community=space, title="Case", body="MRN 40817265, thoughts?", confirm_phi=True
    ).thread
    return people, space, thread


@committed
async def test_only_members_follow_a_space_thread_and_a_removed_member_is_closed_at_once(make_user):
    people, space, thread = await database_sync_to_async(_world)(make_user)
    member = await _connect(people["colleague"])
    newest = await database_sync_to_async(realtime.last_event_ids)([STREAM], str(thread.pk))
    answer = await _subscribe(member, str(thread.pk), after=newest[STREAM], stream=STREAM)
    assert answer["type"] == "subscribed", answer
    for who in ("outside", "moderator", "patient"):
        socket = await _connect(people[who])
        hidden = await _subscribe(socket, str(thread.pk), stream=STREAM)
        missing = await _subscribe(socket, str(uuid.uuid4()), stream=STREAM)
        assert hidden["type"] == missing["type"] == "error", who
        assert hidden["error"] == missing["error"] == "not_found", who
        await socket.disconnect()

    await database_sync_to_async(space_actions.remove_member)(
        actor=people["owner"], space=space, user=people["colleague"]
    )
    assert await _closed_with(member, realtime.CLOSE_ACCESS_ENDED)
