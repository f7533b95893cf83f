"""Community pages: thin adaptors around ``actions``, reading through the access policy.

* ``index``: the communities the visitor may see, with their membership state.
* ``handle``: choose the community name a member posts under.
* ``community``: one community and its threads (pinned first, then latest activity).
* ``join`` / ``leave`` (POST only).
* ``new_thread``: start a thread; ``thread``: read it and reply to it.

A community or thread the visitor may not see answers 404, exactly like one
that does not exist. Each page makes the same number of queries whatever the
number of communities, threads or posts on it.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from portal_social.community import actions, rules
from portal_social.community.actions import spaces as space_actions
from portal_social.community.forms import FlagForm, HandleForm, ReplyForm, ThreadForm
from portal_social.community.models import Community, CommunityProfile, Membership, Post, PostFlag, Thread
from portal_social.community.views import edits, files, people, post_markup, reactions, spaces, tools
from portal_social.community.views._common import (
    _safe_next,
    _signed_in,
    _thread_and_membership,
    _thread_url,
    _url,
    _visible_community,
    _visible_thread,
    url_maker,
)
from portal_social.core import access, realtime, screening
from portal_social.core.ratelimit import RateLimited

#: Modules that add to a thread page (see the package docstring).
_THREAD_ANNOTATORS = (reactions, tools, edits, people, files)

COMMUNITIES_PER_PAGE = 25
THREADS_PER_PAGE = 25
POSTS_PER_PAGE = 50
_TEMPLATES = "portal_social/community/"


#: The columns of a post a thread page reads (its annotators included): the query-count tests catch a miss.
_LISTED_POST_FIELDS = (
    "id",
    "thread_id",
    "author_id",
    "is_opening",
    "status",
    "body_html",
    "urgent",
    "created_at",
    "edited_at",
    "by_caregiver",
)


def _listed_author_fields() -> list[str]:
    """The author's columns a thread page reads: their id and activity, and their community profile."""
    names = {field.name for field in get_user_model()._meta.concrete_fields}
    own = [f"author__{name}" for name in ("is_active",) if name in names]
    return [*own, "author__community_profile"]


# --------------------------------------------------------------------------- helpers


def _membership(user, community: Community) -> Membership | None:
    if not _signed_in(user):
        return None
    return Membership.objects.filter(user=user, community=community).first()


def _profile(user) -> CommunityProfile | None:
    return CommunityProfile.objects.filter(user=user).first() if _signed_in(user) else None


def _handle_url(next_url: str) -> str:
    return _url("handle") + "?" + urlencode({"next": next_url})


def _membership_context(user, community: Community, membership: Membership | None) -> dict:
    """What the Join / Leave controls show for ``user`` in ``community``."""
    state = membership.status if membership is not None else ""
    active = state == Membership.Status.ACTIVE
    requested = state == Membership.Status.REQUESTED
    return {
        "community": community,
        "membership": membership,
        "is_member": active,
        "has_requested": requested,
        "may_join": _signed_in(user) and not active and not requested and access.can(user, "join", community),
        "signed_in": _signed_in(user),
    }


def _refused(request, message: str, *, community: Community | None = None, status: int = 403):
    """A page that says why, with a way to join when joining is the answer."""
    context = {"refusal": message}
    if community is not None:
        context.update(_membership_context(request.user, community, _membership(request.user, community)))
    return render(request, _TEMPLATES + "refused.html", context, status=status)


def _segments(result: screening.Result) -> list[tuple[str, str]]:
    """The author's text in ``(piece, label)`` segments, what screening found marked with a readable label."""
    marks = [screening.Span(f.start, f.end, str(screening.describe(f))) for f in result.findings if f.end > f.start]
    return screening.highlight(result.text, marks)


def _post(request, form, send):
    """Run ``send`` (an action call) for a valid form: (post, status, PHI context). Errors go on ``form``."""
    extra: dict = {}
    try:
        return send(), 200, extra
    except actions.PhiFound as exc:
        form.add_action_errors(exc)
        # "Post it as written" for the post or its files' names (a title may never carry personal details).
        extra = {"offer_confirm": exc.may_post_anyway}
        if exc.field == "body":
            extra["phi_segments"] = _segments(exc.result)
        if exc.result.urgent:
            extra["resources"] = exc.result.resources()
        return None, 200, extra
    except RateLimited as exc:
        form.add_error(None, exc.message)
        return None, 429, extra
    except actions.CommunityDenied as exc:  # e.g. the thread was locked while the reply was written
        form.add_error(None, exc.message)
        return None, 403, extra
    except ValidationError as exc:
        form.add_action_errors(exc)
        return None, 200, extra


def _posted_url(post: Post) -> str:
    return _thread_url(post.thread) + "?" + urlencode({"posted": str(post.pk)}) + f"#post-{post.pk}"


# --------------------------------------------------------------------------- pages


@require_safe
def index(request):
    """The communities the visitor may see: description, thread count, and the visitor's membership."""
    return render(request, _TEMPLATES + "index.html", index_context(request))


def index_context(request) -> dict:
    """What the community list shows (``index``, and a ``CommunityPage`` without a community)."""
    user = request.user
    communities = access.visible(user, Community.objects.filter(kind=Community.Kind.COMMUNITY)).annotate(
        thread_count=Count("threads", filter=Q(threads__visible=True))
    )
    page = Paginator(communities.order_by("name", "pk"), COMMUNITIES_PER_PAGE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    mine = {}
    if _signed_in(user) and rows:
        mine = {m.community_id: m for m in Membership.objects.filter(user=user, community__in=[c.pk for c in rows])}
    return {
        "page": page,
        "rows": [_membership_context(user, c, mine.get(c.pk)) for c in rows],
        "profile": _profile(user),
        "signed_in": _signed_in(user),
        "uses_spaces": _signed_in(user) and access.holds(user, rules.USE_SPACES),
    }


def handle(request):
    """Choose or change the community name, then go back to ``next``."""
    if not _signed_in(request.user):
        return redirect_to_login(request.get_full_path())
    profile = _profile(request.user)
    next_url = _safe_next(request, _url("index"))
    form = HandleForm(
        request.POST if request.method == "POST" else None, initial={"handle": profile.handle if profile else ""}
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.set_handle(user=request.user, handle=form.cleaned_data["handle"], request=request)
        except actions.CommunityDenied as exc:
            return _refused(request, exc.message)
        except ValidationError as exc:
            form.add_action_errors(exc)
        else:
            messages.success(request, _("Your community name is saved."))
            return HttpResponseRedirect(next_url)
    return render(request, _TEMPLATES + "handle.html", {"form": form, "profile": profile, "next": next_url})


@require_safe
def community(request, slug: str):
    """One community: what it is for, its guidelines, the visitor's membership and its threads."""
    community = _visible_community(request.user, slug)
    return render(request, _TEMPLATES + "community.html", community_context(request, community))


def community_context(request, community: Community) -> dict:
    """What a community's home shows (``community``, and a ``CommunityPage``), for a community the user may see."""
    user = request.user
    waiting = Post.objects.filter(thread=OuterRef("pk"), is_opening=True, status=Post.Status.HELD)
    threads = (
        access.visible(user, Thread.objects.filter(community=community))
        # An unpublished thread is listed while its opening post waits; once refused it is gone from the list.
        .filter(Q(visible=True) | Q(Exists(waiting)))
        .select_related("author__community_profile")
        .order_by("-pinned", "-last_post_at", "pk")
    )
    page = Paginator(threads, THREADS_PER_PAGE).get_page(request.GET.get("page"))
    membership = _membership(user, community)
    context = _membership_context(user, community, membership)
    context.update(
        {
            "page": page,
            "threads": list(page.object_list),
            "may_post": bool(membership and membership.status == Membership.Status.ACTIVE)
            and rules.takes_part(user, community),
        }
    )
    people.annotate_community(request, community, context)
    tools.annotate_community(request, community, context)
    return context


@require_POST
def join(request, slug: str):
    if not _signed_in(request.user):
        return redirect_to_login(_url("community", slug))
    community = _visible_community(request.user, slug)
    try:
        membership = actions.join(user=request.user, community=community, request=request)
    except actions.CommunityDenied as exc:
        return _refused(request, exc.message)
    if membership.status == Membership.Status.ACTIVE:
        messages.success(request, _("You joined %(name)s.") % {"name": community.name})
    else:
        messages.success(request, _("You asked to join %(name)s. A moderator will decide.") % {"name": community.name})
    return HttpResponseRedirect(_safe_next(request, _url("community", community.slug)))


@require_POST
def leave(request, slug: str):
    if not _signed_in(request.user):
        return redirect_to_login(_url("community", slug))
    community = _visible_community(request.user, slug)
    try:
        actions.leave(user=request.user, community=community, request=request)
    except actions.CommunityDenied as exc:
        return _refused(request, exc.message)
    messages.success(request, _("You left %(name)s.") % {"name": community.name})
    # A private community is no longer readable once left: go back to the list, not to a 404.
    default = _url("community", community.slug)
    if community.visibility == Community.Visibility.PRIVATE:
        default = _url("index")
    target = _safe_next(request, default)
    return HttpResponseRedirect(target if access.can(request.user, "view", community) else _url("index"))


def _may_post_or_refusal(request, community: Community):
    """None when the user may post in ``community``; else the answer to give instead."""
    if access.can(request.user, "post", community):
        if _profile(request.user) is None:
            return HttpResponseRedirect(_handle_url(request.get_full_path()))
        return None
    if access.can(request.user, "join", community):
        return _refused(request, _("Join this community to post in it."), community=community)
    return _refused(request, str(actions.CommunityDenied.default_message), community=community)


def new_thread(request, slug: str):
    """Start a thread: a title and its opening post."""
    if not _signed_in(request.user):
        return redirect_to_login(request.get_full_path())
    return start_thread_page(request, _visible_community(request.user, slug), ThreadForm)


def start_thread_page(request, community: Community, form_class=ThreadForm):
    """The page that starts a thread in ``community`` with ``form_class`` (``ThreadForm``, or a space's
    ``ReferralForm``: its specialty and urgency make the thread a referral request)."""
    refused = _may_post_or_refusal(request, community)
    if refused is not None:
        return refused
    posted = request.method == "POST"
    may_announce = community.is_space and access.can(request.user, "moderate", community)
    form = form_class(
        request.POST if posted else None,
        request.FILES if posted else None,
        community=community,
        may_announce=may_announce,
    )
    status, extra = 200, {}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        referral = (
            {"specialty": data["referral_specialty"], "urgency": data["referral_urgency"]}
            if "referral_specialty" in data
            else None
        )
        post, status, extra = _post(
            request,
            form,
            lambda: actions.start_thread(
                author=request.user,
                community=community,
                title=data["title"],
                body=data["body"],
                confirm_phi=data["confirm_phi"],
                submission=data["submission"],
                patient_reference=data.get("patient_reference", ""),
                referral=referral,
                announcement=bool(data.get("announcement")),
                files=data.get("files") or (),
                request=request,
            ),
        )
        if post is not None:
            return HttpResponseRedirect(_posted_url(post))
    return render(
        request,
        _TEMPLATES + "new_thread.html",
        {"community": community, "form": form, "referral": "referral_specialty" in form.fields, **extra},
        status=status,
    )


def _posted_notice(user, thread: Thread, raw: str) -> dict:
    """What the viewer is told about their own post named by ``?posted=`` (nothing for anyone else's)."""
    try:
        post_id = uuid.UUID(raw)
    except (ValueError, AttributeError):
        return {}
    post = Post.objects.filter(pk=post_id, thread=thread, author=user).first() if _signed_in(user) else None
    if post is None:
        return {}
    notice = {"posted": post, "posted_held": post.status == Post.Status.HELD}
    if post.status == Post.Status.HELD and post.urgent:
        notice["resources"] = screening.crisis_resources()
    return notice


def _shown_posts(user, thread: Thread):
    """The posts of ``thread`` its page lists for ``user``: published ones, and their own waiting ones."""
    shown = Q(status=Post.Status.PUBLISHED)
    if _signed_in(user):
        shown |= Q(author=user, status=Post.Status.HELD)
    return (
        access.visible(user, Post.objects.filter(thread=thread))
        .filter(shown)
        .select_related("author__community_profile")
        # What the page shows, and no more: readers see the rendered text, so the source (and a refusal's
        # reason) are not decrypted for them, and the moderators' bookkeeping is not read.
        .only(*_LISTED_POST_FIELDS, *_listed_author_fields())
        .order_by("created_at", "pk")
    )


def _post_rows(request, community: Community, thread: Thread, posts: list[Post], context: dict) -> list[dict]:
    """One dict per post for ``post_markup.post_item``, completed by the annotators, in a fixed number of queries."""
    user = request.user
    # Flags go to the patient communities' moderators: a clinician space has its own owners instead.
    may_flag = _signed_in(user) and not community.is_space and access.holds(user, rules.PARTICIPATE)
    flag_url = url_maker("flag", community.slug, thread.pk)
    rows = [
        {
            "post": p,
            "handle": getattr(getattr(p.author, "community_profile", None), "handle", "") if p.author_id else "",
            "held": p.status == Post.Status.HELD,
            "flag_url": flag_url(p.pk) if may_flag and p.status == Post.Status.PUBLISHED else "",
            "own": _signed_in(user) and p.author_id == user.pk,
        }
        for p in posts
    ]
    for module in _THREAD_ANNOTATORS:
        module.annotate_thread(request, thread, rows, context)
    return rows


def thread_post(request, slug: str, thread_id, post_id):
    """One post of a thread as the thread page lists it (an ``<li>``), for the page's live updates.

    The socket only says that a post was published; the page asks for it here, so the reader gets
    the same markup, checked the same way, as when reading the page. 404 alike for a post, thread or
    community the reader may not see, and for a signed-out visitor (live updates need a session);
    GET only, once the post is found.
    """
    user = request.user
    if not _signed_in(user):
        raise Http404()
    thread = _visible_thread(user, slug, thread_id)
    community = thread.community
    shown = _shown_posts(user, thread)
    post = shown.filter(pk=post_id).first()
    if post is None:
        raise Http404()
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    space_actions.record_case_read(actor=user, thread=thread, request=request, action="view_post")
    membership = _membership(user, community)
    rules.remember_membership(user, community, membership)  # read once, as on the thread page
    may_reply = access.can(user, "reply", thread)
    paginator = Paginator(shown, POSTS_PER_PAGE)
    context = {
        "community": community,
        "thread": thread,
        "page": paginator.get_page(paginator.num_pages),  # a new post is on the last page
        "form": ReplyForm(community=community) if may_reply and _profile(user) is not None else None,
        "signed_in": True,
        **_membership_context(user, community, membership),
    }
    row = _post_rows(request, community, thread, [post], context)[0]
    response = HttpResponse(post_markup.post_item(row, post_markup.words(request, context)))
    response["Cache-Control"] = "private, no-store"
    return response


def thread(request, slug: str, thread_id):
    """A thread: its published posts (and the viewer's own waiting ones), and a reply form. POST replies."""
    user = request.user
    if request.method == "POST" and not _signed_in(user):
        return redirect_to_login(request.get_full_path())
    thread, membership = _thread_and_membership(user, slug, thread_id)  # remembered for the rules below
    community = thread.community
    space_actions.record_case_read(actor=user, thread=thread, request=request)  # in a case-discussion space
    may_reply = _signed_in(user) and access.can(user, "reply", thread)
    profile = _profile(user)
    form, status, extra = None, 200, {}
    if request.method == "POST":
        if not may_reply:
            if thread.locked and access.can(user, "post", community):
                return _refused(request, _("This thread is locked: it takes no new replies."))
            if access.can(user, "join", community):
                return _refused(request, _("Join this community to reply."), community=community)
            return _refused(request, str(actions.CommunityDenied.default_message))
        if profile is None:
            return HttpResponseRedirect(_handle_url(_thread_url(thread)))
        form = ReplyForm(request.POST, request.FILES, community=community)
        if form.is_valid():
            data = form.cleaned_data
            post, status, extra = _post(
                request,
                form,
                lambda: actions.reply(
                    author=user,
                    thread=thread,
                    body=data["body"],
                    confirm_phi=data["confirm_phi"],
                    submission=data["submission"],
                    quoted_post=data.get("quote"),
                    files=data.get("files") or (),
                    request=request,
                ),
            )
            if post is not None:
                return HttpResponseRedirect(_posted_url(post))
    elif may_reply and profile is not None:
        form = ReplyForm(community=community)

    # Read before the posts: a reply or edit landing while the page renders reaches its script (replayed).
    live_after = 0
    if _signed_in(user):
        live_after = realtime.last_event_ids([actions.THREAD_STREAM], str(thread.pk))[actions.THREAD_STREAM]
    paginator = Paginator(_shown_posts(user, thread), POSTS_PER_PAGE)
    number = request.GET.get("page")
    if number is None and "posted" in request.GET:
        number = paginator.num_pages  # the viewer's new post is the newest
    page = paginator.get_page(number)
    context = {
        "community": community,
        "thread": thread,
        "page": page,
        "form": form,
        "may_reply": may_reply,
        "needs_handle": may_reply and profile is None,
        "handle_url": _handle_url(_thread_url(thread)),
        "signed_in": _signed_in(user),
        **_membership_context(user, community, membership),
        **extra,
    }
    context["posts"] = _post_rows(request, community, thread, list(page.object_list), context)
    context["post_items"] = post_markup.post_items(request, context["posts"], context)
    if _signed_in(user):
        context["live_after"] = live_after
        context["live_stream"] = actions.THREAD_STREAM
    if request.method == "GET":
        context.update(_posted_notice(user, thread, request.GET.get("posted", "")))
    if community.is_space:
        context.update(spaces.referral_context(user, thread))
    return render(request, _TEMPLATES + "thread.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
def flag(request, slug: str, thread_id, post_id):
    """Flag one published post of a thread for the moderators (GET: the form), then back to the post.

    The form is a page of its own, not repeated under every post of the thread. A member flagging
    their own post can only ask the patient experience team to follow up (a complaint about care).
    """
    user = request.user
    if not _signed_in(user):
        return redirect_to_login(request.get_full_path())
    thread = _visible_thread(user, slug, thread_id)
    community = thread.community
    post = (
        access.visible(user, Post.objects.filter(thread=thread, status=Post.Status.PUBLISHED))
        .filter(pk=post_id)
        .select_related("author__community_profile")
        .first()
    )
    if post is None or not access.can(user, "flag", post):
        raise Http404()
    own = post.author_id == user.pk
    back = reactions.post_url(user, post)
    form = FlagForm(request.POST if request.method == "POST" else None, own=own)
    if request.method == "POST" and form.is_valid():
        try:
            actions.flag_post(
                user=user,
                post=post,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                request=request,
            )
        except actions.CommunityDenied:
            raise Http404() from None
        except RateLimited as exc:
            form.add_error(None, exc.message)
        except ValidationError as exc:
            form.add_error(None, " ".join(exc.messages))
        else:
            messages.success(request, _("Thank you. A moderator will look at this post."))
            return HttpResponseRedirect(back)
    context = {
        "community": community,
        "thread": thread,
        "post": post,
        "handle": getattr(getattr(post.author, "community_profile", None), "handle", "") if post.author_id else "",
        "own": own,
        "form": form,
        "back": back,
        # Said before the member fills the form in, not after.
        "already": request.method != "POST" and PostFlag.objects.filter(post=post, flagger=user).exists(),
    }
    return render(request, _TEMPLATES + "flag_post.html", context, status=400 if form.errors else 200)
