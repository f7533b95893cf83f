"""Communities in a browser: members' flags add up by trust until a post is hidden.

Three members of a public community flag the same published post from the thread page, each
in a browser of their own. Their flags weigh by trust level (1.5, 0.5 and 1: levels 2, 0 and 1);
the post stays up after two (2 of the hide score 3) and is gone after the third: for the member
who sent it, for a fourth member reading the thread, and for a signed-out visitor. It waits in
the moderation queue, marked as flagged, where a moderator takes it down.

The journey works in a public community of its own with people of its own, so it runs in any
order beside the demo data and the other journeys.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.support import (
    DEMO_PASSWORD,
    LIVE_TIMEOUT_MS,
    assert_accessible,
    assert_no_csp_violations,
    open_moderation_queue,
    sign_in,
    sign_in_with_code,
    visit,
    watch_console,
)

pytestmark = pytest.mark.browser

THANKS = "Thank you. A moderator will look at this post."
#: (trust level, reason label, note): the order the members flag in; the weights add up to 3 at the third.
FLAGGERS = [
    (2, "Spam or advertising", "Selling something in every thread."),
    (0, "Spam or advertising", ""),
    (1, "Medical misinformation", ""),
]

SETUP = """
import datetime, uuid
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth import get_user_model
from django.utils import timezone
from portal_social.community import actions
from portal_social.community.models import Community, CommunityProfile, Post
from portal_social.conf import app_settings
from portal_social.core import roles

User = get_user_model()
token = %(token)r

def person(prefix, role):
    username = prefix + "-" + uuid.uuid4().hex[:8]
    user = User.objects.create_user(username=username, email=username + "@example.org", password=%(password)r)
    user.date_joined = timezone.now() - datetime.timedelta(days=400)  # no new-account hold
    user.save(update_fields=["date_joined"])
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    roles.grant_role(user=user, role=role)
    return user

def member(prefix, trust=0):
    user = person(prefix, roles.PATIENT)
    actions.set_handle(user=user, handle=prefix + "_" + token)
    CommunityProfile.objects.filter(user=user).update(trust_level=trust)  # as a moderator would set it
    actions.join(user=user, community=community)
    return user

community = Community.objects.create(
    name="Living with arthritis " + token,
    slug="arthritis-" + token,
    visibility=Community.Visibility.PUBLIC,
    description="Joints, pain and getting on with the day.",
    guidelines="Be kind. Share experiences, not medical advice. No selling.",
)
moderator = person("moderator", roles.COMMUNITY_MODERATOR)
secret = generate_totp_secret()
TOTP.activate(moderator, secret)
print("MODERATOR", moderator.username, secret)
print("HIDE_SCORE", app_settings.COMMUNITY_FLAG_HIDE_SCORE)

def published(post):
    if post.status == Post.Status.HELD:  # a member's first post waits for a moderator
        actions.approve_post(moderator=moderator, post=post)
        post.refresh_from_db()
    assert post.status == Post.Status.PUBLISHED, post.hold_reasons
    return post

regular = member("regular")
opening = published(actions.start_thread(
    author=regular, community=community, title="Morning stiffness " + token,
    body="What gets your hands moving on cold mornings?",
))
seller = member("seller")
target = published(actions.reply(
    author=seller, thread=opening.thread,
    body="Forget the warm water: my copper bracelets cure stiffness for good, ask me for a discount " + token,
))
print("THREAD", "/community/%%s/t/%%s/" %% (community.slug, opening.thread_id))
print("POST", target.pk)
for n, trust in enumerate(%(trusts)r):
    print("FLAGGER", n, member("flagger%%d" %% n, trust).username)
print("READER", member("reader").username)
"""


@pytest.fixture(scope="module")
def journey(live_portal) -> dict:
    """One manage.py start-up for the journey's community, people and posts."""
    token = uuid.uuid4().hex[:8]
    code = SETUP % {"password": DEMO_PASSWORD, "token": token, "trusts": [trust for trust, _r, _n in FLAGGERS]}
    out = live_portal.manage("shell", "-c", code).stdout
    found = dict(re.findall(r"^([A-Z_]+) (.+)$", out, re.MULTILINE))
    found["FLAGGERS"] = [name for _n, name in sorted(re.findall(r"^FLAGGER (\d+) (\S+)$", out, re.MULTILINE))]
    found["MODERATOR"] = tuple(found["MODERATOR"].split())
    assert float(found["HIDE_SCORE"]) == 3, "the journey's weights are chosen for the default hide score"
    return {"token": token, **found}


def _open(page, path: str) -> None:
    """Open ``path`` (200) without another axe run: for pages already checked once in this journey."""
    response = page.goto(path)
    assert response is not None and response.status == 200, f"{path} answered {response and response.status}"
    page.wait_for_load_state("load")
    assert_no_csp_violations(page)


def _new_page(browser, live_portal):
    context = browser.new_context(base_url=live_portal.base_url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    watch_console(page)
    return context, page


def test_three_members_flags_hide_a_post_for_everyone_until_a_moderator_decides(browser, page, live_portal, journey):
    token = journey["token"]
    thread_path = journey["THREAD"]
    post_id = journey["POST"]
    target_text = "copper bracelets cure stiffness"

    # 1. Each member flags the post from the thread page, in a browser of their own.
    for n, (username, (_trust, reason, note)) in enumerate(zip(journey["FLAGGERS"], FLAGGERS, strict=True)):
        context, flagger = _new_page(browser, live_portal)
        try:
            sign_in(flagger, username)
            if n == 0:
                visit(flagger, thread_path)  # axe on the thread page as a member reads it
            else:
                _open(flagger, thread_path)
            post = flagger.locator(f"#post-{post_id}")
            expect(post).to_contain_text(target_text)
            with flagger.expect_navigation():
                post.get_by_role("link", name=re.compile(r"^Flag this post")).click()
            form = flagger.locator("form.ps-flag__form")  # the flag form is a page of its own
            expect(form).to_be_visible()
            expect(flagger.locator("main blockquote")).to_contain_text(target_text)
            if n == 0:
                assert_accessible(flagger)  # the flag page
            form.get_by_label(reason).check()
            if note:
                form.get_by_label("Anything the moderators should know (optional)").fill(note)
            with flagger.expect_navigation():
                form.get_by_role("button", name="Send").click()
            assert_no_csp_violations(flagger)  # back on the thread, at the post
            assert flagger.url.split("?")[0].split("#")[0].endswith(thread_path), flagger.url
            expect(flagger.locator("main")).to_contain_text(THANKS)
            if n < len(FLAGGERS) - 1:
                # Below the hide score the post stays up, and the member who flagged it is told so at once.
                expect(post).to_contain_text(target_text)
                with flagger.expect_navigation():
                    post.get_by_role("link", name=re.compile(r"^Flag this post")).click()
                assert_no_csp_violations(flagger)
                expect(flagger.locator("main")).to_contain_text("You have already flagged this post")
                expect(flagger.locator("form.ps-flag__form")).to_have_count(0)
            else:
                # The third flag reaches the hide score: the post is gone from the page the member lands on.
                expect(flagger.locator(f"#post-{post_id}")).to_have_count(0)
                expect(flagger.locator("main")).not_to_contain_text(target_text)
        finally:
            context.close()

    # 2. A fourth member reading the thread no longer sees it; the rest of the thread is there.
    sign_in(page, journey["READER"])
    _open(page, thread_path)
    expect(page.locator("main")).to_contain_text("What gets your hands moving on cold mornings?")
    expect(page.locator(f"#post-{post_id}")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text(target_text)

    # 3. Nor does a signed-out visitor of the public community, nor does its address show it.
    context, visitor = _new_page(browser, live_portal)
    try:
        visit(visitor, thread_path)
        expect(visitor.locator("main")).to_contain_text("What gets your hands moving on cold mornings?")
        expect(visitor.locator(f"#post-{post_id}")).to_have_count(0)
        assert target_text not in visitor.content()
    finally:
        context.close()

    # 4. The moderator finds it in the queue, flagged by readers, with the post as written, and takes it down.
    context, moderator = _new_page(browser, live_portal)
    try:
        sign_in_with_code(moderator, *journey["MODERATOR"])
        open_moderation_queue(moderator, f"?type=community_post&space=arthritis-{token}")
        item = moderator.locator("article.ps-moderation__item").filter(has_text=target_text)
        expect(item).to_have_count(1, timeout=LIVE_TIMEOUT_MS)
        expect(item).to_contain_text("Community post")
        expect(item).to_contain_text("Flagged by a reader")
        assert_accessible(moderator)  # the queue with the flagged post
        item.get_by_label(re.compile("^Reason")).fill("Selling a cure; against the guidelines.")
        with moderator.expect_navigation():
            item.get_by_role("button", name="Do not publish").click()
        assert_no_csp_violations(moderator)
        expect(moderator.locator("article.ps-moderation__item").filter(has_text=target_text)).to_have_count(0)
    finally:
        context.close()

    # 5. Still gone for readers once decided.
    _open(page, thread_path)
    expect(page.locator(f"#post-{post_id}")).to_have_count(0)
