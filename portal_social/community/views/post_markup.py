"""The markup of one post on a thread page: an ``<li>`` of the page's ``<ol class="ps-post-list">``.

A thread page lists up to 50 posts, each with a member card, reactions, links and tools, and the
same ``<li>`` answers a live reply (``views.pages.thread_post``). Rendered through a template, that
loop was most of the page's server time, so it is built here instead: ``format_html`` escapes
every value, and the only markup taken as it is comes from ``core.text.render`` (the post's
``body_html``, sanitised when the post was written) or from this module and ``views.reactions``.
Sites restyle posts with the CSS classes below (``docs/theming.md``); the rest of the thread page
is the ``thread.html`` template.

``words(request, context)`` gathers the page's translated words and addresses once; ``post_item``
turns one annotated row (see ``views.pages._post_rows`` and the annotators) into its ``<li>``.
"""

from __future__ import annotations

from django.middleware.csrf import get_token
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from portal_social.community.views._common import url_maker


def words(request, context: dict) -> dict:
    """What every post of the page shares, made once: translated words and badges, the CSRF field, the
    tools' addresses, the month names; and a place for each author's card (the same on all their posts)."""
    community, thread = context["community"], context["thread"]
    w = {
        "permalink": "",
        "who_reacted": "",
        "quote": "",
        "flag": "",
        "follow_up": "",
        "reactions": "",
        **context.get("post_words", {}),
        "former": _("A former member"),
        "badges": _("Badges earned"),
        "answer": _("Chosen as the answer"),
        "clear_answer": _("Clear the answer"),
        "choose_answer": _("Choose as the answer"),
        "edited": _("Edited"),
        "csrf": format_html(
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request) if request else ""
        ),
        "solve_url": url_maker("solve", community.slug)(thread.pk),
        "waiting": format_html('<span class="ps-status">{}</span>', _("Waiting for a moderator")),
        "role_badges": {
            "moderator": format_html('<span class="badge">{}</span>', _("Moderator")),
            "mentor": format_html('<span class="badge badge--ok">{}</span>', _("Mentor")),
            "clinician": format_html('<span class="badge badge--ok">{}</span>', _("Verified clinician")),
        },
        "caregiver": format_html('<span class="badge badge--caregiver">{}</span>', _("Caregiver")),
        "edit_links": tuple(
            (allowed, url_maker(name, community.slug, thread.pk), label, hidden)
            for allowed, name, label, hidden in (
                ("may_edit", "edit_post", _("Edit"), _("this post")),
                ("may_delete", "delete_post", _("Delete"), _("this post")),
                ("may_history", "post_history", _("History"), _("of this post")),
            )
        ),
        # "3 Mar 2026 14:05", as the ``date`` filter writes "j M Y H:i": month names translated once.
        "months": [""] + [str(MONTHS_3[month]).title() for month in range(1, 13)],
        "zone": timezone.get_current_timezone(),
        "cards": {},
    }
    return w


def _join(parts, sep: str = "") -> SafeString:
    """Pieces of markup built here, joined: each is escaped unless it is already safe (``format_html``'s)."""
    return format_html_join(sep, "{}", ((part,) for part in parts))


def _when(moment, w: dict) -> tuple[str, str]:
    """A time as ``datetime=""`` wants it, and as readers read it ("3 Mar 2026 14:05", local time)."""
    local = moment.astimezone(w["zone"])
    return local.isoformat(), f"{local.day} {w['months'][local.month]} {local.year:04d} {local:%H:%M}"


def _card(row: dict, post, w: dict) -> SafeString:
    """The author's member card: handle (a link for moderators), role badges, earned badges, joined and posts.
    Built once per author and page; only the heading's id and the caregiver mark belong to the post."""
    key = (post.author_id, post.by_caregiver)
    card = w["cards"].get(key)
    if card is None:
        handle = row.get("handle")
        if not handle:
            name = w["former"]
        elif row.get("member_url"):
            name = format_html('<a href="{}">{}</a>', row["member_url"], handle)
        else:
            name = handle
        parts = [w["role_badges"][role] for role in ("moderator", "mentor", "clinician") if row.get(role)]
        if post.by_caregiver:
            parts.append(w["caregiver"])
        if row.get("badges"):
            earned = format_html_join(
                "", '<li class="badge badge--earned">{}</li>', ((label,) for label in row["badges"])
            )
            parts.append(format_html('<ul class="ps-member-card__badges" aria-label="{}">{}</ul>', w["badges"], earned))
        if row.get("card_meta"):
            parts.append(format_html('<span class="ps-member-card__meta">{}</span>', row["card_meta"]))
        card = w["cards"][key] = (name, _join(parts))
    name, rest = card
    return format_html(
        '<div class="ps-member-card"><h3 class="ps-post__author" id="post-{}-by">{}</h3>{}</div>', post.pk, name, rest
    )


def _reactions(row: dict, w: dict) -> SafeString:
    """Reaction buttons (one form) for a member who may react, else the tallies; then the post's links."""
    if row.get("may_react") and row.get("reactions"):
        reacting = format_html(
            '<form method="post" action="{}" class="ps-reactions__form">{}<ul class="ps-reactions" aria-label="{}">'
            "{}</ul></form>",
            row.get("react_url", ""),
            w["csrf"],
            w["reactions"],
            row.get("reaction_buttons", ""),
        )
    elif row.get("reaction_total"):
        tallies = format_html_join(
            "",
            '<li class="ps-reactions__tally">{} <span class="ps-reactions__count">{}</span></li>',
            ((r["label"], r["count"]) for r in row["reactions"] if r["count"]),
        )
        reacting = format_html('<ul class="ps-reactions" aria-label="{}">{}</ul>', w["reactions"], tallies)
    else:
        reacting = ""
    links = []
    if row.get("reactions_url"):
        links.append(("", row["reactions_url"], w["who_reacted"], ""))
    by = row.get("by_text", "")
    links.append((" ", row.get("permalink", ""), w["permalink"], by))
    if row.get("quote_url"):
        links.append((" ", row["quote_url"], w["quote"], by))
    if row.get("flag_url"):
        links.append((" ", row["flag_url"], w["follow_up"] if row.get("own") else w["flag"], by))
    return format_html(
        '{}<p class="ps-post__links">{}</p>',
        reacting,
        format_html_join(
            " ",
            '<a href="{}">{}{}</a>',
            (
                (url, label, format_html('<span class="visually-hidden">{}{}</span>', space, hidden) if space else "")
                for space, url, label, hidden in links
            ),
        ),
    )


def _tools(row: dict, post, w: dict) -> SafeString:
    """The chosen-answer mark, and the button that chooses or clears it."""
    answer = (
        format_html('<p class="ps-post__answer"><span class="badge badge--ok">{}</span></p>', w["answer"])
        if row.get("answer")
        else ""
    )
    if not row.get("may_choose_answer"):
        return answer
    value, label = ("", w["clear_answer"]) if row.get("answer") else (post.pk, w["choose_answer"])
    return format_html(
        '{}<form method="post" action="{}" class="ps-post__tool">{}'
        '<input type="hidden" name="post" value="{}">'
        '<button type="submit" class="button button--secondary" aria-describedby="post-{}-by">{}</button>'
        "</form>",
        answer,
        w["solve_url"],
        w["csrf"],
        value,
        post.pk,
        label,
    )


def _edits(row: dict, post, w: dict) -> SafeString:
    """ "Edited" with its time; the edit, delete and (moderators) history links."""
    parts = []
    if post.edited_at:
        iso, shown = _when(post.edited_at, w)
        parts.append(
            format_html(
                '<span class="ps-post__edited">{} <time datetime="{}">{}</time></span>', w["edited"], iso, shown
            )
        )
    for allowed, url, label, hidden in w["edit_links"]:
        if row.get(allowed):
            parts.append(
                format_html(
                    '<a class="ps-post__edit-link" href="{}">{}<span class="visually-hidden"> {}</span></a>',
                    url(post.pk),
                    label,
                    hidden,
                )
            )
    return format_html('<p class="ps-post__edits">{}</p>', _join(parts, " "))


def post_item(row: dict, w: dict) -> SafeString:
    """One post as the thread page lists it: ``<li><article class="ps-post">…</article></li>``."""
    post = row["post"]
    iso, shown = _when(post.created_at, w)
    tools = _tools(row, post, w) if row.get("answer") or row.get("may_choose_answer") else ""
    edits = (
        _edits(row, post, w)
        if post.edited_at or row.get("may_edit") or row.get("may_delete") or row.get("may_history")
        else ""
    )
    return format_html(
        '<li><article class="ps-post{}" id="post-{}" aria-labelledby="post-{}-by">'
        '<header class="ps-post__header">{}<time class="ps-post__date" datetime="{}">{}</time>{}</header>'
        '<div class="ps-post__body rich-text">{}</div>{}{}{}</article></li>',
        " ps-post--held" if row.get("held") else "",
        post.pk,
        post.pk,
        _card(row, post, w),
        iso,
        shown,
        w["waiting"] if row.get("held") else "",
        mark_safe(post.body_html or ""),  # noqa: S308 - sanitised by core.text.render when written
        _reactions(row, w),
        tools,
        edits,
    )


def post_items(request, rows: list[dict], context: dict) -> SafeString:
    """Every post of a thread page, joined: what ``thread.html`` puts in its list."""
    w = words(request, context)
    return _join(post_item(row, w) for row in rows)
