"""The intake API for social-media management tools (Sprinklr, Hootsuite…): ``POST /px/api/intake/``.

A tool sends one item at a time, as a JSON object, with its own key::

    Authorization: Bearer pski_…
    Content-Type: application/json

Answers are JSON: 201 ``{"reference", "id", "created": true}`` for a new case,
200 with ``"created": false`` when the item was recorded before; 400 naming
the bad field, 401 without a valid key, 405, 413 past 64 KB, 415 for anything
but JSON, 429 past the key's rate limit (with ``Retry-After``).

The key and the body are never logged: Django's error reports hide the
``Authorization`` header, and this view marks its variables and body
sensitive. The work is ``feedback.actions.receive_item``.
"""

from __future__ import annotations

import json
import logging

from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from portal_social.core import ratelimit
from portal_social.feedback.actions import FeedbackDenied, receive_item
from portal_social.feedback.actions.integrations import key_for

logger = logging.getLogger("portal_social.feedback")

MAX_BODY_BYTES = 64 * 1024


def _answer(status: int, error: str, **extra) -> JsonResponse:
    return JsonResponse({"error": error, **extra}, status=status)


def _unauthorised() -> JsonResponse:
    response = _answer(401, "Send a valid intake key: Authorization: Bearer <key>.")
    response["WWW-Authenticate"] = 'Bearer realm="intake"'
    return response


def _bearer(request) -> str:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _space, value = header.strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _invalid(error: ValidationError) -> JsonResponse:
    if hasattr(error, "error_dict"):
        fields = {name: [str(m) for m in messages] for name, messages in error.message_dict.items()}
        first = next(iter(fields))
        return _answer(400, f"{first}: {fields[first][0]}", field=first, fields=fields)
    return _answer(400, " ".join(str(m) for m in error.messages))


@csrf_exempt
@sensitive_post_parameters()
@sensitive_variables()
def receive(request):
    """Record one item from a tool holding an intake key."""
    if request.method != "POST":
        response = _answer(405, "Send items with POST.")
        response["Allow"] = "POST"
        return response
    key = key_for(_bearer(request))
    if key is None:
        logger.info("intake API: a request without a valid key was refused")
        return _unauthorised()
    if request.content_type.lower() != "application/json" or request.content_params.get(
        "charset", "utf-8"
    ).lower() not in ("utf-8", "utf8"):
        return _answer(415, "Send the item as Content-Type: application/json (UTF-8).")
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        return _answer(413, f"Send at most {MAX_BODY_BYTES // 1024} KB per item.")
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        return _answer(413, f"Send at most {MAX_BODY_BYTES // 1024} KB per item.")
    try:
        payload = json.loads(body.decode("utf-8"), parse_constant=_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return _answer(400, "The body is not valid JSON (UTF-8).")
    if not isinstance(payload, dict):
        return _answer(400, "Send one item as a JSON object.")
    try:
        case, created = receive_item(key=key, payload=payload, request=request)
    except ratelimit.RateLimited as refused:
        response = _answer(429, "Too many items for this key. Try again later.", retry_after=refused.retry_after)
        response["Retry-After"] = str(refused.retry_after)
        return response
    except FeedbackDenied:
        return _unauthorised()
    except ValidationError as error:
        return _invalid(error)
    return JsonResponse(
        {"reference": case.reference, "id": str(case.pk), "created": created}, status=201 if created else 200
    )
