"""Editing a post (screened like a new one, every version kept for moderators) and deleting it."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal_social.community import actions
from portal_social.community.models import Community, CommunityProfile, Membership, Post, PostRevision, Thread
from portal_social.core import moderation, ratelimit, roles
from portal_social.core.models import AuditEvent
from portal_social.core.moderation.models import ModerationItem
from portal_social.core.notify.models import Notification
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

ESTABLISHED = datetime.timedelta(days=90)
PHONE = "555-867-5309"


def url(name, *args):
    return reverse(f"portal_social_community:{name}", args=args)


@pytest.fixture
def people(established):
    people = {
        "author": established(roles.PATIENT),
        "member": established(roles.PATIENT),
        "moderator": established(roles.COMMUNITY_MODERATOR, mfa=True),
        "superuser": established(None, is_superuser=True, is_staff=True, mfa=True),
    }
    for name, user in people.items():
        CommunityProfile.objects.create(user=user, handle=f"{name}-handle")
    return people


@pytest.fixture
def community(people):
    community = Community.objects.create(name="Heart health", slug="heart-health", visibility="public")
    for who in ("author", "member"):
        Membership.objects.create(community=community, user=people[who])
    return community


@pytest.fixture
def thread(people, community):
    opening = actions.start_thread(
        author=people["member"], community=community, title="Walking after surgery", body="How far do you walk?"
    )
    assert opening.status == Post.Status.PUBLISHED
    return opening.thread


@pytest.fixture
def reply(people, thread):
    post = actions.reply(author=people["author"], thread=thread, body="About a mile on flat ground.")
    assert post.status == Post.Status.PUBLISHED
    return post


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        sign_in(client, user)
    return client


def _events(action):
    return AuditEvent.objects.filter(action=action)


def _raw(table_model, column, pk):
    with connection.cursor() as cursor:
        table = table_model._meta.db_table
        cursor.execute(
            f"SELECT {column} FROM {table} WHERE id = %s", [table_model._meta.pk.get_db_prep_value(pk, connection)]
        )  # noqa: S608
        return cursor.fetchone()[0]


# --------------------------------------------------------------------------- who may edit


EDIT_MATRIX = {"author": "edited", "member": 404, "moderator": 404, "superuser": 404, None: "login"}


@pytest.mark.parametrize("who", list(EDIT_MATRIX))
def test_only_the_author_edits_their_post(people, reply, who):
    user = people.get(who)
    address = url("edit_post", "heart-health", reply.thread_id, reply.pk)
    client = client_for(user)
    page = client.get(address)
    response = client.post(address, {"body": "About two miles now."})
    expected = EDIT_MATRIX[who]
    reply.refresh_from_db()
    if expected == "edited":
        assert page.status_code == 200 and "About a mile on flat ground." in page.content.decode()
        assert response.status_code == 302 and response["Location"].endswith(f"#post-{reply.pk}")
        assert reply.body_source == "About two miles now." and reply.edited_at is not None
        return
    assert reply.body_source == "About a mile on flat ground." and reply.edited_at is None
    if expected == "login":
        assert page.status_code == 302 and "login" in page["Location"]
        assert response.status_code == 302 and "login" in response["Location"]
    else:
        assert page.status_code == response.status_code == expected
    if user is not None:
        with pytest.raises(actions.CommunityDenied):
            actions.edit_post(author=user, post=reply, body="Changed by someone else")


def test_an_author_who_left_or_was_never_allowed_cannot_edit(people, reply, community):
    Membership.objects.filter(user=people["author"]).update(status=Membership.Status.LEFT)
    with pytest.raises(actions.CommunityDenied):
        actions.edit_post(author=people["author"], post=reply, body="Changed after leaving")


def test_a_post_in_a_locked_thread_cannot_be_edited_and_the_author_is_told(people, reply, thread):
    Thread.objects.filter(pk=thread.pk).update(locked=True)
    reply = Post.objects.select_related("thread__community").get(pk=reply.pk)
    with pytest.raises(actions.CommunityDenied) as refused:
        actions.edit_post(author=people["author"], post=reply, body="Changed while locked")
    assert "locked" in str(refused.value.message)
    response = client_for(people["author"]).get(url("edit_post", "heart-health", thread.pk, reply.pk))
    assert response.status_code == 403 and "locked" in response.content.decode()


# --------------------------------------------------------------------------- what an edit does


def test_an_edit_keeps_the_old_text_encrypted_and_is_audited_without_text(people, reply, thread):
    edited = actions.edit_post(author=people["author"], post=reply, body="About two miles, on a good day.")
    assert edited.status == Post.Status.PUBLISHED and edited.edited_at is not None
    revision = PostRevision.objects.get(post=reply)
    assert revision.body_source == "About a mile on flat ground." and revision.edited_by == people["author"]
    raw = _raw(PostRevision, "body_source", revision.pk)
    assert raw.startswith("fernet:") and "mile" not in raw
    event = _events("community.edit").get()
    assert event.actor_id == people["author"].pk and event.patient_id == people["author"].pk
    assert event.details["revision"] == revision.pk and event.details["revisions"] == 1
    assert event.details["from"] == event.details["status"] == "published"
    assert "mile" not in str(event.details)
    page = Client().get(url("thread", "heart-health", thread.pk)).content.decode()
    assert "About two miles, on a good day." in page and "About a mile" not in page
    assert "Edited" in page


def test_the_same_text_twice_changes_nothing(people, reply):
    for _ in range(2):
        actions.edit_post(author=people["author"], post=reply, body="About two miles now.")
    client = client_for(people["author"])
    address = url("edit_post", "heart-health", reply.thread_id, reply.pk)
    for _ in range(2):
        assert client.post(address, {"body": "About two miles now."}).status_code == 302
    assert PostRevision.objects.filter(post=reply).count() == 1
    assert _events("community.edit").count() == 1


def test_an_edit_that_adds_a_phone_number_is_refused_then_held_with_post_anyway(people, reply, thread):
    author = people["author"]
    address = url("edit_post", "heart-health", thread.pk, reply.pk)
    client = client_for(author)
    body = f"Call me at {PHONE} and we can walk together."
    refused = client.post(address, {"body": body})
    page = refused.content.decode()
    assert refused.status_code == 200
    assert "<mark" in page and "Post anyway" in page and body.split(PHONE)[1].strip() in page
    reply.refresh_from_db()
    assert reply.status == Post.Status.PUBLISHED and reply.body_source == "About a mile on flat ground."
    assert not PostRevision.objects.exists()

    response = client.post(address, {"body": body, "confirm_phi": "on"})
    assert response.status_code == 302
    reply.refresh_from_db()
    thread.refresh_from_db()
    assert reply.status == Post.Status.HELD
    assert reply.hold_reasons == [{"code": "phi", "kinds": ["phone"]}]
    assert thread.reply_count == 0
    item = moderation.pending_item(reply)
    assert item is not None and item.kind == "community_post"
    assert {r.code for r in item.reasons.all()} == {"phi", "edited"}
    public = Client().get(url("thread", "heart-health", thread.pk)).content.decode()
    assert PHONE not in public and "About a mile" not in public
    own = client.get(url("thread", "heart-health", thread.pk)).content.decode()
    assert "Waiting for a moderator" in own
    # The moderator publishes it with the number hidden.
    actions.redact_post(moderator=people["moderator"], post=reply)
    public = Client().get(url("thread", "heart-health", thread.pk)).content.decode()
    assert PHONE not in public and "we can walk together" in public


def test_an_edit_clears_a_moderators_hidden_parts_and_screens_again(people, thread):
    author = people["author"]
    held = actions.reply(author=author, thread=thread, body=f"Text me on {PHONE} please", confirm_phi=True)
    actions.redact_post(moderator=people["moderator"], post=held)
    held.refresh_from_db()
    assert held.redactions and PHONE not in held.body_html
    # Editing without removing the number: refused again, not published with it.
    with pytest.raises(actions.PhiFound):
        actions.edit_post(author=author, post=held, body=f"Text me on {PHONE}, thanks")
    edited = actions.edit_post(author=author, post=held, body="Ask me here instead, thanks")
    assert edited.redactions == [] and edited.status == Post.Status.PUBLISHED
    assert "Ask me here instead" in edited.body_html


def test_a_held_post_stays_held_after_an_edit_and_its_item_says_so(people, thread):
    author = people["author"]
    held = actions.reply(author=author, thread=thread, body=f"Ring {PHONE}", confirm_phi=True)
    edited = actions.edit_post(author=author, post=held, body="Ring the ward desk instead")
    assert edited.status == Post.Status.HELD
    item = moderation.pending_item(held)
    assert [r.code for r in item.reasons.order_by("pk")] == ["phi", "edited"]
    assert ModerationItem.objects.filter(status="pending").count() == 1


@pytest.mark.parametrize("body", ["", "   ", None, 42, ["list"], "x" * 20_001])
def test_an_empty_oversized_or_non_text_edit_is_refused_on_body(people, reply, body):
    with pytest.raises(ValidationError) as refused:
        actions.edit_post(author=people["author"], post=reply, body=body)
    assert "body" in refused.value.error_dict
    reply.refresh_from_db()
    assert reply.body_source == "About a mile on flat ground."


def test_edits_are_rate_limited(people, reply, settings):
    settings.PORTAL_SOCIAL_RATE_LIMITS = {"community_edit": "2/h"}
    author = people["author"]
    actions.edit_post(author=author, post=reply, body="First change")
    actions.edit_post(author=author, post=reply, body="Second change")
    with pytest.raises(ratelimit.RateLimited):
        actions.edit_post(author=author, post=reply, body="Third change")
    response = client_for(author).post(
        url("edit_post", "heart-health", reply.thread_id, reply.pk), {"body": "Fourth change"}
    )
    assert response.status_code == 429 and "Fourth change" in response.content.decode()


# --------------------------------------------------------------------------- history


HISTORY = {"author": 404, "member": 404, "moderator": 200, "superuser": 404, None: "login"}


@pytest.mark.parametrize("who", list(HISTORY))
def test_the_history_is_for_moderators_only_and_each_opening_is_a_phi_read(people, reply, who):
    actions.edit_post(author=people["author"], post=reply, body="Second version")
    actions.edit_post(author=people["author"], post=reply, body="Third version")
    response = client_for(people.get(who)).get(url("post_history", "heart-health", reply.thread_id, reply.pk))
    reads = _events("phi.read").filter(target_id=str(reply.pk))
    if HISTORY[who] == "login":
        assert response.status_code == 302 and "login" in response["Location"]
    else:
        assert response.status_code == HISTORY[who]
    if HISTORY[who] != 200:
        assert not reads.exists()
        return
    page = response.content.decode()
    assert page.index("About a mile on flat ground.") < page.index("Second version") < page.index("Third version")
    read = reads.get()
    assert read.actor_id == people["moderator"].pk and read.patient_id == people["author"].pk
    assert read.details == {"action": "history"}


def test_the_thread_page_offers_edit_and_delete_to_the_author_and_history_to_moderators(people, reply, thread):
    actions.edit_post(author=people["author"], post=reply, body="Second version")
    address = url("thread", "heart-health", thread.pk)
    edit = url("edit_post", "heart-health", thread.pk, reply.pk)
    delete = url("delete_post", "heart-health", thread.pk, reply.pk)
    history = url("post_history", "heart-health", thread.pk, reply.pk)
    pages = {who: client_for(people.get(who)).get(address).content.decode() for who in HISTORY}
    assert edit in pages["author"] and delete in pages["author"] and history not in pages["author"]
    assert edit not in pages["moderator"] and delete in pages["moderator"] and history in pages["moderator"]
    for who in ("member", "superuser", None):
        assert edit not in pages[who] and delete not in pages[who] and history not in pages[who]
        assert "Edited" in pages[who]


@pytest.mark.parametrize("who", ["author", "moderator"])
def test_the_thread_page_queries_do_not_grow_with_edited_posts(people, thread, community, who):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client_for(people[who]).get(url("thread", "heart-health", thread.pk)).status_code == 200
        return len(queries)

    def add(n):
        for i in range(n):
            post = actions.reply(author=people["author"], thread=thread, body=f"Reply number {i}")
            actions.edit_post(author=people["author"], post=post, body=f"Edited reply number {i}")

    add(3)
    count()  # the first page of the process also reads the directory's address for the navigation
    few = count()
    add(20)
    assert count() == few


# --------------------------------------------------------------------------- deletion


DELETE = {"author": "deleted", "member": 404, "moderator": "deleted", "superuser": 404, None: "login"}


@pytest.mark.parametrize("who", list(DELETE))
def test_the_author_or_a_moderator_deletes_a_post(people, reply, thread, who):
    address = url("delete_post", "heart-health", thread.pk, reply.pk)
    client = client_for(people.get(who))
    page = client.get(address)
    response = client.post(address, {"reason": "Off topic for this group."})
    reply.refresh_from_db()
    thread.refresh_from_db()
    if DELETE[who] == "deleted":
        assert page.status_code == 200 and "Delete this post?" in page.content.decode()
        assert response.status_code == 302 and response["Location"] == url("thread", "heart-health", thread.pk)
        assert reply.status == Post.Status.DELETED and reply.deleted_by == people[who]
        assert reply.deleted_at is not None and thread.reply_count == 0
        event = _events("community.delete").get()
        assert event.details["by"] == ("author" if who == "author" else "moderator")
        assert "Off topic" not in str(event.details)
        told = Notification.objects.filter(recipient=people["author"], key="community.post_deleted")
        if who == "moderator":
            assert reply.rejection_reason == "Off topic for this group."
            assert "Off topic" not in _raw(Post, "rejection_reason", reply.pk)
            # The author is told that a moderator removed a post, never what it said or why.
            notice = told.get()
            assert "About a mile" not in str(notice.__dict__) and "Off topic" not in str(notice.__dict__)
        else:
            assert not told.exists()  # deleting one's own post tells nobody
        public = Client().get(url("thread", "heart-health", thread.pk)).content.decode()
        assert "About a mile" not in public
        # Again: nothing changes.
        assert client.post(address, {"reason": "Again"}).status_code in (302, 404)
        assert _events("community.delete").count() == 1
        assert told.count() == (1 if who == "moderator" else 0)
        return
    assert reply.status == Post.Status.PUBLISHED and not _events("community.delete").exists()
    if DELETE[who] == "login":
        assert page.status_code == 302 and response.status_code == 302 and "login" in response["Location"]
    else:
        assert page.status_code == response.status_code == 404


def test_a_moderator_gives_a_reason_and_the_form_keeps_what_was_typed(people, reply, thread):
    client = client_for(people["moderator"])
    address = url("delete_post", "heart-health", thread.pk, reply.pk)
    assert 'name="reason"' in client.get(address).content.decode()
    response = client.post(address, {"reason": "   "})
    assert response.status_code == 200 and "Give a reason" in response.content.decode()
    response = client.post(address, {"reason": "r" * 301})
    assert response.status_code == 200 and "r" * 301 in response.content.decode()
    reply.refresh_from_db()
    assert reply.status == Post.Status.PUBLISHED
    # The author gives none.
    assert 'name="reason"' not in client_for(people["author"]).get(address).content.decode()


def test_deleting_a_held_post_closes_its_queue_item(people, thread):
    held = actions.reply(author=people["author"], thread=thread, body=f"Ring {PHONE}", confirm_phi=True)
    assert moderation.pending_item(held) is not None
    actions.delete_post(user=people["author"], post=held)
    held.refresh_from_db()
    assert held.status == Post.Status.DELETED
    assert moderation.pending_item(held) is None
    assert ModerationItem.objects.get().status == "ignored"
    with pytest.raises(actions.CommunityDenied):
        actions.edit_post(author=people["author"], post=held, body="Too late")


def test_deleting_the_opening_post_hides_the_whole_thread(people, thread, reply):
    opening = thread.posts.get(is_opening=True)
    actions.delete_post(user=people["moderator"], post=opening, reason="Spam")
    thread.refresh_from_db()
    assert not thread.visible
    for who in ("author", "member", None):
        response = client_for(people.get(who)).get(url("thread", "heart-health", thread.pk))
        assert response.status_code == 404
    assert Post.objects.filter(pk=opening.pk).exists()  # the row stays


def test_a_moderator_must_give_a_reason_to_the_action(people, reply):
    with pytest.raises(ValidationError) as refused:
        actions.delete_post(user=people["moderator"], post=reply, reason="")
    assert "reason" in refused.value.error_dict


def test_unknown_posts_answer_404(people, thread):
    client = client_for(people["author"])
    for name in ("edit_post", "delete_post", "post_history"):
        assert client.get(url(name, "heart-health", thread.pk, uuid.uuid4())).status_code == 404


def test_slow_mode_does_not_stop_an_edit_but_a_silence_does(people, reply, thread):
    Thread.objects.filter(pk=thread.pk).update(slow_mode_seconds=3600)
    reply = Post.objects.select_related("thread__community").get(pk=reply.pk)
    assert actions.edit_post(author=people["author"], post=reply, body="Fixed a typo").body_source == "Fixed a typo"
    actions.penalize(moderator=people["moderator"], member=people["author"], kind="silence", reason="Cool down.")
    with pytest.raises(actions.CommunityDenied):
        actions.edit_post(author=people["author"], post=reply, body="Another change")
