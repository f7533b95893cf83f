"""Community actions: handles, membership, posting screened before saving, and moderators' decisions."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import connection
from django.utils import timezone

from portal_social.community import actions
from portal_social.community.models import Community, CommunityProfile, Membership, Post, Thread
from portal_social.core import access, moderation, ratelimit, roles
from portal_social.core.models import AuditEvent
from portal_social.core.moderation.models import ModerationItem
from portal_social.core.notify.models import Notification

pytestmark = pytest.mark.django_db

PHONE = "555-867-5309"
EMAIL = "jo.lopez@example.org"
LONG_AGO = datetime.timedelta(days=60)


@pytest.fixture
def community(db):
    return Community.objects.create(name="Heart health", slug="heart-health", visibility="members")


@pytest.fixture
def make_member(make_user, community):
    def make(role=roles.PATIENT, *, new=False, where=None):
        user = make_user(role, mfa=role not in (roles.PATIENT, roles.CAREGIVER, roles.COMMUNITY_MENTOR))
        if not new:
            user.date_joined = timezone.now() - LONG_AGO
            user.save(update_fields=["date_joined"])
        Membership.objects.create(community=where or community, user=user)
        return user

    return make


@pytest.fixture
def member(make_member):
    return make_member()


@pytest.fixture
def moderator(make_user):
    return make_user(roles.COMMUNITY_MODERATOR, mfa=True)


@pytest.fixture
def thread(member, community):
    post = actions.start_thread(author=member, community=community, title="Walking after surgery", body="Tips?")
    assert post.status == Post.Status.PUBLISHED, post.hold_reasons
    return post.thread


def _codes(error: ValidationError, field: str) -> list[str]:
    return [e.code for e in error.error_dict[field]]


def _events(action: str):
    return AuditEvent.objects.filter(action=action)


# --------------------------------------------------------------------------- handles


@pytest.mark.parametrize("handle", ["abc", "a" * 30, "Sunny.Day_42", "Maria.Lopez", "JaneDoe", "9lives"])
def test_a_handle_of_3_to_30_allowed_characters_is_kept_names_included(make_user, handle):
    user = make_user(roles.PATIENT)
    assert actions.set_handle(user=user, handle=f"  {handle} ").handle == handle
    assert CommunityProfile.objects.get(user=user).handle == handle


@pytest.mark.parametrize(
    "handle", ["ab", "a" * 31, "has space", "-dash-first", ".dot", "emoji\U0001f600", "semi;colon", "", "   ", None]
)
def test_a_handle_of_the_wrong_length_or_characters_is_refused(make_user, handle):
    user = make_user(roles.PATIENT)
    with pytest.raises(ValidationError) as refused:
        actions.set_handle(user=user, handle=handle)
    assert "handle" in refused.value.error_dict
    assert not CommunityProfile.objects.filter(user=user).exists()


@pytest.mark.parametrize("handle", [PHONE, "5558675309", "MRN12345678"])
def test_a_handle_that_is_a_number_or_an_id_is_refused(make_user, handle):
    user = make_user(roles.PATIENT)
    with pytest.raises(ValidationError) as refused:
        actions.set_handle(user=user, handle=handle)
    assert "handle" in refused.value.error_dict
    assert not CommunityProfile.objects.filter(user=user).exists()


def test_an_email_address_is_never_a_handle(make_user):
    user = make_user(roles.PATIENT)
    for handle in (EMAIL, "jo@example.org"):
        with pytest.raises(ValidationError):
            actions.set_handle(user=user, handle=handle)


def test_a_handle_is_unique_whatever_its_case(make_user):
    first, second = make_user(roles.PATIENT), make_user(roles.PATIENT)
    actions.set_handle(user=first, handle="SunnyDay")
    for taken in ("sunnyday", "SUNNYDAY", "SunnyDay"):
        with pytest.raises(ValidationError) as refused:
            actions.set_handle(user=second, handle=taken)
        assert refused.value.error_dict[NON_FIELD_ERRORS][0].code == "taken"
    # Its owner may change its case.
    assert actions.set_handle(user=first, handle="sunnyday").handle == "sunnyday"
    assert CommunityProfile.objects.filter(user=first).count() == 1


@pytest.mark.parametrize("who", [roles.RISK_MANAGER, roles.PATIENT_EXPERIENCE, None, "anonymous"])
def test_only_people_who_take_part_in_communities_or_spaces_choose_a_handle(make_user, who):
    user = AnonymousUser() if who == "anonymous" else make_user(who)
    with pytest.raises(actions.CommunityDenied):
        actions.set_handle(user=user, handle="SunnyDay")


def test_care_team_staff_choose_a_handle_for_clinician_spaces(make_user):
    # They take no part in patient communities, but post in the clinician spaces they belong to.
    assert actions.set_handle(user=make_user(roles.CARE_TEAM), handle="ward-nurse").handle == "ward-nurse"


# --------------------------------------------------------------------------- membership


@pytest.mark.parametrize(
    ("visibility", "status"),
    [("public", Membership.Status.ACTIVE), ("members", Membership.Status.ACTIVE), ("private", "requested")],
)
def test_joining_is_immediate_except_for_private_communities(make_user, visibility, status):
    community = Community.objects.create(name="Group", slug="group", visibility=visibility)
    user = make_user(roles.PATIENT)
    first = actions.join(user=user, community=community)
    again = actions.join(user=user, community=community)
    assert first.status == again.status == status
    assert first.pk == again.pk
    assert Membership.objects.filter(community=community, user=user).count() == 1
    assert Membership.objects.get(community=community, user=user).status == status
    if status == Membership.Status.ACTIVE:
        assert _events("community.join").count() == 1


def test_leaving_ends_posting_and_joining_again_restores_it(make_user, community):
    user = make_user(roles.PATIENT, date_joined=timezone.now() - LONG_AGO)
    actions.join(user=user, community=community)
    actions.leave(user=user, community=community)
    actions.leave(user=user, community=community)  # nothing to leave: no second event
    assert Membership.objects.get(user=user).status == Membership.Status.LEFT
    assert _events("community.leave").count() == 1
    with pytest.raises(actions.CommunityDenied):
        actions.start_thread(author=user, community=community, title="Hello", body="Hi all")
    assert actions.join(user=user, community=community).status == Membership.Status.ACTIVE
    assert actions.start_thread(author=user, community=community, title="Hello", body="Hi all").pk


@pytest.mark.parametrize("who", [roles.CARE_TEAM, roles.PATIENT_EXPERIENCE, None, "anonymous"])
def test_people_who_do_not_take_part_cannot_join(make_user, community, who):
    user = AnonymousUser() if who == "anonymous" else make_user(who)
    with pytest.raises(actions.CommunityDenied):
        actions.join(user=user, community=community)
    assert not Membership.objects.exists()


# --------------------------------------------------------------------------- posting: who and what


def test_a_non_member_cannot_post_or_reply(make_user, community, thread):
    outsider = make_user(roles.PATIENT, date_joined=timezone.now() - LONG_AGO)
    with pytest.raises(actions.CommunityDenied):
        actions.start_thread(author=outsider, community=community, title="Hello", body="Hi all")
    with pytest.raises(actions.CommunityDenied):
        actions.reply(author=outsider, thread=thread, body="Hi all")
    Membership.objects.create(community=community, user=outsider, status=Membership.Status.REQUESTED)
    with pytest.raises(actions.CommunityDenied):
        actions.reply(author=outsider, thread=thread, body="Hi all")
    assert Post.objects.count() == 1


@pytest.mark.parametrize("body", ["", "   \n\t ", None, 42, ["a post"], "x" * 20_001])
def test_an_empty_oversized_or_non_text_body_is_refused_on_body(member, community, thread, body):
    with pytest.raises(ValidationError) as refused:
        actions.start_thread(author=member, community=community, title="Hello", body=body)
    assert "body" in refused.value.error_dict
    with pytest.raises(ValidationError) as refused:
        actions.reply(author=member, thread=thread, body=body)
    assert "body" in refused.value.error_dict
    assert Post.objects.count() == 1 and Thread.objects.count() == 1


@pytest.mark.parametrize("title", ["", "   ", None, "t" * 151])
def test_a_thread_needs_a_title_of_at_most_150_characters(member, community, title):
    with pytest.raises(ValidationError) as refused:
        actions.start_thread(author=member, community=community, title=title, body="Hi all")
    assert "title" in refused.value.error_dict
    assert not Thread.objects.exists()


def test_a_title_of_150_characters_is_kept(member, community):
    post = actions.start_thread(author=member, community=community, title="t" * 150, body="Hi all")
    assert Thread.objects.get(pk=post.thread_id).title == "t" * 150


def test_personal_details_in_a_title_are_refused_even_when_the_author_confirms(member, community):
    for confirm in (False, True):
        with pytest.raises(actions.PhiFound) as refused:
            actions.start_thread(
                author=member, community=community, title=f"Write to {EMAIL}", body="Hi all", confirm_phi=confirm
            )
        assert refused.value.field == "title"
        assert "title" in refused.value.error_dict
        assert EMAIL not in str(refused.value.messages)
    assert not Thread.objects.exists() and not Post.objects.exists()


def test_personal_details_in_a_post_are_refused_until_the_author_confirms_then_held(
    member, community, thread, moderator
):
    body = f"Call me at {PHONE} or write to {EMAIL}"
    with pytest.raises(actions.PhiFound) as refused:
        actions.reply(author=member, thread=thread, body=body)
    assert refused.value.field == "body"
    assert {f.detail for f in refused.value.result.findings} == {"phone", "email"}
    assert PHONE not in str(refused.value.messages) and EMAIL not in str(refused.value.messages)
    assert Post.objects.count() == 1

    held = actions.reply(author=member, thread=thread, body=body, confirm_phi=True)
    assert held.status == Post.Status.HELD
    assert held.hold_reasons == [{"code": "phi", "kinds": ["email", "phone"]}]
    item = moderation.pending_item(held)
    assert item.kind == "community_post" and item.space == "heart-health" and item.status == "pending"
    assert not item.urgent and item.author_id == member.pk
    assert [(r.code, r.details) for r in item.reasons.all()] == [("phi", {"kinds": ["email", "phone"]})]
    thread.refresh_from_db()
    assert thread.reply_count == 0
    # Moderators are told a post waits; the author hears only once it is decided.
    assert Notification.objects.filter(recipient=moderator, key="community.needs_moderation").count() == 1
    assert not Notification.objects.filter(recipient=member).exists()
    actions.approve_post(moderator=moderator, post=held)
    assert list(Notification.objects.filter(recipient=member).values_list("key", flat=True)) == [
        "community.post_published"
    ]


@pytest.mark.parametrize(
    "body", ["Some days I want to kill myself", "A veces me quiero morir", "Honestly, I feel suicidal tonight."]
)
def test_crisis_language_holds_the_post_as_urgent_and_tells_every_moderator_at_once(
    member, thread, moderator, make_user, body
):
    other_moderator = make_user(roles.COMMUNITY_MODERATOR, mfa=True)
    post = actions.reply(author=member, thread=thread, body=body)
    assert post.status == Post.Status.HELD and post.urgent
    assert {"code": "crisis"} in post.hold_reasons
    item = moderation.pending_item(post)
    assert item.kind == "community_post" and item.urgent
    for someone in (moderator, other_moderator):
        assert Notification.objects.filter(recipient=someone, key="moderation.urgent").count() == 1
    assert not Notification.objects.filter(recipient=member, key="moderation.urgent").exists()


def test_a_blocked_word_refuses_the_post(member, community, thread):
    from portal_social.core.screening import policy, words
    from portal_social.core.screening.models import WatchedWord

    WatchedWord.objects.create(word="zorblax", action=policy.BLOCK, destinations=[policy.COMMUNITY_POST])
    words.invalidate()
    with pytest.raises(ValidationError) as refused:
        actions.reply(author=member, thread=thread, body="What a zorblax this is")
    assert _codes(refused.value, "body") == ["blocked"]
    with pytest.raises(ValidationError) as refused:
        actions.start_thread(author=member, community=community, title="Zorblax", body="Hi all")
    assert _codes(refused.value, "title") == ["blocked"]
    assert Post.objects.count() == 1 and Thread.objects.count() == 1


def test_a_community_that_reviews_every_post_holds_a_clean_one(member, community, thread):
    community.review_every_post = True
    community.save()
    thread.refresh_from_db()
    post = actions.reply(author=member, thread=thread, body="Lovely weather for a walk today.")
    assert post.status == Post.Status.HELD and post.hold_reasons == [{"code": "review_every_post"}]
    opening = actions.start_thread(author=member, community=community, title="Walks", body="Who walks daily?")
    assert opening.status == Post.Status.HELD
    assert not Thread.objects.get(pk=opening.thread_id).visible
    assert moderation.pending_item(opening).space == "heart-health"


def test_a_new_account_is_held(make_member, community):
    newcomer = make_member(new=True)
    post = actions.start_thread(author=newcomer, community=community, title="Hello", body="Hi all")
    assert post.status == Post.Status.HELD
    assert [r["code"] for r in post.hold_reasons] == ["new_account"]
    assert not Thread.objects.get(pk=post.thread_id).visible


def test_a_members_first_posts_are_held_until_one_is_published(member, community, moderator, settings):
    settings.PORTAL_SOCIAL_COMMUNITY_HELD_FIRST_POSTS = 1
    first = actions.start_thread(author=member, community=community, title="Hello", body="Hi all")
    assert first.status == Post.Status.HELD and first.hold_reasons == [{"code": "new_member"}]
    item = moderation.pending_item(first)
    moderation.decide(moderator=moderator, item=item, version=item.version, decision=moderation.APPROVE)
    first.refresh_from_db()
    second = actions.reply(author=member, thread=first.thread, body="And hello again")
    assert second.status == Post.Status.PUBLISHED


def test_a_clinicians_post_is_screened_with_the_staff_rules(make_member, community):
    clinician = make_member(roles.CLINICIAN)
    # A patient may tell their own story with a date; a clinician may not mention one.
    for body in ("Our clinic closes early on 3/4/2026.", "Mr. Carter, your recent visit went well."):
        for confirm in (False, True):
            with pytest.raises(actions.PhiFound) as refused:
                actions.start_thread(
                    author=clinician, community=community, title="A note", body=body, confirm_phi=confirm
                )
            assert refused.value.field == "body"
    assert not Post.objects.exists()
    fine = actions.start_thread(author=clinician, community=community, title="A note", body="Rest and drink water.")
    assert fine.status == Post.Status.PUBLISHED


def test_a_clinician_may_not_describe_a_particular_patient_in_a_community(make_member, community):
    clinician = make_member(roles.CLINICIAN)
    for body in ("My patient Jane Doe asked about this.", "One of my patients, a 52-year-old teacher, asked this."):
        with pytest.raises(actions.PhiFound):
            actions.start_thread(author=clinician, community=community, title="A note", body=body, confirm_phi=True)
    assert not Post.objects.exists()


# --------------------------------------------------------------------------- posting: once, in order


def test_the_same_submission_twice_makes_one_post(member, community, thread):
    token = uuid.uuid4()
    first = actions.start_thread(author=member, community=community, title="Hi", body="Hello", submission=token)
    again = actions.start_thread(author=member, community=community, title="Hi", body="Hello", submission=token)
    assert again.pk == first.pk
    assert Thread.objects.count() == 2 and Post.objects.filter(submission=token).count() == 1
    token = uuid.uuid4()
    reply = actions.reply(author=member, thread=thread, body="Me too", submission=token)
    assert actions.reply(author=member, thread=thread, body="Me too", submission=token).pk == reply.pk
    thread.refresh_from_db()
    assert thread.reply_count == 1
    assert _events("community.post").count() == 3


def test_a_token_sent_again_with_other_words_or_elsewhere_posts_them(member, community, thread):
    # A form the Back button brought back, edited, sent again: the new words are a new post, never lost.
    token = uuid.uuid4()
    first = actions.start_thread(author=member, community=community, title="Hi", body="Hello", submission=token)
    edited = actions.start_thread(author=member, community=community, title="Hi", body="Hello all", submission=token)
    assert edited.pk != first.pk and edited.body_source == "Hello all"
    token = uuid.uuid4()
    actions.reply(author=member, thread=thread, body="Me too", submission=token)
    elsewhere = actions.reply(author=member, thread=first.thread, body="Me too", submission=token)
    assert elsewhere.thread_id == first.thread_id
    thread.refresh_from_db()
    assert thread.reply_count == 1


@pytest.mark.parametrize("action", ["start_thread", "reply"])
def test_a_submission_racing_its_twin_returns_the_twins_post(member, community, thread, monkeypatch, action):
    """The twin committed between this request's look and its insert: the unique constraint answers."""
    token = uuid.uuid4()
    kwargs = {"author": member, "body": "Hello", "submission": token}
    kwargs.update({"community": community, "title": "Hi"} if action == "start_thread" else {"thread": thread})
    first = getattr(actions, action)(**kwargs)
    before = (Thread.objects.count(), Post.objects.count(), AuditEvent.objects.count())

    from portal_social.community.actions import posting

    real = posting._existing_submission
    looks = []

    def missed_first_time(author, submission):
        looks.append(submission)
        return None if len(looks) == 1 else real(author, submission)

    monkeypatch.setattr(posting, "_existing_submission", missed_first_time)
    again = getattr(actions, action)(**kwargs)
    assert again.pk == first.pk and len(looks) == 2
    assert (Thread.objects.count(), Post.objects.count(), AuditEvent.objects.count()) == before
    thread.refresh_from_db()
    assert thread.reply_count == (1 if action == "reply" else 0)


def test_a_locked_thread_takes_no_reply(member, thread):
    Thread.objects.filter(pk=thread.pk).update(locked=True)
    thread.refresh_from_db()
    with pytest.raises(actions.CommunityDenied) as refused:
        actions.reply(author=member, thread=thread, body="One more thing")
    assert "locked" in str(refused.value)
    assert Post.objects.count() == 1


def test_a_thread_locked_after_it_was_loaded_takes_no_reply(member, thread):
    Thread.objects.filter(pk=thread.pk).update(locked=True)  # the caller's copy still says unlocked
    with pytest.raises(actions.CommunityDenied):
        actions.reply(author=member, thread=thread, body="One more thing")
    assert Post.objects.count() == 1


def test_posting_is_rate_limited(member, community, thread, settings):
    settings.PORTAL_SOCIAL_RATE_LIMITS = {"community_post": "2/h"}
    actions.reply(author=member, thread=thread, body="Two")  # the thread's opening post was the first
    with pytest.raises(ratelimit.RateLimited):
        actions.reply(author=member, thread=thread, body="Three")
    with pytest.raises(ratelimit.RateLimited):
        actions.start_thread(author=member, community=community, title="Three", body="Three")
    assert Post.objects.count() == 2 and Thread.objects.count() == 1


# --------------------------------------------------------------------------- moderators' decisions


@pytest.fixture
def held_reply(member, thread):
    return actions.reply(author=member, thread=thread, body=f"Call me at {PHONE} or {EMAIL}", confirm_phi=True)


@pytest.fixture
def held_opening(member, community):
    return actions.start_thread(
        author=member, community=community, title="About my care", body=f"Phone me: {PHONE}", confirm_phi=True
    )


def _assert_no_text_in_details(event, *texts):
    flat = str(event.details)
    for piece in (PHONE, "867-5309", EMAIL, *texts):
        assert piece not in flat


@pytest.mark.parametrize("through_queue", [True, False])
def test_approving_publishes_closes_the_item_and_is_audited_once(moderator, held_reply, held_opening, through_queue):
    for post in (held_opening, held_reply):
        item = moderation.pending_item(post)
        if through_queue:
            moderation.decide(moderator=moderator, item=item, version=item.version, decision=moderation.APPROVE)
        else:
            actions.approve_post(moderator=moderator, post=post)
        post.refresh_from_db()
        assert post.status == Post.Status.PUBLISHED and post.moderated_by == moderator
        item.refresh_from_db()
        assert item.status == ModerationItem.Status.APPROVED and item.decided_by == moderator
    assert Thread.objects.get(pk=held_opening.thread_id).visible
    thread = Thread.objects.get(pk=held_reply.thread_id)
    assert thread.reply_count == 1
    approved = _events("community.approve")
    assert approved.count() == 2
    for event in approved:
        _assert_no_text_in_details(event, "About my care")
    with pytest.raises(ValidationError):
        actions.approve_post(moderator=moderator, post=held_reply)
    thread.refresh_from_db()
    assert thread.reply_count == 1 and _events("community.approve").count() == 2


@pytest.mark.parametrize("through_queue", [True, False])
def test_rejecting_needs_a_reason_keeps_it_out_of_sight_and_is_audited_once(
    moderator, held_reply, member, make_member, through_queue
):
    item = moderation.pending_item(held_reply)
    for reason in ("", "   ", "r" * 301):
        with pytest.raises(ValidationError):
            if through_queue:
                moderation.decide(
                    moderator=moderator,
                    item=item,
                    version=item.version,
                    decision=moderation.REJECT,
                    data={"reason": reason},
                )
            else:
                actions.reject_post(moderator=moderator, post=held_reply, reason=reason)
    held_reply.refresh_from_db()
    item.refresh_from_db()
    assert held_reply.status == Post.Status.HELD and item.is_pending

    reason = f"Shares a phone number {PHONE}"
    if through_queue:
        moderation.decide(
            moderator=moderator, item=item, version=item.version, decision=moderation.REJECT, data={"reason": reason}
        )
    else:
        actions.reject_post(moderator=moderator, post=held_reply, reason=reason)
    held_reply.refresh_from_db()
    item.refresh_from_db()
    assert held_reply.status == Post.Status.REJECTED and held_reply.rejection_reason == reason
    assert item.status == ModerationItem.Status.REJECTED
    [event] = _events("community.reject")
    _assert_no_text_in_details(event, "Shares a phone")
    assert Thread.objects.get(pk=held_reply.thread_id).reply_count == 0
    reader = make_member()
    from portal_social.core import access

    assert not access.visible(reader, Post.objects.filter(pk=held_reply.pk)).exists()
    assert Notification.objects.filter(recipient=member, key="community.post_rejected").count() == 1


@pytest.mark.parametrize("through_queue", [True, False])
def test_redacting_hides_the_details_and_publishes(moderator, held_reply, through_queue):
    item = moderation.pending_item(held_reply)
    if through_queue:
        moderation.decide(
            moderator=moderator,
            item=item,
            version=item.version,
            decision=moderation.REDACT,
            data={"use_findings": True},
        )
    else:
        actions.redact_post(moderator=moderator, post=held_reply)
    held_reply.refresh_from_db()
    item.refresh_from_db()
    assert held_reply.status == Post.Status.PUBLISHED and item.status == ModerationItem.Status.APPROVED
    for piece in (PHONE, "867-5309", "5309", EMAIL, "jo.lopez", "example.org"):
        assert piece not in held_reply.body_html
    assert "Call me at" in held_reply.body_html
    assert {r["kind"] for r in held_reply.redactions} == {"phone", "email"}
    assert held_reply.body_source.endswith(EMAIL)  # as written, for the record
    [event] = _events("community.redact")
    _assert_no_text_in_details(event)
    assert event.details["kinds"] == ["email", "phone"]
    assert Thread.objects.get(pk=held_reply.thread_id).reply_count == 1


def test_redacting_chosen_spans_hides_exactly_those(moderator, member, thread):
    body = "My kind neighbour drives me to rehab on Tuesdays."
    Community.objects.filter(pk=thread.community_id).update(review_every_post=True)
    post = actions.reply(author=member, thread=thread, body=body)
    assert post.status == Post.Status.HELD
    start = body.index("neighbour")
    actions.redact_post(moderator=moderator, post=post, spans=[(start, start + len("neighbour"))], use_findings=False)
    post.refresh_from_db()
    assert "neighbour" not in post.body_html and "rehab on Tuesdays" in post.body_html
    assert post.redactions == [{"start": start, "end": start + 9, "kind": "details"}]
    for bad in ([(5, 2)], [(0, 10_000)], [(-1, 3)]):
        other = actions.reply(author=member, thread=thread, body=f"Call {PHONE}", confirm_phi=True)
        with pytest.raises(ValidationError):
            actions.redact_post(moderator=moderator, post=other, spans=bad, use_findings=False)


def test_a_decision_on_a_stale_screen_is_refused(moderator, held_reply):
    item = moderation.pending_item(held_reply)
    for version in (item.version - 1, item.version + 1, "x"):
        with pytest.raises(ValidationError) as refused:
            moderation.decide(moderator=moderator, item=item, version=version, decision=moderation.APPROVE)
        assert refused.value.error_dict[NON_FIELD_ERRORS][0].code == "stale"
    held_reply.refresh_from_db()
    assert held_reply.status == Post.Status.HELD and not _events("community.approve").exists()


@pytest.mark.parametrize("who", [roles.PATIENT, roles.CLINICIAN, roles.PORTAL_ADMINISTRATOR, None])
def test_only_moderators_decide(make_user, held_reply, who):
    user = make_user(who, mfa=True, is_superuser=who is None)
    with pytest.raises(actions.CommunityDenied):
        actions.approve_post(moderator=user, post=held_reply)
    with pytest.raises(actions.CommunityDenied):
        actions.reject_post(moderator=user, post=held_reply, reason="No")
    with pytest.raises(actions.CommunityDenied):
        actions.redact_post(moderator=user, post=held_reply)
    held_reply.refresh_from_db()
    assert held_reply.status == Post.Status.HELD


# --------------------------------------------------------------------------- at rest and in notifications


def _raw(model, column, pk):
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column} FROM {model._meta.db_table} WHERE id = %s",  # noqa: S608 (names from the model)
            [pk.hex if connection.vendor == "sqlite" else pk],
        )
        [(raw,)] = cursor.fetchall()
    return raw


def test_titles_and_posts_are_encrypted_at_rest(moderator, held_opening):
    actions.reject_post(moderator=moderator, post=held_opening, reason=f"Has {PHONE}")
    raw_title = _raw(Thread, "title", held_opening.thread_id)
    assert raw_title.startswith("fernet:") and "About my care" not in raw_title
    for column in ("body_source", "body_html", "rejection_reason"):
        raw = _raw(Post, column, held_opening.pk)
        assert raw.startswith("fernet:") and PHONE not in raw and "Phone me" not in raw
    assert Thread.objects.get(pk=held_opening.thread_id).title == "About my care"


def test_notifications_carry_no_post_text(
    member, make_user, thread, moderator, django_capture_on_commit_callbacks, mailoutbox
):
    body = f"Some days I want to kill myself, call {PHONE}"
    with django_capture_on_commit_callbacks(execute=True):
        crisis = actions.reply(author=member, thread=thread, body=body, confirm_phi=True)
    with django_capture_on_commit_callbacks(execute=True):
        actions.redact_post(moderator=moderator, post=crisis)
    with django_capture_on_commit_callbacks(execute=True):
        held = actions.reply(author=member, thread=thread, body=f"Write to {EMAIL}", confirm_phi=True)
    with django_capture_on_commit_callbacks(execute=True):
        actions.reject_post(moderator=moderator, post=held, reason="Private details")
    keys = set(Notification.objects.values_list("key", flat=True))
    assert {"community.needs_moderation", "moderation.urgent", "community.post_published_redacted"} <= keys
    assert "community.post_rejected" in keys
    texts = [str(n.params) for n in Notification.objects.all()]
    texts += [m.subject + m.body + "".join(str(a[0]) for a in getattr(m, "alternatives", [])) for m in mailoutbox]
    assert mailoutbox
    for text in texts:
        for piece in ("kill myself", PHONE, "867-5309", EMAIL, "Walking after surgery", "Private details"):
            assert piece not in text


# --------------------------------------------------------------------------- reserved addresses, refused threads


@pytest.mark.parametrize("slug", ["name", "new", "t", "search"])
def test_a_community_cannot_take_the_address_of_a_community_page(slug):
    with pytest.raises(ValidationError) as caught:
        Community(name=f"Group {slug}", slug=slug).full_clean()
    assert "slug" in caught.value.message_dict


def test_the_author_sees_a_waiting_thread_but_not_one_whose_opening_post_was_refused(
    settings, member, community, moderator
):
    settings.PORTAL_SOCIAL_COMMUNITY_HELD_FIRST_POSTS = 5  # the member's posts wait for a moderator
    post = actions.start_thread(author=member, community=community, title="Hello", body="Happy to be here.")
    thread = Thread.objects.get(pk=post.thread_id)
    assert access.can(member, "view", thread)
    assert list(access.visible(member, Thread.objects.all())) == [thread]

    actions.reject_post(moderator=moderator, post=post, reason="Off topic.")
    thread.refresh_from_db()
    assert not access.can(member, "view", thread)
    assert not access.visible(member, Thread.objects.all()).exists()
    assert access.can(moderator, "view", thread)  # moderators keep the record
