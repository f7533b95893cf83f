"""The package brings its own styles, and the example hospital only tunes them.

* Every class a package template uses is styled by the package's stylesheet
  (portal pages) or, for the staff screens inside the Wagtail admin, by the
  package's admin stylesheet or Wagtail's own: a new template cannot ship unstyled.
* The stylesheet is built on --ps-* custom properties, defined once, with
  defaults that meet WCAG AA contrast, and nothing in it needs more than
  ``style-src 'self'``.
* portal_social/base.html links it, once, whatever the host's base template does.
* The example hospital's portal.css sets --ps-* properties and lays out its own
  pages; it never styles a package class.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import wagtail
from django.template import engines
from django.test import RequestFactory, override_settings

import portal_social

PACKAGE = Path(portal_social.__file__).resolve().parent
TEMPLATES = PACKAGE / "templates"
STYLESHEET = PACKAGE / "static" / "portal_social" / "css" / "portal_social.css"
ADMIN_STYLESHEET = PACKAGE / "static" / "portal_social" / "css" / "portal_social_admin.css"
HOST_STYLESHEET = (
    Path(__file__).resolve().parents[2] / "example_site" / "hospital" / "static" / "hospital" / "portal.css"
)
WAGTAIL_CSS = Path(wagtail.__file__).resolve().parent / "admin" / "static" / "wagtailadmin" / "css"

#: Classes whose last part is a template variable, and the values it takes.
DYNAMIC_CLASSES = {
    "stars__star--": ("full", "half", "empty"),  # star_icons in portal_social_profiles
    "message--": ("info", "success", "warning", "error"),  # Django message tags
    "ps-chart__bar--": tuple(str(n) for n in range(6)),  # feedback.charts.SERIES
}

CLASS_ATTRIBUTE = re.compile(r'\bclass="([^"]*)"')
TEMPLATE_TAG = re.compile(r"\{%.*?%\}", re.S)
VARIABLE = re.compile(r"\{\{.*?\}\}", re.S)


def template_classes(text: str) -> set[str]:
    """The class names in every class="..." of a template, template tags removed.

    Text inside ``{% if %}`` branches counts (it is a class the page can carry);
    a token built from a variable (``stars__star--{{ state }}``) is skipped here
    and covered by DYNAMIC_CLASSES.
    """
    classes = set()
    for value in CLASS_ATTRIBUTE.findall(text):
        value = TEMPLATE_TAG.sub(" ", VARIABLE.sub("\0", value))
        classes.update(token for token in value.split() if "\0" not in token)
    return classes


def css_selectors_name(css: str, name: str) -> bool:
    """Whether a selector in ``css`` names the class ``name``."""
    escaped = re.escape(name).replace(":", r"\\:")
    return re.search(r"\." + escaped + r"(?![\w-])", strip_comments(css)) is not None


def strip_comments(css: str) -> str:
    return re.sub(r"/\*.*?\*/", "", css, flags=re.S)


def is_email(path: Path) -> bool:
    """An HTML email: it has a plain-text twin (message.html beside message.txt).

    Mail clients ignore linked stylesheets and no CSP applies, so emails carry
    their own inline styles and are left out of these checks.
    """
    return path.with_suffix(".txt").exists()


#: An f-string's ``{...}`` in a class built in Python: a variable, like a template's ``{{ }}``.
PY_VARIABLE = re.compile(r"\{[^{}]*\}")


def python_markup() -> dict[Path, str]:
    """The package's Python modules that build portal markup themselves (``class="..."`` in their source):
    the thread page's posts (``community.views.post_markup``), the report charts. Their classes, variables
    (``{...}``) marked as in templates, count like a template's."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text()
        if "migrations" not in path.parts and 'class="' in text:
            found[path] = PY_VARIABLE.sub("{{ v }}", text)
    return found


def package_templates() -> dict[Path, str]:
    return {path: path.read_text() for path in sorted(TEMPLATES.rglob("*.html")) if not is_email(path)}


def moderation_item_templates() -> set[Path]:
    """The templates each content kind shows its items with, inside the moderation queue's admin screen."""
    from portal_social.core import moderation

    return {TEMPLATES / kind.template for kind in moderation.kinds()}


def is_admin_screen(path: Path, text: str) -> bool:
    """A staff screen of the Wagtail admin, or a part of one (a template in an ``admin`` folder)."""
    return (
        '{% extends "wagtailadmin/' in text
        or "admin" in path.relative_to(TEMPLATES).parts[:-1]
        or path in moderation_item_templates()
    )


def portal_classes() -> dict[str, set[Path]]:
    found: dict[str, set[Path]] = {}
    for path, text in package_templates().items():
        if not is_admin_screen(path, text):
            for name in template_classes(text):
                found.setdefault(name, set()).add(path)
    for path, text in python_markup().items():
        for name in template_classes(text):
            found.setdefault(name, set()).add(path)
    return found


def test_the_markup_built_in_python_is_checked_too():
    classes = portal_classes()
    post_markup = PACKAGE / "community" / "views" / "post_markup.py"
    assert post_markup in python_markup()
    for name in ("ps-post", "ps-post--held", "ps-member-card", "ps-reactions__button", "ps-post__edit-link"):
        assert post_markup in classes.get(name, set()), name


def test_the_template_parser_finds_conditional_classes_and_skips_variables():
    text = (
        '<div class="field{% if errors %} field--invalid{% endif %}">'
        '<span class="stars__star stars__star--{{ state }}"></span>'
        '<p class="{% if a %}one{% else %}two{% endif %} three">'
    )
    assert template_classes(text) == {"field", "field--invalid", "stars__star", "one", "two", "three"}
    assert css_selectors_name(".field--invalid{}", "field--invalid")
    assert not css_selectors_name(".field--invalid{}", "field")
    assert not css_selectors_name("/* .field */", "field")


def test_every_class_in_a_portal_page_template_is_in_the_package_stylesheet():
    css = STYLESHEET.read_text()
    classes = portal_classes()
    assert len(classes) > 50, "the parser found too few classes to be looking at the templates"
    missing = {
        name: sorted(str(p.relative_to(PACKAGE)) for p in paths)
        for name, paths in classes.items()
        if not css_selectors_name(css, name)
    }
    assert not missing, f"classes used in templates but not styled in {STYLESHEET.name}: {missing}"


def test_every_variant_of_a_class_built_from_a_variable_is_in_the_package_stylesheet():
    css = STYLESHEET.read_text()
    for prefix, values in DYNAMIC_CLASSES.items():
        for value in values:
            assert css_selectors_name(css, prefix + value), prefix + value


def test_every_class_on_the_staff_screens_is_styled_by_the_package_or_by_wagtail():
    ours = ADMIN_STYLESHEET.read_text()
    wagtails = "\n".join(path.read_text() for path in WAGTAIL_CSS.glob("*.css"))
    assert ".w-field" in wagtails, f"Wagtail's admin CSS not found in {WAGTAIL_CSS}"
    missing = {}
    for path, text in package_templates().items():
        if is_admin_screen(path, text):
            for name in template_classes(text):
                if not (css_selectors_name(ours, name) or css_selectors_name(wagtails, name)):
                    missing.setdefault(name, []).append(str(path.relative_to(TEMPLATES)))
    assert not missing, f"unstyled classes on staff screens: {missing}"
    # The queue's decisions sit in a ps-actions row (tests/profiles/test_hold_codes.py).
    assert re.search(r"\.ps-actions\s*\{[^}]*\bgap:\s*\.?[1-9]", ours), "decision forms must not touch"


def test_each_moderation_item_template_is_a_package_template():
    assert moderation_item_templates(), "no content kind is registered with the moderation queue"
    assert all(path.exists() for path in moderation_item_templates())


# --------------------------------------------------------------------------- custom properties


def root_properties(css: str, selector: str) -> dict[str, str]:
    """The custom properties set in the first ``selector { ... }`` block."""
    block = re.search(re.escape(selector) + r"\s*\{(.*?)\}", strip_comments(css), re.S)
    assert block, f"no {selector} block"
    return dict(re.findall(r"(--[\w-]+)\s*:\s*([^;]+);", block.group(1)))


def test_the_stylesheet_is_built_on_overridable_custom_properties():
    css = STYLESHEET.read_text()
    # :where() has no specificity: any host :root rule wins, whatever the order of the two links.
    defaults = root_properties(css, ":where(:root)")
    for name in (
        "--ps-color-primary",
        "--ps-color-text",
        "--ps-color-error",
        "--ps-font",
        "--ps-radius",
        "--ps-space",
        "--ps-gap",
        "--ps-focus-color",
        "--ps-focus-width",
    ):
        assert name in defaults, name
    used = set(re.findall(r"var\((--[\w-]+)", css))
    assert used <= set(defaults), f"used but never given a default: {used - set(defaults)}"
    assert all(name.startswith("--ps-") for name in defaults)
    # Colours come from the properties: no literal colour outside the defaults (forced-colors keywords aside).
    body = strip_comments(css).split("}", 1)[1]
    assert not re.findall(r"#[0-9a-fA-F]{3,8}\b|rgba?\(", body)


def test_the_stylesheet_needs_nothing_the_content_security_policy_forbids():
    css = strip_comments(STYLESHEET.read_text() + ADMIN_STYLESHEET.read_text())
    assert "url(" not in css and "@import" not in css and "expression(" not in css
    for path, text in package_templates().items():
        assert not re.search(r"\sstyle=", text), f"inline style in {path.name} (CSP: style-src 'self')"
        assert "<style" not in text, f"<style> element in {path.name} (CSP: style-src 'self')"


def test_button_rows_keep_buttons_apart_and_focus_is_visible():
    css = strip_comments(STYLESHEET.read_text())
    rule = re.search(r"(?:^|[\s,}])\.ps-actions\s*(?:,[^{]*)?\{([^}]*)\}", css)
    assert rule and re.search(r"\bgap:\s*var\(--ps-gap\)", rule.group(1)) and "flex-wrap: wrap" in rule.group(1)
    assert re.search(r":focus-visible\s*\{[^}]*outline:\s*var\(--ps-focus-width\) solid var\(--ps-focus-color\)", css)


# --------------------------------------------------------------------------- contrast


def _hex(value: str, properties: dict[str, str]) -> str:
    value = value.strip()
    while value.startswith("var("):
        value = properties[value[4:-1].strip()].strip()
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", value), value
    return value


def _luminance(hex_colour: str) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


#: (foreground, background, minimum): text 4.5:1, borders, stars and the focus ring 3:1 (WCAG 2.2 AA).
CONTRAST_PAIRS = [
    ("--ps-color-text", "--ps-color-surface", 4.5),
    ("--ps-color-text", "--ps-color-subtle", 4.5),
    ("--ps-color-muted", "--ps-color-surface", 4.5),
    ("--ps-color-muted", "--ps-color-subtle", 4.5),
    ("--ps-color-primary", "--ps-color-surface", 4.5),
    ("--ps-color-primary", "--ps-color-subtle", 4.5),
    ("--ps-color-primary-dark", "--ps-color-subtle", 4.5),
    ("--ps-color-on-primary", "--ps-color-primary", 4.5),
    ("--ps-color-on-primary", "--ps-color-primary-dark", 4.5),
    ("--ps-color-error", "--ps-color-surface", 4.5),
    ("--ps-color-error", "--ps-color-error-bg", 4.5),
    ("--ps-color-success", "--ps-color-success-bg", 4.5),
    ("--ps-color-text", "--ps-color-warning-bg", 4.5),
    ("--ps-color-star", "--ps-color-surface", 4.5),
    ("--ps-color-star-empty", "--ps-color-surface", 4.5),
    ("--ps-color-input-border", "--ps-color-surface", 3),
    ("--ps-focus-color", "--ps-color-surface", 3),
]


@pytest.mark.parametrize("with_host", [False, True], ids=["package-defaults", "example-hospital"])
def test_colours_meet_wcag_aa_contrast(with_host):
    properties = root_properties(STYLESHEET.read_text(), ":where(:root)")
    if with_host:
        properties = {**properties, **root_properties(HOST_STYLESHEET.read_text(), ":root")}
    for foreground, background, minimum in CONTRAST_PAIRS:
        ratio = contrast(_hex(properties[foreground], properties), _hex(properties[background], properties))
        assert ratio >= minimum, f"{foreground} on {background}: {ratio:.2f}:1 < {minimum}:1"


# --------------------------------------------------------------------------- the host


def test_the_example_hospital_only_sets_properties_and_styles_its_own_pages():
    host = HOST_STYLESHEET.read_text()
    restyled = sorted(name for name in portal_classes() if css_selectors_name(host, name))
    assert not restyled, f"portal.css styles package classes directly: {restyled}"
    overrides = root_properties(host, ":root")
    assert {"--ps-color-primary", "--ps-font", "--ps-radius"} <= set(overrides)


# --------------------------------------------------------------------------- linking


BARE_HOST_BASE = (
    "<!DOCTYPE html><html><head><title>{% block title %}{% endblock %}</title>"
    "{% block extra_head %}{% endblock %}</head><body>{% block content %}{% endblock %}</body></html>"
)


def _render(name: str, request) -> str:
    return engines["django"].get_template(name).render({"request": request, "user": request.user}, request)


def _links(html: str) -> list[str]:
    return re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)


@pytest.mark.django_db
def test_package_pages_link_the_stylesheet_even_when_the_host_base_does_not(tmp_path, settings):
    (tmp_path / "base.html").write_text(BARE_HOST_BASE)
    templates = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    request = RequestFactory().get("/community/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    with override_settings(TEMPLATES=templates):
        html = _render("portal_social/community/index.html", request)
    assert _links(html) == ["/static/portal_social/css/portal_social.css"]
    assert html.index("portal_social.css") < html.index("</head>")


@pytest.mark.django_db
def test_the_example_hospital_links_the_package_stylesheet_once_and_before_its_own(rf):
    from django.contrib.auth.models import AnonymousUser

    request = rf.get("/community/")
    request.user = AnonymousUser()
    html = _render("portal_social/community/index.html", request)
    assert _links(html) == ["/static/portal_social/css/portal_social.css", "/static/hospital/portal.css"]


@pytest.mark.django_db
def test_the_wagtail_admin_links_the_staff_screens_stylesheet(client, make_user):
    from portal_social.core import roles
    from tests.factories import sign_in

    moderator = make_user(roles.COMMUNITY_MODERATOR, mfa=True)
    sign_in(client, moderator)
    page = client.get("/cms/portal-social/moderation/")
    assert page.status_code == 200
    assert b"portal_social/css/portal_social_admin.css" in page.content
