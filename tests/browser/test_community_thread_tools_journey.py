"""Communities in a browser: the thread tools and a post's edits.

* A moderator pins a thread and puts it in slow mode; a member replies once and is asked to wait before
  the next reply (what they wrote kept); the thread's author chooses a reply as the answer; the moderator
  locks the thread and the member can no longer reply. The community page shows it pinned, locked and
  solved.
* A member edits their reply; a moderator reads the earlier version on the post's history page, then
  deletes the post with a reason; it is gone for its author too, and its permalink answers 404.

Selectors are roles and accessible names (posts are articles named by their author), so the journeys
do not depend on the thread page's markup. Each journey works in a community of its own with people of
its own (``community_support``), so it runs in any order beside the demo data and the other journeys.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.community_support import (
    article_by,
    browser_of_their_own,
    open_again,
    press,
    register_world,
    status_message,
    world_of,
)
from tests.browser.support import assert_accessible, sign_in, sign_in_with_code, visit

pytestmark = pytest.mark.browser

ANSWER = "I keep a spare sleeve in the fridge and change into it at lunch."
BEFORE = "I use a fragrance-free cream every evening before bandaging."
AFTER = "I switched to an unscented balm at night: it soaks in before I bandage."
SLOW = "Slow mode is on in this thread: you can post again in about 1 minute."
LOCKED = "This thread is locked: it takes no new replies."

WORLD = """
place = community("Living with lymphoedema")
show("COMMUNITY", place.slug)
author, helper, regular, writer = (member(place, name) for name in ("author", "helper", "regular", "writer"))
show("AUTHOR", author.username)
show("REGULAR", regular.username)
show("WRITER", writer.username)
moderator("MOD_TOOLS")
moderator("MOD_EDITS")

# The tools journey's thread, with a reply to choose as the answer.
opening = published(actions.start_thread(
    author=author, community=place, title="Compression sleeves in hot weather " + token,
    body="How do you manage your compression sleeve when it is hot?",
))
show("THREAD", thread_path(opening.thread))
show("ANSWER", published(actions.reply(author=helper, thread=opening.thread, body=%(answer)r)).pk)
# The member who replies has posted before (elsewhere in the community), so their replies publish at once.
published(actions.start_thread(
    author=regular, community=place, title="Hello from a new sleeve wearer " + token,
    body="Glad to have found you all.",
))

# The edits journey's thread, with the reply its author edits.
other = published(actions.start_thread(
    author=author, community=place, title="Skin care under bandages " + token,
    body="What do you put on your skin before bandaging?",
))
show("EDIT_THREAD", thread_path(other.thread))
show("EDITED", published(actions.reply(author=writer, thread=other.thread, body=%(before)r)).pk)
"""


register_world("thread_tools", WORLD % {"answer": ANSWER, "before": BEFORE})


@pytest.fixture
def world(live_portal) -> dict:
    return world_of(live_portal, "thread_tools")


def _moderator_tools(page):
    """Open the thread page's "Moderator tools" disclosure."""
    page.get_by_text("Moderator tools", exact=True).click()


def test_a_moderator_pins_slows_and_locks_a_thread_whose_author_chooses_an_answer(browser, page, live_portal, world):
    token, thread = world["token"], world["THREAD"]
    community = f"/community/{world['COMMUNITY']}/"
    title = f"Compression sleeves in hot weather {token}"
    helper = f"helper_{token}"

    # 1. The moderator pins the thread and puts it in slow mode, saying why.
    sign_in_with_code(page, *world["MOD_TOOLS"])
    open_again(page, thread)
    _moderator_tools(page)
    assert_accessible(page)  # the thread page with the moderator's tools open
    press(page, "Pin to the top")
    expect(status_message(page, "The thread is pinned.")).to_be_visible()
    _moderator_tools(page)
    page.get_by_label("One post per member every").select_option(label="1 minute")
    page.get_by_label(re.compile(r"^Why")).fill("Two members keep answering each other; give everyone time.")
    press(page, "Set slow mode")
    expect(status_message(page, "Slow mode: one post every minute")).to_be_visible()

    # 2. The community lists the thread first, pinned.
    visit(page, community)
    threads = page.get_by_role("region", name="Threads").get_by_role("listitem")
    expect(threads.first).to_contain_text(title)
    expect(threads.first).to_contain_text("Pinned")

    with browser_of_their_own(browser, live_portal) as member, browser_of_their_own(browser, live_portal) as author:
        # 3. A member reads the pace, replies once, and is asked to wait before a second reply.
        sign_in(member, world["REGULAR"])
        open_again(member, thread)
        expect(member.get_by_text("Slow mode: one post every minute")).to_be_visible()
        member.get_by_label("Your post").fill("A cooling towel over the sleeve helps me on the bus.")
        press(member, "Post your reply")
        expect(member.get_by_role("status").filter(has_text="Your reply is published.")).to_be_visible()
        second = "And drinking plenty of water, which the nurse reminded me about."
        member.get_by_label("Your post").fill(second)
        press(member, "Post your reply", check=True)  # axe on the thread page with the refusal
        expect(member.get_by_role("alert")).to_contain_text(SLOW)
        expect(member.get_by_label("Your post")).to_have_value(second)

        # 4. The thread's author chooses a reply as the answer; the thread says it is solved and links to it.
        sign_in(author, world["AUTHOR"])
        open_again(author, thread)
        answer = article_by(author, helper)
        expect(answer).to_contain_text(ANSWER)
        press(author, answer.get_by_role("button", name="Choose as the answer"))
        expect(status_message(author, "The answer is marked. Thank you.")).to_be_visible()
        expect(article_by(author, helper)).to_contain_text("Chosen as the answer")
        expect(author.get_by_role("link", name="Read the chosen answer")).to_have_attribute(
            "href", re.compile(rf"#post-{world['ANSWER']}$")
        )
        assert_accessible(author)  # the solved thread as its author sees it

        # 5. The moderator locks the thread: the member's reply form is gone, with the reason in its place.
        open_again(page, thread)
        _moderator_tools(page)
        press(page, "Lock: no new replies")
        expect(status_message(page, "The thread is locked: it takes no new replies.")).to_be_visible()
        open_again(member, thread)
        expect(member.get_by_role("region", name="Reply")).to_contain_text(LOCKED)
        expect(member.get_by_role("button", name="Post your reply")).to_have_count(0)

    # 6. The community page shows the thread pinned, locked and solved.
    open_again(page, community)
    for badge in ("Pinned", "Locked", "Solved"):
        expect(threads.first).to_contain_text(badge)


def test_an_author_edits_a_reply_a_moderator_reads_its_history_and_deletes_it(browser, page, live_portal, world):
    token, thread = world["token"], world["EDIT_THREAD"]
    writer_handle = f"writer_{token}"

    with browser_of_their_own(browser, live_portal) as writer:
        # 1. The author opens their reply's edit page from the thread; it holds the current text.
        sign_in(writer, world["WRITER"])
        visit(writer, thread)  # axe on the thread page as a member sees it
        press(writer, article_by(writer, writer_handle).get_by_role("link", name="Edit this post"), check=True)
        body = writer.get_by_label("Your post")
        expect(body).to_have_value(BEFORE)
        body.fill(AFTER)
        press(writer, "Save your post")

        # 2. Back on the thread, the reply reads as edited.
        expect(status_message(writer, "Your post is updated.")).to_be_visible()
        reply = article_by(writer, writer_handle)
        expect(reply).to_contain_text(AFTER)
        expect(reply).to_contain_text("Edited")
        expect(reply).not_to_contain_text(BEFORE)

        # 3. A moderator reads the earlier version on the post's history page.
        sign_in_with_code(page, *world["MOD_EDITS"])
        open_again(page, thread)
        press(page, article_by(page, writer_handle).get_by_role("link", name="History of this post"), check=True)
        versions = page.get_by_role("listitem")
        expect(versions.filter(has=page.get_by_role("heading", name="Version 1"))).to_contain_text(BEFORE)
        expect(versions.filter(has=page.get_by_role("heading", name="Current version"))).to_contain_text(AFTER)

        # 4. Back on the thread, the moderator deletes the post, giving a reason for the record.
        press(page, page.get_by_role("link", name="Back to the thread"))
        press(page, article_by(page, writer_handle).get_by_role("link", name="Delete this post"), check=True)
        page.get_by_label("Why is this post deleted?").fill("The same advice is in the pinned thread.")
        press(page, "Delete the post")
        expect(status_message(page, "The post is deleted.")).to_be_visible()
        expect(article_by(page, writer_handle)).to_have_count(0)
        expect(page.get_by_role("main")).not_to_contain_text(AFTER)

        # 5. Its author no longer sees it, and its lasting address finds nothing.
        open_again(writer, thread)
        expect(article_by(writer, writer_handle)).to_have_count(0)
        expect(writer.get_by_role("main")).not_to_contain_text(AFTER)
        open_again(writer, f"/community/p/{world['EDITED']}/", status=404)
