"""Community pages: people (see the package docstring).

* ``annotate_thread``: the member card of each post's author (joined, posts,
  badges), the viewer's own penalty, and the reading counters.
* ``member``: a member's page for moderators: counters, trust level,
  penalties (set, lift), mentor roles, and the moderators of one community
  (appoint, remove). 404 for everyone else.
* ``welcome``: a community's new members, for its mentors and moderators.
* ``requests``: requests to join a private community, for moderators.

Memberships and penalties are named in forms by their row id, in the POST
body only (never in a URL), and each is checked to belong to the member or
community of the page.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import CharField, Value
from django.db.models.functions import Concat
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal_social.community import actions, events, rules
from portal_social.community.actions import badges
from portal_social.community.actions import people as people_actions
from portal_social.community.models import Community, CommunityProfile, Membership, Penalty, Post
from portal_social.community.trust import record_read
from portal_social.community.views._common import _signed_in, _url
from portal_social.conf import app_settings
from portal_social.core import access, roles

_TEMPLATES = "portal_social/community/people/"
#: The member page lists this many penalties and memberships, newest first.
HISTORY_LIMIT = 50


def _moderator(user) -> bool:
    return _signed_in(user) and rules.is_moderator(user)


def _int(value) -> int | None:
    value = str(value).strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        return None
    number = int(value)
    return number if number > 0 else None


# --------------------------------------------------------------------------- thread and community pages


#: Marks an earned badge's key among the role badges in :func:`_card_badges`.
_EARNED = "earned:"


def _card_badges(authors: set, community: Community) -> tuple[dict[str, set], dict[int, list]]:
    """The badges on the member cards of ``authors`` on a page of ``community``, in one query whatever
    their number: the role badges (``{"clinician", "moderator", "mentor"}`` to the authors who hold
    each) and the earned badges' labels of each author, in the setting's order. A moderator holds the
    portal role (a group granting ``moderate_community``) or moderates this community; a mentor mentors it.

    One ``UNION ALL`` of four plain lookups by author: quick to plan, where one row per author with
    four ``EXISTS`` took longer to plan than to run."""
    found: dict[str, set] = {"clinician": set(), "moderator": set(), "mentor": set()}
    if not authors:
        return found, {}
    app_label, codename = rules.MODERATE.split(".")
    through = get_user_model().groups.through.objects.filter(user_id__in=authors)
    clinicians = through.filter(group__name=roles.GROUP_NAMES[roles.CLINICIAN]).values_list(
        "user_id", Value("clinician", output_field=CharField())
    )
    portal_moderators = through.filter(
        group__permissions__codename=codename, group__permissions__content_type__app_label=app_label
    ).values_list("user_id", Value("moderator", output_field=CharField()))
    community_roles = Membership.objects.filter(
        user_id__in=authors,
        community=community,
        status=Membership.Status.ACTIVE,
        role__in=(Membership.Role.MODERATOR, Membership.Role.MENTOR),
    ).values_list("user_id", "role")
    lookups = [portal_moderators, community_roles]
    if badges.configured():
        # Marked apart from the role names: a badge's key is whatever the setting says.
        earned_keys = badges.held_by(authors).order_by().values_list("user_id", Concat(Value(_EARNED), "badge"))
        lookups.append(earned_keys)
    earned = []
    for pk, key in clinicians.union(*lookups, all=True):
        if key.startswith(_EARNED):
            earned.append((pk, key[len(_EARNED) :]))
        else:
            found[key].add(pk)
    return found, badges.labels_of(earned)


def _seen(context: dict, rows: list[dict]) -> int:
    """Published posts of the thread up to the end of this page."""
    page = context.get("page")
    before = page.start_index() - 1 if page is not None and rows else 0
    return max(0, before) + sum(1 for row in rows if row["post"].status == Post.Status.PUBLISHED)


def annotate_thread(request, thread, rows: list[dict], context: dict) -> None:
    """Add this module's per-post and per-thread data to a thread page (a fixed number of queries).

    One query for the role and earned badges; the viewer's own penalty was read
    with the sign-in check of this request. For an active member, the two
    reading-counter statements run once the page's transaction commits.
    """
    user = request.user
    held, earned = _card_badges({row["post"].author_id for row in rows if row["post"].author_id}, thread.community)
    moderator = _moderator(user)
    cards: dict = {}  # "Joined March 2025 · 12 posts", worded once per author on the page
    for row in rows:
        post = row["post"]
        profile = getattr(post.author, "community_profile", None) if post.author_id else None
        if profile is not None and post.author_id not in cards:
            cards[post.author_id] = _card_meta(profile)
        row["card_meta"] = cards.get(post.author_id, "")
        row["badges"] = earned.get(post.author_id, ())
        row["clinician"] = post.author_id in held["clinician"]
        row["moderator"] = post.author_id in held["moderator"]
        row["mentor"] = post.author_id in held["mentor"]
        row["joined"] = profile.created_at if profile is not None else None
        row["post_count"] = profile.post_count if profile is not None else None
        row["member_url"] = _url("member", profile.handle) if moderator and profile is not None else ""
    annotate_viewer(request, context)
    if context.get("is_member") and _signed_in(user):
        # After the page's data is committed (at once without ATOMIC_REQUESTS): a counter's write is never
        # part of the page's transaction, and never fails it.
        seen = _seen(context, rows)
        transaction.on_commit(lambda: record_read(user, thread, seen, request=request), robust=True)


def _card_meta(profile) -> str:
    """When a member joined and how many posts they have published, as their member card says it."""
    joined = _("Joined %(when)s") % {"when": dateformat.format(timezone.localtime(profile.created_at), "F Y")}
    posts = ngettext("%(count)d post", "%(count)d posts", profile.post_count) % {"count": profile.post_count}
    return f"{joined} · {posts}"


def annotate_viewer(request, context: dict) -> None:
    """The viewer's own penalty (shown to them only, with its reason; read with this request's sign-in
    check, else one query) and their people links."""
    user = request.user
    context["my_penalty"] = people_actions.active_penalty(user) if _signed_in(user) else None
    community = context.get("community")
    membership = context.get("membership")
    active = membership is not None and membership.status == Membership.Status.ACTIVE
    # The portal role, or the viewer's own membership (already read by the page) as this community's moderator.
    moderator = _moderator(user) or bool(active and membership.role == Membership.Role.MODERATOR)
    if community is not None and community.is_space:
        # A space's owners add colleagues on its member page: no join requests, no mentors' welcomes.
        context["may_decide_requests"] = context["may_welcome"] = False
        return
    context["may_decide_requests"] = moderator and community is not None and community.visibility == "private"
    context["may_welcome"] = moderator or bool(
        membership is not None
        and membership.status == Membership.Status.ACTIVE
        and membership.role == Membership.Role.MENTOR
    )


def annotate_community(request, community: Community, context: dict) -> None:
    """The community page: the viewer's penalty and the mentors' and moderators' links."""
    annotate_viewer(request, context)


# --------------------------------------------------------------------------- the member page


def _member_or_404(user, handle: str) -> CommunityProfile:
    if not _moderator(user) or not isinstance(handle, str) or len(handle) > 30:
        raise Http404()
    profile = CommunityProfile.objects.select_related("user").filter(handle__iexact=handle).first()
    if profile is None:
        raise Http404()
    return profile


def _durations(member, kind: str) -> tuple[int, list[tuple[int, str]]]:
    """The suggested duration and the choices offered for a penalty of ``kind``."""
    suggested = people_actions.suggested_seconds(member, kind)
    steps = sorted({*app_settings.COMMUNITY_PENALTY_STEPS, suggested})
    return suggested, [(seconds, _describe(seconds)) for seconds in steps]


def _describe(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    if days and not rest:
        return _("1 day") if days == 1 else _("%(days)d days") % {"days": days}
    hours = max(1, round(seconds / 3600))
    return _("1 hour") if hours == 1 else _("%(hours)d hours") % {"hours": hours}


def member(request, handle: str):
    """A member, for moderators: counters, trust, penalties and roles, with the forms that change them."""
    if not _signed_in(request.user):
        raise Http404()
    profile = _member_or_404(request.user, handle)
    person = profile.user
    here = _url("member", profile.handle)
    errors: dict[str, list[str]] = {}
    submitted = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        do = request.POST.get("do", "")
        try:
            notice = _member_action(request, do, person)
        except actions.CommunityDenied as exc:
            errors.setdefault(do if do in ("penalty", "trust", "lift", "mentor", "moderator") else "form", []).append(
                exc.message
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, field_errors in exc.message_dict.items():
                    errors.setdefault(field, []).extend(field_errors)
            else:
                errors.setdefault("form", []).extend(exc.messages)
        else:
            messages.success(request, notice)
            return HttpResponseRedirect(here)
    elif request.method not in ("GET", "HEAD"):
        raise Http404()
    penalties = list(Penalty.objects.filter(user=person).order_by("-starts_at", "-pk")[:HISTORY_LIMIT])
    # The page shows the moderators' reasons, which may name health details: the read is audited.
    events.member_event(events.MEMBER_VIEWED, actor=request.user, member_id=person.pk, target=profile, request=request)
    memberships = list(
        # The patient communities only: a clinician's spaces are nobody else's business.
        Membership.objects.filter(user=person, community__kind=Community.Kind.COMMUNITY)
        .select_related("community")
        .order_by("community__name", "pk")[:HISTORY_LIMIT]
    )
    now = timezone.now()
    kind = submitted.get("kind") if submitted.get("kind") in Penalty.Kind.values else Penalty.Kind.SILENCE
    suggested, durations = _durations(person, kind)
    context = {
        "profile": profile,
        "person": person,
        "penalties": penalties,
        "active": [p for p in penalties if p.lifted_at is None and p.starts_at <= now < p.ends_at],
        "memberships": memberships,
        "kinds": Penalty.Kind.choices,
        "kind": kind,
        "durations": durations,
        "suggested": _int(submitted.get("duration")) or suggested,
        "reason": submitted.get("reason", "") if isinstance(submitted.get("reason", ""), str) else "",
        "reason_max": people_actions.PENALTY_REASON_MAX_LENGTH,
        "levels": (0, 1, 2, 3),
        "errors": errors,
        "is_target_moderator": rules.is_moderator(person),
        "may_appoint": people_actions.may_appoint(request.user),
    }
    return render(request, _TEMPLATES + "member.html", context)


def _member_action(request, do: str, person) -> str:
    """Run the member page's action ``do``; the sentence to show when done."""
    moderator, data = request.user, request.POST
    if do == "penalty":
        seconds = data.get("duration", "")
        penalty = actions.penalize(
            moderator=moderator,
            member=person,
            kind=data.get("kind", ""),
            seconds=seconds if seconds != "" else None,
            reason=data.get("reason", ""),
            request=request,
        )
        if penalty.kind == Penalty.Kind.SUSPEND:
            return _("The member is suspended until %(date)s.") % {"date": people_actions.when(penalty.ends_at)}
        return _("The member is silenced until %(date)s.") % {"date": people_actions.when(penalty.ends_at)}
    if do == "lift":
        penalty = Penalty.objects.filter(user=person, pk=_int(data.get("penalty"))).first()
        if penalty is None:
            raise actions.CommunityDenied(_("Choose a penalty of this member."))
        actions.lift_penalty(moderator=moderator, penalty=penalty, request=request)
        return _("The penalty is lifted.")
    if do == "trust":
        value = data.get("level", "")
        actions.set_trust_level(
            moderator=moderator, member=person, level=None if value == "auto" else value, request=request
        )
        return _("The trust level is saved.")
    if do == "mentor":
        membership = Membership.objects.filter(
            user=person, community__kind=Community.Kind.COMMUNITY, pk=_int(data.get("membership"))
        ).first()
        if membership is None:
            raise actions.CommunityDenied(_("Choose one of this member's communities."))
        actions.set_mentor(
            moderator=moderator, membership=membership, mentor=data.get("role") == "mentor", request=request
        )
        return _("The member's role is saved.")
    if do == "moderator":
        membership = Membership.objects.filter(
            user=person, community__kind=Community.Kind.COMMUNITY, pk=_int(data.get("membership"))
        ).first()
        if membership is None:
            raise actions.CommunityDenied(_("Choose one of this member's communities."))
        appoint = data.get("role") == "moderator"
        if not appoint and data.get("role") != "member":
            raise actions.CommunityDenied(_("Choose to appoint or remove."))
        actions.set_community_moderator(actor=moderator, membership=membership, moderator=appoint, request=request)
        if appoint:
            return _("The member is a moderator of this community now.")
        return _("The member is no longer a moderator of this community.")
    raise ValidationError({"form": [_("Choose what to do.")]})


# --------------------------------------------------------------------------- welcomes and join requests


def _community_or_404(user, slug: str) -> Community:
    community = access.visible(user, Community.objects.all()).filter(slug=slug).first()
    if community is None:
        raise Http404()
    return community


def welcome(request, slug: str):
    """New members of a community who were not welcomed yet, for its mentors and moderators. POST welcomes."""
    user = request.user
    if not _signed_in(user):
        return redirect_to_login(request.get_full_path())
    community = _community_or_404(user, slug)
    if not people_actions.may_welcome(user, community):
        raise Http404()
    if request.method == "POST":
        membership = Membership.objects.filter(community=community, pk=_int(request.POST.get("membership"))).first()
        try:
            if membership is None:
                raise actions.CommunityDenied(_("This member was welcomed already, or is not new here."))
            actions.welcome(mentor=user, membership=membership, request=request)
        except actions.CommunityDenied as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Thank you. The member is told that a mentor welcomed them."))
        return HttpResponseRedirect(_url("welcome", community.slug))
    if request.method not in ("GET", "HEAD"):
        raise Http404()
    rows = list(people_actions.waiting_welcome(community)[:HISTORY_LIMIT])
    return render(request, _TEMPLATES + "welcome.html", {"community": community, "rows": rows})


def requests(request, slug: str):
    """Requests to join a private community, for moderators. POST approves or declines one."""
    user = request.user
    if not _signed_in(user):
        return redirect_to_login(request.get_full_path())
    community = _community_or_404(user, slug)
    if not rules.moderates(user, community) or community.visibility != Community.Visibility.PRIVATE:
        raise Http404()
    if request.method == "POST":
        decision = request.POST.get("decision")
        membership = Membership.objects.filter(community=community, pk=_int(request.POST.get("membership"))).first()
        try:
            if membership is None:
                raise actions.CommunityDenied(_("This request was decided already."))
            if decision not in ("approve", "decline"):
                raise actions.CommunityDenied(_("Choose approve or decline."))
            actions.decide_join_request(
                moderator=user, membership=membership, approve=decision == "approve", request=request
            )
        except actions.CommunityDenied as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("The request is approved and the member is told.")
                if decision == "approve"
                else _("The request is declined and the person is told."),
            )
        return HttpResponseRedirect(_url("requests", community.slug))
    if request.method not in ("GET", "HEAD"):
        raise Http404()
    rows = list(people_actions.pending_requests(community)[:HISTORY_LIMIT])
    return render(request, _TEMPLATES + "requests.html", {"community": community, "rows": rows})
