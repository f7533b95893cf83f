"""Communities in a browser: a new member's post with an email address is held, then published with the
address hidden; a crisis post shows crisis resources at once and reaches the queue marked urgent; a
reader sees a reply published while they read.

Each journey works in a public community of its own (created as staff create one in the admin) with
people of its own, so the journeys run in any order beside the demo data and the other journeys.
"""

from __future__ import annotations

import re
import time
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.support import (
    DEMO_PASSWORD,
    LIVE_TIMEOUT_MS,
    SocketWatch,
    assert_accessible,
    assert_no_csp_violations,
    check_page,
    open_moderation_queue,
    path_of,
    sign_in,
    sign_in_with_code,
    sign_out,
    visit,
    watch_console,
)

pytestmark = pytest.mark.browser

WAITING = "Your post is waiting for a moderator"
POST_ANYWAY = "Post anyway: a moderator reads it before it appears"
LIVE_NOTICE = "New replies have been posted."
SOCKET_SPY = """
(function () {
  var Original = window.WebSocket;
  window.__psSockets = [];
  window.WebSocket = function (url, protocols) {
    var socket = protocols === undefined ? new Original(url) : new Original(url, protocols);
    window.__psSockets.push(socket);
    return socket;
  };
  window.WebSocket.prototype = Original.prototype;
})();
"""
#: How long a reader's page may take to show a reply published elsewhere.

SETUP = """
import datetime, uuid
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth import get_user_model
from django.utils import timezone
from portal_social.community import actions
from portal_social.community.models import Community
from portal_social.core import roles

User = get_user_model()
token = %(token)r

def person(prefix, role, *, old=False):
    username = prefix + "-" + uuid.uuid4().hex[:8]
    user = User.objects.create_user(username=username, email=username + "@example.org", password=%(password)r)
    if old:  # a long-standing patient: no new-account hold
        user.date_joined = timezone.now() - datetime.timedelta(days=400)
        user.save(update_fields=["date_joined"])
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    roles.grant_role(user=user, role=role)
    return user

# Staff set communities up in the Wagtail admin; the journeys' own rows are made the same way.
community = Community.objects.create(
    name="Recovery after surgery " + token,
    slug="recovery-" + token,
    visibility=Community.Visibility.PUBLIC,
    description="Getting back on your feet after an operation.",
    guidelines="Be kind. Share experiences, not medical advice.",
)
print("COMMUNITY", community.slug)

# One moderator per journey that signs in: an authenticator code is good once in its 30 s window.
for name in ("REDACTS", "URGENT"):
    moderator = person("moderator", roles.COMMUNITY_MODERATOR)
    secret = generate_totp_secret()
    TOTP.activate(moderator, secret)
    print("MODERATOR", name, moderator.username, secret)

print("NEWCOMER", person("patient", roles.PATIENT).username)

def member(prefix, handle, *, old=True):
    user = person(prefix, roles.PATIENT, old=old)
    actions.set_handle(user=user, handle=handle)
    actions.join(user=user, community=community)
    return user

print("CRISIS", member("patient", "quiet_" + token).username)

# A long-standing member whose first post a moderator already published: their replies publish at once.
regular = member("patient", "regular_" + token)
opening = actions.start_thread(
    author=regular, community=community, title="Stairs after a knee operation " + token,
    body="Which trick made stairs easier for you in the first weeks?",
)
actions.approve_post(moderator=moderator, post=opening)
print("REGULAR", regular.username)
print("THREAD", "/community/%%s/t/%%s/" %% (community.slug, opening.thread_id))
print("READER", member("patient", "reader_" + token).username)
"""


def _setup(live_portal, token: str) -> dict:
    """One manage.py start-up for every journey's people, community and thread."""
    out = live_portal.manage("shell", "-c", SETUP % {"password": DEMO_PASSWORD, "token": token}).stdout
    found = dict(re.findall(r"^([A-Z]+) (.+)$", out, re.MULTILINE))
    found["MODERATORS"] = {
        name: (username, secret)
        for name, username, secret in re.findall(r"^MODERATOR (\w+) (\S+) (\S+)$", out, re.MULTILINE)
    }
    return found


@pytest.fixture(scope="module")
def journey(live_portal) -> dict:
    token = uuid.uuid4().hex[:8]
    return {"token": token, **_setup(live_portal, token)}


@pytest.fixture
def timed(request):
    """Prints how long the journey took (``pytest -s`` shows it)."""
    started = time.monotonic()
    yield
    print(f"\n{request.node.name}: {time.monotonic() - started:.1f} s")


def _sign_in_moderator(page, journey, name: str) -> None:
    sign_in_with_code(page, *journey["MODERATORS"][name])


def _submit(page, button: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=button).click()
    check_page(page)


def test_a_new_member_posts_an_email_address_anyway_and_a_moderator_hides_it(page, journey, timed):
    token = journey["token"]
    slug = journey["COMMUNITY"]
    email = f"sleepless.{token}@example.com"
    body = f"Three weeks after my hip operation I still cannot sleep on my side. Write to me at {email} if it helps."
    title = f"Sleeping after a hip operation {token}"

    # 1. A patient who takes no part yet joins the community from the list of communities.
    sign_in(page, journey["NEWCOMER"])
    visit(page, "/community/")
    name = f"Recovery after surgery {token}"
    listed = page.locator(".ps-community-list__item").filter(has_text=name)
    expect(listed).to_have_count(1)
    with page.expect_navigation():
        listed.get_by_role("button", name=f"Join {name}").click()
    check_page(page)
    assert path_of(page) == "/community/", page.url
    expect(listed).to_contain_text("You are a member")
    expect(listed.get_by_role("button", name=f"Leave {name}")).to_be_visible()
    with page.expect_navigation():
        listed.get_by_role("link", name=name).click()
    check_page(page)
    assert path_of(page) == f"/community/{slug}/"

    # 2. Starting a thread asks for a community name first, then comes back to the form.
    with page.expect_navigation():
        page.get_by_role("link", name="Start a thread").click()
    check_page(page)
    assert path_of(page) == "/community/name/", page.url
    page.get_by_label("Community name").fill(f"night_owl_{token}")
    _submit(page, "Save")
    assert path_of(page) == f"/community/{slug}/new/", page.url

    # 3. The post holds an email address: the form comes back with it marked and offers "post anyway".
    page.get_by_label("Title").fill(title)
    page.get_by_label("Your post").fill(body)
    _submit(page, "Post the thread")  # check_page: axe on the form with the highlight
    assert path_of(page) == f"/community/{slug}/new/"
    expect(page.get_by_role("alert")).to_contain_text("personal details")
    expect(page.locator("main mark")).to_contain_text(email)
    expect(page.get_by_label("Your post")).to_have_value(body)
    page.get_by_label(POST_ANYWAY).check()
    _submit(page, "Post the thread")

    # 4. The thread opens at the post, which waits for a moderator; crisis resources are not shown.
    assert re.fullmatch(rf"/community/{slug}/t/[0-9a-f-]{{36}}/", path_of(page)), page.url
    post_id = re.search(r"[?&]posted=([0-9a-f-]{36})", page.url).group(1)
    assert page.url.endswith(f"#post-{post_id}"), page.url
    expect(page.get_by_role("status").filter(has_text=WAITING)).to_be_visible()
    expect(page.locator(f"#post-{post_id}")).to_contain_text("Waiting for a moderator")
    expect(page.locator("main .ps-crisis")).to_have_count(0)  # not the digits: a random id may hold "988"
    expect(page.locator("main")).not_to_contain_text("Crisis Lifeline")
    thread_path = path_of(page)
    assert_accessible(page)  # the thread page, with the author's held post
    sign_out(page)

    # 5. Signed out, the community does not list the held thread.
    visit(page, f"/community/{slug}/")
    expect(page.locator("main")).not_to_contain_text(title)
    assert_accessible(page)  # the community page

    # 6. The moderator finds it in the queue with the address marked, hides it and publishes.
    _sign_in_moderator(page, journey, "REDACTS")
    open_moderation_queue(page, "?type=community_post")
    held = page.locator("article.ps-moderation__item").filter(has_text=token).filter(has_text=email)
    expect(held).to_have_count(1)
    expect(held).to_contain_text("Community post")
    expect(held.locator("mark").filter(has_text=email)).to_have_count(1)
    expect(held.get_by_role("button", name="Publish as written")).to_be_visible()
    redact = held.get_by_role("group", name="Hide parts and publish")
    redact.get_by_role("checkbox", name=re.compile(re.escape(email))).check()
    with page.expect_navigation():
        redact.get_by_role("button", name="Hide selected and publish").click()
    assert_no_csp_violations(page)
    expect(page.locator(".messages")).to_contain_text("The selected parts are hidden and the post is published.")
    expect(page.locator("article.ps-moderation__item").filter(has_text=email)).to_have_count(0)
    visit(page, "/")
    sign_out(page)

    # 7. Anyone reads the thread now: the post without the address.
    visit(page, f"/community/{slug}/")
    expect(page.get_by_role("link", name=title)).to_be_visible()
    visit(page, thread_path)
    published = page.locator(f"#post-{post_id}")
    expect(published).to_contain_text("cannot sleep on my side")
    expect(published).to_contain_text("[email removed]")
    expect(published).not_to_contain_text("Waiting for a moderator")
    expect(page.locator("main")).not_to_contain_text(email)
    assert email not in page.content()
    assert_accessible(page)  # the thread page as a signed-out reader sees it


def test_a_crisis_post_shows_crisis_resources_at_once_and_reaches_the_queue_urgent(page, journey, timed):
    token = journey["token"]
    slug = journey["COMMUNITY"]
    title = f"A hard week {token}"

    # 1. A member starts a thread in words that may mean they are thinking of harming themselves.
    sign_in(page, journey["CRISIS"])
    visit(page, f"/community/{slug}/new/")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Your post").fill(
        f"Since the operation I feel there is nothing to live for. Visit {token}, I am tired of the pain."
    )
    _submit(page, "Post the thread")

    # 2. The next page says the post waits for a moderator, and shows the crisis resources straight away.
    assert re.fullmatch(rf"/community/{slug}/t/[0-9a-f-]{{36}}/", path_of(page)), page.url
    expect(page.get_by_role("status").filter(has_text=WAITING)).to_be_visible()
    main = page.locator("main")
    expect(main).to_contain_text("988")
    expect(main.get_by_role("note")).to_contain_text("988 Suicide & Crisis Lifeline")
    sign_out(page)

    # 3. The moderator's queue lists it marked Urgent, ahead of everything that is not urgent, and first
    #    in its community. (Older urgent items, such as the demo's, may come before it.)
    _sign_in_moderator(page, journey, "URGENT")
    open_moderation_queue(page, "?type=community_post")
    items = page.locator("article.ps-moderation__item")
    crisis = items.filter(has_text=title)
    expect(crisis).to_have_count(1)
    expect(crisis).to_contain_text("Urgent")
    expect(crisis).to_contain_text("Crisis language")
    classes = items.evaluate_all("(nodes) => nodes.map((n) => n.className)")
    crisis_id = crisis.get_attribute("id")
    ids = items.evaluate_all("(nodes) => nodes.map((n) => n.id)")
    position = ids.index(crisis_id)
    assert all("ps-moderation__item--urgent" in c for c in classes[: position + 1]), classes
    open_moderation_queue(page, f"?space={slug}")
    expect(items.first).to_contain_text(title)
    expect(items.first).to_contain_text("Urgent")
    assert_accessible(page)  # the queue with an urgent community post

    # 4. The moderator decides it, so the queue is left as it was found.
    decide = items.first
    decide.get_by_label(re.compile("^Reason")).fill("Contacted the member through their care team.")
    with page.expect_navigation():
        decide.get_by_role("button", name="Do not publish").click()
    assert_no_csp_violations(page)
    expect(page.locator("article.ps-moderation__item").filter(has_text=title)).to_have_count(0)


def test_a_reply_appears_live_in_the_thread_a_reader_has_open(browser, page, live_portal, journey, timed):
    token = journey["token"]
    thread_path = journey["THREAD"]
    reply = f"Holding the rail with both hands and leading with the good leg, visit {token}."

    # 1. A reader has the thread open in a browser of their own, its websocket subscribed.
    context = browser.new_context(base_url=live_portal.base_url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    try:
        reader = context.new_page()
        # Keep hold of the page's sockets, so that the journey can drop them (as a network blip would).
        reader.add_init_script(SOCKET_SPY)
        watch_console(reader)
        socket = SocketWatch(reader)
        sign_in(reader, journey["READER"])
        visit(reader, thread_path)
        socket.frame(lambda frame: frame.get("type") == "subscribed")
        notice = reader.get_by_role("status").filter(has_text=LIVE_NOTICE)
        expect(notice).to_be_hidden()
        assert_accessible(reader)  # the thread page with its reply form

        # 2. A long-standing member replies; the reply is published at once.
        sign_in(page, journey["REGULAR"])
        visit(page, thread_path)
        page.get_by_label("Your post").fill(reply)
        _submit(page, "Post your reply")
        assert path_of(page) == thread_path
        expect(page.get_by_role("status").filter(has_text="Your reply is published.")).to_be_visible()
        post_id = re.search(r"[?&]posted=([0-9a-f-]{36})", page.url).group(1)
        expect(page.locator(f"#post-{post_id}")).to_contain_text(reply)

        # 3. The reply appears at the end of the reader's page without a reload, with its reactions and
        #    links, and is announced to screen readers; the "reload" notice stays hidden.
        try:
            expect(reader.locator(f"#post-{post_id}")).to_contain_text(reply, timeout=LIVE_TIMEOUT_MS)
        except AssertionError:
            pytest.fail("the reply did not appear on the reader's page:\n" + "\n".join(socket.log), pytrace=False)
        expect(reader.locator(".ps-post-list > li").last.locator(f"#post-{post_id}")).to_have_count(1)
        expect(reader.locator(f"#post-{post_id}").get_by_role("button", name=re.compile(r"^Helpful"))).to_be_visible()
        expect(reader.locator(".ps-community__announce")).to_have_text(re.compile("new reply"))
        expect(notice).to_be_hidden()
        assert_no_csp_violations(reader)
        assert_accessible(reader)  # the page with the reply added

        # 4. The reader's websocket drops; a second reply is published meanwhile; on reconnecting the
        #    page asks for what it missed and shows that reply too, once.
        second = f"And a cane on the bad side when I am tired, {token}."
        closed = len([line for line in socket.log if line == "socket closed"])
        reader.evaluate("window.__psSockets.forEach(function (s) { s.close(); })")
        page.get_by_label("Your post").fill(second)
        _submit(page, "Post your reply")
        second_id = re.search(r"[?&]posted=([0-9a-f-]{36})", page.url).group(1)
        expect(reader.locator(f"#post-{second_id}")).to_contain_text(second, timeout=LIVE_TIMEOUT_MS)
        assert len([line for line in socket.log if line == "socket closed"]) > closed
        expect(reader.locator(f"#post-{post_id}")).to_have_count(1)
        expect(reader.locator(".ps-post-list > li").last.locator(f"#post-{second_id}")).to_have_count(1)
    finally:
        context.close()
