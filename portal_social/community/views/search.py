"""Community pages: search across the communities a visitor may see.

``GET /community/search/?q=...``: threads whose title and published posts
hold every word searched for (``core.search``, a blind index: the database
holds keyed hashes of words, never the words), restricted in the same query
to the threads the visitor may see (``access.visible``), ranked by how often
the words occur, then by latest activity; 25 a page, each with its
community, date and a short piece of the published text that matched.

The words searched for are in the address (a GET form), so they are never
logged or written to the audit trail by this page.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from portal_social.community.actions import search_index
from portal_social.community.models import Post, Thread
from portal_social.core import access, search

RESULTS_PER_PAGE = 25
_TEMPLATES = "portal_social/community/"


def annotate_thread(request, thread, rows: list[dict], context: dict) -> None:
    """Search adds nothing to a thread page."""


def results(user, found: list[str]) -> list:
    """The ids of the threads ``user`` may see that hold every word of ``found``, best first."""
    threads = access.visible(user, Thread.objects.filter(visible=True))
    return search.ranked(threads, search_index.SCOPE, found, recency="last_post_at")


def _page_threads(ids: list) -> list[Thread]:
    """The page's threads, in the order of ``ids``: one query."""
    found = Thread.objects.select_related("community").in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]


def _snippets(threads: list[Thread], found: list[str]) -> dict:
    """A short piece of each thread's best-matching published post: two queries for the whole page."""
    parts = search.matched_parts(search_index.SCOPE, [t.pk for t in threads], found)
    best = {}
    for key, matched in parts.items():
        posts = [name for name, _hits in matched if name != search_index.TITLE_PART]
        if posts:
            best[key] = posts[0]
    if not best:
        return {}
    wanted = {name: key for key, name in best.items()}
    posts = Post.objects.filter(
        thread__in=[t.pk for t in threads], status=Post.Status.PUBLISHED, pk__in=list(wanted)
    ).only("pk", "thread_id", "body_html")
    snippets = {}
    for post in posts:
        if wanted.get(post.pk.hex) == search.object_key(post.thread_id):
            snippets[post.thread_id] = search.snippet(search_index.readers_text(post.body_html), found)
    return snippets


@require_safe
def search_page(request):
    """The search form and, for a valid query, a page of results."""
    values = request.GET.getlist("q")
    query = values[-1] if values else ""
    context: dict = {"query": query, "searched": bool(values)}
    status = 200
    if values:
        try:
            if len(values) > 1:
                raise ValidationError(_("Search for one thing at a time."), code="many")
            found = search.parse_query(query)
        except ValidationError as exc:
            context["error"] = " ".join(exc.messages)
            status = 400
        else:
            page = Paginator(results(request.user, found), RESULTS_PER_PAGE).get_page(request.GET.get("page"))
            threads = _page_threads(list(page.object_list))
            # A case discussion's posts are read on its thread page, where each reading is recorded:
            # search lists such a thread by its title (kept free of patient details) without a snippet.
            snippets = _snippets([t for t in threads if not t.community.phi_permitted], found)
            context.update(
                {
                    "page": page,
                    "show_results": True,
                    "rows": [{"thread": t, "snippet": snippets.get(t.pk, [])} for t in threads],
                    "page_query": urlencode({"q": query}),
                }
            )
    return render(request, _TEMPLATES + "search.html", context, status=status)
