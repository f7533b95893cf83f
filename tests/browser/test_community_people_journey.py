"""Communities in a browser: people, and a reader who searches, reacts, follows and quotes.

* A mentor welcomes a new member from the community's list of new members; a moderator opens that
  member's page from their post, sets their trust level and silences them with a reason; the member
  reads the reason on the thread and is told why their reply is not posted (what they wrote kept).
* A member searches for a word and finds a thread of their community, not the private community's
  thread that holds the same words; they react "Helpful" to a reply and see the count, read who reacted,
  follow the thread, and quote the reply: the quote fills the reply form, and the published reply links
  to the quoted post.

Selectors are roles and accessible names (posts are articles named by their author), so the journeys
do not depend on the thread page's markup. Each journey works in communities of its own with people of
its own (``community_support``), so it runs in any order beside the demo data and the other journeys.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.community_support import (
    POST_ID,
    article_by,
    browser_of_their_own,
    open_again,
    press,
    register_world,
    status_message,
    world_of,
)
from tests.browser.support import (
    assert_accessible,
    assert_no_csp_violations,
    path_of,
    sign_in,
    sign_in_with_code,
    visit,
)

pytestmark = pytest.mark.browser

REASON = "Three posts selling supplements in a week, after a warning."
SILENCED = "You can read but not post until"
TIP = "They help me: I put them on before leaving home and walk the aisle every hour."

WORLD = """
# The people journey: a community with a mentor and a member who joined today.
place = community("Heart failure support")
show("COMMUNITY", place.slug)
mentor = member(place, "mentor")
mentorship = Membership.objects.get(user=mentor, community=place)
actions.set_mentor(moderator=_setup_moderator, membership=mentorship, mentor=True)
newcomer = member(place, "newcomer")
show("MENTOR", mentor.username)
show("NEWCOMER", newcomer.username)
moderator("MOD_PEOPLE")
hello = published(actions.start_thread(
    author=mentor, community=place, title="Say hello " + token, body="New here? Tell us a little about you.",
))
published(actions.reply(author=newcomer, thread=hello.thread, body="Hello everyone, I was diagnosed last month."))
show("HELLO", thread_path(hello.thread))

# The reader's journey: a public community, and a private one that holds the same words.
reading = community("Living with heart failure")
hidden = community("Heart failure carers", visibility="private")
asker, helper, reader = (member(reading, name) for name in ("asker", "helper", "reader"))
insider = member(hidden, "insider")
show("READER", reader.username)
question = published(actions.start_thread(
    author=asker, community=reading, title="Compression stockings on long flights " + token,
    body="Do compression stockings help with swollen ankles on a long flight?",
))
show("QUESTION", thread_path(question.thread))
show("TIP", published(actions.reply(author=helper, thread=question.thread, body=%(tip)r)).pk)
published(actions.start_thread(
    author=insider, community=hidden, title="Compression stockings for my father " + token,
    body="He will not wear his compression stockings on flights.",
))
# The reader has posted before, so their reply publishes at once.
published(actions.start_thread(
    author=reader, community=reading, title="First week home " + token, body="Taking it one day at a time.",
))
"""


register_world("people", WORLD % {"tip": TIP})


@pytest.fixture
def world(live_portal) -> dict:
    return world_of(live_portal, "people")


def test_a_mentor_welcomes_a_newcomer_whom_a_moderator_then_silences(browser, page, live_portal, world):
    token, thread = world["token"], world["HELLO"]
    newcomer = f"newcomer_{token}"

    # 1. The mentor finds the new member on the community's list of new members and welcomes them.
    with browser_of_their_own(browser, live_portal) as mentor:
        sign_in(mentor, world["MENTOR"])
        visit(mentor, f"/community/{world['COMMUNITY']}/")
        press(mentor, mentor.get_by_role("link", name="New members to welcome"), check=True)
        press(mentor, mentor.get_by_role("button", name=f"Welcome {newcomer}", exact=True))
        expect(status_message(mentor, "Thank you. The member is told that a mentor welcomed them.")).to_be_visible()
        expect(mentor.get_by_role("main")).not_to_contain_text(newcomer)
        expect(mentor.get_by_text("Everyone new has been welcomed.")).to_be_visible()

    # 2. A moderator opens the member's page from their post and sets their trust level by hand.
    sign_in_with_code(page, *world["MOD_PEOPLE"])
    visit(page, thread)  # axe on the thread page as a moderator sees it (authors link to their pages)
    press(page, article_by(page, newcomer).get_by_role("link", name=newcomer, exact=True), check=True)
    assert path_of(page) == f"/community/people/{newcomer}/", page.url
    page.get_by_label("Level", exact=True).select_option("2")
    press(page, "Save the level")
    expect(status_message(page, "The trust level is saved.")).to_be_visible()
    facts = page.get_by_role("region", name="At a glance")
    expect(facts).to_contain_text("2")
    expect(facts).to_contain_text("set by a moderator")

    # 3. The moderator silences the member, with a reason the member will read.
    page.get_by_label("Silenced: may read, not post").check()
    expect(page.get_by_label("For how long")).to_have_value("86400")  # a first silence: one day
    page.get_by_label("Reason (the member reads it)").fill(REASON)
    press(page, "Apply")
    expect(status_message(page, "The member is silenced until")).to_be_visible()
    penalties = page.get_by_role("region", name="Penalties")
    expect(penalties).to_contain_text("in force")
    expect(penalties).to_contain_text(REASON)

    # 4. The member reads why on the thread, and a reply they write is refused with the same words, kept.
    with browser_of_their_own(browser, live_portal) as member:
        sign_in(member, world["NEWCOMER"])
        open_again(member, thread)
        notice = member.get_by_role("status").filter(has_text=SILENCED)
        expect(notice).to_contain_text("a moderator paused your posting")
        expect(notice).to_contain_text(REASON)
        reply = "Thank you all for the kind welcome."
        member.get_by_label("Your post").fill(reply)
        press(member, "Post your reply", check=True)  # axe on the thread page with the notice and the refusal
        expect(member.get_by_role("alert")).to_contain_text(SILENCED)
        expect(member.get_by_label("Your post")).to_have_value(reply)
        expect(member.get_by_role("main")).not_to_contain_text("Your reply is published.")


def test_a_member_searches_reacts_follows_and_quotes_a_reply(page, world):
    token, thread = world["token"], world["QUESTION"]
    helper, reader = f"helper_{token}", f"reader_{token}"

    # 1. The member searches for two words: their community's thread is found, the private community's is not.
    sign_in(page, world["READER"])
    open_again(page, "/community/search/")
    page.get_by_label("Words to look for").fill(f"stockings {token}")
    press(page, "Search", check=True)  # axe on the search page with its results
    results = page.get_by_role("region", name=re.compile(r"found$"))
    expect(results.get_by_role("heading", level=2)).to_have_text("1 thread found")
    expect(results.get_by_role("link", name=f"Compression stockings on long flights {token}")).to_be_visible()
    expect(page.get_by_role("main")).not_to_contain_text("for my father")

    # 2. From the result to the thread, where the member finds the tip helpful: the count shows it.
    press(page, results.get_by_role("link", name=f"Compression stockings on long flights {token}"))
    assert path_of(page) == thread, page.url
    tip = article_by(page, helper)
    expect(tip).to_contain_text(TIP)
    press(page, tip.get_by_role("button", name=re.compile(r"^Helpful")))
    helpful = article_by(page, helper).get_by_role("button", name=re.compile(r"^Helpful"))
    expect(helpful).to_have_attribute("aria-pressed", "true")
    expect(helpful).to_have_accessible_name(re.compile(r"\b1 reaction\b"))

    # 3. "Who reacted" lists the member's community name.
    press(page, article_by(page, helper).get_by_role("link", name="Who reacted"), check=True)
    expect(page.get_by_role("link", name="Helpful (1)")).to_be_visible()
    expect(page.get_by_role("main").get_by_role("listitem").filter(has_text=reader)).to_contain_text("Helpful")
    press(page, page.get_by_role("link", name=re.compile(r"^Back to the post")))
    assert path_of(page) == thread, page.url

    # 4. The member follows the thread.
    press(page, "Follow")
    expect(status_message(page, "You follow this thread: you will be told of new replies.")).to_be_visible()
    expect(page.get_by_role("button", name="Unfollow", exact=True)).to_be_visible()

    # 5. Quoting the tip fills the reply form with its words and a link to it.
    press(page, article_by(page, helper).get_by_role("link", name=re.compile(r"^Quote")))
    body = page.get_by_label("Your post")
    expect(body).to_have_value(re.compile(r"^> They help me: I put them on before leaving home"))
    expect(body).to_have_value(re.compile(rf"\[Link to the quoted post\]\(http://[^)]+/community/p/{world['TIP']}/\)"))
    assert_accessible(page)  # the thread page with the reply form filled with a quote
    body.fill(body.input_value() + "Thank you, I will walk the aisle too.")
    press(page, "Post your reply")
    expect(page.get_by_role("status").filter(has_text="Your reply is published.")).to_be_visible()
    posted = POST_ID.search(page.url)
    assert posted, page.url

    # 6. The published reply quotes the tip and links to it; the link leads back to the tip on the thread.
    mine = article_by(page, reader)
    expect(mine).to_contain_text("walk the aisle every hour")
    expect(mine).to_contain_text("Thank you, I will walk the aisle too.")
    link = mine.get_by_role("link", name="Link to the quoted post")
    expect(link).to_have_attribute("href", re.compile(rf"/community/p/{world['TIP']}/$"))
    with page.expect_navigation():
        link.click()
    page.wait_for_load_state("load")
    assert_no_csp_violations(page)
    assert path_of(page) == thread, page.url
    assert page.url.endswith(f"#post-{world['TIP']}"), page.url
