"""Communities in the Wagtail page tree (``CommunityPage``, ``community/tree.py``)."""

from __future__ import annotations

import datetime
import re
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from wagtail.models import Page, Site

from portal_social.community import actions
from portal_social.community.models import Community, CommunityPage, CommunityProfile, Membership, Post, Thread
from portal_social.core import roles, text
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

ESTABLISHED = datetime.timedelta(days=90)
VISIBILITIES = ("public", "members", "private")
ROLES = ("anonymous", "member", "non_member", "moderator", "superuser")
#: Who may read each kind of community, exactly as under /community/.
READS = {
    "anonymous": {"public"},
    "member": {"public", "members", "private"},
    "non_member": {"public", "members"},
    "moderator": {"public", "members", "private"},
    "superuser": {"public"},
}
MATRIX = [(who, visibility) for who in ROLES for visibility in VISIBILITIES]


def url(name, *args):
    return reverse(f"portal_social_community:{name}", args=args)


@pytest.fixture
def people(established):
    people = {
        "anonymous": None,
        "member": established(roles.PATIENT),
        "non_member": established(roles.PATIENT),
        "moderator": established(roles.COMMUNITY_MODERATOR, mfa=True),
        "superuser": established(None, is_superuser=True, is_staff=True, mfa=True),
    }
    for index, who in enumerate(ROLES[1:]):
        CommunityProfile.objects.create(user=people[who], handle=f"{who.replace('_', '-')}-{index}")
    return people


def _published_thread(author, community, title, body="What helped you sleep?") -> Thread:
    post = actions.start_thread(author=author, community=community, title=title, body=body)
    assert post.status == Post.Status.PUBLISHED, post.hold_reasons
    return post.thread


def _home():
    return Site.objects.get(is_default_site=True).root_page


def _page(community, slug, *, title=None, intro="<p>Welcome from the <b>cardiology</b> team.</p>", live=True):
    page = CommunityPage(title=title or f"Our {slug} page", slug=slug, community=community, intro=intro)
    _home().add_child(instance=page)
    if live:
        page.save_revision().publish()
    else:
        page.live = False
        page.save()
    return page


@pytest.fixture
def world(people):
    """A community of each visibility, one published thread each, a page for each; ``member`` belongs to all."""
    communities, threads, pages = {}, {}, {}
    for visibility in VISIBILITIES:
        community = Community.objects.create(
            name=f"{visibility.title()} heart group",
            slug=f"{visibility}-heart",
            visibility=visibility,
            description=f"The {visibility} group.",
            guidelines="Be kind. Keep personal details out of posts.",
        )
        Membership.objects.create(community=community, user=people["member"])
        communities[visibility] = community
        threads[visibility] = _published_thread(people["member"], community, title=f"Hello from {visibility}")
        pages[visibility] = _page(community, f"{visibility}-page", title=f"Heart support {visibility}")
    return {"people": people, "communities": communities, "threads": threads, "pages": pages}


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        sign_in(client, user)
    return client


def _without_csrf_token(content: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", content)


def _post_ids(content: bytes) -> list[str]:
    return re.findall(r'<article class="ps-post[^"]*" id="post-([0-9a-f-]{36})"', content.decode())


def _fill_thread(thread, authors, count):
    now = timezone.now()
    for n in range(count):
        Post.objects.create(
            thread=thread,
            author=authors[n % len(authors)],
            status=Post.Status.PUBLISHED,
            body_source=f"Reply {n}",
            body_html=text.render(f"Reply {n}"),
            created_at=now + datetime.timedelta(seconds=n),
        )


# --------------------------------------------------------------------------- who sees what


@pytest.mark.parametrize(("who", "visibility"), MATRIX)
def test_the_page_shows_the_community_to_its_readers_and_nothing_of_it_to_anyone_else(world, who, visibility):
    page, community = world["pages"][visibility], world["communities"][visibility]
    thread = world["threads"][visibility]
    response = client_for(world["people"][who]).get(page.url)
    assert response.status_code == 200
    content = response.content.decode()
    # The editors' title and introduction are editorial: every reader of the page sees them.
    assert f"Heart support {visibility}" in content
    assert "Welcome from the <b>cardiology</b> team." in content
    if visibility in READS[who]:
        assert community.name in content and community.guidelines in content
        assert f"Hello from {visibility}" in content
        # The thread links and the community's own forms stay under the page.
        assert f'href="{page.url}t/{thread.pk}/"' in content
        assert url("community", community.slug) not in content
    else:
        for secret in (
            community.name,
            community.description,
            community.slug,
            f"Hello from {visibility}",
            str(thread.pk),
        ):
            assert secret not in content, secret
        assert "Join" not in content


@pytest.mark.parametrize(("who", "visibility"), MATRIX)
def test_a_thread_under_the_page_opens_for_its_readers_and_is_not_found_for_others(world, who, visibility):
    page, thread = world["pages"][visibility], world["threads"][visibility]
    client = client_for(world["people"][who])
    response = client.get(f"{page.url}t/{thread.pk}/")
    if visibility in READS[who]:
        assert response.status_code == 200
        content = response.content.decode()
        assert "What helped you sleep?" in content
        assert f'<a href="{page.url}">' in content  # "Back to" the community is the page
        assert url("thread", thread.community.slug, thread.pk) not in content
    else:
        assert response.status_code == 404
        assert f"Hello from {visibility}".encode() not in response.content
        missing = client.get(f"{page.url}t/{uuid.uuid4()}/")
        assert missing.status_code == 404
        assert _without_csrf_token(response.content) == _without_csrf_token(missing.content)
        assert client.get(f"{page.url}new/").status_code in (302, 404)  # sign in first, or not found


def test_a_hidden_thread_answers_under_the_page_exactly_like_a_random_id(world):
    member = world["people"]["member"]
    page = world["pages"]["public"]
    hidden = _published_thread(member, world["communities"]["public"], title="Taken down")
    Thread.objects.filter(pk=hidden.pk).update(visible=False)
    client = client_for(world["people"]["non_member"])
    for thread_id in (hidden.pk, world["threads"]["private"].pk):  # hidden here; another community's
        response = client.get(f"{page.url}t/{thread_id}/")
        missing = client.get(f"{page.url}t/{uuid.uuid4()}/")
        assert response.status_code == missing.status_code == 404
        assert _without_csrf_token(response.content) == _without_csrf_token(missing.content)
    for junk in (
        "t/not-a-uuid/",
        f"t/{str(hidden.pk).upper()}/",
        "t/%00/",
        "../../",
        "private-heart/",
        "x" * 300 + "/",
    ):
        assert client.get(page.url + junk).status_code == 404, junk


def test_the_thread_under_the_page_shows_the_same_posts_as_under_community(world, make_user):
    member = world["people"]["member"]
    thread = world["threads"]["public"]
    _fill_thread(thread, [member], 7)
    client = client_for(world["people"]["non_member"])
    under_page = client.get(f"{world['pages']['public'].url}t/{thread.pk}/")
    under_community = client.get(url("thread", thread.community.slug, thread.pk))
    assert under_page.status_code == under_community.status_code == 200
    assert _post_ids(under_page.content) == _post_ids(under_community.content)
    assert len(_post_ids(under_page.content)) == 8


# --------------------------------------------------------------------------- writes come back under the page


def test_a_reply_posted_from_the_page_comes_back_under_the_page(world):
    page, thread = world["pages"]["members"], world["threads"]["members"]
    address = f"{page.url}t/{thread.pk}/"
    client = client_for(world["people"]["member"])
    form = client.get(address).content.decode()
    assert f'action="{address}"' in form
    data = {"body": "Thank you, this helped.", "submission": str(uuid.uuid4())}
    response = client.post(address, data)
    post = Post.objects.get(thread=thread, is_opening=False)
    assert response.status_code == 302
    assert response["Location"] == f"{address}?posted={post.pk}#post-{post.pk}"
    shown = client.get(response["Location"].split("#")[0])
    assert "Your reply is published." in shown.content.decode()
    # A repeated submit writes nothing more and still comes back under the page.
    again = client.post(address, data)
    assert again.status_code == 302 and again["Location"].startswith(address)
    assert Post.objects.filter(thread=thread, is_opening=False).count() == 1


def test_a_reply_that_cannot_be_posted_keeps_the_text_under_the_page(world):
    page, thread = world["pages"]["public"], world["threads"]["public"]
    address = f"{page.url}t/{thread.pk}/"
    client = client_for(world["people"]["member"])
    body = "Call me on 555-867-5309 " + "x" * 40_000
    response = client.post(address, {"body": body, "submission": str(uuid.uuid4())})
    assert response.status_code in (200, 429)
    assert not Post.objects.filter(thread=thread, is_opening=False).exists()
    content = response.content.decode()
    assert f'action="{address}"' in content and "555-867-5309" in content


def test_signed_out_and_refused_replies_under_the_page(world):
    page, thread = world["pages"]["public"], world["threads"]["public"]
    address = f"{page.url}t/{thread.pk}/"
    response = Client().post(address, {"body": "hi"})
    assert response.status_code == 302 and "login" in response["Location"]
    assert address in response["Location"]  # signing in comes back here
    response = client_for(world["people"]["non_member"]).post(address, {"body": "hi"})
    assert response.status_code == 403 and "Join this community to reply." in response.content.decode()
    assert Client().post(page.url).status_code == 405


def test_joining_and_leaving_from_the_page_come_back_to_it(world):
    page, community = world["pages"]["members"], world["communities"]["members"]
    patient = world["people"]["non_member"]
    client = client_for(patient)
    content = client.get(page.url).content.decode()
    assert f'action="{page.url}join/"' in content and f'name="next" value="{page.url}"' in content
    response = client.post(f"{page.url}join/", {"next": page.url})
    assert response.status_code == 302 and response["Location"] == page.url
    assert Membership.objects.get(user=patient, community=community).status == Membership.Status.ACTIVE
    # The form under /community/ takes the page as its ``next`` too.
    response = client.post(url("leave", community.slug), {"next": page.url})
    assert response.status_code == 302 and response["Location"] == page.url
    response = client.post(f"{page.url}join/", {"next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == page.url


def test_starting_a_thread_from_the_page_comes_back_under_it(world):
    page = world["pages"]["public"]
    client = client_for(world["people"]["member"])
    assert f'href="{page.url}new/"' in client.get(page.url).content.decode()
    response = client.post(
        f"{page.url}new/", {"title": "Walking again", "body": "Ten minutes a day.", "submission": str(uuid.uuid4())}
    )
    thread = (
        Thread.objects.filter(community=world["communities"]["public"]).exclude(pk=world["threads"]["public"].pk).get()
    )
    assert response.status_code == 302 and response["Location"].startswith(f"{page.url}t/{thread.pk}/?posted=")


def test_reacting_and_flagging_from_the_page_come_back_under_it(world):
    page, thread = world["pages"]["public"], world["threads"]["public"]
    reply = actions.reply(author=world["people"]["member"], thread=thread, body="Walking helped me.")
    Membership.objects.create(community=thread.community, user=world["people"]["non_member"])
    client = client_for(world["people"]["non_member"])
    content = client.get(f"{page.url}t/{thread.pk}/").content.decode()
    assert f'"{page.url}p/{reply.pk}/react/"' in content
    response = client.post(f"{page.url}p/{reply.pk}/react/", {"kind": "helpful", "on": "1"})
    assert response.status_code == 302 and response["Location"].startswith(f"{page.url}t/{thread.pk}/")
    response = client.post(f"{page.url}t/{thread.pk}/flag/{reply.pk}/", {"reason": "off_topic", "note": ""})
    assert response.status_code == 302 and response["Location"].startswith(f"{page.url}t/{thread.pk}/")


# --------------------------------------------------------------------------- the page itself


def test_an_unpublished_page_is_not_served(world):
    community = world["communities"]["public"]
    draft = _page(community, "draft-page", live=False)
    client = client_for(world["people"]["member"])
    assert client.get("/draft-page/").status_code == 404
    assert client.get(f"/draft-page/t/{world['threads']['public'].pk}/").status_code == 404
    draft.save_revision().publish()
    assert client.get("/draft-page/").status_code == 200
    CommunityPage.objects.get(pk=draft.pk).unpublish()
    assert client.get(f"/draft-page/t/{world['threads']['public'].pk}/").status_code == 404


@pytest.mark.parametrize("who", ROLES)
def test_the_listing_page_shows_only_the_communities_the_reader_may_see(world, who):
    listing = _page(None, "all-communities", title="Our communities")
    response = client_for(world["people"][who]).get(listing.url)
    assert response.status_code == 200
    content = response.content.decode()
    assert "Welcome from the <b>cardiology</b> team." in content
    for visibility, community in world["communities"].items():
        readable = visibility in READS[who]
        assert (community.name in content) == readable
        assert (f'href="{listing.url}{community.slug}/"' in content) == readable
        answer = client_for(world["people"][who]).get(f"{listing.url}{community.slug}/")
        assert answer.status_code == (200 if readable else 404)


def test_a_page_whose_community_is_deleted_lists_the_communities(world):
    page = world["pages"]["public"]
    world["communities"]["public"].delete()
    response = client_for(world["people"]["member"]).get(page.url)
    assert response.status_code == 200 and "Members heart group" in response.content.decode()


def test_links_to_other_communities_and_to_the_list_stay_where_they_are(world):
    content = client_for(world["people"]["member"]).get(world["pages"]["public"].url).content.decode()
    assert f'href="{url("index")}"' in content  # "All communities"
    thread = world["threads"]["public"]
    content = client_for(world["people"]["member"]).get(url("thread", "public-heart", thread.pk)).content.decode()
    assert world["pages"]["public"].url not in content  # /community/ itself is untouched


def test_the_intro_is_sanitised_by_wagtail_rich_text(world):
    form_class = CommunityPage.get_edit_handler().get_form_class()
    widget = form_class.base_fields["intro"].widget
    attack = (
        '<p>Hi<script>alert(1)</script> <a href="javascript:alert(2)">x</a> <b onclick="alert(3)">b</b>'
        '<iframe src="https://evil.example/"></iframe></p>'
    )
    # What the editor's form can send is Draftail's content state; Wagtail turns it into allowed HTML only.
    sent = widget.converter.from_database_format(attack)
    saved = widget.value_from_datadict({"intro": sent}, {}, "intro")
    page = world["pages"]["public"]
    page.intro = saved
    page.save_revision().publish()
    content = Client().get(page.url).content.decode()
    assert "Hi" in content
    for bad in ("<script>alert(1)", "javascript:", "onclick", "<iframe"):
        assert bad not in content, bad


def test_previews_search_fields_and_revisions_hold_only_editor_fields(world, rf):
    page = world["pages"]["private"]
    member = world["people"]["member"]
    request = rf.get(page.url)
    request.user = member
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore

    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    preview = page.make_preview_request(request)
    preview.render()
    content = preview.content.decode()
    assert "Heart support private" in content and "cardiology" in content
    assert "Hello from private" not in content and "Private heart group" not in content
    indexed = {f.field_name for f in CommunityPage.get_search_fields()}
    assert indexed == {f.field_name for f in Page.get_search_fields()} | {"intro"}
    revision = page.save_revision()
    stored = str(revision.content)
    assert "Hello from private" not in stored and "What helped you sleep?" not in stored
    assert "community" in revision.content and "intro" in revision.content


def test_editors_may_place_a_community_page_under_any_page_and_choose_its_community(world, client, make_user):
    from hospital.models import StandardPage

    home = _home()
    standard = StandardPage(title="Patients", slug="patients")
    home.add_child(instance=standard)
    assert CommunityPage.can_create_at(home) and CommunityPage.can_create_at(standard)
    assert not CommunityPage.can_create_at(world["pages"]["public"])  # nothing goes under it: its addresses are taken
    admin = make_user(roles.PORTAL_ADMINISTRATOR, is_superuser=True, is_staff=True, mfa=True)
    sign_in(client, admin)
    response = client.get(f"/cms/pages/add/portal_social/communitypage/{standard.pk}/")
    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="community"' in content and 'name="intro"' in content


def test_the_page_is_placed_where_editors_put_it(world):
    from hospital.models import StandardPage

    standard = StandardPage(title="Patients", slug="patients")
    _home().add_child(instance=standard)
    standard.save_revision().publish()
    page = CommunityPage(title="Heart", slug="heart", community=world["communities"]["public"])
    standard.add_child(instance=page)
    page.save_revision().publish()
    client = client_for(world["people"]["member"])
    response = client.get("/patients/heart/")
    assert response.status_code == 200
    thread = world["threads"]["public"]
    assert f'href="/patients/heart/t/{thread.pk}/"' in response.content.decode()
    assert client.get(f"/patients/heart/t/{thread.pk}/").status_code == 200


# --------------------------------------------------------------------------- bounded queries


def _queries(client, address) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(address)
    assert response.status_code == 200, address
    return len(captured)


@pytest.fixture
def authors(make_user, world):
    community = world["communities"]["public"]
    people = []
    for n in range(50):
        user = make_user(roles.PATIENT)
        CommunityProfile.objects.create(user=user, handle=f"author-{n}")
        Membership.objects.create(community=community, user=user)
        people.append(user)
    return people


@pytest.mark.parametrize("who", ["anonymous", "member", "moderator"])
def test_the_page_and_its_threads_make_the_same_queries_at_two_sizes(world, authors, who):
    small, large = world["communities"]["members"], world["communities"]["public"]
    small_page, large_page = world["pages"]["members"], world["pages"]["public"]
    if who == "anonymous":
        small = Community.objects.create(name="Another public", slug="another-public", visibility="public")
        small_page = _page(small, "another-page")
    for n in range(4):
        Thread.objects.create(community=small, author=authors[n], title=f"Small {n}", visible=True)
    for n in range(49):
        Thread.objects.create(community=large, author=authors[n], title=f"Large {n}", visible=True)
    client = client_for(world["people"][who])
    _queries(client, small_page.url)
    few = _queries(client, small_page.url)
    many = _queries(client, large_page.url)
    assert few == many, (few, many)
    short = _published_thread(world["people"]["member"], large, title="Short")
    long = _published_thread(world["people"]["member"], large, title="Long")
    _fill_thread(short, authors[:5], 5)
    _fill_thread(long, authors, 50)
    _queries(client, f"{large_page.url}t/{short.pk}/")
    few = _queries(client, f"{large_page.url}t/{short.pk}/")
    many = _queries(client, f"{large_page.url}t/{long.pk}/")
    assert few == many, (few, many)
    # Under the page, a thread costs what it costs under /community/, plus Wagtail's routing (the site,
    # the pages on the path, view restrictions) and the community's address.
    direct = _queries(client, url("thread", large.slug, long.pk))
    assert many <= direct + 8, (many, direct)


@pytest.mark.parametrize("who", ["anonymous", "member"])
def test_the_listing_page_makes_the_same_queries_at_two_sizes(world, who):
    listing = _page(None, "all-communities", title="Our communities")
    client = client_for(world["people"][who])
    _queries(client, listing.url)
    before = _queries(client, listing.url)
    for n in range(30):
        Community.objects.create(name=f"Extra {n}", slug=f"extra-{n}", visibility="public")
    assert _queries(client, listing.url) == before


# --------------------------------------------------------------------------- the example site


def test_the_demo_places_heart_health_in_the_page_tree_and_its_home_menu():
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)  # idempotent: still one page
    page = CommunityPage.objects.get()
    assert page.url == "/heart-health-community/" and page.live and page.community.slug == "heart-health"
    assert f'href="{page.url}"' in Client().get("/").content.decode()
    patient = get_user_model().objects.get(username="patient1")
    content = client_for(patient).get(page.url).content.decode()
    thread = Thread.objects.filter(community=page.community, visible=True).first()
    assert "cardiology nurses" in content and f'href="{page.url}t/{thread.pk}/"' in content
