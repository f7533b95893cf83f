"""Clinician spaces in a browser: a clinician starts a case thread with a record number in a case-discussion
space, confirming the patient details it holds; a colleague reading the thread sees the reply arrive live;
a patient finds no trace of the space, its threads or its names anywhere they can look.

The space is the demo's "Cardiology case review" (seed_demo: case discussion permitted, owner clinician1,
members clinician2 and nurse1, one thread "Rising troponin after an uncomplicated PCI"). The demo's
clinicians are never enrolled in two-step verification (other journeys rely on being sent to enrolment
with ``clinician1``, see ``messaging_support``), so the two clinicians who sign in here are the journey's
own: each with an enrolled authenticator, added to the space by its owner, clinician1, as the owner does on
the space's members page. The patient is the demo's ``patient1``.
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
    space_colleagues,
)
from tests.browser.messaging_support import stay, stayed, words
from tests.browser.support import (
    LIVE_TIMEOUT_MS,
    SocketWatch,
    assert_accessible,
    assert_no_csp_violations,
    path_of,
    sign_in,
    sign_in_with_code,
    visit,
)

pytestmark = pytest.mark.browser

SPACE = "cardiology-case-review"
SPACE_NAME = "Cardiology case review"
OTHER_SPACE = "medical-staff"
OTHER_SPACE_NAME = "Medical staff"
DEMO_THREAD = "Rising troponin after an uncomplicated PCI"
DEMO_MRN = "40817265"
MRN = "55501234"
CONFIRM = "Post it as written: the patient details are needed here"
PUBLISHED = "Your reply is published."
THREAD_PATH = re.compile(rf"/community/{SPACE}/t/([0-9a-f-]{{36}})/")


@pytest.fixture(scope="module")
def colleagues(live_portal) -> dict:
    """Two clinicians with authenticators, members of the case-review space: key -> (username, secret, handle)."""
    people = (
        ("WRITER", "Maya", "Ellison", ""),  # chooses the name she posts under in the journey
        ("READER", "Tomas", "Berg", "dr_berg_" + words(8)),
    )
    return space_colleagues(live_portal, SPACE, people)


def _submit(page, button: str) -> None:
    """Send the form by its button and check the page that follows (axe, CSP, script errors)."""
    press(page, button, check=True)


def test_a_case_thread_with_patient_details_is_confirmed_read_live_by_a_colleague_and_hidden_from_patients(
    browser, page, live_portal, colleagues
):
    token = words()
    title = f"Second opinion: chest pain after stent {token}"
    body = (
        f"Chest pain two days after a stent to the right coronary artery, MRN {MRN}, with an unchanged ECG. "
        f"Would you repeat the angiogram or treat it as musculoskeletal? Case {token}."
    )
    reply = f"I would repeat the troponin and an echo before another angiogram, {words()}."
    writer_name, writer_secret, _ = colleagues["WRITER"]
    reader_name, reader_secret, _ = colleagues["READER"]
    writer_handle = f"dr_ellison_{words(8)}"

    with (
        browser_of_their_own(browser, live_portal) as writer,
        browser_of_their_own(browser, live_portal) as reader,
    ):
        # 1. The clinician signs in with her second factor and opens her spaces: the case review is listed,
        #    marked for case discussion; the medical-staff space, which she does not belong to, is not.
        sign_in_with_code(writer, writer_name, writer_secret)
        visit(writer, "/community/spaces/")  # axe: the list of my spaces
        expect(writer.get_by_role("heading", level=1)).to_have_text("Clinician spaces")
        listed = writer.locator(".ps-community-list__item").filter(has_text=SPACE_NAME)
        expect(listed).to_have_count(1)
        expect(listed).to_contain_text("Case discussion: patient details permitted")
        expect(writer.locator("main")).not_to_contain_text(OTHER_SPACE_NAME)
        visit(writer, f"/community/{OTHER_SPACE}/", status=404)  # a colleague outside a space does not see it

        # The space's members, as its directory lists them: the owner, the demo members and herself.
        open_again(writer, "/community/spaces/")
        press(writer, listed.get_by_role("link", name="Members"), check=True)  # axe: the member directory
        assert path_of(writer) == f"/community/spaces/{SPACE}/members/", writer.url
        expect(writer.get_by_role("heading", level=1)).to_have_text(f"Members of {SPACE_NAME}")
        members = writer.locator("main .ps-community-list")
        for person in ("Priya Raman", "David Okafor", "Grace Kim", "Maya Ellison", "Tomas Berg"):
            expect(members).to_contain_text(person)
        owner_row = writer.locator("main .ps-community-list__item").filter(has_text="Priya Raman")
        expect(owner_row).to_contain_text("Owner")
        expect(writer.get_by_role("button", name="Add to the space")).to_have_count(0)  # a member does not manage

        # 2. She opens the space from her list: its thread, and a way to start another.
        open_again(writer, "/community/spaces/")
        press(writer, listed.get_by_role("link", name=SPACE_NAME), check=True)  # axe: the space page
        assert path_of(writer) == f"/community/{SPACE}/", writer.url
        expect(writer.get_by_role("heading", level=1)).to_have_text(SPACE_NAME)
        demo_link = writer.get_by_role("link", name=DEMO_THREAD)
        expect(demo_link).to_be_visible()
        demo_thread_path = demo_link.get_attribute("href")
        assert demo_thread_path and THREAD_PATH.fullmatch(demo_thread_path), demo_thread_path

        # Starting a thread asks first for the name she posts under, then comes back to the form.
        press(writer, writer.get_by_role("link", name="Start a thread"), check=True)
        assert path_of(writer) == "/community/name/", writer.url
        writer.get_by_label("Community name").fill(writer_handle)
        _submit(writer, "Save")  # axe: the new-thread form
        assert path_of(writer) == f"/community/{SPACE}/new/", writer.url
        expect(writer.get_by_role("heading", level=1)).to_have_text(f"Start a thread in {SPACE_NAME}")

        # 3. The post holds a record number: the form comes back with it marked, says that this space
        #    permits case discussion, and offers to post it as written.
        writer.get_by_label("Title").fill(title)
        writer.get_by_label("Your post").fill(body)
        expect(writer.get_by_label(CONFIRM)).to_have_count(0)  # offered only once details were found
        _submit(writer, "Post the thread")  # axe: the form with the highlight and the explanation
        assert path_of(writer) == f"/community/{SPACE}/new/", writer.url
        summary = writer.get_by_role("alert").filter(has_text="There is a problem")
        expect(summary).to_contain_text("This includes patient details")
        expect(summary).to_contain_text("This space permits case discussion")
        expect(writer.locator("#id_body_errors")).to_contain_text("This space permits case discussion")
        marked = writer.locator("main .ps-community__found mark")
        expect(marked.filter(has_text=MRN)).to_have_count(1)
        expect(writer.locator("main .ps-community__found")).to_contain_text("with an unchanged ECG")
        expect(writer.get_by_label("Your post")).to_have_value(body)
        expect(writer.get_by_label("Title")).to_have_value(title)
        confirm = writer.get_by_role("checkbox", name=CONFIRM)
        expect(confirm).not_to_be_checked()
        confirm.check()
        _submit(writer, "Post the thread")  # axe: the thread page with the new post

        # 4. Posted at once (a space holds nothing for a moderator): she lands on the thread, at her post.
        assert THREAD_PATH.fullmatch(path_of(writer)), writer.url
        thread_path = path_of(writer)
        opening_id = POST_ID.search(writer.url).group(1)
        assert writer.url.endswith(f"#post-{opening_id}"), writer.url
        expect(writer.get_by_role("heading", level=1)).to_have_text(title)
        expect(writer.get_by_role("status").filter(has_text=PUBLISHED)).to_be_visible()
        opening = writer.locator(f"#post-{opening_id}")
        expect(opening).to_contain_text(f"MRN {MRN}")
        expect(opening).to_contain_text("Would you repeat the angiogram")
        expect(opening).not_to_contain_text("Waiting for a moderator")
        expect(article_by(writer, writer_handle)).to_have_count(1)

        # The colleague's search finds the new thread by a word of its title (a control for the patient's).
        visit(writer, f"/community/search/?q={token}")  # axe: search results
        expect(writer.locator("main").get_by_role("link", name=title)).to_have_count(1)

        # 5. A colleague opens the thread in a browser of his own; his page follows the thread live.
        reader_socket = SocketWatch(reader)
        sign_in_with_code(reader, reader_name, reader_secret)
        visit(reader, thread_path)  # axe: the thread as a colleague reads it
        expect(reader.get_by_role("heading", level=1)).to_have_text(title)
        expect(reader.locator(f"#post-{opening_id}")).to_contain_text(f"MRN {MRN}")
        reader_socket.frame(lambda frame: frame.get("type") == "subscribed")
        notice = reader.locator(".ps-community__live")
        expect(notice).to_be_hidden()
        stay(reader)

        # 6. She replies on her page; the reply is published and appears at the end of his, without a reload.
        open_again(writer, thread_path)
        writer.get_by_label("Your post").fill(reply)
        _submit(writer, "Post your reply")
        assert path_of(writer) == thread_path, writer.url
        expect(writer.get_by_role("status").filter(has_text=PUBLISHED)).to_be_visible()
        reply_id = POST_ID.search(writer.url).group(1)
        expect(writer.locator(f"#post-{reply_id}")).to_contain_text(reply)

        try:
            expect(reader.locator(f"#post-{reply_id}")).to_contain_text(reply, timeout=LIVE_TIMEOUT_MS)
        except AssertionError:
            pytest.fail("the reply did not reach the colleague's page:\n" + reader_socket.report(), pytrace=False)
        assert stayed(reader), "the colleague's page was reloaded"
        expect(reader.locator(".ps-post-list > li").last.locator(f"#post-{reply_id}")).to_have_count(1)
        expect(reader.locator(".ps-community__announce")).to_have_text(re.compile("new reply"))
        expect(notice).to_be_hidden()
        assert_no_csp_violations(reader)
        assert_accessible(reader)  # the thread with the reply added live

    # 7. A patient: the space, its threads, its member directory and the list of spaces answer 404, as if
    #    they did not exist, and say nothing of them.
    sign_in(page, "patient1")
    hidden = (
        f"/community/{SPACE}/",
        thread_path,
        demo_thread_path,
        f"{thread_path}posts/{reply_id}/",
        f"/community/{SPACE}/new/",
        "/community/spaces/",
        f"/community/spaces/{SPACE}/members/",
        f"/community/{OTHER_SPACE}/",
    )
    for path in hidden:
        visit(page, path, status=404)  # axe: the "not found" page
        _no_trace(page, title)

    # The community list and search show no trace of the spaces or their threads.
    visit(page, "/community/")  # axe: the community list, as a patient sees it
    expect(page.locator("main .ps-community-list__item").first).to_be_visible()  # it lists the patient's own
    expect(page.locator("main").get_by_role("link", name="Clinician spaces")).to_have_count(0)
    _no_trace(page, title)
    for query in (token, "troponin", "stent", "cardiology"):
        visit(page, f"/community/search/?q={query}")  # axe: search, as a patient sees it
        _no_trace(page, title)

    # Nor do the patient's notification settings or the threads they follow.
    visit(page, "/notifications/")  # axe: notification settings
    expect(page.get_by_role("heading", level=1)).to_have_text("Notification settings")
    _no_trace(page, title)
    visit(page, "/community/t/following/")  # axe: threads the patient follows
    _no_trace(page, title)


def _no_trace(page, title: str) -> None:
    """Nothing of the spaces or their threads in what the page says, nor in its markup.

    (Not the slugs or the word searched for: a page may repeat its own address or query.)"""
    main = page.locator("main")
    for text in (SPACE_NAME, OTHER_SPACE_NAME, DEMO_THREAD, title, MRN, DEMO_MRN):
        expect(main).not_to_contain_text(text)
    content = page.content()
    for text in (SPACE_NAME, OTHER_SPACE_NAME, DEMO_THREAD, title, MRN, DEMO_MRN):
        assert text not in content, f"{page.url} holds {text!r}"
