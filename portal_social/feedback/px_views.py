"""The patient-experience workspace at ``/px/``: queues, a case's page, staff entry. Thin adaptors around actions.

Staff with ``work_feedback_cases`` only (behind the staff MFA gate). A
medical-risk case shows other PX staff only that it exists, its reference,
status and owner; risk managers read and work it. Listing a queue shows
the writer's own summary, so it is recorded as a PHI read (one audit event
per page, naming no patient); opening a case records ``phi.read`` for it.
"""

from __future__ import annotations

import datetime
import uuid

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from portal_social.adapter import get_adapter
from portal_social.conf import app_settings
from portal_social.core import access, files, realtime
from portal_social.core.errors import Denied
from portal_social.feedback import actions, events, rules, timeline
from portal_social.feedback.forms import (
    AssignForm,
    ClassifyForm,
    NoteForm,
    RecoveryForm,
    StaffCaseForm,
    StatusForm,
)
from portal_social.feedback.models import Case, CaseAttachment, Category, GrievanceResponse, ServiceLine, TeamMember
from portal_social.feedback.view_access import case_for, small_int, staff_only
from portal_social.profiles.models import ClinicianPage, Location

_T = "portal_social/feedback/px/"
PER_PAGE = 50
QUEUES = {
    "mine": gettext_lazy("My queue"),
    "team": gettext_lazy("Team queue"),
    "unassigned": gettext_lazy("Unassigned"),
    "due_soon": gettext_lazy("Due soon"),
    "overdue": gettext_lazy("Overdue"),
    "escalated": gettext_lazy("Escalation queue"),
    "open": gettext_lazy("All open"),
    "closed": gettext_lazy("Resolved and closed"),
}


def _due_any(before: datetime.datetime) -> Q:
    return (
        Q(acknowledge_due_at__lte=before, acknowledged_at__isnull=True)
        | Q(first_reply_due_at__lte=before, first_replied_at__isnull=True)
        | Q(resolve_due_at__lte=before, resolved_at__isnull=True)
    )


def _queue(user, name: str):
    now = timezone.now()
    cases = access.visible(user, Case.objects.all())
    open_ = cases.filter(status__in=Case.OPEN_STATUSES)
    my_teams = TeamMember.objects.filter(user=user).values("team_id")
    if name == "mine":
        return open_.filter(owner=user)
    if name == "team":
        return open_.filter(team__in=my_teams)
    if name == "unassigned":
        return open_.filter(owner__isnull=True)
    if name == "due_soon":
        soon = now + datetime.timedelta(hours=app_settings.FEEDBACK_DUE_SOON_HOURS)
        return open_.filter(paused_since__isnull=True).filter(_due_any(soon)).exclude(_due_any(now))
    if name == "overdue":
        return open_.filter(paused_since__isnull=True).filter(_due_any(now))
    if name == "escalated":
        return open_.filter(escalated_at__isnull=False)
    if name == "closed":
        return cases.exclude(status__in=Case.OPEN_STATUSES)
    return open_


def _filtered(queryset, params):
    """Filters from the query string: type, channel, status, category, site, risk. Unknown values are ignored."""
    chosen = {}
    for key, field, allowed in (
        ("type", "type", Case.Type.values),
        ("channel", "channel", Case.Channel.values),
        ("status", "status", Case.Status.values),
    ):
        value = params.get(key, "")
        if value in allowed:
            queryset = queryset.filter(**{field: value})
            chosen[key] = value
    category = small_int(params.get("category"))
    if category is not None:
        queryset = queryset.filter(categories=category)
        chosen["category"] = str(category)
    site = small_int(params.get("site"))
    if site is not None:
        queryset = queryset.filter(site=site)
        chosen["site"] = str(site)
    if params.get("risk") == "1":
        queryset = queryset.filter(medical_risk=True)
        chosen["risk"] = "1"
    return queryset, chosen


@staff_only
def workspace(request):
    """Queues of cases: urgent and soonest due first, with filters and bulk assignment."""
    name = request.GET.get("queue", "mine")
    if name not in QUEUES:
        name = "mine"
    # Read before the cases: a change landing while the page renders shows the page's "changed" notice.
    live = realtime.last_event_ids([actions.CASES_STREAM])
    queryset, chosen = _filtered(_queue(request.user, name), request.GET)
    queryset = (
        queryset.select_related("owner", "team", "site")
        .prefetch_related("categories")
        .order_by("-priority", "resolve_due_at", "-received_at", "pk")
    )
    page = Paginator(queryset, PER_PAGE).get_page(request.GET.get("page"))
    rows = []
    for case in page.object_list:
        hidden = rules.restricted(request.user, case)
        rows.append({"case": case, "restricted": hidden, "due": _next_due(case)})
    if any(not row["restricted"] for row in rows):
        events.QUEUE_LISTED.record(
            actor=request.user,
            request=request,
            details={"queue": name, "shown": sum(not r["restricted"] for r in rows)},
        )
    counts = {key: _queue(request.user, key).count() for key in ("mine", "due_soon", "overdue", "escalated")}
    people = _assignable(request.user)
    return render(
        request,
        _T + "workspace.html",
        {
            "queues": QUEUES,
            "queue": name,
            "counts": counts,
            "rows": rows,
            "page": page,
            "chosen": chosen,
            "types": Case.Type.choices,
            "channels": Case.Channel.choices,
            "statuses": Case.Status.choices,
            "categories": Category.objects.filter(active=True).values_list("pk", "name"),
            "sites": Location.objects.values_list("pk", "name"),
            "people": people,
            "now": timezone.now(),
            "streams": " ".join(f"{name}:{last}" for name, last in live.items()),
        },
    )


def _next_due(case: Case):
    from portal_social.feedback import sla

    return sla.next_deadline(case)


def _assignable(user) -> list[tuple[int, str]]:
    """People in the teams ``user`` belongs to (risk-management members only to risk managers)."""
    teams = TeamMember.objects.filter(user=user).values("team_id")
    members = (
        get_user_model()
        .objects.filter(is_active=True, px_team_memberships__team__in=teams)
        .distinct()
        .order_by("first_name", "last_name", "pk")
    )
    adapter = get_adapter()
    return [(m.pk, adapter.display_name(m)) for m in members]


@require_POST
@staff_only
def bulk_assign(request):
    """Assign the ticked cases to one person; each case is decided (and refused) on its own."""
    ids = []
    for value in request.POST.getlist("case")[:PER_PAGE]:
        try:
            ids.append(uuid.UUID(value))
        except ValueError:
            continue
    owner = _member(request.POST.get("owner", ""), request.user)
    done, refused = 0, 0
    for case in Case.objects.filter(pk__in=ids).select_related("team"):
        try:
            actions.assign_case(actor=request.user, case=case, owner=owner, request=request)
            done += 1
        except (ValidationError, Denied, Http404):
            refused += 1
    back = reverse("portal_social_px:workspace") + f"?queue={request.POST.get('queue', 'mine')}"
    return HttpResponseRedirect(back + f"&assigned={done}&refused={refused}")


def _member(value, user):
    if not value:
        return None
    pk = small_int(value)
    if pk is None or pk not in {pk for pk, _name in _assignable(user)}:
        raise Http404()
    return get_user_model().objects.get(pk=pk)


@staff_only
def case(request, case_id, forms=None, action_errors=None):
    """One case: details, clocks, timeline and every action the reader may take."""
    found = case_for(request, case_id)
    if rules.restricted(request.user, found):
        return render(request, _T + "restricted.html", {"case": found})
    found = access.require(request.user, "view", found, request=request)
    forms = forms or {}
    categories = list(found.categories.all())
    context = {
        "case": found,
        "patient_label": get_adapter(request).patient_label(found.patient) if found.patient else "",
        "timeline": timeline.lines(found.events.select_related("actor").order_by("at", "pk")),
        "recovery": found.recovery_actions.all(),
        "categories": categories,
        "clinicians": ClinicianPage.objects.filter(feedback_cases=found).only("title", "url_path"),
        "status_form": forms.get("status") or StatusForm(auto_id=_IDS["status"]),
        "note_form": forms.get("note") or NoteForm(auto_id=_IDS["note"]),
        "recovery_form": forms.get("recovery") or RecoveryForm(auto_id=_IDS["recovery"]),
        "assign_form": forms.get("assign") or AssignForm(people=_assignable(request.user), auto_id=_IDS["assign"]),
        "action_errors": action_errors or [],
        "transitions": [(s, Case.Status(s).label) for s in actions.TRANSITIONS[found.status]],
        "next_due": _next_due(found),
        "now": timezone.now(),
        "done": request.GET.get("done", ""),
        "classify_form": forms.get("classify") or _classify_form(found, categories),
        "grievance_response": (
            GrievanceResponse.objects.filter(case=found).first() if found.type == Case.Type.GRIEVANCE else None
        ),
        "response_templates": actions.response_templates_for(found),
        "source_url": _source_url(found),
        "attachments": list(found.attachments.all()),
    }
    return render(request, _T + "case.html", context, status=400 if forms or action_errors else 200)


@staff_only
def attachment(request, case_id, attachment_id):
    """A file kept with the case, as a download (``core.files.download``), to staff who may read the case.

    Opening it is a PHI read, recorded with the patient."""
    found = case_for(request, case_id)
    if rules.restricted(request.user, found):
        raise Http404()
    found = access.require(request.user, "view", found, request=request)
    kept = CaseAttachment.objects.filter(pk=attachment_id, case=found).first()
    if kept is None:
        raise Http404()
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return files.download(kept.file.name, content_type=kept.content_type, filename=kept.filename)


def _source_url(found: Case) -> str:
    """Where the review or post a case came from can be read (under that content's own access rules)."""
    if not found.source_id:
        return ""
    if found.source_type == "portal_social.review":
        from portal_social.profiles.models import Review

        review = Review.objects.filter(pk=found.source_id).select_related("clinician").first()
        return review.clinician.url or "" if review is not None else ""
    if found.source_type == "portal_social.post":
        try:
            return reverse("portal_social_community:permalink", args=[found.source_id])
        except Exception:  # a post id that is not a uuid: nothing to link to
            return ""
    return ""


def _category_choices():
    return Category.objects.filter(active=True).values_list("pk", "name")


def _classify_form(found: Case, categories, data=None) -> ClassifyForm:
    initial = {"type": found.type, "severity": found.severity, "categories": [str(c.pk) for c in categories]}
    return ClassifyForm(data, initial=initial, categories=_category_choices(), auto_id=_IDS["classify"])


#: Each form on the case page gets its own element ids, so every label names its own field.
_IDS = {name: f"{name}_%s" for name in ("status", "note", "recovery", "assign", "classify")}


@require_POST
@staff_only
def case_action(request, case_id, what: str):
    """One action on a case, then back to its page (or the page again with the error beside the form)."""
    found = case_for(request, case_id)
    user = request.user
    if rules.restricted(user, found):
        context = {"case": found, "refusal": _("Only risk managers can work this case.")}
        return render(request, _T + "restricted.html", context, status=403)
    form = None
    refusals: list[str] = []
    try:
        if what == "status":
            form = StatusForm(request.POST, auto_id=_IDS["status"])
            if form.is_valid():
                data = form.cleaned_data
                actions.change_status(
                    actor=user,
                    case=found,
                    status=data["status"],
                    outcome=data["outcome"],
                    note=data["note"],
                    request=request,
                )
        elif what == "note":
            form = NoteForm(request.POST, auto_id=_IDS["note"])
            if form.is_valid():
                actions.add_note(
                    actor=user,
                    case=found,
                    note=form.cleaned_data["note"],
                    contact=form.cleaned_data["contact"],
                    request=request,
                )
        elif what == "recovery":
            form = RecoveryForm(request.POST, auto_id=_IDS["recovery"])
            if form.is_valid():
                actions.record_recovery(
                    actor=user,
                    case=found,
                    kind=form.cleaned_data["kind"],
                    note=form.cleaned_data["note"],
                    request=request,
                )
        elif what == "assign":
            form = AssignForm(request.POST, people=_assignable(user), auto_id=_IDS["assign"])
            if form.is_valid():
                owner = _member(form.cleaned_data["owner"], user)
                actions.assign_case(actor=user, case=found, owner=owner, request=request)
        elif what == "risk":
            found = actions.flag_medical_risk(actor=user, case=found, request=request)
        elif what == "public_reply":
            actions.log_public_reply(actor=user, case=found, request=request)
        elif what == "classify":
            form = _classify_form(found, (), request.POST)
            if form.is_valid():
                data = form.cleaned_data
                found = actions.classify_case(
                    actor=user,
                    case=found,
                    type=data["type"],
                    severity=data["severity"],
                    categories=[int(pk) for pk in data["categories"]],
                    request=request,
                )
        else:
            raise Http404()
    except ValidationError as error:
        if form is not None and form.is_bound:
            form.add_error(None, error.messages)
        else:
            refusals += error.messages
    except Denied as refused:
        if form is not None and form.is_bound:
            form.add_error(None, refused.message)
        else:
            refusals.append(refused.message)
    if refusals:
        return case(request, case_id, action_errors=refusals)
    if form is not None and form.errors:
        return case(request, case_id, forms={what: form})
    if what in ("risk", "classify") and not rules.may_work(user, found):
        return HttpResponseRedirect(reverse("portal_social_px:workspace") + "?queue=mine&risk_sent=1")
    return HttpResponseRedirect(reverse("portal_social_px:case", args=[found.pk]) + f"?done={what}")


@staff_only
def new_case(request):
    """Staff entry: a phone call, a letter, an email, someone at the desk, or a social-media post."""
    form = StaffCaseForm(
        request.POST or None,
        request.FILES or None,
        categories=Category.objects.filter(active=True).values_list("pk", "name"),
        sites=Location.objects.values_list("pk", "name"),
        service_lines=ServiceLine.objects.values_list("pk", "name"),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = actions.record_case(
                actor=request.user,
                channel=data["channel"],
                type=data["type"],
                severity=data["severity"],
                summary=data["summary"],
                description=data["description"],
                categories=[int(pk) for pk in data["categories"]],
                site=Location.objects.filter(pk=data["site"]).first() if data["site"] else None,
                service_line=ServiceLine.objects.filter(pk=data["service_line"]).first()
                if data["service_line"]
                else None,
                contact_method=data["contact_method"],
                contact_details=data["contact_details"],
                past_experience=data["past_experience"],
                medical_risk=data["medical_risk"],
                platform=data["platform"],
                post_public=data["post_public"],
                post_url=data["post_url"],
                handle=data["handle"],
                how_learned=data["how_learned"],
                screenshot=data.get("screenshot"),
                request=request,
            )
        except ValidationError as error:
            form.add_action_errors(error)
        except Denied as refused:
            form.add_error(None, refused.message)
        else:
            if rules.may_work(request.user, created):
                return HttpResponseRedirect(reverse("portal_social_px:case", args=[created.pk]) + "?done=created")
            return HttpResponseRedirect(reverse("portal_social_px:workspace") + "?risk_sent=1")
    return render(request, _T + "new.html", {"form": form}, status=400 if form.errors else 200)


__all__ = ["QUEUES", "bulk_assign", "case", "case_action", "new_case", "workspace"]
