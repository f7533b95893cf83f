"""Secure messaging pages, mounted at ``/messages/``. Thin adaptors around ``messaging.actions``.

Every page works without JavaScript; ``messaging.js`` only adds live
updates. A conversation the reader may not see answers 404 exactly like one
that does not exist, on every route. Opening one goes through
``access.require``, which records the PHI read with the patient.
"""

from __future__ import annotations

import datetime

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from portal_social.adapter import get_adapter
from portal_social.conf import app_settings
from portal_social.core import access, breakglass_views, files, ratelimit, realtime, screening
from portal_social.messaging import actions, events, rules
from portal_social.messaging.forms import ComposeForm, ReplyForm
from portal_social.messaging.models import (
    Attachment,
    CarePool,
    Conversation,
    Message,
    PoolMember,
    ReadState,
)
from portal_social.messaging.view_common import _TEMPLATES, _display, _refused, _url, _uuid_or_none

MESSAGES_PER_PAGE = 50
CONVERSATIONS_PER_PAGE = 25
#: Staff inbox filters: key -> label.
FILTERS = {
    "waiting": "Waiting for a reply",
    "mine": "Assigned to me",
    "open": "All open",
    "closed": "Closed",
}


def _conversation(request, conversation_id, *, record: bool = True) -> Conversation:
    """The conversation ``request.user`` may see, or 404 alike for none and not allowed.

    ``record``: open it through ``access.require`` (a PHI read, audited with the patient).
    """
    conversation = (
        Conversation.objects.select_related("pool", "pool__calendar", "patient", "assigned_to")
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is None:
        raise Http404()
    if record:
        return access.require(request.user, "view", conversation, request=request)
    if not access.can(request.user, "view", conversation):
        raise Http404()
    return conversation


def _send(form, call):
    """Run ``call`` (an action); its refusal goes on ``form`` (a field's, or the form's) and None is returned."""
    try:
        return call()
    except ValidationError as exc:
        form.add_action_errors(exc)
    except (ratelimit.RateLimited, actions.MessagingDenied) as exc:
        form.add_error(None, exc.message)
    return None


# Inbox -------------------------------------------------------------------------------------------


@login_required
def inbox(request):
    """The reader's conversations: their own (and those they write for), or their teams' inbox."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    user = request.user
    staff = rules.is_staff_member(user)
    writes = bool(actions.patients_for_sender(user))
    if not staff and not writes:
        return render(request, _TEMPLATES + "inbox.html", {"nothing": True})
    chosen = request.GET.get("show", "waiting") if staff else "all"
    if staff and chosen not in FILTERS:
        chosen = "waiting"
    # Read before the list: what changes after this point reaches the page's script (replayed from here),
    # and a quiet page load hears of nothing.
    positions = realtime.stream_positions([(actions.POOL_STREAM, str(pk)) for pk in rules.pool_ids(user)])
    covering = rules.delegating_user_ids(user)  # away colleagues whose patients' messages come to this reader
    read = ReadState.objects.filter(conversation=OuterRef("pk"), user=user).values("last_read_seq")[:1]
    conversations = (
        access.visible(user, Conversation.objects.all())
        .select_related("pool", "patient", "assigned_to")
        .annotate(read_to=Coalesce(Subquery(read), 0))
    )
    if staff:
        conversations = conversations.filter(
            Q(pool__in=rules.pool_ids(user)) | Q(assigned_to=user) | Q(assigned_to__in=covering)
        )
        if chosen == "waiting":
            conversations = conversations.filter(status=Conversation.Status.OPEN, reply_due_at__isnull=False)
        elif chosen == "mine":
            conversations = conversations.filter(
                Q(assigned_to=user) | Q(assigned_to__in=covering), status=Conversation.Status.OPEN
            )
        elif chosen == "open":
            conversations = conversations.filter(status=Conversation.Status.OPEN)
        else:
            conversations = conversations.filter(status=Conversation.Status.CLOSED)
        conversations = conversations.order_by("-urgent", "reply_due_at", "-last_message_at", "pk")
    else:
        conversations = conversations.order_by("-last_message_at", "pk")
    page = Paginator(conversations, CONVERSATIONS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [_inbox_row(user, c, staff=staff, covering=covering) for c in page.object_list]
    if staff and rows:
        events.INBOX_LISTED.record(
            actor=user,
            request=request,
            details={"filter": chosen, "shown": len(rows), "page": page.number},
        )
    pools = list(CarePool.objects.filter(pk__in=rules.pool_ids(user)).order_by("name")) if staff else []
    context = {
        "staff": staff,
        "writes": writes,
        "rows": rows,
        "page": page,
        "filters": [(key, _(label), key == chosen) for key, label in FILTERS.items()] if staff else [],
        "chosen": chosen,
        "pools": pools,
        "live_streams": [
            {
                "stream": actions.POOL_STREAM,
                "target": str(pool.pk),
                "after": positions[(actions.POOL_STREAM, str(pool.pk))],
            }
            for pool in pools
        ],
    }
    if request.GET.get("fragment") == "list":
        response = render(request, _TEMPLATES + "_inbox_list.html", context)
    else:
        response = render(request, _TEMPLATES + "inbox.html", context)
    response["Cache-Control"] = "private, no-store"
    return response


def _inbox_row(user, conversation: Conversation, *, staff: bool, covering: frozenset = frozenset()) -> dict:
    return {
        "conversation": conversation,
        "url": _url("conversation", conversation.pk),
        "unread": conversation.last_seq > conversation.read_to,
        "topic": actions.topic_label(conversation.topic),
        "patient_name": (
            get_adapter().patient_label(conversation.patient)
            if staff
            else (_display(conversation.patient) if conversation.patient_id != user.pk else "")
        ),
        "assigned_name": _display(conversation.assigned_to) if conversation.assigned_to_id else "",
        "mine": conversation.assigned_to_id == user.pk,
        # Assigned to a colleague who is away and named this reader their delegate.
        "covering": conversation.assigned_to_id in covering,
    }


# Compose -----------------------------------------------------------------------------------------


@login_required
def compose(request):
    """A new conversation with a care team. Patients, and caregivers writing for a patient."""
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    user = request.user
    patients = actions.patients_for_sender(user)
    if not patients:
        return _refused(request, _("You cannot start secure conversations from this account."))
    pools_by_patient = {p.pk: actions.pools_for(user, p) for p in patients}
    pools = {pool.pk: pool for found in pools_by_patient.values() for pool in found}
    choices = {
        "patients": [(p.pk, _("Myself") if p.pk == user.pk else _display(p)) for p in patients],
        "pools": [(pool.pk, pool.name) for pool in sorted(pools.values(), key=lambda pool: pool.name)],
        "topics": list(actions.topics().items()),
        "self_pk": user.pk if any(p.pk == user.pk for p in patients) else None,
    }
    if request.method == "POST":
        form = ComposeForm(request.POST, request.FILES, **choices)
        if form.is_valid():
            data = form.cleaned_data
            patient = next((p for p in patients if str(p.pk) == data["patient"]), None)
            pool = pools.get(_uuid_or_none(data["pool"]))
            if pool is not None and pool not in pools_by_patient.get(getattr(patient, "pk", None), []):
                form.add_error("pool", _("This team does not take messages about this person. Choose another."))
            else:
                conversation = _send(
                    form,
                    lambda: actions.start_conversation(
                        sender=user,
                        patient=patient,
                        pool=pool,
                        topic=data["topic"],
                        subject=data["subject"],
                        body=data["body"],
                        confidential=data.get("confidential", False),
                        submission=data["submission"],
                        attachments=data.get("attachment") or (),
                        request=request,
                    ),
                )
                if conversation is not None:
                    first = conversation.messages.order_by("seq").first()
                    return HttpResponseRedirect(
                        _url("conversation", conversation.pk) + f"?sent={first.pk if first else ''}"
                    )
        status = 400
    else:
        form = ComposeForm(**choices)
        status = 200
    context = {
        "form": form,
        "accept": _accept(),
        "no_pools": not pools,
        "emergency": app_settings.MESSAGING_EMERGENCY_NOTICE,
        "response_days": {pool.pk: pool.response_days for pool in pools.values()},
        # A caregiver writing for one person: the page names them, and says the message shows who wrote it.
        "writing_for": _display(patients[0]) if len(patients) == 1 and patients[0].pk != user.pk else "",
        "as_caregiver": any(p.pk != user.pk for p in patients),
    }
    return render(request, _TEMPLATES + "compose.html", context, status=status)


def _accept() -> str:
    """The file picker's hint: the allowed kinds' types and extensions (the server checks the bytes)."""
    kinds = [files.KINDS[t] for t in files.allowed_types()]
    return ",".join([k.content_type for k in kinds] + ["." + k.extension for k in kinds])


# Conversation ------------------------------------------------------------------------------------


@login_required
def conversation(request, conversation_id):
    """A conversation: its messages (newest page first shown), receipts, the reply form and its tools."""
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    user = request.user
    # A reply is recorded by its own audit event; the read is recorded when the page is shown.
    try:
        convo = _conversation(request, conversation_id, record=False)
    except Http404:
        # Staff who may break the glass are offered emergency access; everyone else gets the plain 404.
        return breakglass_views.not_found(
            request, kind=_("conversation"), request_url=_url("emergency_access", conversation_id)
        )
    side = rules.side_of(user, convo)
    may_reply = access.can(user, "reply", convo) and _within_reopen_window(convo, side)
    form = None
    status = 200
    if request.method == "POST":
        form = ReplyForm(request.POST, request.FILES)
        if not may_reply:
            if convo.status == Conversation.Status.OPEN:  # emergency access, or a reader on neither side
                refusal = _(
                    "You can read this conversation but not write in it: only the patient and their care team can."
                )
            else:
                refusal = _("This conversation is closed. Start a new conversation to write again.")
            return _refused(request, refusal, conversation=convo)
        if form.is_valid():
            data = form.cleaned_data
            message = _send(
                form,
                lambda: actions.send_message(
                    sender=user,
                    conversation=convo,
                    body=data["body"],
                    submission=data["submission"],
                    reply_directly=bool(data.get("reply_directly")) and side == Message.Side.CARE_TEAM,
                    attachments=data.get("attachment") or (),
                    request=request,
                ),
            )
            if message is not None:
                return HttpResponseRedirect(_url("conversation", convo.pk) + f"?sent={message.pk}#message-{message.pk}")
        status = 400
    elif may_reply:
        form = ReplyForm()
    grant = access.require_opening(user, "view", convo, request=request)  # the page shows it: a PHI read
    actions.mark_read(user=user, conversation=convo)
    context = _conversation_context(request, convo, side, grant)
    context.update(form=form, may_reply=may_reply)
    response = render(request, _TEMPLATES + "conversation.html", context, status=status)
    response["Cache-Control"] = "private, no-store"
    return response


def _within_reopen_window(convo: Conversation, side) -> bool:
    if convo.status == Conversation.Status.OPEN:
        return True
    if side == Message.Side.CARE_TEAM or convo.closed_at is None:
        return False
    return timezone.now() - convo.closed_at <= datetime.timedelta(days=app_settings.MESSAGING_REOPEN_DAYS)


def _messages_page(convo: Conversation, number):
    messages = convo.messages.select_related("author").prefetch_related("attachments").order_by("seq")
    paginator = Paginator(messages, MESSAGES_PER_PAGE)
    if number is None:
        number = paginator.num_pages
    return paginator.get_page(number)


def _receipts(convo: Conversation) -> dict[str, int]:
    """How far each side has read: ``{"care_team": seq, "patient_side": seq}`` (one query)."""
    found = {"care_team": 0, "patient_side": 0}
    for side, seq in ReadState.objects.filter(conversation=convo).values_list("side", "last_read_seq"):
        key = "care_team" if side == Message.Side.CARE_TEAM else "patient_side"
        found[key] = max(found[key], seq)
    return found


def _message_rows(request, convo: Conversation, messages, side, receipts: dict[str, int]) -> list[dict]:
    user = request.user
    window = datetime.timedelta(seconds=app_settings.MESSAGING_RETRACT_SECONDS)
    now = timezone.now()
    rows = []
    for message in messages:
        # A reader on neither side (emergency access) owns no message: no "Sent" or "Read" marks.
        own_side = side is not None and (message.side == Message.Side.CARE_TEAM) == (side == Message.Side.CARE_TEAM)
        other = "patient_side" if message.side == Message.Side.CARE_TEAM else "care_team"
        rows.append(
            {
                "message": message,
                "mine": message.author_id == user.pk,
                "author": _author_label(convo, message, user),
                "side_label": message.get_side_display(),
                "own_side": own_side,
                "read": receipts[other] >= message.seq,
                "may_retract": (
                    message.author_id == user.pk and message.retracted_at is None and now - message.created_at <= window
                ),
                "retract_url": _url("retract", convo.pk, message.pk),
                "retract_seconds_left": max(0, int((message.created_at + window - now).total_seconds())),
                # The care team, and a clinician reading through emergency access (on neither side).
                "show_urgent": side == Message.Side.CARE_TEAM or side is None,
                "attachments": [
                    {"attachment": a, "url": _url("attachment", convo.pk, a.pk), "size": _size_text(a.size)}
                    for a in message.attachments.all()
                ]
                if message.retracted_at is None
                else [],
            }
        )
    return rows


def _size_text(size: int) -> str:
    from django.template.defaultfilters import filesizeformat

    return str(filesizeformat(size))


def _author_label(convo: Conversation, message: Message, viewer) -> str:
    if message.author_id is None:
        return _("A former member")
    if message.author_id == viewer.pk:
        return _("You")
    return _display(message.author)  # beside it, the side: "Patient", "Caregiver" or "Care team" (side_label)


def _own_on_page(rows: list[dict], message_id) -> Message | None:
    """The reader's own message ``message_id`` among the page's rows (None for any other id)."""
    return next(
        (r["message"] for r in rows if message_id is not None and r["message"].pk == message_id and r["mine"]), None
    )


def _conversation_context(request, convo: Conversation, side, grant) -> dict:
    """The conversation page's context; ``grant``: the emergency-access grant that opened it, if one did."""
    user = request.user
    # Read before the messages and receipts: whatever changes after this point reaches the page's script
    # (replayed from here), so a reply or receipt landing while the page renders is never lost.
    live_after = realtime.last_event_ids([actions.CONVERSATION_STREAM], str(convo.pk))[actions.CONVERSATION_STREAM]
    page = _messages_page(convo, request.GET.get("page"))
    receipts = _receipts(convo)
    rows = _message_rows(request, convo, list(page.object_list), side, receipts)
    staff_side = side == Message.Side.CARE_TEAM
    sent = _uuid_or_none(request.GET.get("sent", ""))
    just_sent = _own_on_page(rows, sent)
    resources = []
    urgent_sent = just_sent is not None and just_sent.urgent and not staff_side
    if urgent_sent:
        written = actions.screened_text(just_sent.body_source, convo.subject if just_sent.seq == 1 else "")
        resources = screening.screen(written, destination=screening.policy.MESSAGE).resources()
    retracted = _own_on_page(rows, _uuid_or_none(request.GET.get("retracted", "")))
    period = actions.away(convo.assigned_to_id) if convo.assigned_to_id else None
    members = []
    if staff_side:
        members = [
            (str(m.pk), _display(m.user), m.user_id == convo.assigned_to_id)
            for m in PoolMember.objects.filter(pool=convo.pool_id, user__is_active=True)
            .select_related("user")
            .order_by("user__first_name", "user__last_name", "pk")
        ]
    return {
        "conversation": convo,
        "side": side,
        "staff_side": staff_side,
        "patient_name": (
            get_adapter().patient_label(convo.patient) if staff_side or grant else _display(convo.patient)
        ),
        "emergency_until": grant.expires_at if grant is not None else None,
        "for_someone_else": side == Message.Side.CAREGIVER,
        "topic": actions.topic_label(convo.topic),
        "rows": rows,
        "page": page,
        "receipts": receipts,
        # "Your message was sent" only for a message of this reader's in this conversation, never for any id.
        "sent": just_sent is not None
        or (sent is not None and Message.objects.filter(pk=sent, conversation=convo, author=user).exists()),
        "resources": resources,
        "urgent_sent": urgent_sent,
        "retracted": retracted is not None and retracted.retracted_at is not None,
        "away": period,
        "away_name": _display(convo.assigned_to) if period else "",
        "assigned_name": _display(convo.assigned_to) if convo.assigned_to_id else "",
        "covering": staff_side and convo.assigned_to_id in rules.delegating_user_ids(user),
        "members": members,
        "emergency": app_settings.MESSAGING_EMERGENCY_NOTICE,
        "accept": _accept(),
        "may_file": staff_side and convo.status == Conversation.Status.CLOSED and convo.filed_at is None,
        "filed": "filed" in request.GET,
        "may_close": access.can(user, "close", convo),
        "may_claim": access.can(user, "claim", convo),
        "may_set_confidential": access.can(user, "set_confidential", convo),
        "live_stream": actions.CONVERSATION_STREAM,
        "live_after": live_after,
        "read_label": _("Read by the care team") if not staff_side else _("Read by the patient"),
    }


@login_required
def message_fragment(request, conversation_id, message_id):
    """One message as the conversation page lists it (an ``<li>``), for the page's live updates."""
    convo = _conversation(request, conversation_id)
    message = convo.messages.select_related("author").prefetch_related("attachments").filter(pk=message_id).first()
    if message is None:
        raise Http404()
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    side = rules.side_of(request.user, convo)
    row = _message_rows(request, convo, [message], side, _receipts(convo))[0]
    context = {
        "row": row,
        "conversation": convo,
        "read_label": _("Read by the care team") if side != Message.Side.CARE_TEAM else _("Read by the patient"),
    }
    response = render(request, _TEMPLATES + "_message.html", context)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def attachment(request, conversation_id, attachment_id):
    """A file sent in the conversation, as a download (``core.files.download``), to whoever sees it.

    Opening it is a PHI read, recorded with the patient; a retracted message's files are gone.
    """
    convo = _conversation(request, conversation_id)
    found = Attachment.objects.filter(pk=attachment_id, message__conversation=convo).select_related("message").first()
    if found is None or found.message.retracted_at is not None:
        raise Http404()
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return files.download(found.file.name, content_type=found.content_type, filename=found.filename)


# Tools -------------------------------------------------------------------------------------------


def _tool(request, conversation_id, *, record: bool = True) -> Conversation:
    """A conversation for a POST tool; 404 first (unknown or not allowed), then 405 for another method."""
    convo = _conversation(request, conversation_id, record=record)
    if request.method != "POST":
        raise _MethodNotAllowed()
    return convo


class _MethodNotAllowed(Exception):
    pass


def _post_only(view):
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except _MethodNotAllowed:
            return HttpResponseNotAllowed(["POST"])

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return login_required(wrapped)


@_post_only
def retract(request, conversation_id, message_id):
    """The sender retracts their message (within the retraction window)."""
    convo = _conversation(request, conversation_id, record=False)
    message = convo.messages.filter(pk=message_id).first()
    if message is None:
        raise Http404()
    if request.method != "POST":
        raise _MethodNotAllowed()
    message.conversation = convo
    try:
        actions.retract_message(actor=request.user, message=message, request=request)
    except actions.MessagingDenied as exc:
        return _refused(request, exc.message, conversation=convo)
    return HttpResponseRedirect(_url("conversation", convo.pk) + f"?retracted={message.pk}#message-{message.pk}")


@_post_only
def read(request, conversation_id):
    """The page's script says the reader has seen messages up to ``seq`` (live updates while open)."""
    convo = _tool(request, conversation_id, record=False)
    try:
        seq = int(request.POST.get("seq", ""))
    except ValueError:
        seq = None
    actions.mark_read(user=request.user, conversation=convo, seq=seq)
    return HttpResponseRedirect(_url("conversation", convo.pk))


@_post_only
def typing(request, conversation_id):
    """The page's script says its reader is writing a reply (at most every few seconds; limited per user)."""
    convo = _tool(request, conversation_id, record=False)
    try:
        ratelimit.check("message_typing", request=request)
    except ratelimit.RateLimited:
        return HttpResponse(status=429)
    actions.typing(user=request.user, conversation=convo)
    return HttpResponse(status=204)


@_post_only
def close(request, conversation_id):
    convo = _tool(request, conversation_id, record=False)
    try:
        actions.close_conversation(actor=request.user, conversation=convo, request=request)
    except actions.MessagingDenied as exc:
        return _refused(request, exc.message, conversation=convo)
    return HttpResponseRedirect(_url("conversation", convo.pk))


@_post_only
def assign(request, conversation_id):
    """Claim (``to=me``), assign to a pool member (``to=<pool member id>``) or release (``to=``)."""
    convo = _tool(request, conversation_id, record=False)
    if not access.can(request.user, "claim", convo):
        return _refused(
            request, _("Only members of this team can claim or assign its conversations."), conversation=convo
        )
    target = request.POST.get("to", "")
    assignee = None
    if target == "me":
        assignee = request.user
    elif target:
        member = PoolMember.objects.filter(pk=_uuid_or_none(target), pool=convo.pool_id).select_related("user").first()
        if member is None:
            return _refused(request, _("Choose a member of this team."), status=400, conversation=convo)
        assignee = member.user
    try:
        actions.assign_conversation(actor=request.user, conversation=convo, assignee=assignee, request=request)
    except actions.MessagingDenied as exc:
        return _refused(request, exc.message, conversation=convo)
    except ValidationError as exc:
        return _refused(request, " ".join(exc.messages), status=400, conversation=convo)
    return HttpResponseRedirect(_url("conversation", convo.pk))


@_post_only
def confidential(request, conversation_id):
    """The patient hides the conversation from their caregivers (``confidential=1``) or shows it (``0``)."""
    convo = _tool(request, conversation_id, record=False)
    if not access.can(request.user, "set_confidential", convo):
        return _refused(request, _("Only the patient can change who sees this conversation."), conversation=convo)
    value = request.POST.get("confidential", "")
    if value not in ("0", "1"):
        return _refused(request, _("Choose whether to keep this conversation private."), status=400, conversation=convo)
    try:
        actions.set_confidential(actor=request.user, conversation=convo, confidential=value == "1", request=request)
    except actions.MessagingDenied as exc:
        return _refused(request, exc.message, conversation=convo)
    return HttpResponseRedirect(_url("conversation", convo.pk))


@_post_only
def file_record(request, conversation_id):
    """The care team files a closed conversation to the medical record (``PortalAdapter.file_to_record``)."""
    convo = _tool(request, conversation_id, record=False)
    try:
        actions.file_to_record(actor=request.user, conversation=convo, request=request)
    except actions.MessagingDenied as exc:
        # Staff asking too early (still open) made a request the page would not offer: 400, not 403.
        staff = rules.side_of(request.user, convo) == Message.Side.CARE_TEAM
        return _refused(request, exc.message, conversation=convo, status=400 if staff else 403)
    return HttpResponseRedirect(_url("conversation", convo.pk) + "?filed=1")


def unread_count(user) -> int:
    """For the navigation: conversations with unread messages (0 for people who do not message)."""
    if not rules._signed_in(user):
        return 0
    if not (rules.is_staff_member(user) or access.holds(user, rules.MESSAGE_CARE_TEAM)):
        return 0
    return actions.unread_count(user)


__all__ = [
    "typing",
    "file_record",
    "assign",
    "attachment",
    "close",
    "compose",
    "confidential",
    "conversation",
    "inbox",
    "message_fragment",
    "read",
    "retract",
    "unread_count",
]
