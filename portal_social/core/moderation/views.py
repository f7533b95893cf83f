"""The moderation queue in the Wagtail admin: one screen for every kind of content.

* ``queue`` (``/cms/portal-social/moderation/``): the pending items the
  moderator reviews, urgent first, then oldest, with filters (kind, reason,
  community or space, urgency, claimed). Each item is shown by its kind's
  template. Items may show content as written (PHI and all), so opening the
  queue writes one ``moderation.view`` event per patient whose content was
  shown, naming the items. The page makes the same number of queries
  whatever the number of items: one page of items, their reasons, and one
  bulk load per kind shown.
* ``item_action`` (POST): claim, release, escalate, or decide (approve,
  reject with a reason, redact chosen spans, close without action), each
  through ``core.moderation.actions``, with the item's version as shown.

Anyone who reviews no kind of content gets 404.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from portal_social.core import access, realtime
from portal_social.core.moderation import actions, events, reasons, registry, rules
from portal_social.core.moderation.models import ModerationItem

PAGE_SIZE = 25
#: At most this many parts of one text can be chosen in one decision.
MAX_SPANS = 200
# An offset: ASCII digits only, and few of them (str.isdigit() accepts "²"; int() refuses
# more than 4,300 digits): a tampered form gets an error, never a server error.
_OFFSET_DIGITS = 7
FILTERS = ("type", "reason", "space", "urgent", "claimed")


class QueueFilters(forms.Form):
    type = forms.ChoiceField(label=_lazy("Content"), required=False)
    reason = forms.ChoiceField(label=_lazy("Reason"), required=False)
    space = forms.SlugField(label=_lazy("Community or space"), required=False, max_length=100)
    urgent = forms.BooleanField(label=_lazy("Urgent only"), required=False)
    claimed = forms.ChoiceField(
        label=_lazy("Claimed"),
        required=False,
        choices=[
            ("", _lazy("Anyone's or nobody's")),
            ("unclaimed", _lazy("Nobody is working on it")),
            ("mine", _lazy("I am working on it")),
            ("others", _lazy("A colleague is working on it")),
        ],
    )

    def __init__(self, *args, kinds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [("", _lazy("Every kind"))] + [(kind.key, kind.label) for kind in kinds]
        self.fields["reason"].choices = [("", _lazy("Any reason"))] + [(c.code, c.label) for c in reasons.codes()]

    def apply(self, queryset, user):
        if not self.is_valid():
            return queryset
        data = self.cleaned_data
        if data.get("type"):
            queryset = queryset.filter(kind=data["type"])
        if data.get("reason"):
            queryset = queryset.filter(reasons__code=data["reason"]).distinct()
        if data.get("space"):
            queryset = queryset.filter(space=data["space"])
        if data.get("urgent"):
            queryset = queryset.filter(urgent=True)
        claimed = data.get("claimed")
        if claimed == "unclaimed":
            queryset = queryset.filter(claimed_by__isnull=True)
        elif claimed == "mine":
            queryset = queryset.filter(claimed_by=user)
        elif claimed == "others":
            queryset = queryset.filter(claimed_by__isnull=False).exclude(claimed_by=user)
        return queryset


def _reviewer_kinds(user) -> list[registry.Kind]:
    """The kinds ``user`` reviews: through a role, or some spaces of it (``Kind.reviewer_spaces``)."""
    return rules.reviewer_kinds(user)


def _require_reviewer(request) -> list[registry.Kind]:
    kinds = _reviewer_kinds(request.user)
    if not kinds:
        raise Http404()
    return kinds


def _filter_query(values, *, page: bool = True) -> str:
    """The filters (and page) from ``values`` (GET, or a form's ``return`` field), re-encoded: known keys only."""
    keys = (*FILTERS, "p") if page else FILTERS
    kept = [(key, str(values.get(key, ""))[:100]) for key in keys if values.get(key)]
    return ("?" + urlencode(kept)) if kept else ""


def _audit_shown(request, shown: list[ModerationItem]) -> None:
    """One ``moderation.view`` event per patient whose content was shown (at most ``PAGE_SIZE``)."""
    by_patient: dict[int | None, list[ModerationItem]] = {}
    for item in shown:
        by_patient.setdefault(item.author_id, []).append(item)
    for patient_id, theirs in by_patient.items():
        events.queue_viewed(actor=request.user, items=theirs, patient=patient_id, request=request)


def queue(request):
    """The queue. Items may show PHI as written: audited per patient shown."""
    kinds = _require_reviewer(request)
    # Read before the items: a change made after this point shows the page's "queue has changed" notice.
    # A kind's stream follows every item of it: only reviewers of the whole kind follow it.
    followed = [kind for kind in kinds if rules.kind_spaces(kind, request.user) is None]
    streams = realtime.last_event_ids([actions.STREAM_PREFIX + kind.key for kind in followed])
    filters = QueueFilters(request.GET or None, kinds=kinds)
    pending = access.visible(request.user, ModerationItem.objects.filter(status=ModerationItem.Status.PENDING))
    pending = filters.apply(pending, request.user) if filters.is_bound else pending
    ordered = pending.select_related("claimed_by").prefetch_related("reasons").order_by("-urgent", "created_at", "pk")
    page = Paginator(ordered, PAGE_SIZE).get_page(request.GET.get("p"))
    items = list(page)
    targets: dict[str, dict] = {}
    for kind in kinds:
        ids = [item.target_id for item in items if item.kind == kind.key]
        if ids:
            targets[kind.key] = dict(kind.load(ids))
    rows, shown = [], []
    for item in items:
        kind = registry.get(item.kind)
        target = targets.get(item.kind, {}).get(str(item.target_id))
        row = {
            "item": item,
            "kind": kind,
            "target": target,
            "reasons": [
                {"code": r.code, "label": reasons.label(r.code), "by_person": r.added_by_id is not None}
                for r in item.reasons.all()
            ],
            "mine": item.claimed_by_id == request.user.pk,
        }
        if target is not None:
            row["view"] = kind.present(item, target)
            row["decisions"] = kind.decisions(item, target)
            shown.append(item)
        rows.append(row)
    _audit_shown(request, shown)
    return render(
        request,
        "portal_social/moderation/queue.html",
        {
            "page": page,
            "rows": rows,
            "filters": filters,
            "filter_query": _filter_query(request.GET, page=False),
            "return_query": _filter_query(request.GET),
            "streams": " ".join(f"{name}:{last_id}" for name, last_id in streams.items()),
            "header_title": _("Moderation queue"),
        },
    )


def _offset(value: str) -> int | None:
    if 0 < len(value) <= _OFFSET_DIGITS and value.isascii() and value.isdecimal():
        return int(value)
    return None


def parse_spans(values: list[str]) -> list[tuple[int, int]]:
    """The ``start:end`` offsets a moderator chose; ``ValidationError`` for anything else."""
    if len(values) > MAX_SPANS:
        raise ValidationError({"spans": [_("Too many parts of the text are selected.")]})
    spans = []
    for value in values:
        start, _sep, end = value.partition(":")
        start_offset, end_offset = _offset(start), _offset(end)
        if start_offset is None or end_offset is None:
            raise ValidationError({"spans": [_("A selected part of the text is not valid.")]})
        spans.append((start_offset, end_offset))
    return spans


@require_POST
def item_action(request, item_id):
    """One operation on one item, then back to the queue (with the same filters)."""
    _require_reviewer(request)
    item = get_object_or_404(access.visible(request.user, ModerationItem.objects.all()), pk=item_id)
    operation = request.POST.get("action", "")
    version = request.POST.get("version", "")
    user = request.user
    back = reverse("portal_social_moderation_queue") + _filter_query(_return_values(request))
    try:
        if operation == "claim":
            actions.claim(moderator=user, item=item, version=version, request=request)
            done = _("You are working on this item; colleagues see it is yours.")
        elif operation == "release":
            actions.release(moderator=user, item=item, version=version, request=request)
            done = _("The item is back in the queue for anyone.")
        elif operation == "escalate":
            actions.escalate(moderator=user, item=item, version=version, request=request)
            done = _("The item is urgent now, and every moderator has been told.")
        elif operation in registry.DECISIONS:
            data = {
                "reason": request.POST.get("reason", ""),
                "spans": parse_spans(request.POST.getlist("span")) if operation == registry.REDACT else [],
                "use_findings": request.POST.get("all_findings") == "on",
            }
            done = actions.decide(
                moderator=user, item=item, version=version, decision=operation, data=data, request=request
            )
        else:
            raise ValidationError(_("Choose a decision."))
    except PermissionDenied:
        raise Http404() from None
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
    return HttpResponseRedirect(back)


def _return_values(request) -> dict[str, str]:
    """The filters the moderator was looking at, from the form's ``return`` field."""
    from django.http import QueryDict

    raw = request.POST.get("return", "")
    return QueryDict(raw.lstrip("?")[:1000]) if raw else {}
