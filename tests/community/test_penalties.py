"""Penalties: silencing and suspending members, the escalation ladder, sign-in and sign-out, lifting,
the audit trail, the reason at rest and on the member's pages, and who may open the member page."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from portal_social.community import actions
from portal_social.community.actions import people as people_actions
from portal_social.community.models import CommunityProfile, Penalty, Post
from portal_social.core import realtime
from portal_social.core.models import AuditEvent
from tests.community._people import *  # noqa: F403
from tests.community._people import client_for, published_thread, url
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

DAY = 86400
DAY_DELTA = datetime.timedelta(days=1)
REASON = "Repeated personal attacks in the walking thread, after a warning."


def _penalize(cast, kind="silence", **kwargs):
    kwargs.setdefault("reason", REASON)
    return actions.penalize(moderator=cast["moderator"], member=cast["member"], kind=kind, **kwargs)


# --------------------------------------------------------------------------- the ladder


def test_durations_escalate_with_earlier_penalties_of_the_same_kind_in_the_last_year(cast):
    member, moderator = cast["member"], cast["moderator"]
    expected = [DAY, 3 * DAY, 7 * DAY, 30 * DAY, 30 * DAY]
    for seconds in expected:
        assert people_actions.suggested_seconds(member, "silence") == seconds
        penalty = _penalize(cast)
        assert int((penalty.ends_at - penalty.starts_at).total_seconds()) == seconds
        actions.lift_penalty(moderator=moderator, penalty=penalty)
    # Another kind has its own ladder; penalties older than a year no longer count.
    assert people_actions.suggested_seconds(member, "suspend") == DAY
    Penalty.objects.update(starts_at=timezone.now() - datetime.timedelta(days=366))
    assert people_actions.suggested_seconds(member, "silence") == DAY


def test_the_moderator_may_choose_a_shorter_or_longer_duration_within_bounds(cast, settings):
    settings.PORTAL_SOCIAL_COMMUNITY_PENALTY_STEPS = (3600, 7200)
    penalty = _penalize(cast, seconds=600)
    assert int((penalty.ends_at - penalty.starts_at).total_seconds()) == 600
    actions.lift_penalty(moderator=cast["moderator"], penalty=penalty)
    for junk in (0, 59, 366 * DAY, "١٢", "-5", "1e9", "", "x"):
        with pytest.raises(ValidationError) as caught:
            _penalize(cast, seconds=junk)
        assert "duration" in caught.value.message_dict


# --------------------------------------------------------------------------- silence


def test_silence_blocks_starting_threads_replying_with_the_dated_message(cast, community):
    thread = published_thread(cast["member"], community)
    others = actions.reply(author=cast["mentor"], thread=thread, body="Glad you are here.")
    penalty = _penalize(cast)
    date = people_actions.when(penalty.ends_at)
    message = f"You can read but not post until {date}: a moderator paused your posting."
    with pytest.raises(actions.CommunityDenied) as caught:
        actions.start_thread(author=cast["member"], community=community, title="Hello", body="Anyone here?")
    assert caught.value.message == message
    with pytest.raises(actions.CommunityDenied) as caught:
        actions.reply(author=cast["member"], thread=thread, body="Me again.")
    assert caught.value.message == message
    if hasattr(actions, "react"):  # reacting is posting too
        with pytest.raises(actions.CommunityDenied) as caught:
            actions.react(user=cast["member"], post=others, kind="helpful", on=True)
        assert caught.value.message == message
    # Over HTTP: the reply form says so, keeps the text, and nothing is written.
    response = client_for(cast["member"]).post(
        url("thread", community.slug, thread.pk), {"body": "Still me, typed with care."}
    )
    page = response.content.decode()
    assert response.status_code == 403 and "a moderator paused your posting" in page
    assert "Still me, typed with care." in page
    assert Post.objects.filter(thread=thread).count() == 2
    # Others still post; the member reads.
    actions.reply(author=cast["mentor"], thread=thread, body="Welcome back soon.")
    assert client_for(cast["member"]).get(url("thread", community.slug, thread.pk)).status_code == 200


def test_lifting_early_lets_the_member_post_again_and_is_audited(cast, community):
    penalty = _penalize(cast)
    actions.lift_penalty(moderator=cast["moderator"], penalty=penalty)
    actions.lift_penalty(moderator=cast["moderator"], penalty=penalty)  # again: nothing more
    post = actions.start_thread(author=cast["member"], community=community, title="Hello", body="I am back.")
    assert post.status == Post.Status.PUBLISHED
    events = list(AuditEvent.objects.filter(action="community.penalty").order_by("sequence"))
    assert [e.details["action"] for e in events] == ["set", "lift"]
    with pytest.raises(actions.CommunityDenied):
        actions.lift_penalty(moderator=cast["mentor"], penalty=penalty)


# --------------------------------------------------------------------------- suspension


def test_a_suspended_member_cannot_sign_in(cast, client):
    member = cast["member"]
    _penalize(cast, kind="suspend")
    response = client.post("/accounts/login/", {"login": member.username, "password": PASSWORD}, follow=True)
    assert "_auth_user_id" not in client.session
    assert "suspended until" in response.content.decode()
    # Once lifted, the same sign-in works (the control).
    actions.lift_penalty(moderator=cast["moderator"], penalty=Penalty.objects.get())
    client.post("/accounts/login/", {"login": member.username, "password": PASSWORD})
    assert client.session.get("_auth_user_id") == str(member.pk)


def test_a_signed_in_member_is_signed_out_at_their_next_request_and_their_sockets_closed(
    cast, monkeypatch, django_capture_on_commit_callbacks
):
    client = client_for(cast["member"])
    assert client.get(url("index")).status_code == 200
    published = []
    monkeypatch.setattr(realtime, "publish", lambda group, message: published.append((group, message)))
    with django_capture_on_commit_callbacks(execute=True):
        _penalize(cast, kind="suspend")
    assert (realtime.user_group_name(cast["member"].pk), {"type": realtime.SESSION_ENDED}) in published
    response = client.get(url("index"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session
    # A silence does not sign anyone out.
    other = client_for(cast["mentor"])
    actions.penalize(moderator=cast["moderator"], member=cast["mentor"], kind="silence", reason="Off topic.")
    assert other.get(url("index")).status_code == 200


# --------------------------------------------------------------------------- the record


def test_every_penalty_is_audited_without_its_reason(cast):
    penalty = _penalize(cast, kind="suspend", seconds=7200)
    event = AuditEvent.objects.get(action="community.penalty")
    assert event.details == {
        "member": str(cast["member"].pk),
        "action": "set",
        "kind": "suspend",
        "seconds": 7200,
        "penalty": str(penalty.pk),
    }
    assert event.actor_id == cast["moderator"].pk and event.patient_id == cast["member"].pk
    assert "attacks" not in str(event.details) and "attacks" not in (event.reason or "")


def test_the_reason_is_encrypted_at_rest(cast):
    penalty = _penalize(cast)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT reason FROM {Penalty._meta.db_table} WHERE id = %s", [penalty.pk])  # noqa: S608
        stored = cursor.fetchone()[0]
    assert "attacks" not in stored and stored
    assert Penalty.objects.get(pk=penalty.pk).reason == REASON


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501, 42])
def test_a_reason_is_required_and_bounded(cast, reason):
    with pytest.raises(ValidationError) as caught:
        _penalize(cast, reason=reason)
    assert "reason" in caught.value.message_dict
    assert not Penalty.objects.exists()


def test_a_second_penalty_of_the_same_kind_is_refused_while_one_is_in_force(cast):
    _penalize(cast)
    with pytest.raises(actions.CommunityDenied):
        _penalize(cast)
    assert Penalty.objects.count() == 1


def test_moderators_and_oneself_cannot_be_penalized(cast, make_user):
    from portal_social.core import roles

    other_moderator = make_user(roles.COMMUNITY_MODERATOR, mfa=True)
    for member in (other_moderator, cast["moderator"]):
        with pytest.raises(actions.CommunityDenied):
            actions.penalize(moderator=cast["moderator"], member=member, kind="silence", reason="No.")


def test_a_penalty_lowers_level_3_at_once_and_never_raises_a_level(cast, make_user):
    from portal_social.core import roles

    CommunityProfile.objects.filter(user=cast["member"]).update(
        trust_level=3, posts_read=500, post_count=20, days_visited=40, created_at=timezone.now() - 90 * DAY_DELTA
    )
    _penalize(cast)
    assert CommunityProfile.objects.get(user=cast["member"]).trust_level == 2
    assert AuditEvent.objects.get(action="community.trust").details["reason"] == "penalty"
    other = make_user(roles.PATIENT)
    CommunityProfile.objects.create(
        user=other,
        handle="other-x",
        trust_level=1,
        posts_read=100,
        post_count=5,
        days_visited=10,
        created_at=timezone.now() - 90 * DAY_DELTA,
    )
    actions.penalize(moderator=cast["moderator"], member=other, kind="silence", reason="Off topic.")
    assert CommunityProfile.objects.get(user=other).trust_level == 1


# --------------------------------------------------------------------------- what the member sees


def test_the_member_sees_their_penalty_and_its_reason_others_do_not(cast, community):
    thread = published_thread(cast["member"], community)
    _penalize(cast)
    for address in (url("thread", community.slug, thread.pk), url("community", community.slug)):
        own = client_for(cast["member"]).get(address).content.decode()
        assert "a moderator paused your posting" in own and "personal attacks" in own
        for who in ("mentor", "moderator"):
            page = client_for(cast[who]).get(address).content.decode()
            assert "personal attacks" not in page and "paused your posting" not in page


# --------------------------------------------------------------------------- the member page

#: Who may open /community/people/<handle>/: moderators only; everyone else 404, like an unknown name.
MEMBER_PAGE = {
    "anonymous": 404,
    "member": 404,
    "mentor": 404,
    "non_member": 404,
    "clinician": 404,
    "superuser": 404,
    "moderator": 200,
}


@pytest.mark.parametrize(("who", "status"), MEMBER_PAGE.items())
def test_the_member_page_is_for_moderators_only(cast, who, status):
    _penalize(cast)
    client = client_for(cast[who])
    response = client.get(url("member", "member-x"))
    assert response.status_code == status
    assert client.get(url("member", "nobody-here")).status_code == 404
    if status == 200:
        page = response.content.decode()
        assert "member-x" in page and "personal attacks" in page and "Lift now" in page
        assert "Trust level" in page and "Posts read" in page
        viewed = AuditEvent.objects.get(action="community.member_view")
        assert viewed.actor_id == cast["moderator"].pk and viewed.patient_id == cast["member"].pk
    else:
        assert not AuditEvent.objects.filter(action="community.member_view").exists()
    posted = client.post(url("member", "member-x"), {"do": "penalty", "kind": "suspend", "reason": "Spam."})
    assert posted.status_code == (302 if status == 200 else 404)
    assert Penalty.objects.filter(kind="suspend").exists() == (status == 200)


def test_the_member_page_penalty_form_uses_the_ladder_and_keeps_what_was_typed(cast):
    client = client_for(cast["moderator"])
    page = client.get(url("member", "member-x")).content.decode()
    assert f'<option value="{DAY}" selected>1 day</option>' in page
    response = client.post(url("member", "member-x"), {"do": "penalty", "kind": "silence", "duration": str(DAY)})
    assert response.status_code == 200 and "Say why" in response.content.decode()
    long = "y" * 600
    response = client.post(
        url("member", "member-x"), {"do": "penalty", "kind": "silence", "duration": str(DAY), "reason": long}
    )
    assert long in response.content.decode() and "600 characters" in response.content.decode()
    response = client.post(
        url("member", "member-x"), {"do": "penalty", "kind": "silence", "duration": str(DAY), "reason": "Be kind."}
    )
    assert response.status_code == 302
    again = client.post(
        url("member", "member-x"), {"do": "penalty", "kind": "silence", "duration": str(DAY), "reason": "Be kind."}
    )
    assert again.status_code == 200 and "already silenced" in again.content.decode()
    assert Penalty.objects.count() == 1
    page = client.get(url("member", "member-x")).content.decode()
    assert f'<option value="{3 * DAY}" selected>3 days</option>' in page  # the next step of the ladder
    penalty = Penalty.objects.get()
    assert client.post(url("member", "member-x"), {"do": "lift", "penalty": str(penalty.pk)}).status_code == 302
    assert Penalty.objects.get().lifted_by_id == cast["moderator"].pk
    for junk in ({"do": "lift", "penalty": "x"}, {"do": "nothing"}, {}, {"do": "penalty", "kind": "ban"}):
        assert client.post(url("member", "member-x"), junk).status_code == 200


def test_the_member_page_makes_the_same_queries_for_1_and_20_penalties(cast, django_assert_max_num_queries):
    from django.test.utils import CaptureQueriesContext

    client = client_for(cast["moderator"])
    penalty = _penalize(cast)
    client.get(url("member", "member-x"))
    with CaptureQueriesContext(connection) as few:
        client.get(url("member", "member-x"))
    Penalty.objects.bulk_create(
        Penalty(user=cast["member"], kind="silence", ends_at=penalty.ends_at, reason="Old") for _ in range(19)
    )
    with django_assert_max_num_queries(len(few)):
        client.get(url("member", "member-x"))
    assert CommunityProfile.objects.get(user=cast["member"]).trust_level == 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_a_suspended_member_cannot_open_a_live_connection(make_user):
    from channels.db import database_sync_to_async
    from channels.routing import URLRouter
    from channels.testing import WebsocketCommunicator

    from portal_social.core import roles
    from portal_social.routing import websocket_urlpatterns

    member = await database_sync_to_async(make_user)(roles.PATIENT)
    moderator = await database_sync_to_async(make_user)(roles.COMMUNITY_MODERATOR, mfa=True)

    def socket():
        communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), "/ws/portal-social/")
        communicator.scope["user"], communicator.scope["session"] = member, {}
        return communicator

    before = socket()
    connected, _ = await before.connect()
    assert connected
    await before.disconnect()
    await database_sync_to_async(actions.penalize)(moderator=moderator, member=member, kind="suspend", reason="Spam.")
    member = await database_sync_to_async(type(member).objects.get)(pk=member.pk)  # each connection loads its user
    after = socket()
    await after.connect()
    assert await after.receive_output() == {"type": "websocket.close", "code": realtime.CLOSE_UNAUTHENTICATED}
