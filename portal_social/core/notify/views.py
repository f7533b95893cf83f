"""Each signed-in person chooses how often the portal tells them about updates."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from portal_social.core.notify.models import NotificationPreference


class PreferenceForm(forms.Form):
    frequency = forms.ChoiceField(
        label=_("How often should the portal tell you about updates?"),
        choices=NotificationPreference.Frequency.choices,
        widget=forms.RadioSelect,
        help_text=_("Messages only say that something happened and link here; they never include what anyone wrote."),
    )
    by_text = forms.BooleanField(label=_("Also send me a text message"), required=False)

    def __init__(self, *args, texts_to: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if texts_to is None:  # no text messages here, or no number on file: the choice is not offered
            del self.fields["by_text"]
        else:
            self.fields["by_text"].help_text = _(
                "To the mobile number on your record, ending %(digits)s. Standard message rates may apply."
            ) % {"digits": texts_to}


def _texts_to(user) -> str | None:
    """The last four digits of the number texts would go to, when texts can be sent to ``user`` at all."""
    from portal_social.adapter import get_adapter
    from portal_social.core import sms

    if not sms.enabled():
        return None
    number = sms.normalise(get_adapter().sms_number(user))
    return number[-4:] if number else None


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request):
    saved = NotificationPreference.objects.filter(user=request.user).values("frequency", "by_text").first() or {}
    initial = {
        "frequency": saved.get("frequency") or NotificationPreference.Frequency.IMMEDIATELY,
        "by_text": saved.get("by_text", False),
    }
    form = PreferenceForm(request.POST or None, initial=initial, texts_to=_texts_to(request.user))
    if request.method == "POST" and form.is_valid():
        values = {"frequency": form.cleaned_data["frequency"]}
        if "by_text" in form.fields:
            values["by_text"] = form.cleaned_data["by_text"]
        with transaction.atomic():
            NotificationPreference.objects.update_or_create(user=request.user, defaults=values)
        messages.success(request, _("Your notification settings are saved."))
        return redirect("portal_social_notification_preferences")
    return render(request, "portal_social/notify/preferences.html", {"form": form}, status=400 if form.errors else 200)
