"""The list of threads a member follows: only their own follows, only threads they may still read,
latest activity first, with how many replies are new since they last read each one."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal_social.community import actions
from portal_social.community.models import Community, Membership, ThreadFollow
from portal_social.core import roles
from tests.community.test_views import _give_handle, _published_thread, client_for, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(established):
    reader, other, author = (established(roles.PATIENT) for _ in range(3))
    for n, user in enumerate((reader, other, author)):
        _give_handle(user, f"person-{n}")
    public = Community.objects.create(name="Walking", slug="walking", visibility="public")
    private = Community.objects.create(name="Quiet room", slug="quiet-room", visibility="private")
    for community in (public, private):
        for user in (reader, author):
            Membership.objects.create(community=community, user=user)
    walking = _published_thread(author, public, title="Ten minutes a day")
    quiet = _published_thread(author, private, title="Nights are hard")
    for thread in (walking, quiet):
        actions.follow_thread(user=reader, thread=thread, follow=True)
    actions.follow_thread(user=other, thread=walking, follow=True)
    return {"reader": reader, "other": other, "author": author, "walking": walking, "quiet": quiet, "private": private}


def test_a_member_sees_the_threads_they_follow_with_what_is_new(world, django_capture_on_commit_callbacks):
    reader = client_for(world["reader"])
    page = reader.get(url("followed")).content.decode()
    assert "Ten minutes a day" in page and "Nights are hard" in page
    assert page.index("Nights are hard") < page.index("Ten minutes a day")  # the latest activity first
    assert "1 new" in page  # never read: the opening post is new
    with django_capture_on_commit_callbacks(execute=True):
        reader.get(url("thread", "walking", world["walking"].pk))  # reads it (recorded after the page)
    actions.reply(author=world["author"], thread=world["walking"], body="Day two.")
    actions.reply(author=world["author"], thread=world["walking"], body="Day three.")
    page = reader.get(url("followed")).content.decode()
    item = page[page.index("Ten minutes a day") :]
    assert "2 new" in item[: item.index("</li>")]
    assert page.index("Ten minutes a day") < page.index("Nights are hard")


def test_only_ones_own_follows_of_threads_one_may_still_read(world, established):
    other = client_for(world["other"]).get(url("followed")).content.decode()
    assert "Ten minutes a day" in other and "Nights are hard" not in other
    Membership.objects.filter(user=world["reader"], community=world["private"]).update(status="left")
    page = client_for(world["reader"]).get(url("followed")).content.decode()
    assert "Nights are hard" not in page and "Ten minutes a day" in page
    assert ThreadFollow.objects.filter(user=world["reader"]).count() == 2  # kept, not shown
    response = client_for(None).get(url("followed"))
    assert response.status_code == 302 and "login" in response["Location"]
    nobody = client_for(established(roles.PATIENT)).get(url("followed")).content.decode()
    assert "You do not follow any thread yet" in nobody
    assert client_for(world["reader"]).post(url("followed")).status_code == 405


def test_stopping_from_the_list_comes_back_to_it_and_never_leaves_the_site(world):
    reader = client_for(world["reader"])
    follow = url("follow", "walking", world["walking"].pk)
    response = reader.post(follow, {"follow": "0", "next": url("followed")})
    assert response.status_code == 302 and response["Location"] == url("followed")
    assert not ThreadFollow.objects.filter(user=world["reader"], thread=world["walking"]).exists()
    away = reader.post(follow, {"follow": "1", "next": "https://evil.example/"})
    assert away["Location"] == url("thread", "walking", world["walking"].pk)


@pytest.mark.parametrize("size", [2, 20])
def test_the_list_costs_the_same_queries_whatever_its_length(world, established, size):
    reader = client_for(world["reader"])
    community = Community.objects.get(slug="walking")
    for n in range(size):
        thread = _published_thread(world["author"], community, title=f"Thread {n}")
        actions.follow_thread(user=world["reader"], thread=thread, follow=True)
    reader.get(url("followed"))
    with CaptureQueriesContext(connection) as captured:
        assert reader.get(url("followed")).status_code == 200
    assert len(captured) <= 12, [q["sql"][:80] for q in captured.captured_queries]
