"""Community pages: thread tools and following (see the package docstring).

* ``annotate_thread`` / ``annotate_community``: what the thread page and the
  community page show of these tools (a fixed number of queries).
* ``follow``, ``solve``, ``pin``, ``lock`` (POST only): one button each on the
  thread page, then back to the thread with a message.
* ``slow_mode`` and ``community_slow_mode``: a small form (GET shows it, POST
  sets it) that keeps what the moderator typed when it is refused.
* ``community_notifications`` (POST only): how a member hears of new threads.
* ``thread_link``: the address notifications link to, ``/community/t/<uuid>/``;
  it sends the reader to the thread, or answers 404 like a thread that does
  not exist (a signed-out visitor is asked to sign in first).

A thread or community the visitor may not see answers 404; one they may see
but not change answers 403 with the reason.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from portal_social.community import actions, rules
from portal_social.community.actions import following, tools
from portal_social.community.models import Community, Membership, Post, Thread, ThreadRead
from portal_social.community.views._common import (
    _safe_next,
    _signed_in,
    _thread_url,
    _url,
    _visible_community,
    _visible_thread,
)
from portal_social.core import access

_TEMPLATES = "portal_social/community/"


def _refused(request, message: str, community: Community | None = None):
    return render(request, _TEMPLATES + "refused.html", {"refusal": message, "community": community}, status=403)


def _messages_of(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)


def _on_off(request, name: str) -> bool | None:
    """A form's on/off button value: True for "1", False for "0", None for anything else."""
    return {"1": True, "0": False}.get(request.POST.get(name, ""))


# --------------------------------------------------------------------------- what pages show


def annotate_thread(request, thread, rows: list[dict], context: dict) -> None:
    """The chosen answer, slow mode, following and the moderators' tools, in at most three queries."""
    user = request.user
    signed_in = _signed_in(user)
    if "membership" in context:  # the page read it: whether the viewer moderates this community costs no query
        rules.remember_membership(user, thread.community, context["membership"])
    may_solve = signed_in and access.can(user, "solve", thread)
    may_moderate = signed_in and access.can(user, "moderate", thread)
    solved = None
    if thread.solved_post_id:
        # The chosen reply, if it is still published, and how many published posts come before it (its page).
        earlier = (
            Post.objects.filter(thread=thread, status=Post.Status.PUBLISHED)
            .filter(
                Q(created_at__lt=OuterRef("created_at")) | Q(created_at=OuterRef("created_at"), pk__lt=OuterRef("pk"))
            )
            .order_by()
            .values("thread")
            .annotate(n=Count("pk"))
            .values("n")
        )
        solved = (
            Post.objects.filter(pk=thread.solved_post_id, thread=thread, status=Post.Status.PUBLISHED)
            .annotate(earlier=Coalesce(Subquery(earlier), 0))
            .only("pk", "created_at")
            .first()
        )
    if solved is not None:
        per_page = context["page"].paginator.per_page if context.get("page") is not None else 50
        page = solved.earlier // per_page + 1
        on_this_page = any(row["post"].pk == solved.pk for row in rows)
        query = "" if on_this_page else f"?page={page}"
        context["solved_url"] = f"{_thread_url(thread)}{query}#post-{solved.pk}"
    context["solved"] = solved is not None
    for row in rows:
        post = row["post"]
        published_reply = post.status == Post.Status.PUBLISHED and not post.is_opening
        row["answer"] = solved is not None and post.pk == solved.pk
        row["may_choose_answer"] = may_solve and published_reply
    seconds = tools.effective_slow_mode(thread.community, thread)
    context.update(
        {
            "may_solve": may_solve,
            "may_moderate_thread": may_moderate,
            "slow_mode_pace": tools.describe_pace(seconds) if seconds else "",
            "may_follow": signed_in and access.can(user, "follow", thread),
        }
    )
    if context["may_follow"]:
        context["following"] = following.is_following(user, thread)
    if may_moderate:
        context["slow_mode_choices"] = tools.SLOW_MODE_CHOICES
        context["slow_mode_seconds"] = thread.slow_mode_seconds
        context["slow_mode_reason"] = thread.slow_mode_reason
        context["community_slow_mode"] = thread.community.slow_mode_seconds


def annotate_community(request, community: Community, context: dict) -> None:
    """The member's choice of hearing of new threads, slow mode, and the moderators' slow-mode link (no query)."""
    user = request.user
    membership = context.get("membership")
    active = membership is not None and membership.status == Membership.Status.ACTIVE
    if "membership" in context:
        rules.remember_membership(user, community, membership)
    context["notification_choices"] = Membership.Notify.choices if active else ()
    context["slow_mode_pace"] = tools.describe_pace(community.slow_mode_seconds) if community.slow_mode_seconds else ""
    context["may_moderate_community"] = rules.moderates(user, community)


# --------------------------------------------------------------------------- buttons on the thread page


def _thread_action(request, slug: str, thread_id, run):
    """Run ``run(thread)`` (an action call) for a signed-in visitor who can see the thread; back to it."""
    if not _signed_in(request.user):
        return redirect_to_login(request.get_full_path())
    thread = _visible_thread(request.user, slug, thread_id)
    back = _safe_next(request, _thread_url(thread))  # a path on this site (the list of followed threads)
    try:
        outcome = run(thread)
    except actions.CommunityDenied as exc:
        return _refused(request, exc.message, thread.community)
    except ValidationError as exc:
        messages.error(request, _messages_of(exc))
        return HttpResponseRedirect(back)
    if outcome is not None:
        messages.success(request, outcome)
    return HttpResponseRedirect(back)


@require_POST
def follow(request, slug: str, thread_id):
    def run(thread):
        choice = _on_off(request, "follow")
        if choice is None:
            raise ValidationError(_("Choose to follow or to stop following."))
        actions.follow_thread(user=request.user, thread=thread, follow=choice, request=request)
        if choice:
            return _("You follow this thread: you will be told of new replies.")
        return _("You no longer follow this thread.")

    return _thread_action(request, slug, thread_id, run)


@require_POST
def solve(request, slug: str, thread_id):
    def run(thread):
        raw = request.POST.get("post", "")
        post = None
        if raw:
            post_id = _uuid_or_none(raw)
            post = Post.objects.filter(thread=thread, pk=post_id).first() if post_id is not None else None
            # A reply this visitor cannot see is the same as one that does not exist.
            if post is None or not access.can(request.user, "view", post):
                raise ValidationError(_("Choose a reply from this thread."))
        actions.solve(user=request.user, thread=thread, post=post, request=request)
        return (
            _("The answer is marked. Thank you.") if post is not None else _("The thread is no longer marked solved.")
        )

    return _thread_action(request, slug, thread_id, run)


def _uuid_or_none(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw) if isinstance(raw, str) and len(raw) <= 36 else None
    except ValueError:
        return None


@require_POST
def pin(request, slug: str, thread_id):
    def run(thread):
        choice = _on_off(request, "on")
        if choice is None:
            raise ValidationError(_("Choose on or off."))
        actions.set_pinned(moderator=request.user, thread=thread, pinned=choice, request=request)
        return _("The thread is pinned.") if choice else _("The thread is no longer pinned.")

    return _thread_action(request, slug, thread_id, run)


@require_POST
def lock(request, slug: str, thread_id):
    def run(thread):
        choice = _on_off(request, "on")
        if choice is None:
            raise ValidationError(_("Choose on or off."))
        actions.set_locked(moderator=request.user, thread=thread, locked=choice, request=request)
        return _("The thread is locked: it takes no new replies.") if choice else _("The thread is open for replies.")

    return _thread_action(request, slug, thread_id, run)


# --------------------------------------------------------------------------- slow mode forms


def _slow_mode_page(request, target, community: Community, thread: Thread | None, back: str):
    user = request.user
    if not access.can(user, "moderate", target):
        return _refused(request, _("Only community moderators can do that."), community)
    values = {"seconds": str(target.slow_mode_seconds), "reason": target.slow_mode_reason}
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        values = {"seconds": request.POST.get("seconds", ""), "reason": request.POST.get("reason", "")}
        try:
            tools.set_slow_mode(
                moderator=user, target=target, seconds=values["seconds"], reason=values["reason"], request=request
            )
        except actions.CommunityDenied as exc:
            return _refused(request, exc.message, community)
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
            status = 400
        else:
            seconds = target.slow_mode_seconds
            if seconds:
                messages.success(request, tools.describe_pace(seconds))
            else:
                messages.success(request, _("Slow mode is off."))
            return HttpResponseRedirect(back)
    return render(
        request,
        _TEMPLATES + "slow_mode.html",
        {
            "community": community,
            "thread": thread,
            "choices": tools.SLOW_MODE_CHOICES,
            "values": values,
            "errors": errors,
            "back": back,
            "action": request.path,
            "max_length": actions.REASON_MAX_LENGTH,
        },
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
def slow_mode(request, slug: str, thread_id):
    """A thread's slow mode: moderators choose the pace and say why."""
    if not _signed_in(request.user):
        return redirect_to_login(request.get_full_path())
    thread = _visible_thread(request.user, slug, thread_id)
    return _slow_mode_page(request, thread, thread.community, thread, _thread_url(thread))


@require_http_methods(["GET", "HEAD", "POST"])
def community_slow_mode(request, slug: str):
    """A community's slow mode, for every thread in it and new threads."""
    if not _signed_in(request.user):
        return redirect_to_login(request.get_full_path())
    community = _visible_community(request.user, slug)
    return _slow_mode_page(request, community, community, None, _url("community", community.slug))


# --------------------------------------------------------------------------- following a community


@require_POST
def community_notifications(request, slug: str):
    """How an active member hears of new threads in the community."""
    if not _signed_in(request.user):
        return redirect_to_login(_url("community", slug))
    community = _visible_community(request.user, slug)
    back = _url("community", community.slug)
    try:
        membership = actions.set_community_notifications(
            user=request.user, community=community, choice=request.POST.get("notifications", ""), request=request
        )
    except actions.CommunityDenied as exc:
        return _refused(request, exc.message, community)
    except ValidationError as exc:
        messages.error(request, _messages_of(exc))
        return HttpResponseRedirect(back)
    told = {
        Membership.Notify.IMMEDIATELY: _("You will be told at once of new threads here."),
        Membership.Notify.DAILY: _("New threads here will be in your daily digest."),
        Membership.Notify.OFF: _("You will not be told of new threads here."),
    }
    messages.success(request, told[membership.notifications])
    return HttpResponseRedirect(back + "#notifications")


# --------------------------------------------------------------------------- the link in notifications


def thread_link(request, thread_id):
    """``/community/t/<uuid>/``: to the thread, for whoever may read it; 404 like a thread that does not exist."""
    user = request.user
    thread = access.visible(user, Thread.objects.select_related("community")).filter(pk=thread_id).first()
    if thread is None:
        if not _signed_in(user) and request.method in ("GET", "HEAD"):
            # Signed out: sign in first, whether or not the thread exists (nothing to learn from the answer).
            return redirect_to_login(request.get_full_path())
        raise Http404()
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return HttpResponseRedirect(_thread_url(thread))


FOLLOWED_PER_PAGE = 25


@require_safe
def followed(request):
    """``/community/t/following/``: the threads the member follows that they may still read, latest
    activity first, each with how many replies are new since they last read it (two queries a page)."""
    user = request.user
    if not _signed_in(user):
        return redirect_to_login(request.get_full_path())
    seen = ThreadRead.objects.filter(thread=OuterRef("pk"), user=user).values("posts_seen")[:1]
    threads = (
        access.visible(user, Thread.objects.filter(follows__user=user, visible=True))
        .select_related("community")
        .annotate(seen=Coalesce(Subquery(seen), -1))
        .order_by("-last_post_at", "pk")
    )
    page = Paginator(threads, FOLLOWED_PER_PAGE).get_page(request.GET.get("page"))
    here = request.get_full_path()
    rows = [
        {
            "thread": thread,
            "url": _thread_url(thread),
            "follow_url": _url("follow", thread.community.slug, thread.pk),
            # Published posts are the opening post and its replies; never read: all of them are new.
            "new": max(0, thread.reply_count + 1 - thread.seen) if thread.seen >= 0 else thread.reply_count + 1,
        }
        for thread in page.object_list
    ]
    return render(request, "portal_social/community/followed.html", {"page": page, "rows": rows, "here": here})
