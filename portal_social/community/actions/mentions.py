"""Mentions: ``@handle`` in a post names a member, who is told once when the post is published.

* A mention is ``@`` then a community name, at the start of the text or
  after a space or punctuation: ``jane@example.com`` is an email address,
  not a mention, and neither is ``@sam`` inside a code span, a code block or
  a quote (a quoted post's mentions were told already).
* When a thread or reply is written, :func:`validate` refuses a name no
  member has ("No member is called @xyz") and more than
  :data:`MAX_MENTIONS` members, before anything is saved. It returns where
  the members' names are, so that screening does not take a member's
  community name for a social-media handle (a community name is already
  shown beside every post its owner writes).
* When the post is published (:data:`ON_PUBLISHED`), each member it names
  who can read the thread, other than its author, gets a :class:`Mention`
  row and one ``community.mention`` notification. Mentions are read from
  what readers see (``body_html``), so a name a moderator hid tells nobody,
  and a post published again after being hidden tells nobody twice.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from django.core.exceptions import ValidationError
from django.db.models.functions import Lower
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal_social.community.actions._common import ON_PUBLISHED
from portal_social.community.models import CommunityProfile, Mention, Post
from portal_social.core import access, notify, text

#: The most members one post may mention.
MAX_MENTIONS = 10
#: ``@`` and a community name (``models.HANDLE_PATTERN``), not inside a word, an address or a URL.
MENTION = re.compile(r"(?<![\w@.+/-])@([A-Za-z0-9][A-Za-z0-9._-]{2,29}+)(?![\w@-])")
#: Elements whose text mentions nobody: code, and quotes of other posts.
_SILENT = frozenset({"code", "pre", "blockquote"})
_BLOCKS = frozenset({"p", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "tr", "hr", "div"})


class _ReadableText(HTMLParser):
    """The text of rendered post HTML outside code and quotes, blocks kept apart by newlines."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.silent = 0

    def handle_starttag(self, tag, attrs):
        if tag in _SILENT:
            self.silent += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_startendtag(self, tag, attrs):
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in _SILENT:
            self.silent = max(0, self.silent - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.silent:
            self.parts.append(data)


def readable_text(markup: str) -> str:
    parser = _ReadableText()
    parser.feed(markup or "")
    parser.close()
    return "".join(parser.parts)


def _names(found: str) -> tuple[str, ...]:
    """What ``@found`` may name: itself and, without trailing dots and dashes ("@sam."), the shorter name."""
    short = found.rstrip(".-")
    return (found, short) if short != found and len(short) >= 3 else (found,)


def _candidates(plain: str) -> list[re.Match[str]]:
    return list(MENTION.finditer(plain))


def _profiles(found: list[str]) -> dict[str, CommunityProfile]:
    """The members called any of ``found`` (case does not matter), by lower-cased name: one query."""
    wanted = {name.lower() for raw in found for name in _names(raw)}
    if not wanted:
        return {}
    rows = (
        CommunityProfile.objects.annotate(lower_handle=Lower("handle"))
        .filter(lower_handle__in=wanted)
        .select_related("user")
    )
    return {row.lower_handle: row for row in rows}


def _pick(raw: str, known: dict[str, CommunityProfile]) -> str | None:
    """The name ``@raw`` mentions (the longest that is a member's), or None."""
    for name in _names(raw):
        if name.lower() in known:
            return name.lower()
    return None


def mentioned_names(markup: str) -> list[str]:
    """The ``@names`` readers see in rendered post HTML (outside code and quotes), in order, each once."""
    return list(dict.fromkeys(m.group(1) for m in _candidates(readable_text(markup))))


def validate(source: str, *, field: str = "body") -> list[tuple[int, int]]:
    """Check the mentions in a post's Markdown ``source`` before it is saved; return where members are named.

    Raises ``ValidationError`` on ``field`` for a name no member has, and
    for more than :data:`MAX_MENTIONS` members. The spans returned are
    ``(start, end)`` offsets in ``source`` of each ``@name`` that is a
    member's (for screening to leave alone). One query, none without an ``@``.
    """
    if "@" not in source:
        return []
    try:
        markup = text.render(source)
    except (text.TextTooLong, TypeError):
        return []  # the length check reports it
    shown = mentioned_names(markup)
    in_source = _candidates(source)
    known = _profiles([*shown, *(m.group(1) for m in in_source)])
    errors = []
    unknown = list(dict.fromkeys(_names(raw)[-1] for raw in shown if _pick(raw, known) is None))
    for name in unknown[:5]:
        message = _("No member is called @%(name)s. Check the community name, or write it without the @.")
        errors.append(ValidationError(message % {"name": name}, code="unknown_mention"))
    members = {known[picked].user_id for raw in shown if (picked := _pick(raw, known)) is not None}
    if len(members) > MAX_MENTIONS:
        message = ngettext(
            "You can mention %(limit)d member in one post.",
            "You can mention up to %(limit)d members in one post.",
            MAX_MENTIONS,
        )
        errors.append(ValidationError(message % {"limit": MAX_MENTIONS}, code="too_many_mentions"))
    if errors:
        raise ValidationError({field: errors})
    spans = []
    for match in in_source:
        picked = _pick(match.group(1), known)
        if picked is not None:
            spans.append((match.start(), match.start() + 1 + len(picked)))
    return spans


def blank(source: str, spans: list[tuple[int, int]]) -> str:
    """``source`` with each span replaced by as many spaces (offsets stay where they were)."""
    if not spans:
        return source
    pieces, position = [], 0
    for start, end in sorted(spans):
        if start < position:
            continue
        pieces += [source[position:start], " " * (end - start)]
        position = end
    pieces.append(source[position:])
    return "".join(pieces)


def record_mentions(post: Post) -> list[Mention]:
    """Mentions of a just-published ``post``: one row and one notification per member it names who can
    read it, other than its author; nothing for anyone already told about this post. Idempotent."""
    names = mentioned_names(post.body_html) if "@" in (post.body_html or "") else []
    if not names:
        return []
    known = _profiles(names)
    users = {}
    for raw in names:
        picked = _pick(raw, known)
        if picked is not None:
            user = known[picked].user
            if user.pk != post.author_id:
                users.setdefault(user.pk, user)
        if len(users) >= MAX_MENTIONS:
            break
    if not users:
        return []
    told = set(Mention.objects.filter(post=post, user_id__in=list(users)).values_list("user_id", flat=True))
    created = []
    for user_id, user in users.items():
        if user_id in told or not access.can(user, "view", post):
            continue  # told already; or someone who cannot read the thread learns nothing of it
        created.append(Mention.objects.create(post=post, user=user))
        notify.notify(user, "community.mention", params={"post": post.pk})
    return created


if record_mentions not in ON_PUBLISHED:
    ON_PUBLISHED.append(record_mentions)
