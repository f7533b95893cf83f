"""Thread tools: the chosen answer, pin, lock and slow mode — who may use them, what they change,
what readers see, the audit rows, 404 for what is not visible, and repeated submits."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal_social.community import actions
from portal_social.community.actions import tools
from portal_social.community.models import CommunityProfile, Membership, Post, Thread
from portal_social.core import text
from portal_social.core.models import AuditEvent
from tests.community import tools_world
from tests.community.tools_world import WHO, client_for, thread_url, url

# The shared fixtures (tests/community/tools_world.py).
people, world = tools_world.people, tools_world.world

pytestmark = pytest.mark.django_db

REASON = "Tempers are running high after the news about the clinic."


def _user(world, who):
    return world["people"][who] or AnonymousUser()


def _events(action: str):
    return AuditEvent.objects.filter(action=action).order_by("sequence")


# --------------------------------------------------------------------------- the actions' permission matrix

#: Who may use each tool on a thread of a members-only community (the superuser cannot even read it).
MAY = {
    "solve": {"author", "moderator"},
    "pin": {"moderator"},
    "lock": {"moderator"},
    "slow_mode": {"moderator"},
}


def _use(tool: str, user, world, visibility="members"):
    thread = world["threads"][visibility]
    if tool == "solve":
        return actions.solve(user=user, thread=thread, post=world["replies"][visibility])
    if tool == "pin":
        return actions.set_pinned(moderator=user, thread=thread, pinned=True)
    if tool == "lock":
        return actions.set_locked(moderator=user, thread=thread, locked=True)
    return actions.set_slow_mode(moderator=user, target=thread, seconds=300, reason=REASON)


@pytest.mark.parametrize("tool", sorted(MAY))
@pytest.mark.parametrize("who", WHO)
def test_only_the_author_or_a_moderator_solves_and_only_moderators_pin_lock_and_slow(world, tool, who):
    user = _user(world, who)
    if who in MAY[tool]:
        _use(tool, user, world)
        assert _events(f"community.{tool}").count() == 1
    else:
        with pytest.raises(actions.CommunityDenied):
            _use(tool, user, world)
        assert not _events(f"community.{tool}").exists()


def test_a_superuser_without_a_role_gets_no_tools_even_where_they_can_read(world):
    superuser = world["people"]["superuser"]
    for tool in MAY:
        with pytest.raises(actions.CommunityDenied):
            _use(tool, superuser, world, "public")
    with pytest.raises(actions.CommunityDenied):
        actions.set_slow_mode(moderator=superuser, target=world["communities"]["public"], seconds=60, reason=REASON)


def test_an_author_who_can_no_longer_read_the_thread_cannot_solve_it(world):
    author = world["people"]["author"]
    actions.leave(user=author, community=world["communities"]["private"])
    with pytest.raises(actions.CommunityDenied):
        _use("solve", author, world, "private")


# --------------------------------------------------------------------------- over HTTP

#: What a POST to a tool answers in a members-only community: 302 done (or to sign in), 403, or 404.
HTTP = {
    "anonymous": dict.fromkeys(MAY, "login"),
    "outsider": dict.fromkeys(MAY, 403),
    "member": dict.fromkeys(MAY, 403),
    "author": {"solve": 302, "pin": 403, "lock": 403, "slow_mode": 403},
    "moderator": dict.fromkeys(MAY, 302),
    "superuser": dict.fromkeys(MAY, 404),
}


def _form(tool: str, world, visibility="members") -> dict:
    return {
        "solve": {"post": str(world["replies"][visibility].pk)},
        "pin": {"on": "1"},
        "lock": {"on": "1"},
        "slow_mode": {"seconds": "300", "reason": REASON},
    }[tool]


@pytest.mark.parametrize("tool", sorted(MAY))
@pytest.mark.parametrize("who", WHO)
def test_each_tool_over_http_answers_by_role(world, tool, who):
    thread = world["threads"]["members"]
    response = client_for(world["people"][who]).post(thread_url(tool, thread), _form(tool, world))
    expected = HTTP[who][tool]
    if expected == "login":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    elif expected == 302:
        assert response.status_code == 302 and response["Location"] == thread_url("thread", thread)
    else:
        assert response.status_code == expected
    changed = _events(f"community.{tool}").exists()
    assert changed == (expected == 302)


@pytest.mark.parametrize("tool", sorted(MAY))
@pytest.mark.parametrize("who", ["outsider", "superuser", "moderator"])
def test_tools_on_a_thread_one_cannot_see_are_not_found(world, tool, who, make_user):
    private = world["threads"]["private"]
    client = client_for(world["people"][who])
    if who == "moderator":
        # Moderators read every community: what they cannot see is a thread that does not exist.
        response = client.post(url(tool, private.community.slug, uuid.uuid4()), _form(tool, world, "private"))
        assert response.status_code == 404
        response = client.post(url(tool, "members-group", private.pk), _form(tool, world, "private"))
        assert response.status_code == 404  # another community's thread
        return
    response = client.post(thread_url(tool, private), _form(tool, world, "private"))
    assert response.status_code == 404
    unknown = client.post(url(tool, private.community.slug, uuid.uuid4()), _form(tool, world, "private"))
    assert unknown.status_code == 404


@pytest.mark.parametrize("tool", sorted(MAY))
def test_tools_answer_only_post_and_their_forms_are_on_the_page_for_those_who_may_use_them(world, tool):
    thread = world["threads"]["members"]
    moderator_page = client_for(world["people"]["moderator"]).get(thread_url("thread", thread)).content.decode()
    member_page = client_for(world["people"]["member"]).get(thread_url("thread", thread)).content.decode()
    action = f'action="{thread_url(tool, thread)}"'
    assert action in moderator_page and action not in member_page
    if tool != "slow_mode":
        assert client_for(world["people"]["moderator"]).get(thread_url(tool, thread)).status_code == 405


# --------------------------------------------------------------------------- solved


def test_the_chosen_answer_shows_on_the_thread_on_the_reply_and_in_the_list(world):
    thread, reply = world["threads"]["public"], world["replies"]["public"]
    client = client_for(world["people"]["author"])
    response = client.post(thread_url("solve", thread), {"post": str(reply.pk)})
    assert response.status_code == 302
    thread.refresh_from_db()
    assert thread.solved_post_id == reply.pk and thread.solved_by == world["people"]["author"]
    assert thread.solved_at is not None
    page = client_for(None).get(thread_url("thread", thread)).content.decode()
    assert '<span class="badge badge--ok">Solved</span>' in page
    assert f'href="{thread_url("thread", thread)}#post-{reply.pk}"' in page
    assert page.count("Chosen as the answer") == 1
    listing = client_for(None).get(url("community", thread.community.slug)).content.decode()
    assert '<span class="badge badge--ok">Solved</span>' in listing
    event = _events("community.solve").get()
    assert event.details["post"] == str(reply.pk) and event.details["solved"] is True
    assert event.target_id == str(thread.pk)

    # Clearing it, twice: one more audit row, and the page says nothing about an answer.
    for _twice in range(2):
        assert client.post(thread_url("solve", thread), {"post": ""}).status_code == 302
    thread.refresh_from_db()
    assert thread.solved_post_id is None and thread.solved_by is None and thread.solved_at is None
    assert _events("community.solve").count() == 2
    page = client_for(None).get(thread_url("thread", thread)).content.decode()
    assert "Solved" not in page and "Chosen as the answer" not in page


def test_choosing_the_same_answer_twice_changes_and_records_nothing(world):
    thread, reply = world["threads"]["members"], world["replies"]["members"]
    author = world["people"]["author"]
    for _twice in range(2):
        actions.solve(user=author, thread=thread, post=reply)
    assert _events("community.solve").count() == 1


def test_only_a_published_reply_of_the_thread_can_be_the_answer(world):
    author = world["people"]["author"]
    thread = world["threads"]["members"]
    opening = thread.posts.get(is_opening=True)
    with pytest.raises(ValidationError) as refused:
        actions.solve(user=author, thread=thread, post=opening)
    assert refused.value.error_dict["__all__"][0].code == "opening"
    with pytest.raises(ValidationError):
        actions.solve(user=author, thread=thread, post=world["replies"]["public"])  # another thread's reply
    held = Post.objects.create(
        thread=thread, author=world["people"]["member"], status=Post.Status.HELD, body_source="x", body_html="<p>x</p>"
    )
    with pytest.raises(ValidationError) as refused:
        actions.solve(user=author, thread=thread, post=held)
    assert refused.value.error_dict["__all__"][0].code == "not_published"
    thread.refresh_from_db()
    assert thread.solved_post_id is None and not _events("community.solve").exists()


@pytest.mark.parametrize("value", ["not-a-uuid", "6f1c2a4e-8b0d-4c3e-9a51-2d7f0b6e4c18", "x" * 5000, "\x00"])
def test_a_forged_answer_is_refused_with_a_message(world, value):
    thread = world["threads"]["members"]
    client = client_for(world["people"]["author"])
    response = client.post(thread_url("solve", thread), {"post": value})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Choose a reply from this thread." in page
    assert not _events("community.solve").exists()


def test_a_held_reply_is_never_offered_as_the_answer(world):
    thread = world["threads"]["members"]
    held = Post.objects.create(
        thread=thread, author=world["people"]["author"], status=Post.Status.HELD, body_source="x", body_html="<p>x</p>"
    )
    page = client_for(world["people"]["author"]).get(thread_url("thread", thread)).content.decode()
    assert f'name="post" value="{world["replies"]["members"].pk}"' in page
    assert f'name="post" value="{held.pk}"' not in page
    assert f'name="post" value="{thread.posts.get(is_opening=True).pk}"' not in page


def test_a_chosen_reply_that_is_taken_down_leaves_the_thread_unsolved(world, settings, make_user):
    settings.PORTAL_SOCIAL_COMMUNITY_FLAG_HIDE_SCORE = 0.5  # one flag by a new member hides a post
    thread, reply = world["threads"]["public"], world["replies"]["public"]
    actions.solve(user=world["people"]["author"], thread=thread, post=reply)
    flagger = world["people"]["outsider"]
    actions.flag_post(user=flagger, post=reply, reason="off_topic")
    reply.refresh_from_db()
    assert reply.status == Post.Status.HELD
    thread.refresh_from_db()
    assert thread.solved_post_id is None and thread.solved_by_id is None
    page = client_for(None).get(thread_url("thread", thread)).content.decode()
    assert "Solved" not in page
    assert "Solved" not in client_for(None).get(url("community", thread.community.slug)).content.decode()

    # The hook is idempotent: taking it down again (or restoring it) does not solve anything.
    tools._chosen_reply_taken_down(reply)
    actions.approve_post(moderator=world["people"]["moderator"], post=reply)
    thread.refresh_from_db()
    assert thread.solved_post_id is None


def test_an_answer_not_published_any_more_is_not_shown_even_if_still_recorded(world):
    thread, reply = world["threads"]["public"], world["replies"]["public"]
    Thread.objects.filter(pk=thread.pk).update(solved_post=reply)
    Post.objects.filter(pk=reply.pk).update(status=Post.Status.DELETED)
    page = client_for(None).get(thread_url("thread", thread)).content.decode()
    assert "Read the chosen answer" not in page


def test_the_answer_link_names_its_page_when_it_is_on_another(world, monkeypatch):
    from portal_social.community.views import pages

    monkeypatch.setattr(pages, "POSTS_PER_PAGE", 2)
    thread = world["threads"]["public"]
    member = world["people"]["member"]
    later = [actions.reply(author=member, thread=thread, body=f"More {n}") for n in range(3)]
    actions.solve(user=world["people"]["author"], thread=thread, post=later[-1])
    page = client_for(None).get(thread_url("thread", thread)).content.decode()
    assert f'href="{thread_url("thread", thread)}?page=3#post-{later[-1].pk}"' in page


# --------------------------------------------------------------------------- pin and lock


def test_pin_and_lock_are_recorded_with_on_and_off_and_repeats_change_nothing(world):
    thread = world["threads"]["members"]
    client = client_for(world["people"]["moderator"])
    for tool, field in (("pin", "pinned"), ("lock", "locked")):
        for on in ("1", "1", "0", "0"):
            assert client.post(thread_url(tool, thread), {"on": on}).status_code == 302
            thread.refresh_from_db()
            assert getattr(thread, field) is (on == "1")
        assert [e.details for e in _events(f"community.{tool}")] == [{"on": True}, {"on": False}]
        assert all(e.target_id == str(thread.pk) for e in _events(f"community.{tool}"))


@pytest.mark.parametrize("value", ["", "yes", "2", "\x00", "1" * 500])
def test_pin_and_lock_refuse_anything_but_on_or_off(world, value):
    thread = world["threads"]["members"]
    client = client_for(world["people"]["moderator"])
    for tool in ("pin", "lock"):
        response = client.post(thread_url(tool, thread), {"on": value})
        assert response.status_code == 302
        assert "Choose on or off." in client.get(response["Location"]).content.decode()
    assert not _events("community.pin").exists() and not _events("community.lock").exists()


def test_a_pinned_thread_is_listed_first(world):
    community = world["communities"]["public"]
    first = world["threads"]["public"]
    actions.start_thread(author=world["people"]["author"], community=community, title="Newer", body="A newer one.")
    listing = client_for(None).get(url("community", community.slug)).content.decode()
    assert listing.index("Newer") < listing.index("Walking after surgery")
    actions.set_pinned(moderator=world["people"]["moderator"], thread=first, pinned=True)
    listing = client_for(None).get(url("community", community.slug)).content.decode()
    assert listing.index("Walking after surgery") < listing.index("Newer")


def test_a_locked_thread_hides_the_reply_form_says_why_and_refuses_replies(world):
    thread = world["threads"]["members"]
    actions.set_locked(moderator=world["people"]["moderator"], thread=thread, locked=True)
    client = client_for(world["people"]["member"])
    page = client.get(thread_url("thread", thread)).content.decode()
    assert "This thread is locked: it takes no new replies." in page
    assert "Post your reply" not in page and 'name="body"' not in page
    response = client.post(thread_url("thread", thread), {"body": "One more thing"})
    assert response.status_code == 403
    assert "This thread is locked" in response.content.decode()
    with pytest.raises(actions.CommunityDenied):
        actions.reply(author=world["people"]["member"], thread=thread, body="One more thing")


# --------------------------------------------------------------------------- slow mode


def _backdate(user, seconds: int) -> None:
    Post.objects.filter(author=user).update(created_at=timezone.now() - datetime.timedelta(seconds=seconds))


def test_slow_mode_refuses_a_second_post_too_soon_with_the_wait_and_allows_it_later(world):
    thread = world["threads"]["members"]
    member = world["people"]["member"]
    actions.set_slow_mode(moderator=world["people"]["moderator"], target=thread, seconds=300, reason=REASON)
    with pytest.raises(actions.CommunityDenied) as refused:
        actions.reply(author=member, thread=thread, body="Me again")
    assert refused.value.message == "Slow mode is on in this thread: you can post again in about 5 minutes."
    _backdate(member, 250)
    with pytest.raises(actions.CommunityDenied) as refused:
        actions.reply(author=member, thread=thread, body="Me again")
    assert refused.value.message == "Slow mode is on in this thread: you can post again in about 1 minute."
    _backdate(member, 301)
    assert actions.reply(author=member, thread=thread, body="Me again").status == Post.Status.PUBLISHED
    # Someone who has not posted in the thread yet posts at once.
    newcomer = world["people"]["outsider"]
    Membership.objects.create(community=thread.community, user=newcomer)
    assert actions.reply(author=newcomer, thread=thread, body="Hello").pk


def test_moderators_are_not_slowed(world):
    thread = world["threads"]["members"]
    moderator = world["people"]["moderator"]
    Membership.objects.create(community=thread.community, user=moderator)
    actions.set_slow_mode(moderator=moderator, target=thread, seconds=3600, reason=REASON)
    actions.set_slow_mode(moderator=moderator, target=thread.community, seconds=3600, reason=REASON)
    thread.refresh_from_db()
    thread.community.refresh_from_db()
    for n in range(3):
        actions.reply(author=moderator, thread=thread, body=f"Moderator note {n}")


@pytest.mark.parametrize(
    ("thread_seconds", "community_seconds", "minutes"),
    [(60, 3600, 60), (3600, 60, 60), (0, 900, 15), (900, 0, 15), (300, 300, 5)],
)
def test_the_stricter_of_thread_and_community_slow_mode_applies(world, thread_seconds, community_seconds, minutes):
    thread = world["threads"]["members"]
    moderator, member = world["people"]["moderator"], world["people"]["member"]
    actions.set_slow_mode(moderator=moderator, target=thread, seconds=thread_seconds, reason=REASON)
    actions.set_slow_mode(moderator=moderator, target=thread.community, seconds=community_seconds, reason=REASON)
    with pytest.raises(actions.CommunityDenied) as refused:
        actions.reply(author=member, thread=thread, body="Me again")
    assert f"about {minutes} minute" in refused.value.message


def test_community_slow_mode_counts_posts_anywhere_in_the_community_and_new_threads(world):
    community = world["communities"]["members"]
    member = world["people"]["member"]  # replied in the community's thread just now
    actions.set_slow_mode(moderator=world["people"]["moderator"], target=community, seconds=900, reason=REASON)
    with pytest.raises(actions.CommunityDenied) as refused:
        actions.start_thread(author=member, community=community, title="Another", body="Another question")
    assert refused.value.message == "Slow mode is on in this community: you can post again in about 15 minutes."
    other = actions.start_thread(
        author=world["people"]["author"], community=world["communities"]["public"], title="Elsewhere", body="Fine"
    )
    assert other.status == Post.Status.PUBLISHED  # other communities are not slowed
    # A thread's own slow mode does not reach other threads.
    actions.set_slow_mode(moderator=world["people"]["moderator"], target=community, seconds=0)
    actions.set_slow_mode(
        moderator=world["people"]["moderator"], target=world["threads"]["members"], seconds=900, reason=REASON
    )
    community.refresh_from_db()
    assert actions.start_thread(author=member, community=community, title="Another", body="Another question").pk


def test_a_slowed_reply_over_http_keeps_what_was_typed_and_says_how_long_to_wait(world):
    thread = world["threads"]["members"]
    actions.set_slow_mode(moderator=world["people"]["moderator"], target=thread, seconds=300, reason=REASON)
    response = client_for(world["people"]["member"]).post(
        thread_url("thread", thread), {"body": "My long careful answer", "submission": str(uuid.uuid4())}
    )
    page = response.content.decode()
    assert response.status_code == 403
    assert "Slow mode is on in this thread: you can post again in about 5 minutes." in page
    assert "My long careful answer" in page


def test_readers_see_the_pace_and_never_the_reason(world):
    thread = world["threads"]["public"]
    actions.set_slow_mode(moderator=world["people"]["moderator"], target=thread, seconds=300, reason=REASON)
    page = client_for(None).get(thread_url("thread", thread)).content.decode()
    assert "Slow mode: one post every 5 minutes" in page
    assert REASON not in page
    member_page = client_for(world["people"]["member"]).get(thread_url("thread", thread)).content.decode()
    assert REASON not in member_page
    moderator_page = client_for(world["people"]["moderator"]).get(thread_url("thread", thread)).content.decode()
    assert REASON in moderator_page  # for the other moderators
    actions.set_slow_mode(moderator=world["people"]["moderator"], target=thread.community, seconds=30, reason=REASON)
    listing = client_for(None).get(url("community", thread.community.slug)).content.decode()
    assert "Slow mode: one post every 30 seconds" in listing and REASON not in listing


def test_slow_mode_is_audited_with_seconds_and_scope_and_its_reason_is_encrypted(world):
    thread, community = world["threads"]["members"], world["communities"]["members"]
    moderator = world["people"]["moderator"]
    actions.set_slow_mode(moderator=moderator, target=thread, seconds=300, reason=REASON)
    actions.set_slow_mode(moderator=moderator, target=thread, seconds=300, reason=REASON)  # a repeat: nothing
    actions.set_slow_mode(moderator=moderator, target=community, seconds=60, reason=REASON)
    actions.set_slow_mode(moderator=moderator, target=thread, seconds=0)
    events = list(_events("community.slow_mode"))
    assert [e.details for e in events] == [
        {"scope": "thread", "seconds": 300, "was": 0},
        {"scope": "community", "seconds": 60, "was": 0},
        {"scope": "thread", "seconds": 0, "was": 300},
    ]
    assert all(REASON not in str(e.details) and REASON not in e.reason for e in events)
    community.refresh_from_db()
    assert community.slow_mode_set_by == moderator and community.slow_mode_reason == REASON
    thread.refresh_from_db()
    assert thread.slow_mode_seconds == 0 and thread.slow_mode_reason == "" and thread.slow_mode_set_by == moderator
    with connection.cursor() as cursor:
        raw_id = community._meta.pk.get_db_prep_value(community.pk, connection)
        cursor.execute(f"SELECT slow_mode_reason FROM {community._meta.db_table} WHERE id = %s", [raw_id])
        stored = cursor.fetchone()[0]
    assert stored and REASON not in stored


@pytest.mark.parametrize(
    ("seconds", "reason", "field"),
    [
        ("300", "", "reason"),
        ("300", "   ", "reason"),
        ("300", "x" * 301, "reason"),
        ("45", REASON, "seconds"),
        ("abc", REASON, "seconds"),
        ("٣٠", REASON, "seconds"),
        ("9" * 40, REASON, "seconds"),
        ("", REASON, "seconds"),
    ],
)
def test_a_refused_slow_mode_form_says_why_and_keeps_what_was_typed(world, seconds, reason, field):
    thread = world["threads"]["members"]
    response = client_for(world["people"]["moderator"]).post(
        thread_url("slow_mode", thread), {"seconds": seconds, "reason": reason}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'role="alert"' in page and 'aria-invalid="true"' in page
    if reason.strip():
        assert reason in page
    thread.refresh_from_db()
    assert thread.slow_mode_seconds == 0 and not _events("community.slow_mode").exists()
    with pytest.raises(ValidationError) as refused:
        actions.set_slow_mode(moderator=world["people"]["moderator"], target=thread, seconds=seconds, reason=reason)
    assert field in refused.value.error_dict


def test_the_slow_mode_pages_open_for_moderators_only(world):
    thread, community = world["threads"]["members"], world["communities"]["members"]
    moderator = client_for(world["people"]["moderator"])
    assert moderator.get(thread_url("slow_mode", thread)).status_code == 200
    assert moderator.get(url("community_slow_mode", community.slug)).status_code == 200
    response = moderator.post(url("community_slow_mode", community.slug), {"seconds": "900", "reason": REASON})
    assert response.status_code == 302 and response["Location"] == url("community", community.slug)
    community.refresh_from_db()
    assert community.slow_mode_seconds == 900
    member = client_for(world["people"]["member"])
    assert member.get(thread_url("slow_mode", thread)).status_code == 403
    assert member.post(url("community_slow_mode", community.slug), {"seconds": "0"}).status_code == 403
    assert client_for(world["people"]["outsider"]).get(url("community_slow_mode", "private-group")).status_code == 404
    assert client_for(None).get(url("community_slow_mode", community.slug)).status_code == 302


def test_pace_words():
    assert tools.describe_pace(30) == "Slow mode: one post every 30 seconds"
    assert tools.describe_pace(60) == "Slow mode: one post every minute"
    assert tools.describe_pace(300) == "Slow mode: one post every 5 minutes"
    assert tools.describe_pace(3600) == "Slow mode: one post every 60 minutes"


# --------------------------------------------------------------------------- bounded queries


def _fill(thread, authors, count):
    now = timezone.now()
    Post.objects.bulk_create(
        Post(
            thread=thread,
            author=authors[n % len(authors)],
            status=Post.Status.PUBLISHED,
            body_source=f"Reply {n}",
            body_html=text.render(f"Reply {n}"),
            created_at=now + datetime.timedelta(seconds=n),
        )
        for n in range(count)
    )


@pytest.mark.parametrize("who", ["anonymous", "member", "author", "moderator"])
def test_the_thread_page_with_every_tool_in_use_makes_the_same_queries_for_5_and_50_posts(world, who, make_user):
    community = world["communities"]["public"]
    author, moderator = world["people"]["author"], world["people"]["moderator"]
    writers = []
    for n in range(10):
        writer = make_user("patient")
        CommunityProfile.objects.create(user=writer, handle=f"writer-{n}")
        Membership.objects.create(community=community, user=writer)
        writers.append(writer)
    sizes = {}
    for size in (5, 50):
        opening = actions.start_thread(author=author, community=community, title=f"Size {size}", body="Hello")
        thread = opening.thread
        _fill(thread, writers, size)
        chosen = thread.posts.filter(is_opening=False).last()
        actions.solve(user=author, thread=thread, post=chosen)
        actions.set_slow_mode(moderator=moderator, target=thread, seconds=300, reason=REASON)
        actions.set_pinned(moderator=moderator, thread=thread, pinned=True)
        sizes[size] = thread
    client = client_for(world["people"][who])
    client.get(thread_url("thread", sizes[5]))  # sessions and caches warm

    def count(thread) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(thread_url("thread", thread))
        assert response.status_code == 200
        assert "Read the chosen answer" in response.content.decode()
        return len(captured)

    assert count(sizes[5]) == count(sizes[50])
