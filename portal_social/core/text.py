"""User text: Markdown source in, safe HTML out (``render``), and the HTML sanitiser (``sanitise``).

House rule 5: all user text is stored as *source*, rendered once at write time
by :func:`render`, and the rendered HTML is what templates show (``|safe``).

The pipeline
============

1. **Checks and normalisation** (:func:`normalise`). Non-``str`` input raises
   ``TypeError``. Line endings become ``\\n``; NUL and the other C0 control
   characters except tab and newline, and DEL, are removed; so are the
   bidirectional embedding, override and isolate controls (U+202A–U+202E,
   U+2066–U+2069), with which an author could make text display in another
   order than it is written ("9035-768-555" shown as a phone number) or
   reverse the page around a post (step 4 drops them again when a character
   reference such as ``&#x202E;`` brings one back); lone surrogates
   (which cannot be encoded as UTF-8) become U+FFFD. The normalised text may
   be at most ``PORTAL_SOCIAL_TEXT_MAX_LENGTH`` characters (default
   :data:`MAX_SOURCE_LENGTH`); longer text raises :class:`TextTooLong`, a
   ``ValidationError`` (and ``ValueError``) whose message gives the two
   numbers and never echoes the text. Line endings are normalised *before*
   the count, so a browser's ``\\r\\n`` does not count twice and the limit
   agrees with a textarea's ``maxlength``.

2. **Markdown** with GitHub's cmark-gfm (``cmarkgfm``) in its *safe* mode
   (``CMARK_OPT_UNSAFE`` is never set): raw HTML in the source is replaced by
   a comment, which step 4 removes, so ``<b>hi</b>`` shows as ``hi`` and an
   HTML block such as ``<script>…</script>`` disappears; ``javascript:`` (and
   ``vbscript:``, ``file:``, non-image ``data:``) link destinations come out
   as ``href=""``. Extensions: autolink, strikethrough, table, tagfilter.
   Options: ``HARDBREAKS`` (a newline in a post is a line break, as in GitHub
   comments — what patients typing in a text box expect) and
   ``STRIKETHROUGH_DOUBLE_TILDE`` (only ``~~x~~`` strikes through: a single
   tilde means "approximately" in "~5 mg to ~10 mg" and must not strike the
   dose out).

   ``cmarkgfm``'s own wrappers never free the parsed tree nor the HTML buffer
   (about 25 KB leaked per 1 KB post, see theacodes/cmarkgfm#53), which a
   long-running ASGI worker cannot afford. :func:`markdown_to_html` drives the
   same C library through its CFFI handle and frees both with
   ``cmark_node_free`` and the C allocator's ``free`` (looked up with
   ``ctypes`` in the extension module, which exports them). If a build of
   ``cmarkgfm`` ever lacks those symbols, it falls back to the leaking public
   function and logs a warning once.

3. **Post-processing of cmark's own output** (string rewrites that rely only
   on cmark's fixed output format; raw HTML never reaches this step, and
   step 4 re-checks everything anyway):

   - headings are demoted by :data:`HEADING_OFFSET` levels (``#`` becomes
     ``<h3>``, ``####`` and deeper become ``<h6>``): user text sits inside
     pages whose ``<h1>`` is the page title and ``<h2>`` the thread, post or
     review, so a patient's ``# Help`` must not become a second page title
     in the outline screen-reader users navigate by;
   - when images are not allowed (the default), an image is replaced by its
     alt text, so ``![x-ray of my wrist](https://…)`` still says something;
   - block quotes nested deeper than :data:`MAX_QUOTE_DEPTH` are flattened
     (``>>>>…`` is otherwise a cheap way to make the sanitiser spend a
     second on one post).

4. **Sanitising** with nh3 (ammonia) and an explicit allowlist
   (:data:`ALLOWED_TAGS`, :data:`ALLOWED_ATTRIBUTES`, :data:`ALLOWED_URL_SCHEMES`):

   - tags: ``p br hr strong em del s code pre blockquote ul ol li a h1``–``h6``
     ``table thead tbody tr th td``;
   - attributes: ``a[href title]``, ``ol[start]``, ``th/td[align]`` limited
     to ``left``/``center``/``right`` (cmark-gfm emits ``align`` for table
     column alignment; it is kept because it is harmless and a ``style``
     attribute would need CSP's ``unsafe-inline``). No ``class`` anywhere:
     cmark's ``language-xxx`` class on fenced code is dropped, as the package
     ships no syntax highlighter and a class is a handle for page CSS/JS;
   - URLs: ``http``, ``https`` and ``mailto`` only, and *relative URLs are
     removed* (``url_relative="deny"``): ``//evil.example`` and ``/\\evil.example``
     are relative references that browsers resolve to another host, and the
     portal has no use for user links into itself that an absolute URL
     cannot serve;
   - every ``<a>`` gets ``rel="nofollow noopener noreferrer ugc"`` (:data:`LINK_REL`);
   - comments are stripped, and the content of ``script``, ``style``,
     ``template``, ``textarea``, ``svg``, ``math`` and similar elements is
     dropped with the element (:data:`CLEAN_CONTENT_TAGS`).

   Images are off by default: remote images let a third party log who read a
   post, and when. With ``PORTAL_SOCIAL_TEXT_ALLOW_IMAGES = True``, ``img``
   is allowed with ``src`` and ``alt`` only, ``src`` must be ``https://``,
   and every image gets ``referrerpolicy="no-referrer"`` (and, from
   Markdown, ``loading="lazy"``). (The host's CSP ``img-src`` must also allow the
   image hosts.)

   The nh3 cleaners are built once, at import time (both variants), so each
   call pays only for the cleaning itself.

Idempotence, and rendering rendered output
==========================================

:func:`sanitise` is public: it is the allowlist step alone, for HTML that is
not Markdown (and for re-checking stored HTML after the allowlist changes).
On anything :func:`render` produced it changes nothing:
``sanitise(render(x)) == render(x)`` for every ``x`` (the tests check it with
Hypothesis and over the XSS corpus). That is the sense in which "rendering an
already rendered output changes nothing".

``render(render(x))`` is *not* the identity and is not meant to be: it reads
HTML as Markdown source, and cmark's safe mode drops every tag it finds
there, leaving the text. It is, however, just as safe as any other call —
whatever the input, the output has passed the same allowlist — and the tests
check the safety properties on ``render(render(payload))`` too.

Performance
===========

``bench/text_pipeline.py`` measures each step on realistic ~1 KB posts: the
whole pipeline runs at about 24,000 posts/s on one core of the reference
machine (cmark-gfm ~14 µs, nh3 ~19 µs per post; link-heavy posts about half
as fast). The cleaners are built once at import; settings are read per call
(two ``getattr``), so ``override_settings`` works in tests.
"""

from __future__ import annotations

import ctypes
import html
import logging
import re
from typing import Any

import nh3
from cmarkgfm import _cmark
from cmarkgfm import cmark as _cmark_py
from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from portal_social.conf import app_settings

logger = logging.getLogger(__name__)

__all__ = [
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_TAGS",
    "ALLOWED_URL_SCHEMES",
    "LINK_REL",
    "MAX_SOURCE_LENGTH",
    "TextTooLong",
    "clean_plain",
    "is_blank",
    "markdown_to_html",
    "normalise",
    "render",
    "render_plain",
    "sanitise",
    "stripped",
]

#: Default maximum length of a source text, in characters (after normalisation).
MAX_SOURCE_LENGTH = 20_000

#: Django setting overriding :data:`MAX_SOURCE_LENGTH`.
MAX_LENGTH_SETTING = "PORTAL_SOCIAL_TEXT_MAX_LENGTH"

#: Django setting: ``True`` allows ``https`` images (default ``False``).
ALLOW_IMAGES_SETTING = "PORTAL_SOCIAL_TEXT_ALLOW_IMAGES"

#: Block quotes nested deeper than this are flattened into the quote at this depth. cmark-gfm
#: caps list nesting (at 100) but not quotes, and html5ever (inside nh3) is quadratic in the
#: depth: 20,000 ``>`` characters would cost a second of CPU per post without this.
MAX_QUOTE_DEPTH = 16

#: Markdown headings are rendered this many levels down (``#`` -> ``<h3>``), capped at ``<h6>``.
HEADING_OFFSET = 2

ALLOWED_TAGS: frozenset[str] = frozenset(
    {
        "p",
        "br",
        "hr",
        "strong",
        "em",
        "del",
        "s",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "a",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    }
)

#: Attributes allowed with any value (URL attributes are further limited to :data:`ALLOWED_URL_SCHEMES`).
ALLOWED_ATTRIBUTES: dict[str, frozenset[str]] = {
    "a": frozenset({"href", "title"}),
    "ol": frozenset({"start"}),
}

#: Attributes allowed with a fixed set of values only.
ALLOWED_ATTRIBUTE_VALUES: dict[str, dict[str, frozenset[str]]] = {
    "th": {"align": frozenset({"left", "center", "right"})},
    "td": {"align": frozenset({"left", "center", "right"})},
}

ALLOWED_URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})

#: The ``rel`` every link gets: no ranking credit for spam, no ``window.opener``,
#: no ``Referer`` (portal URLs stay in the portal), marked as user-generated.
LINK_REL = "nofollow noopener noreferrer ugc"

#: Elements removed *with their content* when :func:`sanitise` meets them in raw HTML.
CLEAN_CONTENT_TAGS: frozenset[str] = frozenset(
    {
        "script",
        "style",
        "template",
        "textarea",
        "title",
        "noscript",
        "noembed",
        "noframes",
        "xmp",
        "plaintext",
        "iframe",
        "object",
        "select",
        "svg",
        "math",
    }
)

# Image variant (PORTAL_SOCIAL_TEXT_ALLOW_IMAGES = True). Two nh3 behaviours shape it: set
# attributes are appended in hash order, and an attribute removed by an ``attribute_filter``
# callback reorders the others; either would make the output depend on the run and break
# ``sanitise(render(x)) == render(x)``. So only one attribute is *set* (referrerpolicy);
# ``loading="lazy"`` is added to cmark's images in _postprocess and merely allowed here; and the
# https-only rule for ``src`` is applied to nh3's (normalised) output by _https_images_only.
_IMAGE_ATTRIBUTES = frozenset({"src", "alt"})
_IMAGE_SET_ATTRIBUTES = {"referrerpolicy": "no-referrer"}
_IMAGE_ATTRIBUTE_VALUES = {"loading": frozenset({"lazy"})}


def _cleaner(*, images: bool) -> nh3.Cleaner:
    tags = set(ALLOWED_TAGS)
    # "*": nothing. Without it ammonia keeps its default generic attributes (lang, title) on every tag.
    attributes = {"*": set()} | {tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()}
    attribute_values = {
        tag: {name: set(values) for name, values in spec.items()} for tag, spec in ALLOWED_ATTRIBUTE_VALUES.items()
    }
    set_attribute_values = {}
    if images:
        tags.add("img")
        attributes["img"] = set(_IMAGE_ATTRIBUTES)
        attribute_values["img"] = {name: set(values) for name, values in _IMAGE_ATTRIBUTE_VALUES.items()}
        set_attribute_values["img"] = dict(_IMAGE_SET_ATTRIBUTES)
    return nh3.Cleaner(
        tags=tags,
        clean_content_tags=set(CLEAN_CONTENT_TAGS),
        attributes=attributes,
        tag_attribute_values=attribute_values,
        set_tag_attribute_values=set_attribute_values,
        url_schemes=set(ALLOWED_URL_SCHEMES),
        url_relative="deny",
        link_rel=LINK_REL,
        strip_comments=True,
    )


_CLEANER = _cleaner(images=False)
_IMAGE_CLEANER = _cleaner(images=True)
_TEXT_ONLY_CLEANER = nh3.Cleaner(
    tags=set(), clean_content_tags=set(CLEAN_CONTENT_TAGS), attributes={"*": set()}, link_rel=None, strip_comments=True
)

# In nh3's output a tag is ``<name`` then `` attr="value"`` pairs (values double-quoted, with
# ``"`` and ``>`` escaped) then ``>``. _https_images_only walks the pairs of each image from the
# start, so a value that merely contains ` src="` cannot be mistaken for an attribute.
_IMG_TAG = re.compile(r"<img( [^>]*)?>")
_ATTRIBUTE = re.compile(r' ([a-z-]+)="([^"]*)"')


def _https_images_only(match: re.Match[str]) -> str:
    tag = match.group()
    position, end, kept = 4, len(tag) - 1, []
    while position < end:
        attribute = _ATTRIBUTE.match(tag, position)
        if attribute is None:  # not nh3's format: fail closed
            return ""
        if attribute.group(1) != "src" or attribute.group(2)[:8].lower() == "https://":
            kept.append(attribute.group())
        position = attribute.end()
    return "<img" + "".join(kept) + ">"


# What normalise drops, as cmark (and nh3) can write it back: both decode character references,
# so "&#x202E;" in a post would reach the page as an override.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def _clean(markup: str, *, images: bool) -> str:
    if not images:
        cleaned = _CLEANER.clean(markup)
    else:
        cleaned = _IMAGE_CLEANER.clean(markup)
        if "<img " in cleaned:
            cleaned = _IMG_TAG.sub(_https_images_only, cleaned)
    # After the allowlist: nh3 has escaped "&" and "<", so dropping a character cannot make a tag
    # or a reference, and it cannot change an allowed URL scheme (none holds one of these).
    if not cleaned.isascii() and _BIDI_CONTROLS.search(cleaned) is not None:
        cleaned = _BIDI_CONTROLS.sub("", cleaned)
    return cleaned


class TextTooLong(ValidationError, ValueError):
    """The source text is longer than the limit. The message never includes the text."""

    def __init__(self, length: int, limit: int):
        self.length = length
        self.limit = limit
        super().__init__(
            gettext("This text is %(length)d characters long; the limit is %(limit)d."),
            code="text_too_long",
            params={"length": length, "limit": limit},
        )


# --------------------------------------------------------------------------- normalisation

# C0 controls except \t (09) and \n (0a); \r (0d) is handled before; DEL (7f); the bidirectional
# embeddings, overrides (202a-202e) and isolates (2066-2069); lone surrogates. The directional
# marks (200e, 200f, 061c) stay: right-to-left writers need them to place punctuation, they
# have no scope to reverse a run, and the PHI scanner reads the order they produce.
_UNWANTED = re.compile("[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _replace_unwanted(match: re.Match[str]) -> str:
    return "\ufffd" if match.group() >= "\ud800" else ""


def _require_str(value: object, function: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{function}() expects str, not {type(value).__name__}")
    return value


def normalise(source: str) -> str:
    """``\\r\\n`` and ``\\r`` -> ``\\n``; drop C0 controls (but tab and newline), DEL and the bidirectional
    embedding, override and isolate controls; lone surrogates -> U+FFFD."""
    _require_str(source, "normalise")
    if "\r" in source:
        source = source.replace("\r\n", "\n").replace("\r", "\n")
    if _UNWANTED.search(source) is not None:
        source = _UNWANTED.sub(_replace_unwanted, source)
    return source


#: Characters that show nothing: C1 controls, Unicode's default-ignorable code points (soft hyphen, zero-width
#: spaces and joiners, word joiner, invisible operators, byte-order mark, variation selectors, Hangul fillers,
#: tags...) and the blank Braille pattern. Whitespace is ``\s``.
_INVISIBLE = (
    "\x80-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0000-\U000e0fff"
)
_VISIBLE = re.compile(f"[^\\s{_INVISIBLE}]")


def is_blank(source: str) -> bool:
    """True when ``source`` shows nothing to a reader: only whitespace and invisible characters (zero-width
    spaces, joiners, soft hyphens, fillers...), written as they are or as HTML character references
    (``&#8203;``, ``&nbsp;``). A message, post or comment that is blank is an empty one."""
    _require_str(source, "is_blank")
    if _VISIBLE.search(source) is None:
        return True
    return "&" in source and _VISIBLE.search(html.unescape(source)) is None


def stripped(source: str) -> str:
    """``source`` without whitespace at either end, or ``""`` when it shows nothing (:func:`is_blank`)."""
    source = _require_str(source, "stripped").strip()
    return "" if is_blank(source) else source


def _max_length() -> int:
    return app_settings.TEXT_MAX_LENGTH


def _images_allowed() -> bool:
    return app_settings.TEXT_ALLOW_IMAGES


# --------------------------------------------------------------------------- Markdown

_OPTIONS = (
    _cmark_py.Options.CMARK_OPT_DEFAULT
    | _cmark_py.Options.CMARK_OPT_HARDBREAKS
    | _cmark_py.Options.CMARK_OPT_STRIKETHROUGH_DOUBLE_TILDE
)
if _OPTIONS & _cmark_py.Options.CMARK_OPT_UNSAFE:  # pragma: no cover - safe mode, always
    raise ImportError("portal_social.core.text must never run cmark with CMARK_OPT_UNSAFE")
_EXTENSION_NAMES = ("autolink", "strikethrough", "table", "tagfilter")

_lib = _cmark.lib
_ffi = _cmark.ffi
_lib.cmark_gfm_core_extensions_ensure_registered()
_EXTENSIONS = tuple(_lib.cmark_find_syntax_extension(name.encode()) for name in _EXTENSION_NAMES)
if any(extension == _ffi.NULL for extension in _EXTENSIONS):  # pragma: no cover - broken cmarkgfm build
    raise ImportError(f"cmarkgfm lacks one of the extensions {_EXTENSION_NAMES}")


def _load_free_functions():
    try:
        so = ctypes.CDLL(_cmark.__file__)
        node_free, c_free = so.cmark_node_free, so.free
    except (OSError, AttributeError):  # pragma: no cover - depends on the cmarkgfm build
        logger.warning(
            "cmarkgfm's extension module does not export cmark_node_free/free; "
            "falling back to cmarkgfm's own wrapper, which leaks memory on every call."
        )
        return None, None
    for function in (node_free, c_free):
        function.argtypes = [ctypes.c_void_p]
        function.restype = None
    return node_free, c_free


_node_free, _c_free = _load_free_functions()


def _address(pointer: Any) -> int:
    return int(_ffi.cast("uintptr_t", pointer))


def markdown_to_html(text: str) -> str:
    """cmark-gfm's HTML for ``text`` (safe mode, the pipeline's options and extensions), not yet sanitised."""
    if _node_free is None:  # pragma: no cover - depends on the cmarkgfm build
        return _cmark_py.markdown_to_html_with_extensions(text, options=_OPTIONS, extensions=list(_EXTENSION_NAMES))
    data = text.encode("utf-8")
    parser = _lib.cmark_parser_new(_OPTIONS)
    if parser == _ffi.NULL:  # pragma: no cover
        raise MemoryError("cmark_parser_new failed")
    try:
        for extension in _EXTENSIONS:
            _lib.cmark_parser_attach_syntax_extension(parser, extension)
        _lib.cmark_parser_feed(parser, data, len(data))
        root = _lib.cmark_parser_finish(parser)
        if root == _ffi.NULL:  # pragma: no cover
            raise MemoryError("cmark_parser_finish failed")
        try:
            buffer = _lib.cmark_render_html(root, _OPTIONS, _lib.cmark_parser_get_syntax_extensions(parser))
            if buffer == _ffi.NULL:  # pragma: no cover
                raise MemoryError("cmark_render_html failed")
            try:
                return _ffi.string(buffer).decode("utf-8")
            finally:
                _c_free(_address(buffer))
        finally:
            _node_free(_address(root))
    finally:
        _lib.cmark_parser_free(parser)


# cmark's output format is fixed: headings are bare <hN>, images are
# <img src="…" alt="…" /> with an optional title="…", all values escaped.
_HEADING = re.compile(r"<(/?)h([1-6])>")
_IMAGE = re.compile(r'<img src="[^"]*" alt="([^"]*)"(?: title="[^"]*")? />')
_QUOTE_TAG = re.compile(r"</?blockquote>\n?")


def _demote_heading(match: re.Match[str]) -> str:
    return f"<{match.group(1)}h{min(int(match.group(2)) + HEADING_OFFSET, 6)}>"


def _flatten_quotes(markup: str) -> str:
    depth = 0

    def keep_shallow(match: re.Match[str]) -> str:
        nonlocal depth
        if match.group()[1] == "/":
            depth -= 1
            return match.group() if depth < MAX_QUOTE_DEPTH else ""
        depth += 1
        return match.group() if depth <= MAX_QUOTE_DEPTH else ""

    return _QUOTE_TAG.sub(keep_shallow, markup)


def _postprocess(markup: str, *, images: bool) -> str:
    if markup.count("<blockquote>") > MAX_QUOTE_DEPTH:
        markup = _flatten_quotes(markup)
    if "<h" in markup:
        markup = _HEADING.sub(_demote_heading, markup)
    if "<img" in markup:
        markup = markup.replace("<img src=", '<img loading="lazy" src=') if images else _IMAGE.sub(r"\1", markup)
    return markup


# --------------------------------------------------------------------------- public API


def sanitise(markup: str) -> str:
    """The allowlist step alone: any HTML in, HTML made only of allowed tags, attributes and URLs out.

    Idempotent on :func:`render`'s output: ``sanitise(render(x)) == render(x)``.
    """
    _require_str(markup, "sanitise")
    return _clean(markup, images=_images_allowed())


def render(source: str) -> str:
    """Markdown source (untrusted) in, safe HTML out. See the module docstring for the whole pipeline.

    Raises ``TypeError`` for a non-``str`` and :class:`TextTooLong` past the length limit.
    """
    text = normalise(_require_str(source, "render"))
    limit = _max_length()
    if len(text) > limit:
        raise TextTooLong(len(text), limit)
    if not text or text.isspace():
        return ""
    images = _images_allowed()
    markup = _postprocess(markdown_to_html(text), images=images)
    cleaned = _clean(markup, images=images)
    return cleaned if cleaned.strip() else ""  # e.g. a source that was one omitted HTML block


_BLANK_LINES = re.compile(r"\n{3,}")


def render_plain(source: str) -> str:
    """Plain text of what :func:`render` shows (for search indexes and previews).

    The result is text, *not* HTML: it is unescaped (``&`` is ``&``), so
    templates must escape it (Django's autoescape does). Same errors as :func:`render`.
    """
    text = html.unescape(_TEXT_ONLY_CLEANER.clean(render(source)))
    lines = "\n".join(line.strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", lines).strip()


# --------------------------------------------------------------------------- plain fields


def clean_plain(value: object, *, field: str, required: bool, max_length: int, empty_message: str = "") -> str:
    """A short plain-text field an action stores as written (a reason, pronouns): normalised and checked.

    ``value`` is normalised (:func:`normalise`) and stripped. Raises
    ``ValidationError`` keyed by ``field``: when ``value`` is not a string,
    when ``required`` and nothing is left (with ``empty_message``), or when
    it is longer than ``max_length`` characters (the message gives the two
    numbers and never echoes the text). Not Markdown: for text that is
    shown as HTML, use :func:`render`.
    """
    if not isinstance(value, str):
        raise ValidationError({field: [ValidationError(gettext("Enter some text."), code="invalid")]})
    cleaned = stripped(normalise(value))
    if required and not cleaned:
        message = empty_message or gettext("This field is required.")
        raise ValidationError({field: [ValidationError(message, code="required")]})
    if len(cleaned) > max_length:
        message = gettext("This is %(length)d characters long; the limit is %(limit)d.") % {
            "length": len(cleaned),
            "limit": max_length,
        }
        raise ValidationError({field: [ValidationError(message, code="max_length")]})
    return cleaned
