"""portal_social.core.text: Markdown in, allowlisted HTML out.

The XSS corpus (tests/data/xss_payloads.json) goes through ``render``,
``sanitise`` and ``render(render(…))``; every output is parsed with
``html.parser`` and checked tag by tag and attribute by attribute against the
allowlist. tests/browser/test_xss_corpus.py runs the same corpus in chromium.
"""

from __future__ import annotations

import json
import re
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils.safestring import mark_safe
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from portal_social.core import text
from portal_social.core.text import (
    LINK_REL,
    MAX_QUOTE_DEPTH,
    MAX_SOURCE_LENGTH,
    TextTooLong,
    normalise,
    render,
    render_plain,
    sanitise,
)

CORPUS_FILE = Path(__file__).resolve().parents[1] / "data" / "xss_payloads.json"


def load_payloads() -> list[dict[str, str]]:
    return json.loads(CORPUS_FILE.read_text(encoding="utf-8"))["payloads"]


PAYLOADS = load_payloads()

# What the rendered HTML may contain, written out independently of the module's constants.
TAG_ATTRIBUTES = {
    "p": set(),
    "br": set(),
    "hr": set(),
    "strong": set(),
    "em": set(),
    "del": set(),
    "s": set(),
    "code": set(),
    "pre": set(),
    "blockquote": set(),
    "ul": set(),
    "ol": {"start"},
    "li": set(),
    "a": {"href", "title", "rel"},
    "h1": set(),
    "h2": set(),
    "h3": set(),
    "h4": set(),
    "h5": set(),
    "h6": set(),
    "table": set(),
    "thead": set(),
    "tbody": set(),
    "tr": set(),
    "th": {"align"},
    "td": {"align"},
}
IMAGE_ATTRIBUTES = {"src", "alt", "referrerpolicy", "loading"}
NEVER = {
    "script",
    "style",
    "iframe",
    "object",
    "embed",
    "svg",
    "math",
    "form",
    "input",
    "button",
    "meta",
    "base",
    "link",
    "template",
    "textarea",
    "noscript",
    "frame",
    "frameset",
    "applet",
    "video",
    "audio",
    "source",
    "details",
}
URL_OK = re.compile(r"(?:https?|mailto):", re.IGNORECASE)
# Browsers ignore ASCII tab/newline anywhere in a URL and C0 controls/space around it.
URL_IGNORED = re.compile(r"[\t\n\r]")


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, attrs))


def parse_tags(markup: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = _Tags()
    parser.feed(markup)
    parser.close()
    return parser.tags


def url_scheme_ok(value: str, *, https_only: bool = False) -> bool:
    cleaned = URL_IGNORED.sub("", value).strip("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f \t\n\r")
    if https_only:
        return cleaned.lower().startswith("https://")
    return bool(URL_OK.match(cleaned))


def assert_safe(markup: str, *, images: bool = False) -> None:
    """Fail unless ``markup`` is made only of allowlisted tags, attributes and URLs."""
    lowered = markup.lower()
    assert "<script" not in lowered, markup
    assert "<!--" not in markup, markup
    for tag, attrs in parse_tags(markup):
        assert tag not in NEVER, markup
        if tag == "img":
            assert images, f"img while images are off: {markup}"
            allowed = IMAGE_ATTRIBUTES
        else:
            assert tag in TAG_ATTRIBUTES, f"unexpected <{tag}> in {markup}"
            allowed = TAG_ATTRIBUTES[tag]
        names = [name for name, _ in attrs]
        assert len(names) == len(set(names)), markup
        for name, value in attrs:
            assert not name.startswith("on"), markup
            assert name in allowed, f"<{tag} {name}> in {markup}"
            value = value or ""
            if name == "href":
                assert url_scheme_ok(value), f"href {value!r} in {markup}"
                assert not re.match(r"[\x00-\x20]*(?:javascript|vbscript|data)", value, re.IGNORECASE), markup
            elif name == "src":
                assert url_scheme_ok(value, https_only=True), f"src {value!r} in {markup}"
            elif name == "align":
                assert value in {"left", "center", "right"}, markup
            elif name == "start":
                assert value.isdigit(), markup
            elif name == "rel":
                assert value == LINK_REL, markup
            elif name == "referrerpolicy":
                assert value == "no-referrer", markup
            elif name == "loading":
                assert value == "lazy", markup
        if tag == "a":
            assert dict(attrs).get("rel") == LINK_REL, markup


# --------------------------------------------------------------------------- the corpus


def test_corpus_is_large_and_distinct():
    payloads = [item["payload"] for item in PAYLOADS]
    assert len(payloads) >= 150
    assert len(set(payloads)) == len(payloads)
    assert all(item["kind"] for item in PAYLOADS)


@pytest.mark.parametrize("item", PAYLOADS, ids=[f"{i:03d}-{item['kind']}" for i, item in enumerate(PAYLOADS)])
def test_corpus_payload_renders_safely(item):
    payload = item["payload"]
    rendered = render(payload)
    assert_safe(rendered)
    assert sanitise(rendered) == rendered  # idempotent on rendered output
    assert_safe(sanitise(payload))  # the sanitiser alone, on the payload as raw HTML
    assert_safe(render(rendered))  # rendering rendered output is not meaningful, but is safe


@pytest.mark.parametrize("item", PAYLOADS, ids=[f"{i:03d}-{item['kind']}" for i, item in enumerate(PAYLOADS)])
def test_corpus_payload_renders_safely_with_images_allowed(item, settings):
    settings.PORTAL_SOCIAL_TEXT_ALLOW_IMAGES = True
    payload = item["payload"]
    rendered = render(payload)
    assert_safe(rendered, images=True)
    assert sanitise(rendered) == rendered
    assert_safe(sanitise(payload), images=True)


def test_assert_safe_is_not_vacuous():
    for bad in (
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        '<a href="javascript:alert(1)" rel="nofollow noopener noreferrer ugc">x</a>',
        '<a href="java&#x09;script:alert(1)" rel="nofollow noopener noreferrer ugc">x</a>',
        '<a href="https://example.org">no rel</a>',
        '<p style="color:red">x</p>',
        "<svg></svg>",
        "<iframe></iframe>",
        '<p onclick="alert(1)">x</p>',
        '<code class="language-python">x</code>',
    ):
        with pytest.raises(AssertionError):
            assert_safe(bad)


# --------------------------------------------------------------------------- Markdown features


def test_emphasis_and_strikethrough():
    assert render("**bold** *em* ~~gone~~") == "<p><strong>bold</strong> <em>em</em> <del>gone</del></p>\n"


def test_single_tilde_means_approximately():
    assert render("take ~5 mg to ~10 mg") == "<p>take ~5 mg to ~10 mg</p>\n"


def test_lists():
    assert render("- a\n- b") == "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n"
    assert render("3. c\n4. d") == '<ol start="3">\n<li>c</li>\n<li>d</li>\n</ol>\n'


def test_table_with_alignment():
    rendered = render("| Drug | Dose |\n|:-----|-----:|\n| x | 5 mg |")
    assert '<th align="left">Drug</th>' in rendered
    assert '<td align="right">5 mg</td>' in rendered
    assert rendered.startswith("<table>\n<thead>")
    assert "<tbody>" in rendered


def test_autolinks_get_rel():
    rendered = render("see https://example.org and www.example.org")
    assert f'<a href="https://example.org" rel="{LINK_REL}">https://example.org</a>' in rendered
    assert f'<a href="http://www.example.org" rel="{LINK_REL}">www.example.org</a>' in rendered


def test_link_with_title():
    assert render('[site](https://example.org "The site")') == (
        f'<p><a href="https://example.org" title="The site" rel="{LINK_REL}">site</a></p>\n'
    )


def test_code_escapes_html():
    assert (
        render("```html\n<b>x</b> & <script>\n```")
        == "<pre><code>&lt;b&gt;x&lt;/b&gt; &amp; &lt;script&gt;\n</code></pre>\n"
    )
    assert render("`<img src=x onerror=alert(1)>`") == "<p><code>&lt;img src=x onerror=alert(1)&gt;</code></p>\n"


def test_raw_html_is_never_rendered():
    assert render("<b>bold</b> <i>it</i>") == "<p>bold it</p>\n"
    assert render("<div>\nblock\n</div>") == ""
    assert render("I take <5 mg & feel > ok") == "<p>I take &lt;5 mg &amp; feel &gt; ok</p>\n"


def test_blockquote_rule_and_line_breaks():
    assert render("> quoted\n\n---\n\nline one\nline two") == (
        "<blockquote>\n<p>quoted</p>\n</blockquote>\n<hr>\n<p>line one<br>\nline two</p>\n"
    )


def test_headings_are_demoted_below_the_page_headings():
    assert render("# One\n## Two\n### Three\n#### Four\n###### Six") == (
        "<h3>One</h3>\n<h4>Two</h4>\n<h5>Three</h5>\n<h6>Four</h6>\n<h6>Six</h6>\n"
    )


def test_deep_block_quotes_are_flattened_and_cheap():
    rendered = render(">" * (MAX_QUOTE_DEPTH + 5) + " deep")
    assert rendered.count("<blockquote>") == rendered.count("</blockquote>") == MAX_QUOTE_DEPTH
    assert "<p>deep</p>" in rendered
    assert sanitise(rendered) == rendered
    started = time.process_time()
    render(">" * MAX_SOURCE_LENGTH)
    assert time.process_time() - started < 1.0


@pytest.mark.parametrize(
    "source",
    [
        "[" * MAX_SOURCE_LENGTH,
        "<" * MAX_SOURCE_LENGTH,
        "> " * (MAX_SOURCE_LENGTH // 2),
        "- " * (MAX_SOURCE_LENGTH // 2 - 1) + "x",
        "**a" * 3000 + "**" * 3000,
        "| a | b |\n|---|---|\n" + "| x |\n" * 3000,
        "[a](b)" * (MAX_SOURCE_LENGTH // 6),
        "&#" * (MAX_SOURCE_LENGTH // 2),
        "www." * (MAX_SOURCE_LENGTH // 4),
    ],
    ids=["brackets", "lt", "quotes", "lists", "strong", "table", "links", "entities", "www"],
)
def test_pathological_input_at_the_limit_is_fast(source):
    assert len(source) <= MAX_SOURCE_LENGTH
    started = time.process_time()
    rendered = render(source)
    assert time.process_time() - started < 1.0
    assert sanitise(rendered) == rendered


# --------------------------------------------------------------------------- links and URLs


def test_mailto_survives_and_ftp_does_not():
    assert render("[write](mailto:care@example.org)") == (
        f'<p><a href="mailto:care@example.org" rel="{LINK_REL}">write</a></p>\n'
    )
    assert render("care@example.org") == (
        f'<p><a href="mailto:care@example.org" rel="{LINK_REL}">care@example.org</a></p>\n'
    )
    assert render("[files](ftp://example.org/x)") == f'<p><a rel="{LINK_REL}">files</a></p>\n'


@pytest.mark.parametrize(
    "destination",
    [
        "javascript:alert(1)",
        "data:text/html,x",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "/relative",
        "//evil.example/",
        "#fragment",
        "tel:+15555550100",
    ],
)
def test_other_destinations_lose_their_href(destination):
    assert render(f"[x]({destination})") == f'<p><a rel="{LINK_REL}">x</a></p>\n'


# --------------------------------------------------------------------------- images


def test_images_become_alt_text_by_default():
    assert render('![x-ray of my wrist](https://example.org/x.png "title")') == "<p>x-ray of my wrist</p>\n"
    assert render("![a &amp; b](https://example.org/x.png)") == "<p>a &amp; b</p>\n"
    assert "<img" not in sanitise('<img src="https://example.org/x.png" alt="x">')


def test_images_setting_allows_https_images_only(settings):
    settings.PORTAL_SOCIAL_TEXT_ALLOW_IMAGES = True
    assert render("![scan](https://example.org/x.png)") == (
        '<p><img loading="lazy" src="https://example.org/x.png" alt="scan" referrerpolicy="no-referrer"></p>\n'
    )
    for source in (
        "![scan](http://example.org/x.png)",
        "![scan](data:image/png;base64,AAAA)",
        "![scan](javascript:alert(1))",
        "![scan](//example.org/x.png)",
        "![scan](/media/x.png)",
    ):
        rendered = render(source)
        assert "src=" not in rendered, rendered
        assert_safe(rendered, images=True)


# --------------------------------------------------------------------------- limits, types, normalisation


def test_default_limit():
    assert MAX_SOURCE_LENGTH == 20_000
    assert render("a" * MAX_SOURCE_LENGTH) == "<p>" + "a" * MAX_SOURCE_LENGTH + "</p>\n"
    with pytest.raises(TextTooLong) as excinfo:
        render("a" * (MAX_SOURCE_LENGTH + 1))
    assert excinfo.value.messages == ["This text is 20001 characters long; the limit is 20000."]


def test_too_long_raises_a_validation_error_without_the_text(settings):
    settings.PORTAL_SOCIAL_TEXT_MAX_LENGTH = 10
    assert render("ten chars!") == "<p>ten chars!</p>\n"
    with pytest.raises(TextTooLong) as excinfo:
        render("secret PHI 123")
    error = excinfo.value
    assert isinstance(error, ValidationError)
    assert isinstance(error, ValueError)
    assert error.code == "text_too_long"
    assert (error.length, error.limit) == (14, 10)
    assert error.messages == ["This text is 14 characters long; the limit is 10."]
    assert "secret" not in str(error) and "secret" not in repr(error)


def test_crlf_counts_as_one_character(settings):
    settings.PORTAL_SOCIAL_TEXT_MAX_LENGTH = 9
    assert render("abc\r\ndef\r\n") == "<p>abc<br>\ndef</p>\n"


@pytest.mark.parametrize("value", [None, b"**bytes**", 42, ["x"], object()])
def test_non_str_raises_type_error(value):
    with pytest.raises(TypeError):
        render(value)
    with pytest.raises(TypeError):
        sanitise(value)
    with pytest.raises(TypeError):
        render_plain(value)


def test_safe_string_input_is_still_untrusted():
    assert render(mark_safe("<b>x</b> <script>alert(1)</script>")) == "<p>x alert(1)</p>\n"


def test_normalisation():
    assert normalise("a\r\nb\rc\x00d\x07e\x1bf\x7fg\th\ud800i") == "a\nb\ncdefg\th\ufffdi"
    assert render("x\x00<scr\x00ipt>alert(1)</script>") == "<p>xalert(1)</p>\n"
    assert render("```\n\tindented\n```") == "<pre><code>\tindented\n</code></pre>\n"
    assert render("") == render("   \n\t ") == ""


# --------------------------------------------------------------------------- idempotence (Hypothesis)

MARKDOWN_TOKENS = st.sampled_from(
    [
        "*",
        "**",
        "_",
        "~~",
        "`",
        "```",
        "\n",
        "\n\n",
        "  \n",
        "# ",
        "> ",
        "- ",
        "1. ",
        "| ",
        " | ",
        "|---|",
        "[",
        "](",
        ")",
        "![",
        "<",
        ">",
        "</",
        "/>",
        "&",
        "&amp;",
        "&#",
        "&#x",
        ";",
        '"',
        "'",
        "=",
        " ",
        "\t",
        "http://",
        "https://",
        "www.",
        "mailto:",
        "javascript:",
        "data:",
        "@",
        ".org",
        "\\",
        "a",
        "b",
        "<a href=",
        "<img src=",
        " onerror=",
        "alert(1)",
        "<script>",
        "<svg",
        "<style>",
        "<!--",
        "-->",
        "\x00",
        "\r\n",
        "é",
        "\u202e",
    ]
)
SOURCES = st.one_of(
    st.lists(MARKDOWN_TOKENS, max_size=60).map("".join),
    st.text(max_size=300),
    st.lists(st.one_of(MARKDOWN_TOKENS, st.text(max_size=5)), max_size=40).map("".join),
)


@hypothesis_settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SOURCES)
def test_sanitise_is_idempotent_on_rendered_output(source):
    rendered = render(source)
    assert sanitise(rendered) == rendered
    assert_safe(rendered)
    assert_safe(render(rendered))


@hypothesis_settings(max_examples=200, deadline=None)
@given(SOURCES)
def test_sanitise_is_idempotent_on_rendered_output_with_images(source):
    with override_settings(PORTAL_SOCIAL_TEXT_ALLOW_IMAGES=True):
        rendered = render(source)
        assert sanitise(rendered) == rendered
        assert_safe(rendered, images=True)


# --------------------------------------------------------------------------- plain text


def test_render_plain():
    assert render_plain("# Hi\n\n**Tom** & *Jerry* <b>x</b>\n\n- [one](https://example.org)\n- two") == (
        "Hi\nTom & Jerry x\n\none\ntwo"
    )
    assert render_plain("![x-ray](https://example.org/x.png)") == "x-ray"
    assert render_plain("`a < b`") == "a < b"
    assert render_plain("") == ""


# --------------------------------------------------------------------------- memory


def _rss_bytes() -> int:
    statm = Path("/proc/self/statm")
    if not statm.exists():
        pytest.skip("needs /proc/self/statm")
    import os

    return int(statm.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_markdown_step_frees_what_cmark_allocates():
    # cmarkgfm's own wrapper leaks about 25 KB per call of this size; 20,000 calls would add ~500 MB.
    source = (
        "Some **text** with [a link](https://example.org) and ~~more~~. " * 14
    ) + "\n\n| a | b |\n|-|-|\n| 1 | 2 |\n"
    for _ in range(500):
        text.markdown_to_html(source)
    before = _rss_bytes()
    for _ in range(20_000):
        text.markdown_to_html(source)
    assert _rss_bytes() - before < 20 * 1024 * 1024


# --------------------------------------------------------------------------- bidirectional controls

BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def test_bidirectional_overrides_and_isolates_are_removed():
    # Stored "9035-768-555" under a right-to-left override displays as a phone number.
    assert normalise("call \u202e9035-768-555\u202c now") == "call 9035-768-555 now"
    assert normalise("a\u2066b\u2067c\u2068d\u2069e\u202af\u202bg\u202dh") == "abcdefgh"
    assert render("call \u202e9035-768-555\u202c now") == "<p>call 9035-768-555 now</p>\n"


def test_directional_marks_stay_for_right_to_left_writers():
    assert normalise("\u05e9\u05dc\u05d5\u05dd!\u200f \u200e \u061c") == "\u05e9\u05dc\u05d5\u05dd!\u200f \u200e \u061c"


@pytest.mark.parametrize(
    "source",
    [
        "&#x202E;9035-768-555&#x202C;",
        "&#8238;x&#8294;y&#8297;",
        "`&#x202E;` and &#x2067;z",
        "[a](https://x.example/&#x202e;)",
    ],
)
def test_character_references_cannot_bring_a_control_back(source):
    for output in (render(source), render_plain(source), sanitise(source), sanitise(render(source))):
        assert not set(output) & set(BIDI_CONTROLS), output


@hypothesis_settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(list(BIDI_CONTROLS)), st.text(max_size=6)), max_size=12).map("".join))
def test_rendered_text_never_holds_a_bidirectional_control(source):
    output = render(source)
    assert not set(output) & set(BIDI_CONTROLS)
    assert sanitise(output) == output


# --------------------------------------------------------------------------- clean_plain


@pytest.mark.parametrize("value", [None, 3, b"bytes", ["a list"]])
def test_clean_plain_refuses_anything_but_text_on_its_field(value):
    with pytest.raises(ValidationError) as caught:
        text.clean_plain(value, field="reason", required=True, max_length=10)
    assert caught.value.message_dict == {"reason": ["Enter some text."]}
    assert caught.value.error_dict["reason"][0].code == "invalid"


def test_clean_plain_normalises_and_strips():
    cleaned = text.clean_plain("  he\u202eh\x00\r\nthere \t", field="reason", required=True, max_length=50)
    assert cleaned == "heh\nthere"


@pytest.mark.parametrize("value", ["", "   ", "\x00\u202e\r\n"])
def test_clean_plain_says_what_is_missing_when_required(value):
    with pytest.raises(ValidationError) as caught:
        text.clean_plain(value, field="reason", required=True, max_length=10, empty_message="Give a reason.")
    assert caught.value.message_dict == {"reason": ["Give a reason."]}
    assert caught.value.error_dict["reason"][0].code == "required"


def test_clean_plain_allows_empty_when_optional():
    assert text.clean_plain("  ", field="pronouns", required=False, max_length=10) == ""


def test_clean_plain_counts_after_normalising_and_never_echoes_the_text():
    assert text.clean_plain("ab\r\ncd", field="bio", required=False, max_length=5) == "ab\ncd"
    with pytest.raises(ValidationError) as caught:
        text.clean_plain("MRN 00482913!", field="bio", required=False, max_length=5)
    [message] = caught.value.message_dict["bio"]
    assert message == "This is 13 characters long; the limit is 5."
    assert "00482913" not in message
    assert caught.value.error_dict["bio"][0].code == "max_length"


@pytest.mark.parametrize(
    "source",
    [
        "",
        " \n\t",
        "\u200b",
        "\u200b\u200c\u200d\u2060\ufeff",
        "\u00ad",
        "\u3164\u115f\uffa0",
        "\u2800",
        "\u034f",
        "\ufe0f",
        "\U000e0041\U000e007f",
        "&#8203;",
        "&nbsp; &#x200B;",
        "\x85",
    ],
)
def test_text_that_shows_nothing_is_blank(source):
    assert text.is_blank(source)
    assert text.stripped(source) == ""


@pytest.mark.parametrize("source", ["a", "hi\u200b", "\u200bhi", "❤️", "&amp;", ".", "\u0301", "😀", "中"])
def test_text_with_anything_to_read_is_not_blank_and_keeps_its_inner_characters(source):
    assert not text.is_blank(source)
    assert text.stripped(f"  {source}\n") == source
