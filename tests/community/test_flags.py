"""Members flag posts: once each, weighted by trust, enough flags hide a post until a moderator decides."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from portal_social import signals
from portal_social.community import actions
from portal_social.community.models import Community, CommunityProfile, Membership, Post, PostFlag, Thread
from portal_social.core import access, moderation, roles
from portal_social.core.models import AuditEvent
from tests.factories import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def community():
    return Community.objects.create(name="Heart health", slug="heart-health", visibility="members")


@pytest.fixture
def make_member(make_user, community):
    counter = iter(range(1000))

    def make(trust=1):
        user = make_user(roles.PATIENT)
        user.date_joined = timezone.now() - datetime.timedelta(days=60)
        user.save(update_fields=["date_joined"])
        CommunityProfile.objects.create(user=user, handle=f"member{next(counter)}x", trust_level=trust)
        Membership.objects.create(community=community, user=user)
        return user

    return make


@pytest.fixture
def moderator(make_user):
    return make_user(roles.COMMUNITY_MODERATOR, mfa=True)


@pytest.fixture
def reply(make_member, community):
    author = make_member()
    opening = actions.start_thread(author=author, community=community, title="Walking", body="Tips for walking?")
    post = actions.reply(author=make_member(), thread=opening.thread, body="Short walks, every day.")
    assert post.status == Post.Status.PUBLISHED
    return post


def _codes(error: ValidationError) -> list[str]:
    return [e.code for errors in error.error_dict.values() for e in errors]


def test_a_flag_queues_the_post_with_who_and_why_and_keeps_it_published(make_member, reply):
    flagger = make_member(trust=1)
    actions.flag_post(user=flagger, post=reply, reason="off_topic", note="Not about walking at all.")
    item = moderation.pending_item(reply)
    assert item is not None and item.kind == "community_post"
    (reason,) = item.reasons.all()
    assert (reason.code, reason.added_by_id, reason.details["category"]) == ("flag", flagger.pk, "off_topic")
    assert reason.note == "Not about walking at all."  # the flagger's words, encrypted in the queue
    reply.refresh_from_db()
    assert reply.status == Post.Status.PUBLISHED
    event = AuditEvent.objects.get(action="community.flag")
    assert event.actor_id == flagger.pk and "walking" not in str(event.details)


def test_one_flag_each(make_member, reply):
    flagger = make_member()
    actions.flag_post(user=flagger, post=reply, reason="spam")
    with pytest.raises(ValidationError) as caught:
        actions.flag_post(user=flagger, post=reply, reason="spam")
    assert _codes(caught.value) == ["duplicate"]
    assert PostFlag.objects.count() == 1


def test_an_unknown_reason_and_someone_elses_view_are_refused(make_member, make_user, reply):
    with pytest.raises(ValidationError):
        actions.flag_post(user=make_member(), post=reply, reason="explode")
    outsider = make_user(roles.PATIENT_EXPERIENCE, mfa=True)
    with pytest.raises(actions.CommunityDenied):
        actions.flag_post(user=outsider, post=reply, reason="spam")


def test_three_members_of_trust_level_one_hide_a_post_until_a_moderator_decides(make_member, reply, moderator):
    thread = reply.thread
    for _ in range(2):
        actions.flag_post(user=make_member(trust=1), post=reply, reason="inappropriate")
    reply.refresh_from_db()
    assert reply.status == Post.Status.PUBLISHED
    actions.flag_post(user=make_member(trust=1), post=reply, reason="inappropriate")
    reply.refresh_from_db()
    assert reply.status == Post.Status.HELD and {"code": "flagged"} in reply.hold_reasons
    assert Thread.objects.get(pk=thread.pk).reply_count == 0
    reader = make_member()
    assert not access.visible(reader, Post.objects.filter(pk=reply.pk)).exists()
    assert AuditEvent.objects.filter(action="community.hide").count() == 1

    item = moderation.pending_item(reply)
    moderation.decide(moderator=moderator, item=item, version=item.version, decision="approve")
    reply.refresh_from_db()
    assert reply.status == Post.Status.PUBLISHED
    assert Thread.objects.get(pk=thread.pk).reply_count == 1
    assert moderation.pending_item(reply) is None


def test_new_members_flags_count_half_and_trusted_ones_double(make_member, reply):
    for _ in range(5):
        actions.flag_post(user=make_member(trust=0), post=reply, reason="spam")
    reply.refresh_from_db()
    assert reply.status == Post.Status.PUBLISHED  # 2.5 < 3
    actions.flag_post(user=make_member(trust=0), post=reply, reason="spam")
    reply.refresh_from_db()
    assert reply.status == Post.Status.HELD  # 3.0


def test_a_moderator_may_keep_a_flagged_post_or_take_it_down(make_member, reply, moderator):
    actions.flag_post(user=make_member(), post=reply, reason="off_topic")
    item = moderation.pending_item(reply)
    offered = [d.key for d in moderation.registry.get("community_post").decisions(item, reply)]
    assert offered == ["approve", "redact", "reject"]
    moderation.decide(
        moderator=moderator, item=item, version=item.version, decision="reject", data={"reason": "Off topic."}
    )
    reply.refresh_from_db()
    assert reply.status == Post.Status.REJECTED
    assert Thread.objects.get(pk=reply.thread_id).reply_count == 0


def test_a_complaint_about_my_care_reaches_patient_experience(make_member, reply, django_capture_on_commit_callbacks):
    received = []

    def receiver(sender, target, cause, author_id, **kwargs):
        received.append((sender, target.pk, cause, author_id))

    signals.content_needs_attention.connect(receiver, dispatch_uid="test-care-complaint")
    try:
        with pytest.raises(ValidationError):
            actions.flag_post(user=reply.author, post=reply, reason="spam")  # not on one's own post
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            actions.flag_post(user=reply.author, post=reply, reason="care_complaint")
        assert received == []  # nothing before the commit
        for callback in callbacks:
            callback()
    finally:
        signals.content_needs_attention.disconnect(dispatch_uid="test-care-complaint")
    assert received == [(Post, reply.pk, "care_complaint", reply.author_id)]
    assert moderation.pending_item(reply) is None  # one's own complaint hides nothing and queues nothing


def test_flag_notes_are_screened_for_length_and_never_audited(make_member, reply):
    with pytest.raises(ValidationError) as caught:
        actions.flag_post(user=make_member(), post=reply, reason="privacy", note="x" * 301)
    assert "note" in caught.value.error_dict
    actions.flag_post(user=make_member(), post=reply, reason="privacy", note="It has 555-867-5309 in it.")
    assert not any("867-5309" in str(e.details) for e in AuditEvent.objects.all())


# --------------------------------------------------------------------------- the thread page's flag form


def _flag_url(post):
    return f"/community/{post.thread.community.slug}/t/{post.thread_id}/flag/{post.pk}/"


def test_a_member_flags_from_the_thread_page_and_lands_back_on_the_post(client, make_member, reply):
    reader = make_member()
    sign_in(client, reader)
    page = client.get(f"/community/{reply.thread.community.slug}/t/{reply.thread_id}/").content.decode()
    assert 'href="' + _flag_url(reply) + '"' in page and "Flag this post" in page
    # The form is a page of its own: every reason, and the post it is about.
    form = client.get(_flag_url(reply)).content.decode()
    for value in ("off_topic", "inappropriate", "spam", "misinformation", "privacy", "care_complaint"):
        assert f'value="{value}"' in form
    assert reply.body_html in form
    response = client.post(_flag_url(reply), {"reason": "misinformation", "note": "Not what my cardiologist said."})
    assert response.status_code == 302 and response["Location"].endswith(f"#post-{reply.pk}")
    assert PostFlag.objects.get().reason == "misinformation"
    again = client.post(_flag_url(reply), {"reason": "misinformation"}, follow=True).content.decode()
    assert "already flagged" in again and PostFlag.objects.count() == 1
    told = client.get(_flag_url(reply)).content.decode()  # said at once, with no form to fill in
    assert "already flagged" in told and "ps-flag__form" not in told


def test_a_flag_without_a_reason_keeps_the_note_and_says_what_is_missing(client, make_member, reply):
    sign_in(client, make_member())
    response = client.post(_flag_url(reply), {"reason": "not-a-reason", "note": "Look at the second paragraph."})
    page = response.content.decode()
    assert response.status_code == 400 and 'role="alert"' in page
    assert "Look at the second paragraph." in page and not PostFlag.objects.exists()
    missing = client.post(_flag_url(reply), {"note": "x" * 301}).content.decode()
    assert "Choose why you are flagging this post." in missing and "at most 300 characters" in missing


def test_the_author_is_offered_only_a_care_follow_up_on_their_own_post(client, reply):
    sign_in(client, reply.author)
    page = client.get(f"/community/{reply.thread.community.slug}/t/{reply.thread_id}/").content.decode()
    own = page[page.index(f'id="post-{reply.pk}"') :]
    own = own[: own.index("</article>")]
    assert "Ask the patient experience team to follow up" in own and _flag_url(reply) in own
    form = client.get(_flag_url(reply)).content.decode()
    assert 'value="care_complaint"' in form and 'value="spam"' not in form
    assert client.post(_flag_url(reply), {"reason": "spam"}).status_code == 400
    assert not PostFlag.objects.exists()


def test_flagging_needs_a_session_and_a_community_the_person_may_see(client, make_user, reply):
    response = client.post(_flag_url(reply), {"reason": "spam"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.get(_flag_url(reply))["Location"].startswith("/accounts/login/")
    Community.objects.filter(pk=reply.thread.community_id).update(visibility="private")
    sign_in(client, make_user(roles.PATIENT))
    assert client.post(_flag_url(reply), {"reason": "spam"}).status_code == 404
    assert client.get(_flag_url(reply)).status_code == 404
    assert client.put(_flag_url(reply)).status_code == 405
    assert not PostFlag.objects.exists()
