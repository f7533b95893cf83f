"""The home page screenshot used in the documentation (docs/screenshot-home.png).

Every run takes the picture; ``make screenshot`` (PORTAL_SOCIAL_UPDATE_SCREENSHOT=1)
writes it into docs/, other runs into a temporary folder so the checkout stays clean.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.support import REPO_ROOT, path_of, sign_in, visit

pytestmark = pytest.mark.browser

SCREENSHOT = REPO_ROOT / "docs" / "screenshot-home.png"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_signed_in_patient_home_page_is_captured_as_a_full_page_png_for_the_docs(page, tmp_path):
    target = SCREENSHOT if os.environ.get("PORTAL_SOCIAL_UPDATE_SCREENSHOT") == "1" else tmp_path / SCREENSHOT.name
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, "patient1")
    # Open the home page again so the one-off "signed in" notice is not in the picture.
    visit(page, "/")
    assert path_of(page) == "/"
    expect(page.locator("header").get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.locator("main .messages")).to_have_count(0)

    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target), full_page=True)

    data = Path(target).read_bytes()
    assert data.startswith(PNG_SIGNATURE), f"{target} is not a PNG"
    assert len(data) > 10 * 1024, f"{target} is only {len(data)} bytes"
    width = int.from_bytes(data[16:20], "big")
    assert width == 1280, f"the screenshot is {width}px wide, expected 1280"
