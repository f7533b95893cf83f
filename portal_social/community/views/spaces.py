"""Clinician spaces: the list of a clinician's own spaces, and each space's member directory.

A space's threads and posts use the community pages (``/community/<slug>/...``);
the access policy decides who sees them. These pages answer 404 to everyone who
is not an active member holding ``use_clinician_spaces``, exactly as for a
space that does not exist: patients, caregivers, colleagues outside the space,
community moderators and superusers without the role alike.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, Count, Q, When
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from portal_social.community import rules
from portal_social.community.actions import CommunityDenied, space_requests
from portal_social.community.actions import spaces as space_actions
from portal_social.community.forms import ReferralForm
from portal_social.community.models import Community, Membership, Thread
from portal_social.community.views._common import _signed_in, _thread_url, _url, _visible_community, _visible_thread
from portal_social.community.views.people import _int
from portal_social.core import access

_TEMPLATES = "portal_social/community/spaces/"


def _space_user(request):
    user = request.user
    if not _signed_in(user) or not access.holds(user, rules.USE_SPACES):
        raise Http404()
    return user


def _visible_space(user, slug: str) -> Community:
    space = _visible_community(user, slug)
    if space.kind != Community.Kind.SPACE:
        raise Http404()
    return space


def index(request):
    """The spaces the clinician belongs to, with their thread counts."""
    user = _space_user(request)
    spaces = (
        access.visible(user, Community.objects.filter(kind=Community.Kind.SPACE))
        .annotate(thread_count=Count("threads", filter=Q(threads__visible=True)))
        .order_by("name", "pk")
    )
    return render(request, _TEMPLATES + "index.html", {"spaces": list(spaces)})


class JoinRequestForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("The space's name or address"),
        max_length=space_requests.NAME_MAX_LENGTH,
        help_text=gettext_lazy("Ask a member of the space for it, for example “Cardiology case review”."),
    )


def ask_to_join(request):
    """Ask to join a space by its name or address: one answer whether or not it exists."""
    user = _space_user(request)
    form = JoinRequestForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            space_requests.request_to_join(user=user, name=form.cleaned_data["name"], request=request)
        except ValidationError as exc:
            form.add_error("name", exc.message_dict.get("name", exc.messages))
        else:
            messages.success(
                request,
                _(
                    "If a clinician space has that name or address, its owners will see your request. "
                    "You will hear from us when they add you."
                ),
            )
            return HttpResponseRedirect(_url("space_ask"))
    return render(request, _TEMPLATES + "ask.html", {"form": form}, status=400 if form.errors else 200)


class MemberForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("Colleague's email address"), max_length=254)
    role = forms.ChoiceField(
        label=gettext_lazy("Role in the space"),
        choices=[(role.value, role.label) for role in space_actions.SPACE_ROLES],
        initial=Membership.Role.MEMBER,
    )


class SettingsForm(forms.Form):
    phi_permitted = forms.BooleanField(
        label=gettext_lazy("Case discussion: members may write about patients (every reading is recorded)"),
        required=False,
    )
    retention_days = forms.IntegerField(
        label=gettext_lazy("Delete threads whose last post is older than (days)"),
        help_text=gettext_lazy("Empty: threads are kept."),
        required=False,
        min_value=1,
        max_value=space_actions.MAX_RETENTION_DAYS,
    )


def members(request, slug: str):
    """The space's member directory (linking to clinician profiles); its owners and moderators add and remove."""
    user = _space_user(request)
    space = _visible_space(user, slug)
    manages = rules.moderates(user, space)
    here = _url("space_members", space.slug)
    do = request.POST.get("do") if request.method == "POST" else None
    form = MemberForm(request.POST if do == "add" else None)
    owner = space_actions.is_owner(user, space)
    initial = {"phi_permitted": space.phi_permitted, "retention_days": space.retention_days}
    settings_form = SettingsForm(request.POST if do == "settings" else None, initial=initial)
    refusal = ""
    if request.method == "POST":
        if not manages and do != "leave":
            raise Http404()
        try:
            done = _member_action(request, space, do, form, settings_form)
        except CommunityDenied as exc:
            refusal = exc.message
        else:
            if done is not None:
                messages.success(request, done)
                return HttpResponseRedirect(_url("spaces") if do == "leave" else here)
    rows = (
        Membership.objects.filter(community=space, status=Membership.Status.ACTIVE)
        .select_related("user", "user__clinician_page")
        .order_by("user__last_name", "user__first_name", "pk")
    )
    context = {
        "community": space,
        "space": space,
        "rows": [_member_row(m) for m in rows],
        "manages": manages,
        "form": form,
        "owner": owner,
        "settings_form": settings_form,
        "refusal": refusal,
        "groups": sorted(space.member_groups.values_list("name", flat=True)),
        "asking": [_member_row(m) for m in space_requests.pending(space)[:100]] if manages else [],
    }
    failed = form.errors or settings_form.errors or refusal
    return render(request, _TEMPLATES + "members.html", context, status=400 if failed else 200)


def _member_row(membership: Membership) -> dict:
    person = membership.user
    page = getattr(person, "clinician_page", None)
    live = page is not None and page.live
    return {
        "membership": membership,
        "name": person.get_full_name() or person.get_username(),
        "profile_url": page.url if live else "",
        "role": membership.get_role_display(),
    }


def _member_action(request, space: Community, do, form: MemberForm, settings_form: SettingsForm) -> str | None:
    """Carry out the page's ``do``; the message to show, or None when a form has errors."""
    if do == "settings":
        if not settings_form.is_valid():
            return None
        space_actions.set_space_settings(
            actor=request.user,
            space=space,
            phi_permitted=settings_form.cleaned_data["phi_permitted"],
            retention_days=settings_form.cleaned_data["retention_days"],
            request=request,
        )
        return _("The space's settings are saved.")
    if do == "add":
        if not form.is_valid():
            return None
        person = get_user_model().objects.filter(email__iexact=form.cleaned_data["email"], is_active=True).first()
        if person is None or not access.holds(person, rules.USE_SPACES):
            # One answer whether there is no account or it is a patient's: the form tells nobody which.
            raise CommunityDenied(_("No clinician or care-team colleague has that email address."))
        space_actions.add_member(
            actor=request.user, space=space, user=person, role=form.cleaned_data["role"], request=request
        )
        return _("%(name)s is a member of this space.") % {"name": person.get_full_name() or person.get_username()}
    if do in ("approve", "decline"):
        decided = space_requests.decide(
            actor=request.user,
            space=space,
            membership_id=_int(request.POST.get("membership", "")),
            approve=do == "approve",
            request=request,
        )
        if decided is None:
            raise CommunityDenied(_("This request was decided already."))
        return _("The colleague is a member of this space.") if do == "approve" else _("The request is declined.")
    if do == "leave":
        space_actions.remove_member(actor=request.user, space=space, user=request.user, request=request)
        return _("You left this space.")
    if do == "remove":
        membership = Membership.objects.filter(pk=_int(request.POST.get("membership", "")), community=space)
        membership = membership.select_related("user").first()
        if membership is None:
            raise Http404()
        space_actions.remove_member(actor=request.user, space=space, user=membership.user, request=request)
        return _("The colleague no longer belongs to this space.")
    raise Http404()


# --------------------------------------------------------------------------- referral requests


def new_referral(request, slug: str):
    """Ask colleagues for a referral: the specialty, how soon, the question (and, in a case space, the patient)."""
    from portal_social.community.views import pages

    user = _space_user(request)
    return pages.start_thread_page(request, _visible_space(user, slug), ReferralForm)


#: What the referral list shows: ``?show=open`` (default), ``answered`` or ``mine`` (given to me, open).
REFERRAL_FILTERS = ("open", "answered", "mine")


def referrals(request, slug: str):
    """The space's referral requests: open ones first by urgency, then oldest; answered ones; or mine."""
    user = _space_user(request)
    space = _visible_space(user, slug)
    show = request.GET.get("show", "open")
    if show not in REFERRAL_FILTERS:
        show = "open"
    threads = access.visible(user, Thread.objects.filter(community=space, referral_specialty__isnull=False))
    if show == "answered":
        threads = threads.filter(referral_answered_at__isnull=False).order_by("-referral_answered_at", "pk")
    else:
        threads = threads.filter(referral_answered_at__isnull=True)
        if show == "mine":
            threads = threads.filter(referral_assignee=user)
        urgency = Case(
            When(referral_urgency=Thread.Urgency.URGENT, then=0),
            When(referral_urgency=Thread.Urgency.SOON, then=1),
            default=2,
        )
        threads = threads.order_by(urgency, "created_at", "pk")
    page = Paginator(threads.select_related("referral_specialty", "referral_assignee"), 50).get_page(
        request.GET.get("page")
    )
    context = {"community": space, "space": space, "page": page, "show": show, "filters": REFERRAL_FILTERS}
    return render(request, _TEMPLATES + "referrals.html", context)


@require_POST
def referral(request, slug: str, thread_id):
    """Take, give back, mark answered or reopen a referral request, then back to its thread."""
    user = _space_user(request)
    thread = _visible_thread(user, slug, thread_id)
    if not thread.community.is_space or not thread.is_referral:
        raise Http404()
    do = request.POST.get("do")
    try:
        if do == "take":
            space_actions.assign_referral(actor=user, thread=thread, assignee=user, request=request)
            messages.success(request, _("The request is yours to answer."))
        elif do == "release":
            space_actions.assign_referral(actor=user, thread=thread, assignee=None, request=request)
            messages.success(request, _("The request is given to nobody."))
        elif do in ("answered", "reopen"):
            space_actions.answer_referral(actor=user, thread=thread, answered=do == "answered", request=request)
            messages.success(
                request, _("The request is answered.") if do == "answered" else _("The request is open again.")
            )
        else:
            messages.error(request, _("Choose what to do with the request."))
    except CommunityDenied as exc:
        messages.error(request, exc.message)
    return HttpResponseRedirect(_thread_url(thread))


def referral_context(user, thread: Thread) -> dict:
    """What a referral request's thread page shows about it, and the buttons the viewer may use."""
    if not thread.is_referral:
        return {}
    mine = thread.referral_assignee_id == user.pk
    manages = thread.author_id == user.pk or rules.moderates(user, thread.community)
    answered = thread.referral_answered_at is not None
    assignee = thread.referral_assignee
    return {
        "referral": {
            "specialty": thread.referral_specialty.name,
            "urgency": thread.get_referral_urgency_display(),
            "urgent": thread.referral_urgency == Thread.Urgency.URGENT,
            "assignee": (assignee.get_full_name() or assignee.get_username()) if assignee else "",
            "answered": answered,
            "may_take": not answered and not mine,
            "may_release": not answered and thread.referral_assignee_id is not None and (mine or manages),
            "may_answer": not answered and (mine or manages),
            "may_reopen": answered and (mine or manages),
            "url": _url("referral", thread.community.slug, thread.pk),
            "list_url": _url("space_referrals", thread.community.slug),
        }
    }
