"""Several files in one secure message, in a browser: a patient replies to their care team with a PDF and a
PNG chosen at once, and sees both listed under the message; six files at once are refused, naming the
limit, with what they wrote kept.

The patient and conversation are the demo's (seed_demo: patient1's "Dizzy since the new blood pressure
pill", with Dr. Raman's cardiology team, clinician1's). The limit is the default
``PORTAL_SOCIAL_MESSAGING_ATTACHMENT_MAX_FILES`` (5).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.community_support import press
from tests.browser.messaging_support import CARDIOLOGY_NAME, CONVERSATION_PATH, messages, receipt, words
from tests.browser.support import path_of, sign_in, visit

pytestmark = pytest.mark.browser

SUBJECT = "Dizzy since the new blood pressure pill"
FILES_LABEL = "Attach files (optional)"
SENT = "Your message was sent."
TOO_MANY = "You can attach at most 5 files at a time."
NOT_KEPT = "The files you chose were not kept: choose them again before you send."
ATTACHMENT_PATH = re.compile(r"/messages/c/([0-9a-f-]{36})/a/([0-9a-f-]{36})/")

PNG = (  # a 1x1 red PNG
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
    b"\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82"
)


def _pdf(text: str) -> bytes:
    return b"%PDF-1.4\n% " + text.encode() + b"\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def test_a_patient_sends_two_files_in_one_message_and_six_are_refused_keeping_the_text(page, tmp_path):
    token = words()
    body = f"My blood pressure readings for this week, and the chart from my monitor. {token}"
    too_many = f"Here are all my readings since the new pill, one file a day. {token}"
    pdf_name, png_name = f"bp-readings-{token}.pdf", f"bp-chart-{token}.png"
    pdf = _pdf(f"Blood pressure readings {token}")
    (tmp_path / pdf_name).write_bytes(pdf)
    (tmp_path / png_name).write_bytes(PNG)
    six = [tmp_path / f"reading-day-{day}-{token}.pdf" for day in range(1, 7)]
    for day, path in enumerate(six, start=1):
        path.write_bytes(_pdf(f"Day {day} {token}"))

    # 1. The patient opens their conversation with the cardiology team from the inbox.
    sign_in(page, "patient1")
    visit(page, "/messages/")  # axe: the patient's inbox
    row = page.locator("li.ps-conversation-row").filter(has_text=SUBJECT)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(CARDIOLOGY_NAME)
    press(page, row.get_by_role("link", name=SUBJECT), check=True)  # axe: the conversation
    assert CONVERSATION_PATH.fullmatch(path_of(page)), page.url
    conversation_path = path_of(page)
    conversation = CONVERSATION_PATH.fullmatch(conversation_path).group(1)
    expect(page.get_by_role("heading", level=1)).to_have_text(SUBJECT)
    before = messages(page).count()
    assert before >= 1, "the demo conversation shows no messages"
    chooser = page.get_by_label(FILES_LABEL)
    expect(chooser).to_have_attribute("type", "file")
    expect(chooser).to_have_attribute("name", "attachment")
    expect(chooser).to_have_attribute("multiple", "")

    # 2. A reply with a PDF and a PNG chosen together: sent, both listed under it as downloads.
    page.get_by_label("Your message").fill(body)
    chooser.set_input_files([tmp_path / pdf_name, tmp_path / png_name])
    press(page, "Send", check=True)  # axe: the conversation with the files listed
    assert path_of(page) == conversation_path, page.url
    expect(page.get_by_role("status").filter(has_text=SENT)).to_be_visible()
    expect(messages(page)).to_have_count(before + 1)
    mine = messages(page).filter(has_text=body)
    expect(mine).to_have_count(1)
    expect(receipt(mine)).to_have_count(1)  # the patient's own side
    links = mine.locator("ul.ps-message__files a")
    expect(links).to_have_text([pdf_name, png_name])
    hrefs = [links.nth(i).get_attribute("href") for i in range(2)]
    for i, href in enumerate(hrefs):
        found = href and ATTACHMENT_PATH.fullmatch(href)
        assert found and found.group(1) == conversation, href
        expect(links.nth(i)).to_have_attribute("download", "")
    assert hrefs[0] != hrefs[1], hrefs
    for href, sent in zip(hrefs, (pdf, PNG), strict=True):  # each link serves the file sent, as a download
        answer = page.request.get(href)
        assert answer.status == 200, (href, answer.status)
        assert answer.body() == sent, f"{href} serves other bytes than were sent"
        assert answer.headers.get("content-disposition", "").startswith("attachment"), answer.headers
        assert answer.headers.get("x-content-type-options") == "nosniff", answer.headers

    # 3. Six files at once: refused, naming the limit; the text stays in the box, the files must be chosen
    #    again, and nothing was sent.
    page.get_by_label("Your message").fill(too_many)
    chooser.set_input_files(six)
    assert chooser.evaluate("input => input.files.length") == 6
    press(page, "Send", check=True)  # axe: the conversation with the refusal
    assert path_of(page) == conversation_path, page.url
    problems = page.get_by_role("alert").filter(has_text="There is a problem")
    expect(problems.get_by_role("link", name=TOO_MANY)).to_be_visible()
    expect(page.locator("#id_attachment_errors")).to_have_text(TOO_MANY)
    expect(chooser).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("status").filter(has_text=NOT_KEPT)).to_be_visible()
    expect(page.get_by_label("Your message")).to_have_value(too_many)
    expect(page.get_by_role("status").filter(has_text=SENT)).to_have_count(0)
    expect(messages(page)).to_have_count(before + 1)
    expect(messages(page).filter(has_text=too_many)).to_have_count(0)
    expect(page.locator("ol.ps-message-list")).not_to_contain_text("reading-day-")
    expect(messages(page).filter(has_text=body).locator("ul.ps-message__files a")).to_have_text([pdf_name, png_name])
