"""A community placed in the site's page tree, in a browser: the demo's heart-health community at
/heart-health-community/. A signed-out visitor reads the editors' introduction and the threads, opens
a thread and stays under the page; a member signs in there and replies, and comes back under the page
at their reply. Every page is checked with axe and for CSP violations."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.support import check_page, sign_in, visit

pytestmark = pytest.mark.browser

PAGE = "/heart-health-community/"


def test_a_community_in_the_page_tree_reads_and_takes_replies_under_its_page(page, live_portal):
    # 1. Signed out: the editors' introduction, then the public community's threads.
    visit(page, PAGE)
    main = page.locator("main")
    expect(main).to_contain_text("Our cardiology nurses set up this group")
    threads = main.locator(".ps-thread-list a[href*='/t/']")
    expect(threads.first).to_be_visible()
    href = threads.first.get_attribute("href")
    assert href.startswith(PAGE + "t/"), href

    # 2. A thread opens under the page, not under /community/.
    with page.expect_navigation():
        threads.first.click()
    check_page(page)
    assert re.search(r"/heart-health-community/t/[0-9a-f-]{36}/$", page.url), page.url
    thread_path = page.url.split(page.url.split("/heart-health-community/")[0])[1]

    # 3. A member signs in and replies from the page; they land back under it, at their reply.
    sign_in(page, "patient1")
    visit(page, thread_path)
    reply = f"Cardiac rehab twice a week has helped me, {uuid.uuid4().hex[:8]}."
    page.get_by_label("Your post").fill(reply)
    with page.expect_navigation():
        page.get_by_role("button", name="Post your reply").click()
    check_page(page)
    assert "/heart-health-community/t/" in page.url and "/community/" not in page.url.replace(
        "/heart-health-community/", "/"
    ), page.url
    expect(page.locator("main")).to_contain_text(reply)
