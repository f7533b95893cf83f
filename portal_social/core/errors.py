"""Refusals every feature shares.

An action that will not do something for this person raises a subclass of
:class:`Denied`: a ``PermissionDenied`` (so Django answers 403 where a view
lets it through) carrying a sentence the person may read, translated when it
is shown, and a stable ``code`` for callers that branch on the reason.
"""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

__all__ = ["Denied", "refusal"]


class Denied(PermissionDenied):
    """A refusal with a readable, translatable message.

    Subclasses set ``default_message`` (``gettext_lazy``) and ``code``; a
    caller may pass a more precise ``message`` for one refusal. The message
    names no person and quotes nothing anyone wrote: views show it as is.
    """

    default_message: str | Promise = _("You are not allowed to do that.")
    code: str = "denied"

    def __init__(self, message: str | Promise | None = None, *, code: str | None = None):
        if message:
            self._message = message
        if code:
            self.code = code
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The refusal in the active language."""
        return str(getattr(self, "_message", None) or self.default_message)

    def __str__(self) -> str:
        return self.message


def refusal(message, code: str) -> ValidationError:
    """A ``ValidationError`` not tied to a field that keeps ``code`` for callers that branch on it.

    ``ValidationError({NON_FIELD_ERRORS: [message]}, code=...)`` drops the
    code (Django ignores it beside a dict); this nests it where forms and
    callers find it: ``exc.error_dict[NON_FIELD_ERRORS][0].code``.
    """
    return ValidationError({NON_FIELD_ERRORS: [ValidationError(message, code=code)]})
