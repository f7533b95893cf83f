"""Files in a clinician space, in a browser: a clinician replies in a case thread with a PDF and a PNG, one
named with a record number, confirms the patient details its name holds and chooses the files again (a
browser keeps no chosen files across the warning); a colleague downloads the PDF, byte for byte; a patient
finds the file and the thread "not found".

The space and thread are the demo's (seed_demo, ``example_site/hospital/seed_spaces.py``: "Cardiology case
review", case discussion permitted, owner clinician1, thread "Rising troponin after an uncomplicated PCI").
The demo's clinicians are never enrolled in two-step verification (other journeys rely on being sent to
enrolment with ``clinician1``, see ``messaging_support``), so the two clinicians here are the journey's own:
each with an enrolled authenticator and a community name, added to the space by its owner, clinician1, as
the spaces journey adds its own. The patient is the demo's ``patient1``.
"""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.community_support import POST_ID, browser_of_their_own, press, space_colleagues
from tests.browser.messaging_support import words
from tests.browser.support import path_of, sign_in, sign_in_with_code, visit

pytestmark = pytest.mark.browser

SPACE = "cardiology-case-review"
DEMO_THREAD = "Rising troponin after an uncomplicated PCI"
MRN = "40817265"
FILES_LABEL = "Share files (optional)"
CONFIRM = "Post it as written: the patient details are needed here"
NOT_KEPT = "The files you chose were not kept: choose them again before you send."
PUBLISHED = "Your reply is published."
PEOPLE = (("WRITER", "Lena", "Hartmann"), ("READER", "Samuel", "Adeyemi"))
THREAD_PATH = re.compile(rf"/community/{SPACE}/t/([0-9a-f-]{{36}})/")
FILE_PATH = re.compile(rf"/community/{SPACE}/t/([0-9a-f-]{{36}})/files/([0-9a-f-]{{36}})/")


@pytest.fixture(scope="module")
def colleagues(live_portal) -> dict[str, tuple[str, str]]:
    """Two clinicians with authenticators, members of the case-review space: key -> (username, secret)."""
    token = words(8)
    people = [(key, first, last, f"dr_{last.lower()}_{token}") for key, first, last in PEOPLE]
    return {key: found[:2] for key, found in space_colleagues(live_portal, SPACE, people).items()}


def _png(token: str) -> bytes:
    """A real 1x1 PNG, with the journey's word in a text chunk (so the bytes are this run's own)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"tEXt", b"Comment\x00" + token.encode())
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def _pdf(token: str) -> bytes:
    return b"%PDF-1.4\n% Echocardiogram report " + token.encode() + b"\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def test_a_clinician_shares_files_in_a_case_thread_a_colleague_downloads_them_and_a_patient_cannot(
    browser, page, live_portal, colleagues, tmp_path
):
    token = words()
    reply = f"The echo from this morning and the ECG strip, for the ward round {token}."
    pdf_name, png_name = f"echo MRN {MRN}.pdf", f"ecg-strip-{token}.png"
    pdf, png = _pdf(token), _png(token)
    (tmp_path / pdf_name).write_bytes(pdf)
    (tmp_path / png_name).write_bytes(png)
    chosen = [tmp_path / pdf_name, tmp_path / png_name]

    with (
        browser_of_their_own(browser, live_portal) as writer,
        browser_of_their_own(browser, live_portal) as reader,
    ):
        # 1. The clinician signs in with her second factor and opens the case thread from the space's page.
        sign_in_with_code(writer, *colleagues["WRITER"])
        visit(writer, f"/community/{SPACE}/")
        press(writer, writer.get_by_role("link", name=DEMO_THREAD), check=True)  # axe: the thread, with the form
        assert THREAD_PATH.fullmatch(path_of(writer)), writer.url
        thread_path = path_of(writer)
        expect(writer.get_by_role("heading", level=1)).to_have_text(DEMO_THREAD)
        form = writer.locator("form").filter(has=writer.get_by_role("button", name="Post your reply"))
        expect(form).to_have_attribute("enctype", "multipart/form-data")
        files = writer.get_by_label(FILES_LABEL)
        expect(files).to_have_attribute("type", "file")
        expect(files).to_have_attribute("multiple", "")
        expect(writer.get_by_role("checkbox", name=CONFIRM)).to_have_count(0)  # offered only once details were found

        # 2. A reply with two files, one named with a record number: the form comes back warning of the
        #    patient details in the name, says the files were not kept, and offers to post it as written.
        writer.get_by_label("Your post").fill(reply)
        files.set_input_files(chosen)
        press(writer, "Post your reply", check=True)  # axe: the form with the warning
        assert path_of(writer) == thread_path, writer.url
        summary = writer.get_by_role("alert").filter(has_text="There is a problem")
        expect(summary).to_contain_text("This includes patient details")
        expect(summary).to_contain_text("This space permits case discussion")
        expect(writer.locator("#id_files_errors")).to_contain_text("This includes patient details")
        expect(writer.get_by_role("status").filter(has_text=NOT_KEPT)).to_be_visible()
        expect(writer.get_by_label("Your post")).to_have_value(reply)
        assert files.evaluate("input => input.files.length") == 0, "the browser kept the files it was sent"
        expect(writer.locator("main .ps-post__files").filter(has_text=token)).to_have_count(0)  # nothing shared
        confirm = writer.get_by_role("checkbox", name=CONFIRM)
        expect(confirm).not_to_be_checked()

        # 3. She ticks the box, chooses the files again and posts: the reply lists both, as download links.
        confirm.check()
        files.set_input_files(chosen)
        press(writer, "Post your reply", check=True)  # axe: the thread page with the files under the reply
        assert path_of(writer) == thread_path, writer.url
        expect(writer.get_by_role("status").filter(has_text=PUBLISHED)).to_be_visible()
        reply_id = POST_ID.search(writer.url).group(1)
        post = writer.locator(f"#post-{reply_id}")
        expect(post).to_contain_text(reply)
        links = post.locator("ul.ps-post__files a")
        expect(links).to_have_text([pdf_name, png_name])
        hrefs = [links.nth(i).get_attribute("href") for i in range(2)]
        for href in hrefs:
            found = href and FILE_PATH.fullmatch(href)
            assert found and found.group(1) == THREAD_PATH.fullmatch(thread_path).group(1), href
        assert hrefs[0] != hrefs[1], hrefs
        for i in range(2):
            expect(links.nth(i)).to_have_attribute("download", "")
        pdf_path, png_path = hrefs

        # 4. A colleague opens the thread in a browser of his own and downloads the PDF: the same bytes.
        sign_in_with_code(reader, *colleagues["READER"])
        visit(reader, thread_path)  # axe: the thread as a colleague reads it, files listed
        shared = reader.locator(f"#post-{reply_id} ul.ps-post__files")
        expect(shared.get_by_role("link")).to_have_text([pdf_name, png_name])
        with reader.expect_download() as downloading:
            shared.get_by_role("link", name=pdf_name).click()
        download = downloading.value
        assert download.failure() is None, download.failure()
        assert download.suggested_filename == pdf_name, download.suggested_filename
        assert Path(download.path()).read_bytes() == pdf, "the downloaded PDF differs from the one shared"

        # The PNG too, as the file URL answers it: an attachment nothing previews or sniffs.
        answer = reader.request.get(png_path)
        assert answer.status == 200, answer.status
        assert answer.body() == png, "the PNG served differs from the one shared"
        assert answer.headers.get("content-type") == "image/png", answer.headers
        assert answer.headers.get("content-disposition", "").startswith("attachment"), answer.headers
        assert answer.headers.get("x-content-type-options") == "nosniff", answer.headers

    # 5. A patient asking for the files or the thread by their addresses finds nothing there.
    sign_in(page, "patient1")
    for path in (pdf_path, png_path, thread_path):
        visit(page, path, status=404)  # axe: the "not found" page
        content = page.content()
        for secret in (pdf_name, png_name, MRN, DEMO_THREAD, token):
            assert secret not in content, f"{path} shows {secret!r} to a patient"
