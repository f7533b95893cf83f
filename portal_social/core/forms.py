"""What every feature's forms share."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

__all__ = ["ActionErrorsMixin", "FilesField", "OneUseTokenMixin"]


class ActionErrorsMixin:
    """Shows an action's ``ValidationError`` on the form, next to the fields it names.

    Forms collect input; actions validate it again and decide (house rule 1).
    When an action refuses, the view passes its error to
    :meth:`add_action_errors`: each message keyed by a form field goes to
    that field, ``NON_FIELD_ERRORS`` and keys the form has no field for go to
    the top of the form, and so does an error without keys. Codes are kept.
    A form whose field names differ from the action's keys maps them in
    :attr:`action_error_fields` (or overrides :meth:`action_error_field`).
    """

    #: The action's error key -> this form's field name, where they differ.
    action_error_fields: Mapping[str, str] = {}

    def action_error_field(self, key: str) -> str | None:
        """The field that shows the action's errors under ``key``; None for the top of the form."""
        if key == NON_FIELD_ERRORS:
            return None
        name = self.action_error_fields.get(key, key)
        return name if name in self.fields else None

    def add_action_errors(self, error: ValidationError) -> None:
        """Add every message of ``error`` (a dict, a list or one message) to this form."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for key, errors in error.error_dict.items():
            self.add_error(self.action_error_field(key), errors)


class OneUseTokenMixin(forms.Form):
    """A hidden ``submission`` token, fresh on every new form, so the action writes once per form sent
    (``core.submissions.once``). A token that is not a uuid is dropped rather than refused: the write goes
    ahead without that protection, and nothing the person wrote is lost."""

    submission = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("submission", str(uuid.uuid4()))

    def clean_submission(self) -> uuid.UUID | None:
        value = self.cleaned_data.get("submission") or ""
        try:
            return uuid.UUID(value) if len(value) <= 36 else None
        except ValueError:
            return None


class _FilesInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class FilesField(forms.FileField):
    """Any number of files from one ``<input type="file" multiple>``, cleaned to a list (empty when none).

    Each file gets Django's checks for an upload; what the files may be (kind, size, how many) is for the
    action to decide (``core.files.check_uploads``)."""

    widget = _FilesInput

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(FilesField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []
