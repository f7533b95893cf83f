"""Notifications: keyed templates, sent in the background, never carrying PHI.

A feature registers each kind of notification once, as a :class:`Template`
with a key, a subject and a body (translatable text), the portal page it
links to, and the parameters it may show. Parameters are counts or fixed
choices, never free text, so nothing anyone wrote can reach a notification::

    from portal_social.core import notify

    notify.register(notify.Template(
        key="message.received",
        subject=_("You have a new secure message"),
        body=_("Sign in to the portal to read it."),
        url_name="portal_social_messaging_inbox",
    ))

Then an action, inside its transaction::

    notify.notify(patient, "message.received")
    notify.notify_role(roles.COMMUNITY_MODERATOR, "moderation.item_waiting", params={"count": 3})

Each call writes a :class:`~portal_social.core.notify.models.Notification`
row in the action's transaction (it exists exactly when the change does) and,
after commit, enqueues a ``django-tasks`` task that renders it in the
recipient's language and hands it to the adapter's channels (email by
default; SMS or push through ``PortalAdapter.send_notification``). A request
never waits on mail. A failed send is retried with back-off
(:data:`RETRY_DELAYS`) and never fails the action. ``manage.py
portal_social_notify sweep`` delivers whatever a lost task or a stopped
worker left behind; ``portal_social_notify digest`` sends the daily
summaries to people who asked for one. People choose immediately, a daily
summary, or off; ``mandatory`` templates (security notices) ignore "off" and
the digest.

Two options serve notifications about one object (a thread, a conversation):

* a parameter declared :data:`OPAQUE_ID` carries the object's random id (a
  UUID, never a number or a name) and the template's ``url_kwargs`` put it in
  the link, so the link opens that object (where the access policy decides
  again); it is never shown in the words;
* ``digest=True`` (on :func:`notify` and :func:`notify_many`) waits for the
  daily summary whatever the person's own frequency, for something they chose
  to hear of once a day; "off" still wins, and ``mandatory`` ignores it.

A parameter declared :class:`NameOf` holds an object's random id, and the words
show that object's *name* as the portal's staff set it (a clinician space's
name, say), read when the notification is written out. Only a field that
``core.user_text`` declares not user-written may be named, so what people
write still never reaches a notification. A template with a ``digest_line``
(``ngettext_lazy(..., "count")``) is counted in the daily summary: its
notifications that name the same objects become one line ("3 new posts in
Cardiology case review") instead of one line each.

:func:`notify_many` tells many people at once: one query for their
preferences and one insert, whatever their number.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.utils.functional import Promise

    from portal_social.core.notify.models import Notification

logger = logging.getLogger("portal_social.notify")

#: Waits before the 2nd, 3rd, … delivery attempt; after the last, the notification fails.
RETRY_DELAYS = (
    datetime.timedelta(minutes=1),
    datetime.timedelta(minutes=5),
    datetime.timedelta(minutes=30),
    datetime.timedelta(hours=2),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
#: A delivery claimed this long ago and never finished (a worker died mid-send) is tried again.
CLAIM_TIMEOUT = datetime.timedelta(minutes=10)
#: A string parameter's value must be one of its declared choices, and short.
MAX_CHOICE_LENGTH = 40
#: Declares a parameter that holds an object's random id (a UUID) for the link (``url_kwargs``).
OPAQUE_ID = uuid.UUID


@dataclass(frozen=True)
class NameOf:
    """Declares a parameter that holds the random id (a UUID) of a ``model`` object whose ``field`` the words
    show (``%(name)s``), when it matches ``where``; else ``fallback``. ``field`` must be declared not
    user-written in ``core.user_text``: a name staff set, never anything a person wrote."""

    model: str
    field: str = "name"
    where: tuple[tuple[str, Any], ...] = ()
    fallback: Any = ""

    def shown(self, value: str) -> str:
        from django.apps import apps

        found = (
            apps.get_model(self.model)
            .objects.filter(pk=value, **dict(self.where))
            .values_list(self.field, flat=True)
            .first()
        )
        return str(found) if found else str(self.fallback)


class UnknownNotification(LookupError):
    """No template is registered under this key."""


class InvalidParameter(ValueError):
    """A parameter the template does not declare, or a value it does not allow."""


@dataclass(frozen=True)
class Template:
    """One kind of notification.

    ``params`` maps each parameter the text may show to ``int`` (a count) or
    a tuple of the only strings it may take. ``subject`` and ``body`` may use
    them as ``%(name)s``. A parameter declared :data:`OPAQUE_ID` holds a random
    id for the link only: ``url_kwargs`` maps the ``url_name``'s keyword
    arguments to such parameters. ``mandatory`` notices (security) are sent
    even to people who turned notifications off, and never wait for a digest.
    """

    key: str
    subject: str | Promise
    body: str | Promise
    url_name: str = ""
    params: Mapping[str, type[int] | type[uuid.UUID] | tuple[str, ...]] = field(default_factory=dict)
    mandatory: bool = False
    url_kwargs: Mapping[str, str] = field(default_factory=dict)
    #: Sign the ``url_kwargs`` values (with the time of sending) so the page can refuse a link
    #: that was altered or made up, and one older than it accepts: :func:`unsign`.
    signed_url: bool = False
    #: Also sent as a text message to people who asked for texts (``core.sms``): for what someone is waiting
    #: on (a secure message), not for every badge or published post.
    by_text: bool = False
    #: Counted in the daily summary: ``ngettext_lazy("%(count)d new post in %(space)s", ..., "count")``.
    #: Notifications sharing this line and their named objects become one line with their number.
    digest_line: Any = None


@dataclass(frozen=True)
class Message:
    """A notification rendered for one person, in their language."""

    subject: str
    text: str
    html: str
    url: str


_templates: dict[str, Template] = {}


def register(template: Template) -> Template:
    """Register ``template`` under its key (once: a second registration is a mistake)."""
    if template.key in _templates and _templates[template.key] != template:
        raise ValueError(f"a notification template is already registered as {template.key!r}")
    for name, allowed in template.params.items():
        if allowed is OPAQUE_ID:
            continue
        if isinstance(allowed, NameOf):
            from portal_social.core import user_text

            if user_text.exemption_of(allowed.model, allowed.field) is None:
                raise ValueError(
                    f"parameter {name!r} of {template.key!r} names {allowed.model}.{allowed.field}, which "
                    "core.user_text does not declare not user-written"
                )
            continue
        if allowed is not int and not (isinstance(allowed, tuple) and all(isinstance(c, str) for c in allowed)):
            raise ValueError(f"parameter {name!r} of {template.key!r} must be int, OPAQUE_ID or a tuple of strings")
    for kwarg, name in template.url_kwargs.items():
        if template.params.get(name) is not OPAQUE_ID:
            raise ValueError(f"url argument {kwarg!r} of {template.key!r} must name an OPAQUE_ID parameter")
    _templates[template.key] = template
    return template


def templates() -> dict[str, Template]:
    """Every registered template, by key."""
    from portal_social.core.notify import catalogue  # noqa: F401  (the package's own templates)

    return dict(_templates)


def get_template(key: str) -> Template:
    try:
        return templates()[key]
    except KeyError:
        raise UnknownNotification(key) from None


def clean_params(template: Template, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """``params`` checked against what ``template`` declares; raises ``InvalidParameter``."""
    cleaned: dict[str, Any] = {}
    for name, value in (params or {}).items():
        allowed = template.params.get(name)
        if allowed is None:
            raise InvalidParameter(f"{template.key!r} has no parameter {name!r}")
        if allowed is int:
            if isinstance(value, bool) or not isinstance(value, int) or not (0 <= value < 10**9):
                raise InvalidParameter(f"parameter {name!r} of {template.key!r} must be a count")
        elif allowed is OPAQUE_ID or isinstance(allowed, NameOf):
            value = _opaque_id(template, name, value)
        elif not isinstance(value, str) or len(value) > MAX_CHOICE_LENGTH or value not in allowed:
            raise InvalidParameter(f"parameter {name!r} of {template.key!r} must be one of its choices")
        cleaned[name] = value
    missing = set(template.params) - set(cleaned)
    if missing:
        raise InvalidParameter(f"{template.key!r} needs {', '.join(sorted(missing))}")
    return cleaned


def _opaque_id(template: Template, name: str, value: Any) -> str:
    """``value`` as a canonical UUID string; anything else raises ``InvalidParameter``."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, str) and len(value) <= 36:
        try:
            return str(uuid.UUID(value))
        except ValueError:
            pass
    raise InvalidParameter(f"parameter {name!r} of {template.key!r} must be an opaque id (a UUID)")


# Sending ------------------------------------------------------------------------


def _status_for(template: Template, frequency: str | None, *, digest: bool = False) -> str:
    """A new notification's status from the person's frequency (None: immediately) and the ``digest`` option."""
    from portal_social.core.notify.models import Notification, NotificationPreference

    if template.mandatory:
        return Notification.Status.PENDING
    frequency = frequency or NotificationPreference.Frequency.IMMEDIATELY
    if frequency == NotificationPreference.Frequency.OFF:
        return Notification.Status.SKIPPED
    if digest or frequency == NotificationPreference.Frequency.DAILY:
        return Notification.Status.DIGEST
    return Notification.Status.PENDING


def _initial_status(template: Template, recipient, *, digest: bool = False) -> str:
    from portal_social.core.notify.models import NotificationPreference

    if template.mandatory:
        return _status_for(template, None)
    frequency = NotificationPreference.objects.filter(user=recipient).values_list("frequency", flat=True).first()
    return _status_for(template, frequency, digest=digest)


def notify(
    recipient: AbstractBaseUser, key: str, *, params: Mapping[str, Any] | None = None, digest: bool = False
) -> Notification | None:
    """Tell ``recipient`` about ``key``: a row now, delivery after commit.

    ``digest=True`` waits for the daily summary even for someone who hears
    of everything else at once (see the module's docstring). Returns the
    notification, or None for an inactive account or one without an id.
    Raises ``UnknownNotification`` or ``InvalidParameter`` at once, in the
    action, so a mistake never hides in a background task.
    """
    template = get_template(key)
    cleaned = clean_params(template, params)
    if recipient is None or not getattr(recipient, "is_active", False) or recipient.pk is None:
        return None
    from portal_social.core.notify.models import Notification

    notification = Notification.objects.create(
        recipient=recipient, key=key, params=cleaned, status=_initial_status(template, recipient, digest=digest)
    )
    if notification.status == Notification.Status.PENDING:
        _enqueue_after_commit([notification.public_id])
    return notification


def notify_many(
    recipients: Iterable[AbstractBaseUser],
    key: str,
    *,
    params: Mapping[str, Any] | None = None,
    digest: bool = False,
) -> list[Notification]:
    """:func:`notify` for each of ``recipients`` (once each, active accounts only), in two queries.

    One query reads their preferences and one insert writes the rows,
    whatever their number; delivery is queued after commit as for
    :func:`notify`.
    """
    from portal_social.core.notify.models import Notification, NotificationPreference

    template = get_template(key)
    cleaned = clean_params(template, params)
    people = {}
    for person in recipients:
        if person is not None and getattr(person, "is_active", False) and person.pk is not None:
            people.setdefault(person.pk, person)
    if not people:
        return []
    frequencies = dict(NotificationPreference.objects.filter(user__in=list(people)).values_list("user_id", "frequency"))
    rows = Notification.objects.bulk_create(
        [
            Notification(
                recipient=person,
                key=key,
                params=dict(cleaned),
                status=_status_for(template, frequencies.get(pk), digest=digest),
            )
            for pk, person in people.items()
        ]
    )
    _enqueue_after_commit([n.public_id for n in rows if n.status == Notification.Status.PENDING])
    return rows


def notify_role(role: str, key: str, *, params: Mapping[str, Any] | None = None) -> list[Notification]:
    """Tell every active holder of ``role`` (one notification each)."""
    from django.contrib.auth import get_user_model

    from portal_social.core import roles

    template = get_template(key)
    clean_params(template, params)
    try:
        group_name = roles.GROUP_NAMES[role]
    except KeyError:
        raise ValueError(f"unknown role {role!r}") from None
    holders = get_user_model().objects.filter(is_active=True, groups__name=group_name).distinct()
    return [n for n in (notify(holder, key, params=params) for holder in holders) if n is not None]


def _enqueue_after_commit(public_ids: Iterable) -> None:
    ids = [str(public_id) for public_id in public_ids]

    def enqueue() -> None:
        from portal_social.core.notify.tasks import deliver_notification

        for public_id in ids:
            try:
                deliver_notification.enqueue(public_id)
            except Exception as exc:  # the queue is down: the sweep delivers it later
                logger.warning("notification not queued (%s); the sweep will send it", type(exc).__name__)

    transaction.on_commit(enqueue, robust=True)


# Rendering ----------------------------------------------------------------------


def _signing_salt(key: str) -> str:
    return f"portal_social.notify:{key}"


def unsign(key: str, token: str, *, max_age: datetime.timedelta | None = None) -> str:
    """The value a ``signed_url`` template's link carried, checked: raises ``django.core.signing.BadSignature``
    for a link that was altered or made up, ``SignatureExpired`` (a subclass) for one older than ``max_age``
    (when given: a page whose object keeps its own expiry checks that instead)."""
    if not isinstance(token, str) or len(token) > 200:
        raise signing.BadSignature("not a link token")
    return signing.loads(token, salt=_signing_salt(key), max_age=max_age)


def _url(template: Template, adapter, params: Mapping[str, Any] | None = None) -> str:
    if not template.url_name:
        return ""
    kwargs = {kwarg: (params or {}).get(name) for kwarg, name in template.url_kwargs.items()}
    if template.signed_url:
        kwargs = {kwarg: signing.dumps(value, salt=_signing_salt(template.key)) for kwarg, value in kwargs.items()}
    try:
        return adapter.absolute_url(reverse(template.url_name, kwargs=kwargs or None))
    except NoReverseMatch:  # the host does not mount that page
        return ""


def link(key: str, params: Mapping[str, Any], *, adapter=None) -> str:
    """The absolute link a notification of ``key`` with ``params`` carries (signed when the template says so);
    for a page that shows the signed-in person the same link as their email."""
    from portal_social.adapter import get_adapter

    template = get_template(key)
    return _url(template, adapter or get_adapter(), clean_params(template, params))


def _preferences_url(adapter) -> str:
    try:
        return adapter.absolute_url(reverse("portal_social_notification_preferences"))
    except NoReverseMatch:
        return ""


def _shown(template: Template, cleaned: Mapping[str, Any], names: dict | None = None) -> dict[str, Any]:
    """The parameters as the words show them: each :class:`NameOf` id as its object's name (looked up once
    per object when ``names`` is kept across calls, as for the lines of one summary)."""
    names = {} if names is None else names
    shown = {}
    for name, allowed in template.params.items():
        if name not in cleaned:
            continue
        if isinstance(allowed, NameOf):
            key = (allowed, cleaned[name])
            if key not in names:
                names[key] = allowed.shown(cleaned[name])
            shown[name] = names[key]
        else:
            shown[name] = cleaned[name]
    return shown


def render(template: Template, params: Mapping[str, Any], recipient, *, adapter=None) -> Message:
    """``template`` in ``recipient``'s language, with its link and the footer."""
    from portal_social.adapter import get_adapter

    adapter = adapter or get_adapter()
    cleaned = clean_params(template, params)
    with translation.override(adapter.language_for(recipient)):
        shown = _shown(template, cleaned)
        subject = str(template.subject) % shown if shown else str(template.subject)
        body = str(template.body) % shown if shown else str(template.body)
        url = _url(template, adapter, cleaned)
        context = {
            "subject": subject,
            "body": body,
            "url": url,
            "preferences_url": _preferences_url(adapter),
            "mandatory": template.mandatory,
        }
        text = render_to_string("portal_social/notify/message.txt", context)
        html = render_to_string("portal_social/notify/message.html", context)
    return Message(subject=subject.replace("\n", " ")[:200], text=text, html=html, url=url)


def render_notification(notification: Notification, *, adapter=None) -> Message:
    return render(get_template(notification.key), notification.params, notification.recipient, adapter=adapter)


def render_digest(notifications: list[Notification], recipient, *, adapter=None) -> Message:
    """One summary of several notifications (their subjects only), in ``recipient``'s language."""
    from portal_social.adapter import get_adapter

    adapter = adapter or get_adapter()
    with translation.override(adapter.language_for(recipient)):
        lines = _digest_lines(notifications)
        count = len(notifications)
        subject = ngettext("%(count)d update from the portal", "%(count)d updates from the portal", count) % {
            "count": count
        }
        context = {
            "subject": subject,
            "body": gettext("Here is what happened since your last summary. Sign in to the portal to see more."),
            "items": lines,
            "url": adapter.absolute_url("/"),
            "preferences_url": _preferences_url(adapter),
            "mandatory": False,
        }
        text = render_to_string("portal_social/notify/message.txt", context)
        html = render_to_string("portal_social/notify/message.html", context)
    return Message(subject=subject, text=text, html=html, url=context["url"])


def _digest_lines(notifications: list[Notification]) -> list[str]:
    """One line per notification (its subject), except templates with a ``digest_line``: one line per
    line and named objects, with how many there were, where the first of them came."""
    lines: list[str] = []
    counted: dict[tuple, list] = {}
    names: dict = {}  # each named object read once for the whole summary
    for notification in notifications:
        template = get_template(notification.key)
        shown = _shown(template, notification.params, names)
        if template.digest_line is None:
            lines.append(str(template.subject) % shown if shown else str(template.subject))
            continue
        named = tuple(sorted((k, v) for k, v in shown.items() if isinstance(template.params[k], NameOf)))
        group = (str(template.digest_line % {"count": 1, **dict(named)}), named)
        if group not in counted:
            counted[group] = [template, dict(named), 0, len(lines)]
            lines.append("")
        counted[group][2] += 1
    for template, named, count, at in counted.values():
        lines[at] = str(template.digest_line % {"count": count, **named})
    return lines


# Delivering (background) -----------------------------------------------------------


def _claim(queryset) -> bool:
    """Mark due rows of ``queryset`` as being sent; True when this caller claimed them.

    A conditional UPDATE, committed at once, so two workers never send one
    notification, and no lock is held while mail is being sent.
    """
    from portal_social.core.notify.models import Notification

    now = timezone.now()
    return bool(queryset.update(status=Notification.Status.SENDING, next_attempt_at=now + CLAIM_TIMEOUT))


def _send(recipient, message: Message, template: Template | None, adapter) -> None:
    """Every channel the adapter names. A failure on the first raises (the notification is retried, on every
    channel); a failure on another is logged and not retried, so a text-message outage never sends the
    same email twice."""
    for number, channel in enumerate(adapter.notification_channels(recipient, template)):
        if number == 0:
            adapter.send_notification(recipient, message, channel=channel)
            continue
        try:
            adapter.send_notification(recipient, message, channel=channel)
        except Exception as exc:
            logger.warning("notification: the %s channel failed (%s); not retried", channel, type(exc).__name__)


def _finish(notification: Notification, error: Exception | None) -> None:
    from portal_social.core.notify.models import Notification

    now = timezone.now()
    if error is None:
        notification.status, notification.sent_at, notification.last_error = Notification.Status.SENT, now, ""
    else:
        notification.attempts += 1
        notification.last_error = type(error).__name__[:100]
        if notification.attempts >= MAX_ATTEMPTS:
            notification.status = Notification.Status.FAILED
        else:
            notification.status = Notification.Status.PENDING
            notification.next_attempt_at = now + RETRY_DELAYS[notification.attempts - 1]
        logger.warning(
            "notification %s: delivery attempt %d failed (%s)",
            notification.public_id,
            notification.attempts,
            notification.last_error,
        )
    notification.save(update_fields=["status", "sent_at", "last_error", "attempts", "next_attempt_at"])


def deliver(public_id) -> str:
    """Send one notification if it is due and nobody else is sending it; return its status."""
    from portal_social.adapter import get_adapter
    from portal_social.core.notify.models import Notification

    now = timezone.now()
    due = Notification.objects.filter(public_id=public_id).filter(
        Q(status=Notification.Status.PENDING, next_attempt_at__lte=now)
        | Q(status=Notification.Status.SENDING, next_attempt_at__lte=now)  # a claim that timed out
    )
    if not _claim(due):
        status = Notification.objects.filter(public_id=public_id).values_list("status", flat=True).first()
        return status or "missing"
    notification = Notification.objects.select_related("recipient").get(public_id=public_id)
    adapter = get_adapter()
    error = None
    try:
        template = get_template(notification.key)
        _send(notification.recipient, render_notification(notification, adapter=adapter), template, adapter)
    except Exception as exc:  # retried with back-off; never raised into a caller
        error = exc
    _finish(notification, error)
    if error is not None and notification.status == Notification.Status.PENDING:
        _retry_later(notification)
    return notification.status


def _retry_later(notification: Notification) -> None:
    from portal_social.core.notify.tasks import deliver_notification

    try:
        task = deliver_notification
        if task.get_backend().supports_defer:
            task = task.using(run_after=notification.next_attempt_at)
            task.enqueue(str(notification.public_id))
        # Without deferred tasks, the sweep picks it up when it is due.
    except Exception as exc:
        logger.warning("notification retry not queued (%s); the sweep will send it", type(exc).__name__)


def sweep(*, limit: int = 500) -> int:
    """Deliver notifications that are due and not being sent (lost tasks, retries); return how many were tried."""
    from portal_social.core.notify.models import Notification

    now = timezone.now()
    due = (
        Notification.objects.filter(
            Q(status=Notification.Status.PENDING) | Q(status=Notification.Status.SENDING), next_attempt_at__lte=now
        )
        .order_by("next_attempt_at")
        .values_list("public_id", flat=True)[:limit]
    )
    ids = list(due)
    for public_id in ids:
        deliver(public_id)
    return len(ids)


def send_digests(*, limit: int = 1000) -> int:
    """Send each person waiting for a summary one message; return how many people were sent one."""
    from portal_social.adapter import get_adapter
    from portal_social.core.notify.models import Notification

    adapter = get_adapter()
    recipients = list(
        Notification.objects.filter(status=Notification.Status.DIGEST)
        .values_list("recipient_id", flat=True)
        .distinct()[:limit]
    )
    sent = 0
    for recipient_id in recipients:
        waiting = list(
            Notification.objects.filter(recipient_id=recipient_id, status=Notification.Status.DIGEST).values_list(
                "pk", flat=True
            )
        )
        if not _claim(Notification.objects.filter(pk__in=waiting, status=Notification.Status.DIGEST)):
            continue
        batch = list(
            Notification.objects.filter(pk__in=waiting, status=Notification.Status.SENDING)
            .select_related("recipient")
            .order_by("created_at")
        )
        if not batch:
            continue
        recipient = batch[0].recipient
        error = None
        try:
            _send(recipient, render_digest(batch, recipient, adapter=adapter), None, adapter)
        except Exception as exc:
            error = exc
        if error is None:
            Notification.objects.filter(pk__in=[n.pk for n in batch]).update(
                status=Notification.Status.SENT, sent_at=timezone.now(), last_error=""
            )
            sent += 1
        else:
            logger.warning("daily summary not sent (%s); it will be tried again", type(error).__name__)
            Notification.objects.filter(pk__in=[n.pk for n in batch]).update(
                status=Notification.Status.DIGEST, last_error=type(error).__name__[:100]
            )
    return sent
