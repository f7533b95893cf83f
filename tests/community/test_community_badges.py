"""Earned badges: the rules of ``PORTAL_SOCIAL_COMMUNITY_BADGES``, awarded once, audited, never taken back,
shown on the member card with their labels, in a fixed number of queries."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal_social.community import actions
from portal_social.community.actions import badges
from portal_social.community.models import Community, CommunityProfile, MemberBadge, Membership, Post, Thread
from portal_social.core import roles, text
from portal_social.core.models import AuditEvent
from portal_social.core.notify.models import Notification
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

ESTABLISHED = datetime.timedelta(days=90)
DAY = datetime.timedelta(days=1)


def url(name, *args):
    return reverse(f"portal_social_community:{name}", args=args)


@pytest.fixture
def community(db):
    return Community.objects.create(name="Heart health", slug="heart-health", visibility="public")


@pytest.fixture
def make_member(make_user, community):
    count = iter(range(1000))

    def make(role=roles.PATIENT, *, mfa=False, handle=None):
        user = make_user(role, mfa=mfa, date_joined=timezone.now() - ESTABLISHED)
        CommunityProfile.objects.create(user=user, handle=handle or f"member-{next(count)}", trust_level=1)
        Membership.objects.create(community=community, user=user)
        return user

    return make


@pytest.fixture
def cast(make_member, make_user):
    return {
        "author": make_member(handle="steady_beat"),
        "replier": make_member(handle="riverside_walker"),
        "reader": make_member(handle="quiet_reader"),
        "other": make_member(handle="other_reader"),
        "moderator": make_member(roles.COMMUNITY_MODERATOR, mfa=True, handle="the_moderator"),
        "superuser": make_user(None, is_superuser=True, is_staff=True, mfa=True),
        "outsider": make_user(roles.PATIENT, date_joined=timezone.now() - ESTABLISHED),
    }


@pytest.fixture
def thread(cast, community):
    post = actions.start_thread(author=cast["author"], community=community, title="Walking", body="Tips?")
    assert post.status == Post.Status.PUBLISHED
    return post.thread


def held(user) -> set[str]:
    return set(MemberBadge.objects.filter(user=user).values_list("badge", flat=True))


def awarded_events(user=None):
    events = AuditEvent.objects.filter(action="community.badge_awarded")
    return events.filter(patient_id=user.pk) if user is not None else events


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        sign_in(client, user)
    return client


def page(user, thread) -> str:
    response = client_for(user).get(url("thread", thread.community.slug, thread.pk))
    assert response.status_code == 200
    return response.content.decode()


# --------------------------------------------------------------------------- the first post


def test_a_members_first_published_post_earns_first_post_once_with_an_audit_row_and_a_notice(cast, thread):
    author = cast["author"]
    opening = Post.objects.get(thread=thread, is_opening=True)
    badge = MemberBadge.objects.get(user=author, badge="first_post")
    assert badge.post_id == opening.pk
    event = awarded_events(author).get()
    assert event.details == {"member": str(author.pk), "badge": "first_post", "post": str(opening.pk)}
    assert event.target_id == str(badge.pk)
    notice = Notification.objects.get(recipient=author, key="community.badge")
    assert notice.params == {}
    # A second post, and the award asked again, change nothing.
    actions.reply(author=author, thread=thread, body="And another thing.")
    assert badges.award_badges(author) == []
    assert MemberBadge.objects.filter(user=author).count() == 1
    assert awarded_events(author).count() == 1
    assert Notification.objects.filter(recipient=author, key="community.badge").count() == 1


def test_the_audit_row_and_notice_hold_no_label_and_nothing_written(cast, thread):
    event = awarded_events(cast["author"]).get()
    assert "First post" not in str(event.details)
    assert "Walking" not in str(event.details) and "Tips" not in str(event.details)
    from portal_social.core import notify

    template = notify.get_template("community.badge")
    words = f"{template.subject} {template.body}"
    assert "First post" not in words and "Heart" not in words and "steady_beat" not in words


def test_a_held_post_earns_nothing_until_a_moderator_publishes_it(settings, cast, community):
    settings.PORTAL_SOCIAL_COMMUNITY_HELD_FIRST_POSTS = 1
    member = cast["replier"]
    post = actions.start_thread(author=member, community=community, title="Hello", body="My first post.")
    assert post.status == Post.Status.HELD
    assert held(member) == set()
    actions.approve_post(moderator=cast["moderator"], post=post)
    assert held(member) == {"first_post"}


def test_a_taken_down_post_keeps_the_badge_it_earned(cast, thread):
    author = cast["author"]
    opening = Post.objects.get(thread=thread, is_opening=True)
    actions.delete_post(user=author, post=opening)
    assert CommunityProfile.objects.get(user=author).post_count == 0
    assert held(author) == {"first_post"}
    # Published again later (a new post), nothing is given twice.
    other = actions.start_thread(author=author, community=thread.community, title="Again", body="Back again.")
    assert other.status == Post.Status.PUBLISHED
    assert awarded_events(author).count() == 1


def test_a_post_count_threshold_from_the_setting(settings, cast, thread):
    settings.PORTAL_SOCIAL_COMMUNITY_BADGES = [
        {"key": "three_posts", "label": "Three posts", "earned_by": "posts", "count": 3}
    ]
    replier = cast["replier"]
    actions.reply(author=replier, thread=thread, body="One.")
    actions.reply(author=replier, thread=thread, body="Two.")
    assert held(replier) == set()
    third = actions.reply(author=replier, thread=thread, body="Three.")
    assert held(replier) == {"three_posts"}
    assert MemberBadge.objects.get(user=replier).post_id == third.pk


def test_an_empty_setting_turns_badges_off(settings, cast, community):
    settings.PORTAL_SOCIAL_COMMUNITY_BADGES = []
    actions.start_thread(author=cast["replier"], community=community, title="Hi", body="Hello.")
    assert not MemberBadge.objects.exists()
    with CaptureQueriesContext(connection) as captured:
        assert badges.labels_for({cast["replier"].pk}) == {}
        assert badges.award_badges(cast["replier"]) == []
    assert len(captured) == 0


def test_a_concurrent_twin_gives_the_badge_once(cast):
    badge = next(b for b in badges.configured() if b.key == "first_post")
    member = cast["other"]
    assert badges._award(member, badge) is True
    assert badges._award(member, badge) is False
    assert MemberBadge.objects.filter(user=member).count() == 1
    assert awarded_events(member).count() == 1


# --------------------------------------------------------------------------- helpful answers


def test_a_reply_chosen_as_the_answer_earns_helpful_answer(cast, thread):
    reply = actions.reply(author=cast["replier"], thread=thread, body="Two short walks a day.")
    actions.solve(user=cast["author"], thread=thread, post=reply)
    badge = MemberBadge.objects.get(user=cast["replier"], badge="helpful_answer")
    assert badge.post_id == reply.pk
    # Cleared, then chosen again: the badge stays, given once.
    actions.solve(user=cast["author"], thread=thread, post=None)
    assert "helpful_answer" in held(cast["replier"])
    actions.solve(user=cast["moderator"], thread=thread, post=reply)
    assert awarded_events(cast["replier"]).filter(details__badge="helpful_answer").count() == 1


def test_choosing_your_own_reply_earns_nothing(cast, thread):
    own = actions.reply(author=cast["author"], thread=thread, body="Update: it worked.")
    actions.solve(user=cast["author"], thread=thread, post=own)
    assert "helpful_answer" not in held(cast["author"])


def test_a_moderator_choosing_the_answer_earns_it_too(cast, thread):
    reply = actions.reply(author=cast["replier"], thread=thread, body="Benches help.")
    actions.solve(user=cast["moderator"], thread=thread, post=reply)
    assert "helpful_answer" in held(cast["replier"])


def test_an_answer_taken_down_keeps_the_badge(cast, thread):
    reply = actions.reply(author=cast["replier"], thread=thread, body="Benches help.")
    actions.solve(user=cast["author"], thread=thread, post=reply)
    actions.delete_post(user=cast["replier"], post=reply)
    thread.refresh_from_db()
    assert thread.solved_post_id is None
    assert "helpful_answer" in held(cast["replier"])


def test_two_answers_when_the_setting_asks_for_two(settings, cast, community):
    settings.PORTAL_SOCIAL_COMMUNITY_BADGES = [
        {"key": "two_answers", "label": "Two answers", "earned_by": "answers", "count": 2}
    ]
    for n in range(2):
        opening = actions.start_thread(author=cast["author"], community=community, title=f"Q{n}", body="Help?")
        reply = actions.reply(author=cast["replier"], thread=opening.thread, body=f"Answer {n}.")
        actions.solve(user=cast["author"], thread=opening.thread, post=reply)
        assert held(cast["replier"]) == (set() if n == 0 else {"two_answers"})


# --------------------------------------------------------------------------- reactions received


def test_helpful_reactions_received_earn_the_badge_and_taking_one_back_keeps_it(settings, cast, thread):
    settings.PORTAL_SOCIAL_COMMUNITY_BADGES = [
        {"key": "helpful_2", "label": "Helpful twice", "earned_by": "reactions_received", "kind": "helpful", "count": 2}
    ]
    reply = actions.reply(author=cast["replier"], thread=thread, body="Keep a log.")
    actions.react(user=cast["reader"], post=reply, kind="helpful", on=True)
    actions.react(user=cast["other"], post=reply, kind="hug", on=True)  # another kind does not count
    assert held(cast["replier"]) == set()
    actions.react(user=cast["other"], post=reply, kind="helpful", on=True)
    assert held(cast["replier"]) == {"helpful_2"}
    actions.react(user=cast["other"], post=reply, kind="helpful", on=False)
    assert held(cast["replier"]) == {"helpful_2"}


def test_once_earned_a_reaction_asks_one_query_of_the_badges(settings, cast, thread):
    settings.PORTAL_SOCIAL_COMMUNITY_BADGES = [
        {"key": "helpful_1", "label": "Helpful", "earned_by": "reactions_received", "kind": "helpful", "count": 1}
    ]
    reply = actions.reply(author=cast["replier"], thread=thread, body="Keep a log.")
    actions.react(user=cast["reader"], post=reply, kind="helpful", on=True)
    assert held(cast["replier"]) == {"helpful_1"}
    reply.refresh_from_db()
    with CaptureQueriesContext(connection) as captured:
        assert badges.reaction_given(reply, "helpful") == []
    # Whether the post is in a clinician space (which earns nothing), the author, then the badges
    # they hold: no count of reactions.
    assert len(captured) == 3


# --------------------------------------------------------------------------- a year with us (the daily run)


def run_daily() -> str:
    out = io.StringIO()
    call_command("portal_social_community_trust", stdout=out)
    return out.getvalue()


def test_the_daily_run_gives_a_year_badge_when_the_day_comes(cast):
    member = cast["reader"]
    profile = CommunityProfile.objects.get(user=member)
    profile.created_at = timezone.now() - 364 * DAY
    profile.save(update_fields=["created_at"])
    run_daily()
    assert "year_member" not in held(member)
    CommunityProfile.objects.filter(pk=profile.pk).update(created_at=timezone.now() - 366 * DAY)
    assert "badges awarded: 1" in run_daily()
    badge = MemberBadge.objects.get(user=member, badge="year_member")
    assert badge.post_id is None
    assert awarded_events(member).get().details == {"member": str(member.pk), "badge": "year_member", "post": None}
    assert "badges awarded: 0" in run_daily()  # a second run changes nothing


def test_the_daily_run_with_a_frozen_clock(cast, monkeypatch):
    member = cast["reader"]
    later = timezone.now() + 400 * DAY
    monkeypatch.setattr(badges.timezone, "now", lambda: later)
    run_daily()
    assert "year_member" in held(member)


def test_the_daily_run_skips_closed_accounts(cast):
    member = cast["reader"]
    CommunityProfile.objects.filter(user=member).update(created_at=timezone.now() - 400 * DAY)
    type(member).objects.filter(pk=member.pk).update(is_active=False)
    run_daily()
    assert held(member) == set()


def test_the_daily_run_catches_up_a_post_badge_a_new_setting_adds(settings, cast, thread):
    settings.PORTAL_SOCIAL_COMMUNITY_BADGES = []
    actions.reply(author=cast["replier"], thread=thread, body="Hello.")
    assert held(cast["replier"]) == set()
    settings.PORTAL_SOCIAL_COMMUNITY_BADGES = [
        {"key": "first_post", "label": "First post", "earned_by": "posts", "count": 1}
    ]
    run_daily()
    assert held(cast["replier"]) == {"first_post"}
    assert held(cast["author"]) == {"first_post"}


def test_a_post_published_after_a_year_gives_the_year_badge_at_once(cast, thread):
    CommunityProfile.objects.filter(user=cast["replier"]).update(created_at=timezone.now() - 400 * DAY)
    actions.reply(author=cast["replier"], thread=thread, body="Still here.")
    assert held(cast["replier"]) == {"first_post", "year_member"}


# --------------------------------------------------------------------------- the setting and its check


def check_ids(settings, value) -> list[str]:
    settings.PORTAL_SOCIAL_COMMUNITY_BADGES = value
    return [message.id for message in badges.check_badges_setting()]


def test_the_default_setting_passes_its_check(settings):
    assert badges.check_badges_setting() == []
    assert [b.key for b in badges.configured()] == ["first_post", "helpful_answer", "year_member", "helpful_10"]


@pytest.mark.parametrize(
    "value",
    [
        42,
        [42],
        ["first_post"],
        [{"label": "No key", "earned_by": "posts"}],
        [{"key": "Bad Key", "label": "x", "earned_by": "posts"}],
        [{"key": "k" * 41, "label": "x", "earned_by": "posts"}],
        [{"key": "no_label", "earned_by": "posts"}],
        [{"key": "blank_label", "label": "  ", "earned_by": "posts"}],
        [{"key": "magic", "label": "Magic", "earned_by": "magic"}],
        [{"key": "typo", "label": "Typo", "earned_by": "posts", "cout": 3}],
        [{"key": "zero", "label": "Zero", "earned_by": "posts", "count": 0}],
        [{"key": "text", "label": "Text", "earned_by": "posts", "count": "3"}],
        [{"key": "flag", "label": "Flag", "earned_by": "posts", "count": True}],
        [{"key": "huge", "label": "Huge", "earned_by": "answers", "count": 10**9}],
        [{"key": "no_days", "label": "Year", "earned_by": "days_member"}],
        [{"key": "days_count", "label": "Year", "earned_by": "days_member", "count": 365}],
        [{"key": "no_kind", "label": "Hugs", "earned_by": "reactions_received", "count": 3}],
        [{"key": "bad_kind", "label": "Hugs", "earned_by": "reactions_received", "kind": "Hug!", "count": 3}],
        [
            {"key": "twice", "label": "One", "earned_by": "posts"},
            {"key": "twice", "label": "Two", "earned_by": "answers"},
        ],
    ],
)
def test_a_malformed_setting_is_an_error_and_pages_still_work(settings, value, cast, thread):
    assert "portal_social.E162" in check_ids(settings, value)
    actions.reply(author=cast["replier"], thread=thread, body="Still posting.")  # never breaks posting
    page(None, thread)


def test_a_malformed_entry_is_left_out_and_the_rest_still_work(settings, cast, thread):
    settings.PORTAL_SOCIAL_COMMUNITY_BADGES = [
        {"key": "broken", "label": "Broken", "earned_by": "magic"},
        {"key": "first_post", "label": "First post", "earned_by": "posts"},
    ]
    assert [b.key for b in badges.configured()] == ["first_post"]
    actions.reply(author=cast["replier"], thread=thread, body="Hello.")
    assert held(cast["replier"]) == {"first_post"}


def test_a_reaction_the_portal_does_not_offer_is_a_warning(settings):
    settings.PORTAL_SOCIAL_COMMUNITY_REACTIONS = {"hug": "Sending a hug"}
    ids = [message.id for message in badges.check_badges_setting()]
    assert ids == ["portal_social.W162"]  # the default helpful_10 counts "helpful"


def test_the_check_runs_with_djangos_checks(settings):
    from django.core import checks

    settings.PORTAL_SOCIAL_COMMUNITY_BADGES = [{"key": "x", "label": "X", "earned_by": "nothing"}]
    assert "portal_social.E162" in [message.id for message in checks.run_checks()]


# --------------------------------------------------------------------------- the member card


@pytest.mark.parametrize("who", ["anonymous", "reader", "moderator", "superuser", "outsider"])
def test_the_card_shows_earned_badges_with_their_labels_to_every_reader(cast, thread, who):
    reply = actions.reply(author=cast["replier"], thread=thread, body="Benches help.")
    actions.solve(user=cast["author"], thread=thread, post=reply)
    html = page(cast.get(who), thread)
    # In the setting's order, whatever order they were earned in.
    assert html.count('<li class="badge badge--earned">First post</li>') == 2
    assert '<li class="badge badge--earned">First post</li><li class="badge badge--earned">Helpful answer</li>' in html
    assert 'aria-label="Badges earned"' in html


def test_a_renamed_badge_shows_its_new_label_and_a_removed_one_is_skipped(settings, cast, thread):
    MemberBadge.objects.create(user=cast["author"], badge="retired_badge")  # a key no setting names any more
    settings.PORTAL_SOCIAL_COMMUNITY_BADGES = [
        {"key": "first_post", "label": "Said hello", "earned_by": "posts", "count": 1}
    ]
    html = page(None, thread)
    assert '<li class="badge badge--earned">Said hello</li>' in html
    assert "retired_badge" not in html and "First post" not in html
    settings.PORTAL_SOCIAL_COMMUNITY_BADGES = []
    html = page(None, thread)
    assert "badge--earned" not in html and "Said hello" not in html
    assert MemberBadge.objects.filter(user=cast["author"]).count() == 2  # the rows stay


def test_a_label_is_escaped(settings, cast, thread):
    settings.PORTAL_SOCIAL_COMMUNITY_BADGES = [
        {"key": "first_post", "label": "<b>Hello</b>", "earned_by": "posts", "count": 1}
    ]
    html = page(None, thread)
    assert "&lt;b&gt;Hello&lt;/b&gt;" in html and "<b>Hello</b>" not in html


# --------------------------------------------------------------------------- bounded queries


def _fill(thread, authors, count):
    start = timezone.now()
    for n in range(count):
        body = f"Reply {n}."
        Post.objects.create(
            thread=thread,
            author=authors[n % len(authors)],
            status=Post.Status.PUBLISHED,
            body_source=body,
            body_html=text.render(body),
            created_at=start + datetime.timedelta(seconds=n),
            by_caregiver=n % 3 == 0,
        )
    Thread.objects.filter(pk=thread.pk).update(reply_count=count)


def count_queries(client, address) -> int:
    client.get(address)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(address)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("who", ["anonymous", "reader", "moderator"])
def test_the_thread_page_reads_every_badge_in_one_query_at_5_and_50_posts(make_member, cast, community, who):
    authors = [make_member() for _n in range(50)]
    for n, author in enumerate(authors):
        for key in ("first_post", "helpful_answer", "year_member", "retired")[: n % 5]:
            MemberBadge.objects.create(user=author, badge=key)
    small = actions.start_thread(author=cast["author"], community=community, title="Small", body="Hi").thread
    large = actions.start_thread(author=cast["author"], community=community, title="Large", body="Hi").thread
    _fill(small, authors[:5], 5)
    _fill(large, authors, 50)
    client = client_for(cast.get(who))
    few = count_queries(client, url("thread", community.slug, small.pk))
    many = count_queries(client, url("thread", community.slug, large.pk))
    assert few == many, (few, many)
    html = client.get(url("thread", community.slug, large.pk)).content.decode()
    assert html.count("badge--earned") > 20 and "badge--caregiver" in html
    with CaptureQueriesContext(connection) as captured:
        badges.labels_for([a.pk for a in authors])
    assert len(captured) == 1
