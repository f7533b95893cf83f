"""Community pages: reactions, who reacted, permalinks and quotes (see the package docstring).

* ``permalink`` (``/community/p/<post uuid>/``): redirects to the thread page
  that holds the post, at the right page and ``#post-<uuid>``; 404 for a post
  the visitor may not see (a signed-out visitor is asked to sign in first,
  whether or not the post exists: the answer tells nothing).
* ``react`` (POST): sets one reaction on or off, then back to the post.
* ``reacted_by``: who reacted to a published post, by kind, a page at a time.
* ``annotate_thread``: each post's reaction counts and the viewer's own (one
  query for the whole page), its permalink and quote links, and the reply
  form filled with a quote when the page is opened with ``?quote=<post uuid>``.

A quote is made from what readers see of the post (``body_html``: parts a
moderator hid are gone), never from what its author wrote.
"""

from __future__ import annotations

import html
import uuid
from urllib.parse import urlencode

import nh3
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from portal_social.community import actions, rules
from portal_social.community.actions.reactions import kinds
from portal_social.community.models import CommunityProfile, Post, Reaction
from portal_social.community.views._common import _signed_in, _url, url_maker
from portal_social.core import access, text
from portal_social.core.ratelimit import RateLimited

REACTORS_PER_PAGE = 50
#: A quote keeps this many characters of the quoted post; longer posts are cut with "…".
QUOTE_MAX_LENGTH = 1500
_TEMPLATES = "portal_social/community/"
_PLAIN = nh3.Cleaner(
    tags=set(), clean_content_tags=set(text.CLEAN_CONTENT_TAGS), attributes={"*": set()}, link_rel=None
)


def _shown(user) -> Q:
    """The posts a thread page lists for ``user``: published ones, and their own waiting ones."""
    shown = Q(status=Post.Status.PUBLISHED)
    if _signed_in(user):
        shown |= Q(author=user, status=Post.Status.HELD)
    return shown


def _listed_post(user, post_id) -> Post | None:
    """The post ``post_id`` if a thread page shows it to ``user``, with its thread and community."""
    posts = access.visible(user, Post.objects.filter(pk=post_id).filter(_shown(user)))
    post = posts.select_related("thread__community").first()
    if post is None or not access.can(user, "view", post.thread):
        return None
    return post


def post_url(user, post: Post) -> str:
    """The thread page that lists ``post`` for ``user`` (numbered like the thread page's), at the post."""
    from portal_social.community.views.pages import POSTS_PER_PAGE

    before = (
        access.visible(user, Post.objects.filter(thread_id=post.thread_id))
        .filter(_shown(user))
        .filter(Q(created_at__lt=post.created_at) | Q(created_at=post.created_at, pk__lt=post.pk))
        .count()
    )
    thread = post.thread
    page = before // POSTS_PER_PAGE + 1
    return _url("thread", thread.community.slug, thread.pk) + "?" + urlencode({"page": page}) + f"#post-{post.pk}"


def permalink(request, post_id):
    """A post's lasting address: to its thread, at the page and place where it is (GET; 404 first)."""
    reading = request.method in ("GET", "HEAD")
    post = _listed_post(request.user, post_id)
    if post is None:
        if not _signed_in(request.user) and reading:
            # Signed out (a link from a notification): sign in first, whether or not the post exists.
            return redirect_to_login(request.get_full_path())
        raise Http404()
    if not reading:
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return HttpResponseRedirect(post_url(request.user, post))


@require_POST
def react(request, post_id):
    """Set one reaction to a post on (``on=1``) or off (``on=0``), then back to the post."""
    from portal_social.community.views.pages import _handle_url, _refused

    user = request.user
    if not _signed_in(user):
        return redirect_to_login(_url("permalink", post_id))
    post = access.visible(user, Post.objects.filter(pk=post_id)).select_related("thread__community").first()
    if post is None:
        raise Http404()
    back = post_url(user, post) if post.status == Post.Status.PUBLISHED else _url("permalink", post.pk)
    # One form of buttons under a post sends ``set=<kind>:<1|0>``; a form per reaction sends ``kind`` and ``on``.
    kind, wanted = request.POST.get("kind", ""), request.POST.get("on", "")
    if "set" in request.POST:
        kind, _sep, wanted = request.POST.get("set", "").partition(":")
    if wanted not in ("0", "1"):
        messages.error(request, _("Choose to add or take back the reaction."))
        return HttpResponseRedirect(back)
    if access.can(user, "react", post) and not CommunityProfile.objects.filter(user=user).exists():
        return HttpResponseRedirect(_handle_url(back))
    try:
        actions.react(user=user, post=post, kind=kind, on=wanted == "1", request=request)
    except RateLimited as exc:
        return _refused(request, exc.message, status=429)
    except actions.CommunityDenied as exc:
        community = post.thread.community
        if not access.can(user, "post", community) and access.can(user, "join", community):
            return _refused(request, _("Join this community to react to its posts."), community=community)
        return _refused(request, exc.message)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return HttpResponseRedirect(back)


def reacted_by(request, post_id):
    """Who reacted to a published post: community names by kind, a page at a time (GET; 404 first)."""
    user = request.user
    published = Post.objects.filter(pk=post_id, status=Post.Status.PUBLISHED, thread__visible=True)
    post = access.visible(user, published).select_related("thread__community").first()
    if post is None or not access.can(user, "view", post.thread):
        raise Http404()
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    offered = kinds()
    labels = dict(offered)
    counts = dict(
        Reaction.objects.filter(post=post, kind__in=list(labels))
        .values_list("kind")
        .annotate(n=Count("pk"))
        .values_list("kind", "n")
    )
    selected = request.GET.get("kind", "")
    if selected not in labels:
        selected = ""
    reactions = (
        Reaction.objects.filter(post=post, kind=selected)
        if selected
        else Reaction.objects.filter(post=post, kind__in=list(labels))
    )
    reactions = reactions.select_related("user__community_profile").order_by("created_at", "pk")
    page = Paginator(reactions, REACTORS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [
        {
            "handle": getattr(getattr(r.user, "community_profile", None), "handle", ""),
            "label": labels[r.kind],
            "kind": r.kind,
        }
        for r in page.object_list
    ]
    return render(
        request,
        _TEMPLATES + "reactions.html",
        {
            "post": post,
            "thread": post.thread,
            "community": post.thread.community,
            "post_url": post_url(user, post),
            "kinds": [{"kind": k, "label": label, "count": counts.get(k, 0)} for k, label in offered],
            "total": sum(counts.values()),
            "selected": selected,
            "page": page,
            "rows": rows,
        },
    )


# --------------------------------------------------------------------------- quotes


def plain_text(markup: str) -> str:
    """What a reader reads of rendered post HTML, as plain text (unescaped: templates must escape it)."""
    words = html.unescape(_PLAIN.clean(markup or ""))
    lines = [line.strip() for line in words.split("\n")]
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    return "\n".join(kept).strip()


def quote_markdown(request, post: Post) -> str:
    """A Markdown quote of what readers see of ``post``, then a link to it (absolute: posts take no relative links)."""
    words = plain_text(post.body_html)
    if len(words) > QUOTE_MAX_LENGTH:
        words = words[:QUOTE_MAX_LENGTH].rstrip() + "…"
    quoted = "\n".join(f"> {line}" if line else ">" for line in words.split("\n"))
    link = request.build_absolute_uri(_url("permalink", post.pk))
    return f"{quoted}\n\n[{_('Link to the quoted post')}]({link})\n\n"


def quotable(user, thread, raw) -> Post | None:
    """The published post ``raw`` (an id) of ``thread``'s community that ``user`` can see, else None."""
    try:
        post_id = uuid.UUID(str(raw)) if raw and len(str(raw)) <= 36 else None
    except ValueError:
        post_id = None
    if post_id is None:
        return None
    published = Post.objects.filter(
        pk=post_id, status=Post.Status.PUBLISHED, thread__visible=True, thread__community_id=thread.community_id
    )
    return access.visible(user, published).first()


# --------------------------------------------------------------------------- the thread page


def annotate_thread(request, thread, rows: list[dict], context: dict) -> None:
    """Reactions (counts and the viewer's own: one query), permalink and quote links, and a quote in the reply form."""
    user = request.user
    signed_in = _signed_in(user)
    offered = kinds()
    keys = [key for key, _label in offered]
    published = [row["post"].pk for row in rows if row["post"].status == Post.Status.PUBLISHED]
    tallies: dict = {}
    if published and keys:
        reactions = Reaction.objects.filter(post_id__in=published, kind__in=keys).values("post_id", "kind")
        if signed_in:
            reactions = reactions.annotate(n=Count("pk"), mine=Count("pk", filter=Q(user_id=user.pk)))
        else:
            reactions = reactions.annotate(n=Count("pk"))
        tallies = {(r["post_id"], r["kind"]): r for r in reactions}
    may_react = bool(signed_in and context.get("is_member") and rules.takes_part(user, thread.community))
    form = context.get("form")
    quoting = form is not None and not thread.locked
    page_number = getattr(context.get("page"), "number", 1)
    # Words and addresses used under every post: translated and reversed once for the page.
    context["post_words"] = {
        "reactions": _("Reactions"),
        "who_reacted": _("Who reacted"),
        "permalink": _("Link to this post"),
        "quote": _("Quote"),
        "flag": _("Flag this post"),
        "follow_up": _("Ask the patient experience team to follow up"),
    }
    by = _("by %(handle)s")
    former = _("a former member")
    counted = {}
    permalink, react_url, reactions_url = url_maker("permalink"), url_maker("react"), url_maker("reactions")
    # The thread's own address: a post added live is fetched from another (views.pages.thread_post).
    thread_path = _url("thread", context["community"].slug, thread.pk)
    quote_base = f"{thread_path}?{urlencode({'page': page_number})}&quote="
    for row in rows:
        post = row["post"]
        row["permalink"] = permalink(post.pk)
        row["by_text"] = by % {"handle": row.get("handle") or former}
        is_published = post.status == Post.Status.PUBLISHED
        reactions = []
        if is_published:
            for key, label in offered:
                tally = tallies.get((post.pk, key), {})
                count, mine = tally.get("n", 0), bool(tally.get("mine"))
                if count not in counted:
                    counted[count] = ngettext("%(count)d reaction", "%(count)d reactions", count) % {"count": count}
                reactions.append(
                    {
                        "kind": key,
                        "label": label,
                        "count": count,
                        "mine": mine,
                        "count_text": ", " + counted[count],
                    }
                )
        row["reactions"] = reactions
        row["reaction_total"] = sum(r["count"] for r in reactions)
        row["may_react"] = may_react and is_published and post.author_id != user.pk
        row["react_url"] = react_url(post.pk) if row["may_react"] else ""
        row["reactions_url"] = reactions_url(post.pk) if row["reaction_total"] else ""
        row["quote_url"] = f"{quote_base}{post.pk}#reply-title" if quoting and is_published else ""
    raw = request.GET.get("quote")
    if raw and request.method == "GET" and form is not None and not form.is_bound:
        quoted = quotable(user, thread, raw)
        if quoted is not None:
            form.initial["body"] = quote_markdown(request, quoted)
            form.initial["quote"] = str(quoted.pk)
            context["quoting"] = quoted
