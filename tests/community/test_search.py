"""Searching the communities: only what the searcher may read, only what readers see, bounded queries."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal_social.community import actions
from portal_social.community.actions import search_index
from portal_social.community.models import Community, CommunityProfile, Membership, Post, Thread
from portal_social.core import roles
from portal_social.core.models import AuditEvent
from portal_social.core.search_models import SearchTerm
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

ESTABLISHED = datetime.timedelta(days=90)
VISIBILITIES = ("public", "members", "private")
PHONE = "555-867-5309"
SEARCH = reverse("portal_social_community:search")


@pytest.fixture
def people(established):
    people = {
        "anonymous": None,
        "member": established(roles.PATIENT),
        "non_member": established(roles.PATIENT),
        "moderator": established(roles.COMMUNITY_MODERATOR, mfa=True),
        "superuser": established(None, is_superuser=True, is_staff=True, mfa=True),
    }
    for name, user in people.items():
        if user is not None:
            CommunityProfile.objects.create(user=user, handle=f"{name.replace('_', '-')}-h")
    return people


@pytest.fixture
def world(people):
    """A community of each visibility, ``member`` in all three, one thread each about "rehabilitation"."""
    communities, threads = {}, {}
    for visibility in VISIBILITIES:
        community = Community.objects.create(
            name=f"{visibility.title()} group", slug=f"{visibility}-g", visibility=visibility
        )
        Membership.objects.create(community=community, user=people["member"])
        communities[visibility] = community
        opening = actions.start_thread(
            author=people["member"],
            community=community,
            title=f"Cardiac rehabilitation {visibility}word",
            body=f"Who else started rehabilitation this month? {visibility}body",
        )
        assert opening.status == Post.Status.PUBLISHED
        threads[visibility] = opening.thread
    return {"people": people, "communities": communities, "threads": threads}


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        sign_in(client, user)
    return client


def found(client, query, **extra) -> tuple[int, str]:
    response = client.get(SEARCH, {"q": query, **extra})
    return response.status_code, response.content.decode()


def thread_link(thread) -> str:
    return reverse("portal_social_community:thread", args=[thread.community.slug, thread.pk])


READS = {
    "anonymous": {"public"},
    "member": {"public", "members", "private"},
    "non_member": {"public", "members"},
    "moderator": {"public", "members", "private"},
    "superuser": {"public"},
}


@pytest.mark.parametrize("who", list(READS))
def test_search_finds_only_threads_in_communities_the_searcher_may_read(world, who):
    client = client_for(world["people"][who])
    status, page = found(client, "rehabilitation")
    assert status == 200
    for visibility, thread in world["threads"].items():
        assert (thread_link(thread) in page) == (visibility in READS[who]), visibility
        # Even a word found only in that community's thread finds nothing elsewhere.
        status, own = found(client, f"{visibility}word")
        assert status == 200 and (thread_link(thread) in own) == (visibility in READS[who])


def test_results_show_title_community_date_and_a_piece_of_the_post(world):
    status, page = found(Client(), "started REHABILITATION")
    assert status == 200
    assert "Cardiac rehabilitation publicword" in page and "Public group" in page
    assert "<mark>started</mark>" in page and "<mark>rehabilitation</mark>" in page
    assert "1 thread found" in page


def test_every_word_must_be_there_and_accents_and_case_do_not_matter(world, people):
    thread = world["threads"]["public"]
    actions.reply(author=people["member"], thread=thread, body="El MÉDICO recomendó caminar.")
    assert thread_link(thread) in found(Client(), "medico caminar")[1]
    assert thread_link(thread) in found(Client(), "Médico")[1]
    assert "No threads hold all of these words" in found(Client(), "medico zebrafish")[1]


def test_held_and_hidden_text_is_never_findable(world, people):
    thread = world["threads"]["public"]
    member, moderator = people["member"], people["moderator"]
    held = actions.reply(author=member, thread=thread, body=f"Zebrafish study, call {PHONE}", confirm_phi=True)
    assert held.status == Post.Status.HELD
    for client in (Client(), client_for(member), client_for(moderator)):
        assert thread_link(thread) not in found(client, "zebrafish")[1]
    actions.redact_post(moderator=moderator, post=held)  # the phone number is hidden, the rest published
    assert thread_link(thread) in found(Client(), "zebrafish")[1]
    for part in ("5309", "867", "555 867 5309"):
        status, page = found(client_for(moderator), part)
        assert thread_link(thread) not in page and "5309" not in page.rsplit("</form>", 1)[1]
    # The snippet is what readers read.
    page = found(Client(), "zebrafish")[1]
    assert "phone removed" in page.lower() and PHONE not in page


def test_a_flagged_post_redacted_while_published_loses_the_hidden_words(world, people):
    thread = world["threads"]["public"]
    post = actions.reply(author=people["member"], thread=thread, body="Ask for nurse Quentinova at the desk")
    actions.flag_post(user=people["non_member"], post=post, reason="privacy")
    assert thread_link(thread) in found(Client(), "quentinova")[1]
    body = post.body_source
    start = body.index("Quentinova")
    actions.redact_post(
        moderator=people["moderator"], post=post, spans=[(start, start + len("Quentinova"))], use_findings=False
    )
    assert thread_link(thread) not in found(Client(), "quentinova")[1]
    assert thread_link(thread) in found(Client(), "desk nurse")[1]


def test_edits_and_deletions_keep_the_index_current(world, people):
    thread = world["threads"]["public"]
    member = people["member"]
    post = actions.reply(author=member, thread=thread, body="Metoprolol made me tired")
    assert thread_link(thread) in found(Client(), "metoprolol")[1]
    actions.edit_post(author=member, post=post, body="Bisoprolol made me tired")
    assert thread_link(thread) not in found(Client(), "metoprolol")[1]
    assert thread_link(thread) in found(Client(), "bisoprolol")[1]
    actions.edit_post(author=member, post=post, body=f"Bisoprolol; text me {PHONE}", confirm_phi=True)
    assert thread_link(thread) not in found(Client(), "bisoprolol")[1]  # held again: out of the index
    actions.approve_post(moderator=people["moderator"], post=post)
    assert thread_link(thread) in found(Client(), "bisoprolol")[1]
    actions.delete_post(user=member, post=post)
    assert thread_link(thread) not in found(Client(), "bisoprolol")[1]
    assert thread_link(thread) in found(Client(), "rehabilitation")[1]
    actions.delete_post(user=member, post=thread.posts.get(is_opening=True))
    for client in (Client(), client_for(people["moderator"])):
        assert thread_link(thread) not in found(client, "rehabilitation")[1]
    assert not SearchTerm.objects.filter(object_id=thread.pk.hex).exists()


def test_the_index_holds_no_word_in_clear(world):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT scope, object_id, part, term, key_id FROM {SearchTerm._meta.db_table}")  # noqa: S608
        rows = cursor.fetchall()
    assert rows
    blob = (
        b"".join(bytes(r[3]) for r in rows) + "".join(str(c) for r in rows for c in (r[0], r[1], r[2], r[4])).encode()
    )
    for word in ("rehabilitation", "cardiac", "publicword", "privatebody", "month", "started"):
        assert word.encode() not in blob.lower()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": ""}, "Type a word or two"),
        ({"q": "   "}, "Type a word or two"),
        ({"q": "r" * 201}, "200 characters"),
        ({"q": "one two three four five six seven eight nine"}, "at most 8 words"),
        ({"q": "a y el of"}, "longer or more specific words"),
        ({"q": ["heart", "lungs"]}, "one thing at a time"),
    ],
)
def test_bad_searches_get_a_clear_message_and_keep_what_was_typed(world, params, message):
    response = Client().get(SEARCH, params)
    page = response.content.decode()
    assert response.status_code == 400
    assert message in page
    typed = params["q"] if isinstance(params["q"], str) else params["q"][-1]
    if typed.strip():
        assert f'value="{typed}"' in page


def test_the_search_page_opens_empty_and_is_not_a_community(world):
    response = Client().get(SEARCH)
    assert response.status_code == 200 and 'name="q"' in response.content.decode()
    assert "thread found" not in response.content.decode()


def test_searches_are_not_audited(world, people):
    clients = [client_for(people["member"]), client_for(people["moderator"])]
    before = AuditEvent.objects.count()
    for client in clients:
        assert thread_link(world["threads"]["private"]) in found(client, "rehabilitation privateword")[1]
    assert AuditEvent.objects.count() == before
    assert not AuditEvent.objects.filter(details__icontains="privateword").exists()


@pytest.fixture(autouse=True)
def _many_posts(settings):
    settings.PORTAL_SOCIAL_RATE_LIMITS = {"community_post": "1000/h"}


def _add_threads(author, community, n, start=0):
    for i in range(start, start + n):
        actions.start_thread(
            author=author, community=community, title=f"Stairs thread {i}", body=f"Climbing stairs {i}"
        )


@pytest.mark.parametrize("who", ["anonymous", "member", "moderator"])
def test_the_search_page_makes_the_same_queries_for_3_and_30_results(world, who):
    member = world["people"]["member"]
    client = client_for(world["people"][who])
    _add_threads(member, world["communities"]["public"], 3)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            status, _page = found(client, "stairs climbing")
            assert status == 200
        return len(queries)

    count()  # the first request after signing in also saves the session
    few = count()
    _add_threads(member, world["communities"]["public"], 27, start=3)
    many = count()
    assert few == many, (few, many)
    assert many <= 13  # one of them: the unread-messages count in the site's navigation


def test_results_are_paged_by_25_and_the_pages_keep_the_search(world):
    member = world["people"]["member"]
    _add_threads(member, world["communities"]["public"], 27)
    status, page = found(Client(), "stairs")
    assert status == 200 and "27 threads found" in page and page.count('class="ps-search__result"') == 25
    assert "?q=stairs&amp;page=2" in page
    status, second = found(Client(), "stairs", page="2")
    assert second.count('class="ps-search__result"') == 2


def test_more_matches_rank_first_then_recent_activity(world):
    member = world["people"]["member"]
    community = world["communities"]["public"]
    once = actions.start_thread(author=member, community=community, title="Knees", body="Swimming helps")
    many = actions.start_thread(author=member, community=community, title="Swimming", body="Swimming, swimming")
    newest = actions.start_thread(author=member, community=community, title="Pool", body="Swimming too")
    page = found(Client(), "swimming")[1]
    positions = [page.index(thread_link(p.thread)) for p in (many, newest, once)]
    assert positions == sorted(positions)


def test_the_reindex_command_rebuilds_the_same_index_and_drops_stale_rows(world, people):
    before = sorted(SearchTerm.objects.values_list("object_id", "part", "term", "weight"))
    SearchTerm.objects.all().delete()
    # A stale row, for a thread that is not visible.
    hidden = Thread.objects.create(community=world["communities"]["public"], title="Hidden", visible=False)
    SearchTerm.objects.create(
        scope=search_index.SCOPE, object_id=hidden.pk.hex, part="title", term=b"x" * 16, key_id="k"
    )
    out = io.StringIO()
    call_command("portal_social_search_reindex", "--batch-size", "2", stdout=out)
    assert "3 indexed" in out.getvalue() and "1 stale terms removed" in out.getvalue()
    assert sorted(SearchTerm.objects.values_list("object_id", "part", "term", "weight")) == before
    call_command("portal_social_search_reindex", stdout=io.StringIO())
    assert sorted(SearchTerm.objects.values_list("object_id", "part", "term", "weight")) == before
    assert thread_link(world["threads"]["public"]) in found(Client(), "rehabilitation")[1]
