"""Cases from other systems: social-media management tools (the intake API) and historical imports.

* :func:`receive_item`: one item a tool sends with its ``IntakeKey``. The
  case is opened exactly as staff entry opens one (numbering, medical risk,
  routing, clocks, timeline, audit, the owner's notice), with the channel
  ``api`` and the tool's own id for the item. The same item sent twice, even
  at the same moment, is recorded once.
* :func:`import_row`: one row of a file of historical cases from the system
  the organisation used before. It is numbered, classified and routed like
  any case, but nobody is told: an import is a migration, not news. A
  resolved or closed case runs no clock and can never be escalated; an open
  one runs the clocks still owed, from when it was received.
* :func:`create_intake_key` and :func:`revoke_intake_keys`: keys for the
  tools. Only a hash of a key is stored; the key is shown once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from portal_social.core import ratelimit, submissions
from portal_social.feedback import events, sla
from portal_social.feedback.actions._common import (
    FeedbackDenied,
    clean_text,
    log,
    queue_deadline_check,
    rules,
    set_deadlines,
    signed_in,
)
from portal_social.feedback.actions.intake import URL_MAX_LENGTH, _open, number_and_save
from portal_social.feedback.models import (
    DESCRIPTION_MAX_LENGTH,
    SUMMARY_MAX_LENGTH,
    Case,
    CaseEvent,
    CasePause,
    Category,
    IntakeKey,
    Severity,
)
from portal_social.feedback.routing import route

#: The rate limit (``core.ratelimit``) each key's requests count against.
RATE_LIMIT = "intake_api"
#: What keys begin with, so they can be recognised (by people and by secret scanners).
KEY_PREFIX = "pski_"
#: Cases imported with an id from the old system record it under this source.
IMPORT_SOURCE = "import"
EXTERNAL_ID_MAX_LENGTH = 120
HANDLE_MAX_LENGTH = 120
MAX_CATEGORIES = 20
#: A tool's clock may run a little ahead of ours: a time this far in the future counts as now.
CLOCK_LEEWAY = dt.timedelta(minutes=5)
#: The earliest year a date may name (older dates are typing errors).
EARLIEST_YEAR = 1950
_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,80}")
_SITE_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,150}")


# --------------------------------------------------------------------------- keys


def hash_key(key: str) -> str:
    """SHA-256 of ``key``, hex: what ``IntakeKey.key_hash`` holds."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def key_for(key: str) -> IntakeKey | None:
    """The active key ``key`` names, or None. The lookup is by hash, so no comparison leaks the key."""
    if not key or len(key) > 200:
        return None
    return IntakeKey.objects.filter(key_hash=hash_key(key), active=True).first()


def create_intake_key(*, name: str, source: str, actor=None) -> tuple[IntakeKey, str]:
    """A new key for the tool ``name`` whose cases record ``source``; returns the row and the key itself.

    The key is returned once and never stored: keep it in the tool's settings.
    A source that had a key before (revoked) gets a new one in its place.
    """
    from django.utils.text import slugify

    name = (name or "").strip()
    source = (source or "").strip()
    if not name or len(name) > 80:
        raise ValidationError({"name": gettext("Name the tool in 80 characters or fewer.")}, code="invalid")
    if not source or slugify(source) != source or len(source) > 60:
        raise ValidationError(
            {"source": gettext("Use lower-case letters, digits and hyphens, such as sprinklr.")}, code="invalid"
        )
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        if IntakeKey.objects.filter(source=source, active=True).exists():
            raise ValidationError({"source": gettext("This source has an active key. Revoke it first.")}, code="exists")
        if IntakeKey.objects.filter(name=name).exclude(source=source).exists():
            raise ValidationError({"name": gettext("Another source uses this name.")}, code="exists")
        row = IntakeKey.objects.filter(source=source).first() or IntakeKey(source=source)
        row.name = name
        row.prefix = key[:12]
        row.key_hash = hash_key(key)
        row.active = True
        row.last_used_at = None
        row.save()
        events.KEY_ISSUED.record(actor=actor, target=row, details={"source": source, "prefix": row.prefix})
    return row, key


def revoke_intake_keys(*, source: str, actor=None) -> int:
    """Refuse the key of ``source`` from now on; returns how many keys were active."""
    with transaction.atomic():
        rows = list(IntakeKey.objects.select_for_update().filter(source=source, active=True))
        for row in rows:
            row.active = False
            row.save(update_fields=["active"])
            events.KEY_REVOKED.record(actor=actor, target=row, details={"source": source, "prefix": row.prefix})
    return len(rows)


@dataclass(frozen=True)
class _KeyIdentity:
    """What ``ratelimit.check`` counts a key's requests against (it keys a signed-in "user" by ``pk``)."""

    pk: str
    is_authenticated: bool = True


# --------------------------------------------------------------------------- checking values


def _invalid(field: str, message: str, code: str = "invalid") -> ValidationError:
    return ValidationError({field: message}, code=code)


def _external_id(value: Any, field: str, *, required: bool) -> str:
    if value is None or value == "":
        if required:
            raise _invalid(field, gettext("This field is required."), "required")
        return ""
    if not isinstance(value, str):
        raise _invalid(field, gettext("Send the id as text."))
    value = value.strip()
    if not value:
        if required:
            raise _invalid(field, gettext("This field is required."), "required")
        return ""
    if len(value) > EXTERNAL_ID_MAX_LENGTH:
        raise _invalid(field, gettext("Keep the id to %(limit)s characters.") % {"limit": EXTERNAL_ID_MAX_LENGTH})
    if not value.isprintable():
        raise _invalid(field, gettext("The id may hold only printable characters."))
    return value


def _choice(value: Any, choices, field: str, *, default: str = "") -> str:
    if value is None or value == "":
        if default:
            return default
        raise _invalid(field, gettext("This field is required."), "required")
    if not isinstance(value, str) or value not in {str(c) for c in choices}:
        raise _invalid(
            field,
            gettext("Use one of: %(values)s.") % {"values": ", ".join(str(c) for c in choices)},
            "invalid_choice",
        )
    return value


def _moment(value: Any, field: str, *, required: bool, naive: bool) -> dt.datetime | None:
    """An ISO 8601 date-time (or, with ``naive``, a date or local time, read in the portal's zone)."""
    if value is None or value == "":
        if required:
            raise _invalid(field, gettext("This field is required."), "required")
        return None
    if not isinstance(value, str):
        raise _invalid(field, gettext("Send the time as ISO 8601 text, such as 2026-03-01T14:30:00Z."))
    text = value.strip()
    try:
        if not text.isascii() or len(text) > 40:
            raise ValueError
        moment = dt.datetime.fromisoformat(text)
        if moment.year < EARLIEST_YEAR:
            raise ValueError
    except ValueError:
        if naive:
            message = gettext("not a date (use ISO 8601, such as 2024-03-01 or 2024-03-01T14:30)")
        else:
            message = gettext("not an ISO 8601 date and time, such as 2026-03-01T14:30:00Z")
        raise _invalid(field, message) from None
    if timezone.is_naive(moment):
        if not naive:
            raise _invalid(field, gettext("Give the time zone, such as 2026-03-01T14:30:00Z or +01:00."), "naive")
        moment = timezone.make_aware(moment, timezone.get_current_timezone())
    now = timezone.now()
    if moment > now + CLOCK_LEEWAY:
        raise _invalid(field, gettext("This cannot be in the future."), "future")
    return min(moment, now)


def _category_rows(value: Any, field: str = "categories", *, separated: bool = False) -> list[Category]:
    """Active categories named by slug (a list, or with ``separated`` ``;``-separated text); unknown slugs are
    refused."""
    if value is None or value == "":
        return []
    if separated and isinstance(value, str):
        value = [part.strip() for part in value.split(";") if part.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _invalid(field, gettext("Send a list of category slugs."))
    if len(value) > MAX_CATEGORIES:
        raise _invalid(field, gettext("Send at most %(limit)s categories.") % {"limit": MAX_CATEGORIES})
    slugs = set(value)
    found = list(Category.objects.filter(slug__in={s for s in slugs if _SLUG.fullmatch(s)}, active=True))
    unknown = sorted(slugs - {c.slug for c in found})
    if unknown:
        # Only slug-shaped values are repeated back: they name configuration, never anyone's words.
        shown = ", ".join(s for s in unknown[:5] if _SLUG.fullmatch(s))
        if not shown:
            raise _invalid(field, gettext("Unknown category."), "unknown")
        raise _invalid(field, gettext("Unknown category: %(slugs)s.") % {"slugs": shown}, "unknown")
    return found


def _site(value: Any, field: str = "site"):
    from portal_social.profiles.models import Location

    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _invalid(field, gettext("Send the site's slug."))
    value = value.strip()
    site = Location.objects.filter(slug=value).first() if _SITE_SLUG.fullmatch(value) else None
    if site is None:
        raise _invalid(field, gettext("No site has this slug."), "unknown")
    return site


def _find(source: str, external_id: str) -> Case | None:
    """The case already recorded for this item, if any."""
    if not external_id:
        return None
    return Case.objects.filter(external_source=source, external_id=external_id).first()


# --------------------------------------------------------------------------- the intake API


def _item(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of one item, checked; a ``ValidationError`` naming the first bad field."""
    external_id = _external_id(payload.get("external_id"), "external_id", required=True)
    case_type = _choice(payload.get("type"), Case.Type.values, "type", default=Case.Type.COMPLAINT)
    platform = _choice(payload.get("platform"), Case.Platform.values, "platform", default=Case.Platform.OTHER)
    severity = _choice(payload.get("severity"), Severity.values, "severity", default=Severity.MEDIUM)
    public = payload.get("public")
    if not isinstance(public, bool):
        raise _invalid("public", gettext("Say whether the post was public: true or false."), "required")
    post_url, _html = clean_text(payload.get("post_url"), field="post_url", required=False, max_length=URL_MAX_LENGTH)
    if post_url and not post_url.lower().startswith(("https://", "http://")):
        raise _invalid("post_url", gettext("Send the post's web address, starting https://."))
    handle, _html = clean_text(payload.get("handle"), field="handle", required=False, max_length=HANDLE_MAX_LENGTH)
    source, html = clean_text(payload.get("text"), field="text", required=True, max_length=DESCRIPTION_MAX_LENGTH)
    received = _moment(payload.get("received_at"), "received_at", required=False, naive=False)
    return {
        "external_id": external_id,
        "type": case_type,
        "platform": platform,
        "severity": severity,
        "post_public": public,
        "handle_discreetly": not public,
        "post_url": post_url,
        "handle": handle,
        "description_source": source,
        "description_html": html,
        "received_at": received or timezone.now(),
        "categories": _category_rows(payload.get("categories")),
        "site": _site(payload.get("site")),
    }


def receive_item(*, key: IntakeKey, payload: dict, request=None) -> tuple[Case, bool]:
    """Record one item a social-media management tool sent; returns the case and whether it is new.

    The item is recorded once per (tool, ``external_id``): sending it again,
    even at the same moment, returns the case recorded first and changes
    nothing. A private post is marked "handle discreetly". Each request
    counts against the key's rate limit (``intake_api``).
    """
    if not isinstance(key, IntakeKey) or key.pk is None or not key.active:
        raise FeedbackDenied(gettext("This intake key is not active."))
    ratelimit.check(RATE_LIMIT, request=request, user=_KeyIdentity(f"intake-key:{key.pk}"))
    if not isinstance(payload, Mapping):
        raise ValidationError(gettext("Send one item as a JSON object."), code="invalid")
    item = _item(payload)
    now = timezone.now()
    IntakeKey.objects.filter(pk=key.pk).update(last_used_at=now)
    key.last_used_at = now
    external_id = item.pop("external_id")
    categories = item.pop("categories")
    found = _find(key.source, external_id)
    if found is not None:
        return found, False
    created: list[Case] = []

    def write() -> Case:
        case = Case(
            channel=Case.Channel.API,
            external_source=key.source,
            external_id=external_id,
            how_learned=gettext("Sent by %(tool)s through the intake API.") % {"tool": key.name},
            **item,
        )
        case = _open(case, categories, actor=None, request=request, words=item["description_source"])
        created.append(case)
        return case

    case = submissions.once(write, lambda: _find(key.source, external_id))
    return case, bool(created)


# --------------------------------------------------------------------------- historical imports

#: The columns an import file may have; the ones marked True are required.
IMPORT_COLUMNS: dict[str, bool] = {
    "reference_external": False,
    "received_at": True,
    "channel": False,
    "type": True,
    "severity": False,
    "status": False,
    "resolved_at": False,
    "categories": False,
    "site": False,
    "summary": False,
    "description": True,
    "outcome": False,
}
_DONE = (Case.Status.RESOLVED, Case.Status.CLOSED)


def _row(row: Mapping[str, Any]) -> dict[str, Any]:
    """The checked values of one import row; a ``ValidationError`` naming the bad column."""
    external_id = _external_id(row.get("reference_external"), "reference_external", required=False)
    received = _moment(row.get("received_at"), "received_at", required=True, naive=True)
    channel = _choice(_text(row.get("channel")), Case.Channel.values, "channel", default=Case.Channel.IMPORT)
    case_type = _choice(_text(row.get("type")), Case.Type.values, "type")
    severity = _choice(_text(row.get("severity")), Severity.values, "severity", default=Severity.MEDIUM)
    status = _choice(_text(row.get("status")), Case.Status.values, "status", default=Case.Status.NEW)
    resolved = _moment(row.get("resolved_at"), "resolved_at", required=False, naive=True)
    if resolved is not None and status not in _DONE:
        raise _invalid("resolved_at", gettext("Only a resolved or closed case has a resolved date."))
    if resolved is not None and resolved < received:
        raise _invalid("resolved_at", gettext("This is before the case was received."))
    outcome = _text(row.get("outcome"))
    if outcome:
        outcome = _choice(outcome, Case.Outcome.values, "outcome")
        if status not in _DONE:
            raise _invalid("outcome", gettext("Only a resolved or closed case has an outcome."))
    summary, _html = clean_text(row.get("summary"), field="summary", required=False, max_length=SUMMARY_MAX_LENGTH)
    source, html = clean_text(
        row.get("description"), field="description", required=True, max_length=DESCRIPTION_MAX_LENGTH
    )
    return {
        "external_id": external_id,
        "received_at": received,
        "channel": channel,
        "type": case_type,
        "severity": severity,
        "status": status,
        "resolved_at": resolved,
        "outcome": outcome,
        "summary": summary,
        "description_source": source,
        "description_html": html,
        "categories": _category_rows(_text(row.get("categories")), separated=True),
        "site": _site(_text(row.get("site"))),
    }


def _text(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def import_row(row: Mapping[str, Any], *, actor=None, dry_run: bool = False) -> tuple[Case | None, bool]:
    """Record one historical case from an import file; returns ``(case, created)``.

    ``row`` maps the column names of :data:`IMPORT_COLUMNS` to text. A bad
    value raises ``ValidationError`` naming its column. A row whose
    ``reference_external`` was imported before returns that case and
    ``created`` False. With ``dry_run`` the row is checked and nothing is
    written: the case is None and ``created`` says whether it would be.

    The case is numbered for the year it was received and routed to a team
    by the rules (an open case also to an owner), and nobody is told. Its
    clocks: a new case runs them all from ``received_at``; an open case past
    "new" runs only the resolve clock (whether the old system's other clocks
    were met is not known); a resolved or closed case runs none, so it can
    never be escalated. An "awaiting patient" case is paused from the import.
    One audit event records each imported case.
    """
    if actor is not None and not (signed_in(actor) and rules.is_staff(actor)):
        raise FeedbackDenied(gettext("Only patient-experience staff can import cases."))
    values = _row(row)
    external_id = values.pop("external_id")
    categories = values.pop("categories")
    found = _find(IMPORT_SOURCE, external_id)
    if found is not None:
        return found, False
    if dry_run:
        return None, True
    created: list[Case] = []

    def write() -> Case:
        case = _open_imported(values, categories, external_id=external_id, actor=actor)
        created.append(case)
        return case

    case = submissions.once(write, lambda: _find(IMPORT_SOURCE, external_id))
    return case, bool(created)


def _open_imported(values: dict[str, Any], categories: list[Category], *, external_id: str, actor) -> Case:
    """Number, classify, route and record an imported case, telling nobody (inside a transaction)."""
    now = timezone.now()
    received = values["received_at"]
    status = values["status"]
    done = status in _DONE
    resolved = values.pop("resolved_at") or received
    case = Case(
        **values,
        external_source=IMPORT_SOURCE if external_id else "",
        external_id=external_id,
        submitted_by=actor if signed_in(actor) else None,
        created_at=now,
    )
    if done:
        case.resolved_at = resolved
        case.closed_at = resolved if status == Case.Status.CLOSED else None
    risk = number_and_save(case, categories, values["description_source"], numbered_at=received)
    details = {"channel": case.channel, "type": case.type, "imported": True}
    log(case, CaseEvent.Kind.RECEIVED, actor=actor, details=details, at=received)
    if risk:
        log(case, CaseEvent.Kind.RISK, details={"source": risk}, at=received)
    found = route(case, {c.pk for c in categories})
    case.team, case.routed_by = found.team, found.rule
    # A closed historical case was worked elsewhere: it belongs to a team for reports, not to anyone's queue.
    case.owner_id = None if done else found.owner_id
    log(
        case,
        CaseEvent.Kind.ROUTED,
        details={
            "team": str(found.team.pk) if found.team else None,
            "owner": case.owner_id,
            "previous_owner": None,
            "reason": found.reason,
        },
        at=received,
    )
    if status != Case.Status.NEW:
        log(
            case,
            CaseEvent.Kind.STATUS,
            actor=actor,
            details={"from": Case.Status.NEW, "to": status, "imported": True},
            at=resolved if done else received,
        )
    if status == Case.Status.AWAITING_PATIENT:
        CasePause.objects.create(case=case, started_at=now)
        case.paused_since = now
    if not done:
        set_deadlines(case, now=now)
        if status != Case.Status.NEW:
            case.acknowledge_due_at = case.first_reply_due_at = None
    case.save()
    audit = {**details, "status": status}
    if risk:
        audit["risk"] = risk
    events.case_event(events.RECEIVED, actor=actor, case=case, details=audit)
    due = sla.next_deadline(case)
    if due is not None and due > now:
        # A deadline already past is left to the sweep (``portal_social_sla_sweep``), never escalated mid-import.
        queue_deadline_check(case)
    return case


__all__ = [
    "EXTERNAL_ID_MAX_LENGTH",
    "IMPORT_COLUMNS",
    "IMPORT_SOURCE",
    "KEY_PREFIX",
    "RATE_LIMIT",
    "create_intake_key",
    "hash_key",
    "import_row",
    "key_for",
    "receive_item",
    "revoke_intake_keys",
]
