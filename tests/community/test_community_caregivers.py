"""Caregivers in communities: a caregiver with a community-scope link in force posts as themselves,
marked "Caregiver"; nothing on the page ever says whose caregiver they are."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal_social.community import actions
from portal_social.community.actions.caregivers import writes_as_caregiver
from portal_social.community.models import Community, CommunityProfile, Membership, Post
from portal_social.core import caregivers, roles
from portal_social.core.models import AuditEvent, CaregiverRelation
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

ESTABLISHED = datetime.timedelta(days=90)
DAY = datetime.timedelta(days=1)
MARK = '<span class="badge badge--caregiver">Caregiver</span>'


def url(name, *args):
    return reverse(f"portal_social_community:{name}", args=args)


@pytest.fixture
def communities(db):
    return {
        "public": Community.objects.create(name="Heart health", slug="heart-health", visibility="public"),
        "private": Community.objects.create(name="Caregivers' circle", slug="circle", visibility="private"),
    }


@pytest.fixture
def people(established, communities):
    found = {
        "anonymous": None,
        "patient": established(roles.PATIENT, first_name="Rosalind", last_name="Quigley", username="rquigley"),
        "member": established(roles.PATIENT),
        "non_member": established(roles.PATIENT),
        "moderator": established(roles.COMMUNITY_MODERATOR, mfa=True),
        "superuser": established(None, is_superuser=True, is_staff=True, mfa=True),
        "caregiver": established(None, first_name="Ana", last_name="Lopez"),
    }
    handles = {"patient": "rosalind_q", "member": "steady_beat", "caregiver": "caring_daughter", "moderator": "mod_1"}
    for who, handle in handles.items():
        CommunityProfile.objects.create(user=found[who], handle=handle, trust_level=1)
    for community in communities.values():
        for who in ("patient", "member", "caregiver"):
            Membership.objects.create(community=community, user=found[who])
    return found


def link(people, scopes, **dates):
    return caregivers.link_caregiver(
        actor=people["patient"],
        caregiver=people["caregiver"],
        patient=people["patient"],
        scopes=scopes,
        relationship="Daughter",
        **dates,
    )


@pytest.fixture
def thread(people, communities):
    post = actions.start_thread(author=people["member"], community=communities["public"], title="Rest", body="How?")
    return post.thread


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        sign_in(client, user)
    return client


def page_for(user, thread):
    return client_for(user).get(url("thread", thread.community.slug, thread.pk))


# --------------------------------------------------------------------------- who is marked


def test_a_caregiver_with_the_community_scope_is_marked_on_threads_and_replies(people, communities, thread):
    link(people, ["community"])
    caregiver = people["caregiver"]
    reply = actions.reply(author=caregiver, thread=thread, body="I look after my mother.")
    opening = actions.start_thread(author=caregiver, community=communities["public"], title="Tired", body="Help?")
    assert reply.by_caregiver and opening.by_caregiver
    assert Post.objects.get(pk=reply.pk).by_caregiver  # stored, not only on the object


def test_the_caregiver_role_lets_a_caregiver_take_part(people, thread):
    link(people, ["community"])
    assert roles.has_role(people["caregiver"], roles.CAREGIVER)
    from portal_social.core import access

    assert access.can(people["caregiver"], "reply", thread)


def test_a_caregiver_whose_link_lacks_the_community_scope_posts_unmarked(people, thread):
    link(people, ["messaging", "feedback"])
    reply = actions.reply(author=people["caregiver"], thread=thread, body="Hello from me.")
    assert reply.status == Post.Status.PUBLISHED and not reply.by_caregiver
    assert MARK not in page_for(None, thread).content.decode()


def test_an_ended_link_no_longer_marks_new_posts_and_keeps_the_old_ones_marked(people, thread):
    relation = link(people, ["community"], starts_on=timezone.localdate() - 10 * DAY)
    before = actions.reply(author=people["caregiver"], thread=thread, body="While I cared.")
    caregivers.end_caregiver_link(actor=people["patient"], relation=relation)
    # Without a link the caregiver role goes too; a portal administrator gives it back, so the caregiver
    # still takes part, now without the mark.
    roles.grant_role(user=people["caregiver"], role=roles.CAREGIVER)
    after = actions.reply(author=people["caregiver"], thread=thread, body="Afterwards.")
    assert before.by_caregiver and not after.by_caregiver
    assert Post.objects.get(pk=before.pk).by_caregiver


def test_a_link_that_has_not_started_or_was_withdrawn_does_not_mark(people, thread):
    relation = link(people, ["community"], starts_on=timezone.localdate() + 5 * DAY)
    assert not writes_as_caregiver(people["caregiver"])
    assert writes_as_caregiver(people["caregiver"], on=timezone.localdate() + 6 * DAY)
    caregivers.end_caregiver_link(actor=people["patient"], relation=relation)  # before it starts: withdrawn
    assert CaregiverRelation.objects.get(pk=relation.pk).revoked_at is not None
    assert not writes_as_caregiver(people["caregiver"], on=timezone.localdate() + 6 * DAY)


def test_a_link_whose_end_date_passed_does_not_mark(people, thread):
    link(people, ["community"], starts_on=timezone.localdate() - 30 * DAY, ends_on=timezone.localdate() - DAY)
    # The role stays only while a link is current or future; give it back to test the link alone.
    roles.grant_role(user=people["caregiver"], role=roles.CAREGIVER)
    reply = actions.reply(author=people["caregiver"], thread=thread, body="Hello.")
    assert not reply.by_caregiver


def test_patients_and_members_are_not_marked(people, thread):
    link(people, ["community"])  # the patient's own link says nothing about their posts
    assert not actions.reply(author=people["patient"], thread=thread, body="Hello.").by_caregiver
    assert not actions.reply(author=people["member"], thread=thread, body="Hi.").by_caregiver


def test_editing_a_post_keeps_its_mark(people, thread):
    link(people, ["community"])
    reply = actions.reply(author=people["caregiver"], thread=thread, body="First words.")
    edited = actions.edit_post(author=people["caregiver"], post=reply, body="Better words.")
    assert Post.objects.get(pk=edited.pk).by_caregiver


# --------------------------------------------------------------------------- what readers see


def _identity(people) -> list[str]:
    patient = people["patient"]
    return [patient.username, patient.first_name, patient.last_name, patient.email, "rosalind_q", "Daughter"]


@pytest.mark.parametrize("who", ["anonymous", "member", "non_member", "moderator", "superuser", "patient"])
def test_every_reader_of_a_public_community_sees_the_mark_and_never_the_patient(people, thread, who):
    link(people, ["community"])
    actions.reply(author=people["caregiver"], thread=thread, body="Benches help my mother.")
    response = page_for(people[who], thread)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count(MARK) == 1
    assert "caring_daughter" in html  # the caregiver's own community name
    # The patient's own page may greet them by name; it still never ties them to the caregiver's post.
    for word in _identity(people) if who != "patient" else ["Daughter"]:
        assert word not in html, word


def test_a_signed_out_reader_sees_the_mark_but_no_member_link_and_nothing_else(people, thread):
    link(people, ["community"])
    reply = actions.reply(author=people["caregiver"], thread=thread, body="Benches help.")
    html = page_for(None, thread).content.decode()
    assert MARK in html
    assert url("member", "caring_daughter") not in html
    for word in _identity(people):
        assert word not in html, word
    # The post's permalink answers the same, and the mark stays beside the handle only.
    assert Client().get(url("permalink", reply.pk)).status_code == 302


def test_a_private_communitys_marked_posts_are_404_for_outsiders(people, communities):
    link(people, ["community"])
    opening = actions.start_thread(
        author=people["caregiver"], community=communities["private"], title="Tired", body="Evenings are long."
    )
    assert opening.by_caregiver
    address = url("thread", "circle", opening.thread.pk)
    assert Client().get(address).status_code == 404
    assert client_for(people["non_member"]).get(address).status_code == 404
    html = client_for(people["member"]).get(address).content.decode()
    assert MARK in html
    for word in _identity(people):
        assert word not in html


def test_the_audit_row_of_a_caregivers_post_names_no_patient(people, thread):
    link(people, ["community"])
    reply = actions.reply(author=people["caregiver"], thread=thread, body="Hello.")
    event = AuditEvent.objects.get(action="community.post", target_id=str(reply.pk))
    assert event.patient_id == people["caregiver"].pk  # the author, whose words it holds
    assert set(event.details) == {"thread", "status", "reasons", "opening"}  # nothing about the link


def test_marking_asks_one_query_whatever_the_number_of_links(people, make_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    link(people, ["messaging"])
    for _n in range(3):
        patient = make_user(roles.PATIENT)
        caregivers.link_caregiver(actor=patient, caregiver=people["caregiver"], patient=patient, scopes=["community"])
    with CaptureQueriesContext(connection) as captured:
        assert writes_as_caregiver(people["caregiver"])
    assert len(captured) == 1


# --------------------------------------------------------------------------- the demo


def test_the_demo_caregiver_writes_as_a_caregiver_and_demo_members_hold_badges():
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from portal_social.community.models import MemberBadge

    call_command("seed_demo", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("seed_demo", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115  (idempotent)
    users = {
        u.username: u for u in get_user_model().objects.filter(username__in=["caregiver1", "patient1", "patient2"])
    }
    caregiver, patient1, patient2 = users["caregiver1"], users["patient1"], users["patient2"]
    assert caregivers.is_proxy_for(caregiver, patient1, "community")
    marked = Post.objects.filter(author=caregiver, by_caregiver=True, status=Post.Status.PUBLISHED, is_opening=False)
    assert marked.exists()
    assert not Post.objects.filter(author__in=[patient1, patient2], by_caregiver=True).exists()
    held = set(MemberBadge.objects.filter(user=patient2).values_list("badge", flat=True))
    assert {"first_post", "helpful_answer"} <= held  # patient2's reply answered the walking thread
    assert MemberBadge.objects.filter(user=patient1, badge="first_post").count() == 1
    thread = marked.first().thread
    html = Client().get(url("thread", thread.community.slug, thread.pk)).content.decode()
    assert MARK in html and "Helpful answer" in html
    assert "Daughter" not in html and patient1.last_name not in html
