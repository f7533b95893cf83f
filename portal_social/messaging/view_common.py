"""What the secure messaging pages share (``views`` and ``staff_views``): addresses, names, refusals."""

from __future__ import annotations

import uuid

from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from portal_social.adapter import get_adapter
from portal_social.messaging.models import Conversation

_TEMPLATES = "portal_social/messaging/"


def _url(name: str, *args) -> str:
    return reverse(f"portal_social_messaging:{name}", args=args)


def _display(user) -> str:
    return get_adapter().display_name(user) if user is not None else _("A former member of staff")


def _refused(request, message: str, *, status: int = 403, conversation: Conversation | None = None):
    return render(
        request, _TEMPLATES + "refused.html", {"refusal": message, "conversation": conversation}, status=status
    )


def _uuid_or_none(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
