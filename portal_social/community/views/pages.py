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
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from portal_social.community import actions, rules
from portal_social.community.forms import FlagForm, HandleForm, ReplyForm, ThreadForm
from portal_social.community.models import Community, CommunityProfile, Membership, Post, Thread
from portal_social.community.views import edits, people, reactions, tools
from portal_social.community.views._common import _safe_next, _signed_in, _thread_url, _url, _visible_community
from portal_social.core import access, realtime, screening
from portal_social.core.ratelimit import RateLimited

#: Modules that add to a thread page (see the package docstring).
_THREAD_ANNOTATORS = (reactions, tools, edits, people)

COMMUNITIES_PER_PAGE = 25
THREADS_PER_PAGE = 25
POSTS_PER_PAGE = 50
_TEMPLATES = "portal_social/community/"


# --------------------------------------------------------------------------- helpers


def _visible_thread(user, community: Community, thread_id) -> Thread:
    """The thread of ``community`` the user may see; 404 alike for another community's, a hidden one or none."""
    thread = access.visible(user, Thread.objects.filter(community=community)).filter(pk=thread_id).first()
    if thread is None:
        raise Http404()
    thread.community = community
    return thread


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
        if exc.field == "body":
            extra = {"phi_segments": _segments(exc.result), "offer_confirm": exc.may_post_anyway}
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
    user = request.user
    communities = access.visible(user, Community.objects.all()).annotate(
        thread_count=Count("threads", filter=Q(threads__visible=True))
    )
    page = Paginator(communities.order_by("name", "pk"), COMMUNITIES_PER_PAGE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    mine = {}
    if _signed_in(user) and rows:
        mine = {m.community_id: m for m in Membership.objects.filter(user=user, community__in=[c.pk for c in rows])}
    return render(
        request,
        _TEMPLATES + "index.html",
        {
            "page": page,
            "rows": [_membership_context(user, c, mine.get(c.pk)) for c in rows],
            "profile": _profile(user),
            "signed_in": _signed_in(user),
        },
    )


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
    user = request.user
    community = _visible_community(user, slug)
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
            and access.holds(user, rules.PARTICIPATE),
        }
    )
    people.annotate_community(request, community, context)
    tools.annotate_community(request, community, context)
    return render(request, _TEMPLATES + "community.html", context)


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
    community = _visible_community(request.user, slug)
    refused = _may_post_or_refusal(request, community)
    if refused is not None:
        return refused
    form = ThreadForm(request.POST if request.method == "POST" else None)
    status, extra = 200, {}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
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
                request=request,
            ),
        )
        if post is not None:
            return HttpResponseRedirect(_posted_url(post))
    return render(
        request,
        _TEMPLATES + "new_thread.html",
        {"community": community, "form": form, **extra},
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


def _badges(community: Community, authors: set) -> tuple[set, set]:
    """(moderators, mentors) among ``authors``: one query each, whatever their number."""
    if not authors:
        return set(), set()
    app_label, codename = rules.MODERATE.split(".")
    moderators = set(
        get_user_model()
        .objects.filter(
            pk__in=authors,
            groups__permissions__codename=codename,
            groups__permissions__content_type__app_label=app_label,
        )
        .values_list("pk", flat=True)
    )
    mentors = set(
        Membership.objects.filter(
            community=community, user__in=authors, role=Membership.Role.MENTOR, status=Membership.Status.ACTIVE
        ).values_list("user_id", flat=True)
    )
    return moderators, mentors


def thread(request, slug: str, thread_id):
    """A thread: its published posts (and the viewer's own waiting ones), and a reply form. POST replies."""
    user = request.user
    if request.method == "POST" and not _signed_in(user):
        return redirect_to_login(request.get_full_path())
    community = _visible_community(user, slug)
    thread = _visible_thread(user, community, thread_id)
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
        form = ReplyForm(request.POST)
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
                    request=request,
                ),
            )
            if post is not None:
                return HttpResponseRedirect(_posted_url(post))
    elif may_reply and profile is not None:
        form = ReplyForm()

    shown = Q(status=Post.Status.PUBLISHED)
    if _signed_in(user):
        shown |= Q(author=user, status=Post.Status.HELD)
    posts = (
        access.visible(user, Post.objects.filter(thread=thread))
        .filter(shown)
        .select_related("author__community_profile")
        .order_by("created_at", "pk")
    )
    paginator = Paginator(posts, POSTS_PER_PAGE)
    number = request.GET.get("page")
    if number is None and "posted" in request.GET:
        number = paginator.num_pages  # the viewer's new post is the newest
    page = paginator.get_page(number)
    rows = list(page.object_list)
    moderators, mentors = _badges(community, {p.author_id for p in rows if p.author_id})
    may_flag = _signed_in(user) and access.holds(user, rules.PARTICIPATE)
    context = {
        "community": community,
        "thread": thread,
        "page": page,
        "posts": [
            {
                "post": p,
                "handle": getattr(getattr(p.author, "community_profile", None), "handle", "") if p.author_id else "",
                "moderator": p.author_id in moderators,
                "mentor": p.author_id in mentors,
                "held": p.status == Post.Status.HELD,
                "may_flag": may_flag and p.status == Post.Status.PUBLISHED,
                "own": _signed_in(user) and p.author_id == user.pk,
            }
            for p in rows
        ],
        "flag_reasons": FlagForm.base_fields["reason"].choices,
        "form": form,
        "may_reply": may_reply,
        "needs_handle": may_reply and profile is None,
        "handle_url": _handle_url(_thread_url(thread)),
        "signed_in": _signed_in(user),
        **_membership_context(user, community, _membership(user, community)),
        **extra,
    }
    for module in _THREAD_ANNOTATORS:
        module.annotate_thread(request, thread, context["posts"], context)
    if _signed_in(user):
        context["live_after"] = realtime.last_event_ids([actions.THREAD_STREAM], str(thread.pk))[actions.THREAD_STREAM]
        context["live_stream"] = actions.THREAD_STREAM
    if request.method == "GET":
        context.update(_posted_notice(user, thread, request.GET.get("posted", "")))
    return render(request, _TEMPLATES + "thread.html", context, status=status)


@require_POST
def flag(request, slug: str, thread_id, post_id):
    """Flag one published post of a thread for the moderators, then back to the post."""
    user = request.user
    if not _signed_in(user):
        return redirect_to_login(request.get_full_path())
    community = _visible_community(user, slug)
    thread = _visible_thread(user, community, thread_id)
    post = (
        access.visible(user, Post.objects.filter(thread=thread, status=Post.Status.PUBLISHED))
        .filter(pk=post_id)
        .first()
    )
    if post is None:
        raise Http404()
    back = _thread_url(thread) + f"#post-{post.pk}"
    form = FlagForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return HttpResponseRedirect(back)
    try:
        actions.flag_post(
            user=user, post=post, reason=form.cleaned_data["reason"], note=form.cleaned_data["note"], request=request
        )
    except actions.CommunityDenied:
        raise Http404() from None
    except RateLimited as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Thank you. A moderator will look at this post."))
    return HttpResponseRedirect(back)
