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


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request):
    current = (
        NotificationPreference.objects.filter(user=request.user).values_list("frequency", flat=True).first()
        or NotificationPreference.Frequency.IMMEDIATELY
    )
    form = PreferenceForm(request.POST or None, initial={"frequency": current})
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            NotificationPreference.objects.update_or_create(
                user=request.user, defaults={"frequency": form.cleaned_data["frequency"]}
            )
        messages.success(request, _("Your notification settings are saved."))
        return redirect("portal_social_notification_preferences")
    return render(request, "portal_social/notify/preferences.html", {"form": form}, status=400 if form.errors else 200)
