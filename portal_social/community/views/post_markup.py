"""The markup of one post on a thread page: an ``<li>`` of the page's ``<ol class="ps-post-list">``.

A thread page lists up to 50 posts, each with a member card, reactions, links and tools, and the
same ``<li>`` answers a live reply (``views.pages.thread_post``). Rendered through a template, that
loop was most of the page's server time, so it is built here instead, with one rule: every value
goes through ``_e`` (``html.escape``, quotes included, as Django's ``escape``), except markup made
in this module and the post's ``body_html``, sanitised by ``core.text.render`` when it was written.
``tests/community/test_post_markup.py`` puts hostile text in every field of a row to hold that rule.
Sites restyle posts with the CSS classes below (``docs/communities.md``); the rest of the thread page
is the ``thread.html`` template.

``words(request, context)`` gathers the page's translated words and addresses once; ``post_item``
turns one annotated row (see ``views.pages._post_rows`` and the annotators) into its ``<li>``.
"""

from __future__ import annotations

import html

from django.middleware.csrf import get_token
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from portal_social.community.views._common import _url, url_maker


def _e(value) -> str:
    """``value`` as text safe between tags and inside double-quoted attributes."""
    return html.escape(str(value), quote=True)


def words(request, context: dict) -> dict:
    """What every post of the page shares, made once (escaped): translated words and badges, the CSRF
    field, the tools' addresses, the month names; and a place for each author's card."""
    community, thread = context["community"], context["thread"]
    given = {key: _e(value) for key, value in context.get("post_words", {}).items()}
    token = _e(get_token(request)) if request is not None else ""
    return {
        **{key: "" for key in ("permalink", "who_reacted", "quote", "flag", "follow_up", "reactions")},
        **given,
        "former": _e(_("A former member")),
        "badges": _e(_("Badges earned")),
        "answer": _e(_("Chosen as the answer")),
        "clear_answer": _e(_("Clear the answer")),
        "choose_answer": _e(_("Choose as the answer")),
        "edited": _e(_("Edited")),
        "files": _e(_("Shared files")),
        "csrf": f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">',
        "solve_url": _e(_url("solve", community.slug, thread.pk)),
        "waiting": f'<span class="ps-status">{_e(_("Waiting for a moderator"))}</span>',
        "role_badges": {
            "moderator": f'<span class="badge">{_e(_("Moderator"))}</span>',
            "mentor": f'<span class="badge badge--ok">{_e(_("Mentor"))}</span>',
            "clinician": f'<span class="badge badge--ok">{_e(_("Verified clinician"))}</span>',
        },
        "caregiver": f'<span class="badge badge--caregiver">{_e(_("Caregiver"))}</span>',
        "edit_links": tuple(
            (allowed, url_maker(name, community.slug, thread.pk), _e(label), _e(hidden))
            for allowed, name, label, hidden in (
                ("may_edit", "edit_post", _("Edit"), _("this post")),
                ("may_delete", "delete_post", _("Delete"), _("this post")),
                ("may_history", "post_history", _("History"), _("of this post")),
            )
        ),
        # "3 Mar 2026 14:05", as the ``date`` filter writes "j M Y H:i": month names translated once.
        "months": [""] + [_e(str(MONTHS_3[month]).title()) for month in range(1, 13)],
        "zone": timezone.get_current_timezone(),
        "cards": {},
    }


def _when(moment, w: dict) -> tuple[str, str]:
    """A time as ``datetime=""`` wants it, and as readers read it ("3 Mar 2026 14:05", local time)."""
    local = moment.astimezone(w["zone"])
    return local.isoformat(), f"{local.day} {w['months'][local.month]} {local.year:04d} {local:%H:%M}"


def _card(row: dict, post, w: dict) -> str:
    """The author's member card: handle (a link for moderators), role badges, earned badges, joined and posts.
    Built once per author and page; only the heading's id belongs to the post."""
    key = (post.author_id, post.by_caregiver)
    card = w["cards"].get(key)
    if card is None:
        handle = row.get("handle")
        if not handle:
            name = w["former"]
        elif row.get("member_url"):
            name = f'<a href="{_e(row["member_url"])}">{_e(handle)}</a>'
        else:
            name = _e(handle)
        rest = "".join(w["role_badges"][role] for role in ("moderator", "mentor", "clinician") if row.get(role))
        if post.by_caregiver:
            rest += w["caregiver"]
        if row.get("badges"):
            earned = "".join(f'<li class="badge badge--earned">{_e(label)}</li>' for label in row["badges"])
            rest += f'<ul class="ps-member-card__badges" aria-label="{w["badges"]}">{earned}</ul>'
        if row.get("card_meta"):
            rest += f'<span class="ps-member-card__meta">{_e(row["card_meta"])}</span>'
        card = w["cards"][key] = (name, rest)
    name, rest = card
    return f'<div class="ps-member-card"><h3 class="ps-post__author" id="post-{_e(post.pk)}-by">{name}</h3>{rest}</div>'


def _reaction_buttons(row: dict) -> str:
    """One submit button per reaction kind, pressed where the viewer reacted (``views.reactions`` counts)."""
    # Pressed: the viewer reacted this way, and the button takes the reaction back ("0"); else it adds it.
    return "".join(
        f'<li><button type="submit" name="set" value="{_e(r["kind"])}:{"0" if r["mine"] else "1"}"'
        f' class="ps-reactions__button" aria-pressed="{"true" if r["mine"] else "false"}">{_e(r["label"])} '
        f'<span class="ps-reactions__count" aria-hidden="true">{_e(r["count"])}</span>'
        f'<span class="visually-hidden">{_e(r["count_text"])}</span></button></li>'
        for r in row["reactions"]
    )


def _reactions(row: dict, w: dict) -> str:
    """Reaction buttons (one form) for a member who may react, else the tallies; then the post's links."""
    reacting = ""
    if row.get("may_react") and row.get("reactions"):
        reacting = (
            f'<form method="post" action="{_e(row.get("react_url", ""))}" class="ps-reactions__form">{w["csrf"]}'
            f'<ul class="ps-reactions" aria-label="{w["reactions"]}">{_reaction_buttons(row)}</ul></form>'
        )
    elif row.get("reaction_total"):
        tallies = "".join(
            f'<li class="ps-reactions__tally">{_e(r["label"])} '
            f'<span class="ps-reactions__count">{_e(r["count"])}</span></li>'
            for r in row["reactions"]
            if r["count"]
        )
        reacting = f'<ul class="ps-reactions" aria-label="{w["reactions"]}">{tallies}</ul>'
    by = f'<span class="visually-hidden"> {_e(row.get("by_text", ""))}</span>'
    links = []
    if row.get("reactions_url"):
        links.append(f'<a href="{_e(row["reactions_url"])}">{w["who_reacted"]}</a>')
    links.append(f'<a href="{_e(row.get("permalink", ""))}">{w["permalink"]}{by}</a>')
    if row.get("quote_url"):
        links.append(f'<a href="{_e(row["quote_url"])}">{w["quote"]}{by}</a>')
    if row.get("flag_url"):
        label = w["follow_up"] if row.get("own") else w["flag"]
        links.append(f'<a href="{_e(row["flag_url"])}">{label}{by}</a>')
    return f'{reacting}<p class="ps-post__links">{" ".join(links)}</p>'


def _files(row: dict, w: dict) -> str:
    """The files shared with the post (clinician spaces), as download links."""
    items = "".join(
        f'<li><a href="{_e(f["url"])}" download>{_e(f["name"])}</a> '
        f'<span class="ps-post__file-size">({_e(f["size"])})</span></li>'
        for f in row["files"]
    )
    return f'<ul class="ps-post__files" aria-label="{w["files"]}">{items}</ul>'


def _tools(row: dict, post, w: dict) -> str:
    """The chosen-answer mark, and the button that chooses or clears it."""
    answer = ""
    if row.get("answer"):
        answer = f'<p class="ps-post__answer"><span class="badge badge--ok">{w["answer"]}</span></p>'
    if not row.get("may_choose_answer"):
        return answer
    value, label = ("", w["clear_answer"]) if row.get("answer") else (_e(post.pk), w["choose_answer"])
    return (
        f'{answer}<form method="post" action="{w["solve_url"]}" class="ps-post__tool">{w["csrf"]}'
        f'<input type="hidden" name="post" value="{value}">'
        f'<button type="submit" class="button button--secondary" aria-describedby="post-{_e(post.pk)}-by">{label}'
        "</button></form>"
    )


def _edits(row: dict, post, w: dict) -> str:
    """ "Edited" with its time; the edit, delete and (moderators) history links."""
    parts = []
    if post.edited_at:
        iso, shown = _when(post.edited_at, w)
        parts.append(f'<span class="ps-post__edited">{w["edited"]} <time datetime="{iso}">{shown}</time></span>')
    for allowed, url, label, hidden in w["edit_links"]:
        if row.get(allowed):
            parts.append(
                f'<a class="ps-post__edit-link" href="{_e(url(post.pk))}">{label}'
                f'<span class="visually-hidden"> {hidden}</span></a>'
            )
    return f'<p class="ps-post__edits">{" ".join(parts)}</p>'


def _item(row: dict, w: dict) -> str:
    post = row["post"]
    pk = _e(post.pk)
    iso, shown = _when(post.created_at, w)
    held = bool(row.get("held"))
    article = '<article class="ps-post ps-post--held"' if held else '<article class="ps-post"'
    tools = _tools(row, post, w) if row.get("answer") or row.get("may_choose_answer") else ""
    edits = ""
    if post.edited_at or row.get("may_edit") or row.get("may_delete") or row.get("may_history"):
        edits = _edits(row, post, w)
    return (
        f'<li>{article} id="post-{pk}" aria-labelledby="post-{pk}-by">'
        f'<header class="ps-post__header">{_card(row, post, w)}'
        f'<time class="ps-post__date" datetime="{iso}">{shown}</time>{w["waiting"] if held else ""}</header>'
        # body_html was rendered and sanitised once, when the post was written (core.text.render).
        f'<div class="ps-post__body rich-text">{post.body_html or ""}</div>'
        f"{_files(row, w) if row.get('files') else ''}{_reactions(row, w)}{tools}{edits}</article></li>"
    )


def post_item(row: dict, w: dict) -> SafeString:
    """One post as the thread page lists it: ``<li><article class="ps-post">…</article></li>``."""
    return mark_safe(_item(row, w))  # noqa: S308 - every value in it went through _e, but the sanitised body


def post_items(request, rows: list[dict], context: dict) -> SafeString:
    """Every post of a thread page, joined: what ``thread.html`` puts in its list."""
    w = words(request, context)
    return mark_safe("".join(_item(row, w) for row in rows))  # noqa: S308 - as post_item
