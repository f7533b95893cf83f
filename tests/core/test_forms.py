"""core.forms.ActionErrorsMixin: an action's ValidationError shown next to the form's fields."""

from __future__ import annotations

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from portal_social.core.forms import ActionErrorsMixin


class _ReasonForm(ActionErrorsMixin, forms.Form):
    reason = forms.CharField()
    stars = forms.IntegerField()
    action_error_fields = {"rating": "stars"}


def _bound():
    form = _ReasonForm({"reason": "ok", "stars": "3"})
    assert form.is_valid()
    return form


def test_errors_keyed_by_a_field_go_to_that_field_with_their_codes():
    form = _bound()
    form.add_action_errors(ValidationError({"reason": [ValidationError("Too long.", code="max_length")]}))
    assert form.errors == {"reason": ["Too long."]}
    assert form.has_error("reason", "max_length")
    assert "reason" not in form.cleaned_data


def test_an_action_key_is_mapped_onto_the_forms_field_name():
    form = _bound()
    form.add_action_errors(ValidationError({"rating": ["Choose from 1 to 5 stars."]}))
    assert form.errors == {"stars": ["Choose from 1 to 5 stars."]}


def test_non_field_errors_and_unknown_keys_go_to_the_top_of_the_form():
    form = _bound()
    form.add_action_errors(
        ValidationError({NON_FIELD_ERRORS: ["Already reported."], "spans": ["A selected part is not valid."]})
    )
    assert form.non_field_errors() == ["Already reported.", "A selected part is not valid."]
    assert set(form.errors) == {NON_FIELD_ERRORS}


def test_an_error_without_keys_goes_to_the_top_of_the_form():
    form = _bound()
    form.add_action_errors(ValidationError(["First.", ValidationError("Second.", code="second")]))
    assert form.non_field_errors() == ["First.", "Second."]
    assert form.has_error(NON_FIELD_ERRORS, "second")


def test_one_plain_message_goes_to_the_top_of_the_form():
    form = _bound()
    form.add_action_errors(ValidationError("Only published comments can be appealed."))
    assert form.non_field_errors() == ["Only published comments can be appealed."]
