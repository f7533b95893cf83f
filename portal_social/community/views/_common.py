"""What every community page module shares: who is signed in, addresses, and the 404 lookups."""

from __future__ import annotations

from django.http import Http404
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from portal_social.community import rules
from portal_social.community.models import Community, Membership, Thread
from portal_social.core import access


def _signed_in(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def _url(name: str, *args) -> str:
    return reverse(f"portal_social_community:{name}", args=args)


#: Stands for an object's id in an address reversed once for a whole page (see ``url_maker``).
_PLACEHOLDER = "00000000-0000-0000-0000-000000000000"


def url_maker(name: str, *args):
    """``make(pk)``: the address ``name`` with ``args`` then ``pk``, reversed once, not once per post on a page."""
    pattern = reverse(f"portal_social_community:{name}", args=[*args, _PLACEHOLDER])
    return lambda pk: pattern.replace(_PLACEHOLDER, str(pk))


def _thread_url(thread: Thread) -> str:
    return _url("thread", thread.community.slug, thread.pk)


def _safe_next(request, default: str) -> str:
    """``next`` when it is a path on this site, else ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if (
        target.startswith("/")
        and "\x00" not in target
        and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False)
    ):
        return target
    return default


def _visible_community(user, slug: str) -> Community:
    """The community ``user`` may see, by slug; 404 alike for a hidden one or none."""
    community = access.visible(user, Community.objects.all()).filter(slug=slug).first()
    if community is None:
        raise Http404()
    return community


def _visible_thread(user, slug: str, thread_id) -> Thread:
    """The thread ``thread_id`` of the community ``slug``, with its community; 404 alike for a hidden
    community or thread, or none.

    One plain lookup by id, then the access policy's rule for that one thread (which agrees with the
    policy's SQL scope, and takes the thread's community into account): building the scope's subqueries
    for a single row cost more than the rest of the lookup."""
    thread = Thread.objects.select_related("community").filter(community__slug=slug, pk=thread_id).first()
    if thread is None or not access.can(user, "view", thread):
        raise Http404()
    return thread


def _thread_and_membership(user, slug: str, thread_id) -> tuple[Thread, Membership | None]:
    """:func:`_visible_thread`, with the viewer's membership of its community read first and remembered
    for the rules of the rest of the request (the thread page needs it anyway)."""
    thread = Thread.objects.select_related("community").filter(community__slug=slug, pk=thread_id).first()
    if thread is None:
        raise Http404()
    membership = None
    if _signed_in(user):
        membership = Membership.objects.filter(user=user, community=thread.community).first()
        rules.remember_membership(user, thread.community, membership)
    if not access.can(user, "view", thread):
        raise Http404()
    return thread, membership
