"""Communities in the Wagtail page tree: what a ``CommunityPage`` serves.

A ``CommunityPage`` mounts the community pages under its own address:

* with a community chosen, ``<page>/`` is that community's home (the editors'
  introduction, then what ``/community/<slug>/`` shows) and ``<page>/<rest>``
  answers what ``/community/<slug>/<rest>`` answers: threads (``t/<uuid>/``),
  starting a thread (``new/``), joining, leaving, the thread tools, editing and
  flagging. ``<page>/p/…`` answers the permalinks and reactions of ``/community/p/…``;
* without one, ``<page>/`` is the list of the communities the reader may see and
  ``<page>/<rest>`` answers what ``/community/<rest>`` answers.

Every address below the page is served by the very view function that serves
it under ``/community/``, called with the same arguments, so permissions, 404s,
rate limits and audit are the same by construction. Only the addresses change:
in what those views answer (their pages, and where they redirect after a
write), every address of the mounted part of ``/community/`` is rewritten to
the same address under the page, so a reader stays under the hospital's page.
Nothing else is rewritten: a link to another community, to search or to the
community name page still leads to ``/community/``.

A community the reader may not see shows nothing of itself: the page keeps its
editorial title and introduction (an editor chose to publish them) with a
neutral notice, and every address below it answers 404 like ``/community/``.
Previews show the editors' fields only, never what members wrote.
"""

from __future__ import annotations

from urllib.parse import quote

from django.http import Http404, HttpResponseNotAllowed
from django.template.response import TemplateResponse
from django.urls import Resolver404, resolve, reverse
from django.utils.html import escape

from portal_social.community import urls as community_urls
from portal_social.community.models import Community
from portal_social.core import access

TEMPLATE = "portal_social/community/community_page.html"
CLOSED_TEMPLATE = "portal_social/community/community_page_closed.html"


def _page_path(page, request) -> str:
    """The page's path on the site that serves ``request`` (``/heart-health-community/``)."""
    parts = page.get_url_parts(request)
    if parts is None:  # not routable: cannot be served
        raise Http404()
    path = parts[2]
    return path if path.endswith("/") else path + "/"


def _mounts(page, request) -> list[tuple[str, str]]:
    """(address under /community/, the same address under the page) for each mounted part."""
    here = _page_path(page, request)
    if page.community_id is None:
        return [(reverse("portal_social_community:index"), here)]
    slug = _community_slug(page)
    return [
        (reverse("portal_social_community:community", args=[slug]), here),
        (reverse("portal_social_community:index") + "p/", here + "p/"),  # permalinks and reactions
    ]


def _community_slug(page) -> str:
    """The chosen community's slug (it is no secret: every route checks who may see the community)."""
    cached = getattr(page, "_community_slug", None)
    if cached is None:
        cached = Community.objects.filter(pk=page.community_id).values_list("slug", flat=True).first()
        if cached is None:
            raise Http404()
        page._community_slug = cached
    return cached


def _rewrite_encoded(text: str, mounts: list[tuple[str, str]]) -> str:
    """``text`` with each URL-encoded mounted address (a ``?next=`` value) moved under the page."""
    for source, target in mounts:
        text = text.replace(quote(source, safe=""), quote(target, safe=""))
    return text


def _rewrite_html(text: str, mounts: list[tuple[str, str]]) -> str:
    """``text`` with each attribute value that starts with a mounted address moved under the page."""
    for source, target in mounts:
        # Both are paths reversed or routed by Django and Wagtail; escaped all the same.
        text = text.replace('"' + escape(source), '"' + escape(target))
    return _rewrite_encoded(text, mounts)


def keep_under_page(response, mounts: list[tuple[str, str]]):
    """``response`` with its links and its redirect pointing under the page instead of ``/community/``."""
    if hasattr(response, "render") and not getattr(response, "is_rendered", True):
        response.render()
    location = response.get("Location")
    if location:
        for source, target in mounts:
            if location.startswith(source):
                location = target + location[len(source) :]
                break
        response["Location"] = _rewrite_encoded(location, mounts)
    if getattr(response, "streaming", False) or not response.get("Content-Type", "").startswith("text/html"):
        return response
    charset = response.charset
    response.content = _rewrite_html(response.content.decode(charset), mounts).encode(charset)
    if response.has_header("Content-Length"):
        response["Content-Length"] = str(len(response.content))
    return response


def _render(page, request, template: str, context: dict, *, status: int = 200):
    base = page.get_context(request)
    # The community templates call their pagination "page"; the Wagtail page is "community_page" there.
    base.pop("page", None)
    base.update(context)
    base["community_page"] = page
    return TemplateResponse(request, template, base, status=status)


def home(page, request):
    """``<page>/``: the community's home with the editors' introduction, or the list of communities."""
    from portal_social.community.views import pages

    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    if page.community_id is None:
        context = pages.index_context(request)
        context["community_page_parent"] = "portal_social/community/index.html"
        return keep_under_page(_render(page, request, TEMPLATE, context), _mounts(page, request))
    community = access.visible(request.user, Community.objects.filter(pk=page.community_id)).first()
    if community is None:
        # Nothing of the community: not its name, its threads or whether it exists.
        return _render(page, request, CLOSED_TEMPLATE, {"closed": True})
    page._community_slug = community.slug
    context = pages.community_context(request, community)
    context["community_page_parent"] = "portal_social/community/community.html"
    context["next"] = request.get_full_path()  # Join and Leave come back here
    return keep_under_page(_render(page, request, TEMPLATE, context), _mounts(page, request))


def below(page, request, rest: str):
    """``<page>/<rest>``: what the same address under ``/community/`` answers, kept under the page."""
    mounts = _mounts(page, request)
    if page.community_id is None or rest.startswith("p/"):  # the whole of /community/, or its permalinks
        address = "/" + rest
    else:
        address = f"/{_community_slug(page)}/{rest}"
    try:
        match = resolve(address, urlconf=community_urls)
    except Resolver404:
        raise Http404() from None
    return keep_under_page(match.func(request, *match.args, **match.kwargs), mounts)


def preview(page, request):
    """A preview shows what editors wrote (title, introduction), never what members wrote."""
    return _render(page, request, CLOSED_TEMPLATE, {"preview": True})
