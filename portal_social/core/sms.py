"""Text messages (SMS) for notifications: a sender chosen in settings, as Django chooses an email backend.

``PORTAL_SOCIAL_SMS_BACKEND`` names a class with ``send(to, body)``; empty
(the default) means no text messages at all. Shipped:

* :class:`ConsoleBackend`, for development: prints each text with the number
  masked;
* :class:`LocmemBackend`, for tests: keeps them in :data:`outbox`;
* :class:`FileBackend`, for a demo or a test server: one file per text in
  ``PORTAL_SOCIAL_SMS_FILE_PATH``, the number masked.

A host sends through its gateway with a class of its own (``send`` raises on
failure and the notification is retried). The number comes from the host's
records through ``PortalAdapter.sms_number(user)``; portal_social never stores
it. A person receives texts only after ticking "Also send me a text message"
on their notification settings, and a text carries what the notification's
email subject says (which never names what anyone wrote, ADR 15) and its link.
"""

from __future__ import annotations

import functools
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from portal_social.conf import app_settings

#: A text message longer than this is cut (two SMS segments); links are kept whole.
MAX_CHARS = 306
_NUMBER = re.compile(r"^\+?[0-9]{7,15}$")
_SEPARATORS = re.compile(r"[\s().-]")


@dataclass(frozen=True)
class TextMessage:
    to: str
    body: str


class BaseBackend:
    def send(self, to: str, body: str) -> None:  # pragma: no cover - an interface
        raise NotImplementedError


class ConsoleBackend(BaseBackend):
    """Prints each text message (the number masked) to standard output."""

    def send(self, to: str, body: str) -> None:
        print(f"Text message to {mask(to)}:\n{body}\n", flush=True)


#: What :class:`LocmemBackend` sent, oldest first.
outbox: list[TextMessage] = []


class LocmemBackend(BaseBackend):
    def send(self, to: str, body: str) -> None:
        outbox.append(TextMessage(to, body))


class FileBackend(BaseBackend):
    """Writes each text to a file of its own in ``PORTAL_SOCIAL_SMS_FILE_PATH`` (the number masked)."""

    def send(self, to: str, body: str) -> None:
        folder = app_settings.SMS_FILE_PATH
        if not folder:
            raise ImproperlyConfigured("FileBackend needs PORTAL_SOCIAL_SMS_FILE_PATH")
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.txt"
        (path / name).write_text(f"To: {mask(to)}\n\n{body}\n", encoding="utf-8")


@functools.cache
def _backend_class(path: str) -> type[BaseBackend]:
    try:
        return import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(f"PORTAL_SOCIAL_SMS_BACKEND: cannot import {path!r}") from exc


def enabled() -> bool:
    """Whether the portal sends text messages at all."""
    return bool(app_settings.SMS_BACKEND)


def normalise(number: str | None) -> str | None:
    """``number`` as digits with an optional leading "+" (spaces, dots, hyphens and brackets dropped), or
    None when it does not look like a phone number."""
    if not number or not isinstance(number, str):
        return None
    cleaned = _SEPARATORS.sub("", number.strip())
    return cleaned if _NUMBER.match(cleaned) else None


def mask(number: str) -> str:
    """Only the last four digits, for screens and logs."""
    digits = re.sub(r"\D", "", number or "")
    return "•••• " + digits[-4:] if len(digits) >= 4 else "••••"


def body_for(message) -> str:
    """The text of a rendered notification (``core.notify.Message``): the portal's name, its subject and its
    link, nothing else."""
    name = str(app_settings.ORGANISATION_NAME)
    head = f"{name}: {message.subject}"
    url = message.url or ""
    room = MAX_CHARS - len(url) - 1
    if len(head) > room:
        head = head[: max(0, room - 1)].rstrip() + "…"
    return f"{head} {url}".strip()


def send(to: str, body: str) -> None:
    """Send ``body`` to ``to`` through the configured backend; ValueError for a number that is not one."""
    number = normalise(to)
    if number is None:
        raise ValueError("not a phone number")
    path = app_settings.SMS_BACKEND
    if not path:
        raise ImproperlyConfigured("PORTAL_SOCIAL_SMS_BACKEND is not set: no text messages can be sent")
    _backend_class(path)().send(number, body)
