"""Community pages: editing a post, its history for moderators, and deleting it.

* ``edit_post``: the author's own published or waiting post, with its current
  text; screened like a new post (personal details are shown marked, with
  "post anyway").
* ``post_history``: every earlier version of a post, as written. Moderators
  only; each opening is recorded as a PHI read (``phi.read``).
* ``delete_post``: a confirmation page; POST deletes (a moderator deleting
  someone else's post gives a reason).

A post the visitor may not see, or may not edit, delete or read the history
of, answers 404 like one that does not exist; the author of a post in a
locked thread is told why instead.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods

from portal_social.community import actions, rules
from portal_social.community.actions import REASON_MAX_LENGTH
from portal_social.community.forms import ReplyForm
from portal_social.community.models import Post, PostRevision
from portal_social.community.views._common import _signed_in, _visible_thread
from portal_social.core import access
from portal_social.core.forms import ActionErrorsMixin
from portal_social.core.ratelimit import RateLimited

_TEMPLATES = "portal_social/community/"


class EditForm(ReplyForm):
    """The post's new text and "post anyway" (the inherited one-use token is not used: the same text twice
    changes nothing)."""


class DeleteForm(ActionErrorsMixin, forms.Form):
    reason = forms.CharField(
        label=_lazy("Why is this post deleted?"),
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_lazy("Kept for the record and for other moderators; the author does not see it."),
    )


def _pages():
    from portal_social.community.views import pages  # pages imports this module

    return pages


def annotate_thread(request, thread, rows: list[dict], context: dict) -> None:
    """Per post: whether the viewer may edit or delete it, and read its history.

    No query of its own: the page already knows the membership, and roles are cached on the user.
    The actions check again.
    """
    user = request.user
    if not _signed_in(user):
        return
    moderator = rules.moderates(user, thread.community)
    history = rules.sees_unpublished(user, thread.community)
    changeable = (Post.Status.PUBLISHED, Post.Status.HELD)
    may_post = bool(context.get("is_member")) and rules.takes_part(user, thread.community) and not thread.locked
    for row in rows:
        post = row["post"]
        own = post.author_id == user.pk
        row["may_edit"] = own and post.status in changeable and may_post
        row["may_delete"] = post.status in changeable and (own or moderator)
        row["may_history"] = history and post.edited_at is not None


def _post_of(request, slug: str, thread_id, post_id):
    """(community, thread, post) the visitor may see; 404 otherwise."""
    thread = _visible_thread(request.user, slug, thread_id)
    community = thread.community
    post = (
        access.visible(request.user, Post.objects.filter(thread=thread))
        .filter(pk=post_id)
        .select_related("author__community_profile")
        .first()
    )
    if post is None:
        raise Http404()
    post.thread = thread
    return community, thread, post


@require_http_methods(["GET", "HEAD", "POST"])
def edit_post(request, slug: str, thread_id, post_id):
    """The author edits their post: the form shows its current text."""
    user = request.user
    if not _signed_in(user):
        return redirect_to_login(request.get_full_path())
    community, thread, post = _post_of(request, slug, thread_id, post_id)
    pages = _pages()
    if not access.can(user, "edit", post):
        if post.author_id == user.pk and post.status in (Post.Status.PUBLISHED, Post.Status.HELD):
            message = actions.edits.LOCKED_MESSAGE if thread.locked else actions.CommunityDenied.default_message
            return pages._refused(request, str(message))
        raise Http404()
    form = EditForm(request.POST if request.method == "POST" else None, initial={"body": post.body_source})
    status, extra = 200, {}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        was = post.status
        edited, status, extra = pages._post(
            request,
            form,
            lambda: actions.edit_post(
                author=user, post=post, body=data["body"], confirm_phi=data["confirm_phi"], request=request
            ),
        )
        if edited is not None:
            if edited.status == Post.Status.HELD and was == Post.Status.PUBLISHED:
                messages.info(request, _("Your post is saved and waits for a moderator before it appears again."))
            elif edited.status == Post.Status.HELD:
                messages.info(request, _("Your post is saved. It is still waiting for a moderator."))
            else:
                messages.success(request, _("Your post is updated."))
            return HttpResponseRedirect(pages._thread_url(thread) + f"#post-{post.pk}")
    return render(
        request,
        _TEMPLATES + "edit_post.html",
        {"community": community, "thread": thread, "post": post, "form": form, **extra},
        status=status,
    )


def post_history(request, slug: str, thread_id, post_id):
    """Every earlier version of a post, oldest first, then the current one. Moderators only (a PHI read)."""
    user = request.user
    if not _signed_in(user):
        return redirect_to_login(request.get_full_path())
    community, thread, post = _post_of(request, slug, thread_id, post_id)
    if not access.can(user, "history", post):
        raise Http404()
    if request.method not in ("GET", "HEAD"):  # after the 404s: an unknown post is not found, whatever the method
        return HttpResponseNotAllowed(["GET", "HEAD"])
    access.require(user, "history", post, request=request, patient=post.author_id)
    revisions = list(
        PostRevision.objects.filter(post=post).select_related("edited_by__community_profile").order_by("created_at")
    )
    return render(
        request,
        _TEMPLATES + "post_history.html",
        {"community": community, "thread": thread, "post": post, "revisions": revisions},
    )


@require_http_methods(["GET", "HEAD", "POST"])
def delete_post(request, slug: str, thread_id, post_id):
    """Confirm, then delete (POST). A moderator deleting someone else's post gives a reason."""
    user = request.user
    if not _signed_in(user):
        return redirect_to_login(request.get_full_path())
    community, thread, post = _post_of(request, slug, thread_id, post_id)
    if not access.can(user, "delete", post):
        raise Http404()
    pages = _pages()
    as_moderator = post.author_id != user.pk
    form = DeleteForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            actions.delete_post(user=user, post=post, reason=form.cleaned_data["reason"], request=request)
        except actions.CommunityDenied:
            raise Http404() from None
        except RateLimited as exc:
            form.add_error(None, exc.message)
            status = 429
        except ValidationError as exc:
            form.add_action_errors(exc)
        else:
            messages.success(request, _("The post is deleted."))
            if post.is_opening:
                return HttpResponseRedirect(pages._url("community", community.slug))
            return HttpResponseRedirect(pages._thread_url(thread))
    return render(
        request,
        _TEMPLATES + "delete_post.html",
        {"community": community, "thread": thread, "post": post, "form": form, "as_moderator": as_moderator},
        status=status,
    )
