"""The package brings its own styles: with the host's stylesheet gone, the review form still works.

The browser refuses ``hospital/portal.css`` (the example hospital's own
stylesheet). What remains is portal_social's stylesheet, linked by the
package's base template: the star questions must still be visible, named and
answerable from the keyboard, the submit button visible, the page must pass
axe, and the package's default custom-property values must be what the
browser computes.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import check_page, path_of, sign_in, visit

pytestmark = pytest.mark.browser

#: patient1 is on Dr. Okafor's care team (seed_demo) and no journey reviews him.
REVIEW_FORM = "/clinicians/david-okafor/review/"
HOST_STYLESHEET = "**/static/hospital/portal.css"
PACKAGE_STYLESHEET = "/static/portal_social/css/portal_social.css"

#: Defaults in portal_social.css (the example hospital overrides both).
PACKAGE_PRIMARY = "#1f5f99"
PACKAGE_PRIMARY_RGB = "rgb(31, 95, 153)"
PACKAGE_RADIUS = "8px"


def _refuse_host_stylesheet(page: Page) -> list[str]:
    refused: list[str] = []

    def refuse(route) -> None:
        refused.append(route.request.url)
        route.abort()

    page.route(HOST_STYLESHEET, refuse)
    return refused


def _stylesheets(page: Page) -> dict[str, int]:
    """Each linked stylesheet and how many rules the browser applied from it (0 when it did not load)."""
    return page.evaluate(
        """() => Object.fromEntries([...document.styleSheets].filter(s => s.href).map(s => {
             let rules = 0;
             try { rules = s.cssRules.length; } catch (e) { rules = 0; }
             return [s.href, rules];
           }))"""
    )


def _style(locator, prop: str) -> str:
    return locator.evaluate("(el, prop) => getComputedStyle(el).getPropertyValue(prop)", prop).strip()


def test_review_form_stays_usable_and_styled_by_the_package_without_the_hosts_stylesheet(page):
    refused = _refuse_host_stylesheet(page)
    sign_in(page, "patient1")
    visit(page, REVIEW_FORM)  # axe (serious/critical) and CSP checked without the host's CSS
    assert any(url.endswith("/static/hospital/portal.css") for url in refused), refused

    # Only the package's stylesheet is applied, and its defaults are what the browser computes.
    sheets = _stylesheets(page)
    assert any(href.endswith(PACKAGE_STYLESHEET) and rules > 20 for href, rules in sheets.items()), sheets
    assert not any("hospital/portal.css" in href and rules for href, rules in sheets.items()), sheets
    root = page.locator("html")
    assert _style(root, "--ps-color-primary") == PACKAGE_PRIMARY
    card = page.locator("main .card").first
    assert _style(card, "border-top-left-radius") == PACKAGE_RADIUS
    assert _style(card, "border-top-style") == "solid"

    # Every star question: a named radio group whose stars are visible.
    groups = page.locator("fieldset.star-rating")
    assert groups.count() >= 3
    for group in groups.all():
        expect(group.locator("legend")).to_be_visible()
        for stars in range(1, 6):
            name = "1 star" if stars == 1 else f"{stars} stars"
            radio = group.get_by_role("radio", name=name, exact=True)
            expect(radio).to_have_count(1)  # the label is tied to its input
            label = group.locator(f"label[for='{radio.get_attribute('id')}']")
            expect(label).to_be_visible()
            box = label.bounding_box()
            assert box and box["width"] >= 24 and box["height"] >= 24, box
        expect(group.locator(".star-rating__icon--empty").first).to_be_visible()

    # Keyboard: Tab reaches the first star question; arrow keys choose; focus is visible.
    first = groups.first
    page.get_by_role("link", name="Back to").first.focus()
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.type") == "radio":
            break
    assert page.evaluate("() => document.activeElement.closest('fieldset') !== null")
    page.keyboard.press("Space")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(first.get_by_role("radio", name="4 stars", exact=True)).to_be_checked()
    focused_star = first.locator(".star-rating__input:focus + .star-rating__star")
    assert _style(focused_star, "outline-style") == "solid"
    assert _style(focused_star, "outline-width") != "0px"
    # The chosen star and the ones before it show the filled glyph, the rest the empty one.
    expect(first.locator(".star-rating__icon--full:visible")).to_have_count(4)
    expect(first.locator(".star-rating__icon--empty:visible")).to_have_count(1)

    comment = page.get_by_label(re.compile("comment", re.IGNORECASE))
    expect(comment).to_be_visible()

    # The submit button is visible, sized, in the package's colours, and works from the keyboard:
    # the other questions are unanswered, so the form comes back with its error summary.
    submit = page.get_by_role("button", name="Submit review")
    expect(submit).to_be_visible()
    box = submit.bounding_box()
    assert box and box["width"] > 44 and box["height"] >= 40, box
    assert _style(submit, "background-color") == PACKAGE_PRIMARY_RGB
    submit.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    check_page(page)
    assert path_of(page) == REVIEW_FORM
    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary).to_be_visible()
    assert _style(summary, "border-top-style") == "solid"
    expect(page.locator("fieldset.star-rating").first.get_by_role("radio", name="4 stars", exact=True)).to_be_checked()


def test_host_overrides_the_package_through_custom_properties(page):
    # The same page with the host's stylesheet: its --ps-* values win, without restyling package classes.
    sign_in(page, "patient1")
    visit(page, REVIEW_FORM)
    assert _style(page.locator("html"), "--ps-color-primary") != PACKAGE_PRIMARY
    assert _style(page.locator("main .card").first, "border-top-left-radius") == "10px"
    assert _style(page.get_by_role("button", name="Submit review"), "background-color") == "rgb(11, 93, 122)"


@pytest.mark.parametrize("host_css", [True, False], ids=["with-host-css", "without-host-css"])
def test_review_form_fits_a_320px_screen(page, host_css):
    if not host_css:
        _refuse_host_stylesheet(page)
    page.set_viewport_size({"width": 320, "height": 720})
    sign_in(page, "patient1")
    visit(page, REVIEW_FORM)
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px at 320px"
    for group in page.locator("fieldset.star-rating").all():
        last_star = group.locator(".star-rating__star").last
        box = last_star.bounding_box()
        assert box and box["x"] + box["width"] <= 320, box
    submit = page.get_by_role("button", name="Submit review")
    box = submit.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 320, box
