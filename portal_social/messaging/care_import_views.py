"""The "Import care relationships" screen of the Wagtail admin, in its "Secure messaging" menu.

At ``portal-social/messaging/care-relationships/import/`` under the admin's root (``/cms/`` in the example site),
staff upload the EHR's attribution list as CSV (see ``messaging.care_import``
for the columns), optionally as a check that writes nothing, and read the
report on the same page: counts, and each refused row by line and column,
never by its values. Anyone who does not hold both ``add_poolpatient`` and
``delete_poolpatient`` through a role gets 404; the package's middleware
already asks staff for their second factor before any admin page.
"""

from __future__ import annotations

import io

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from wagtail.admin.menu import MenuItem

from portal_social.messaging import care_import
from portal_social.messaging.actions.care import may_manage_care_relationships

#: The largest file the screen takes (the command has no limit).
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
TEMPLATE = "portal_social/messaging/admin/care_import.html"


class CareImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        help_text=gettext_lazy("UTF-8 text with a header row: pool, patient, since, status. At most 5 MB."),
    )
    dry_run = forms.BooleanField(
        label=gettext_lazy("Check only (dry run)"),
        required=False,
        help_text=gettext_lazy("Check every row and report what would change, without changing anything."),
    )

    def clean_file(self) -> str:
        """The file's text (a byte-order mark dropped); refuses one over 5 MB or not UTF-8."""
        upload = self.cleaned_data["file"]
        if upload.size is None or upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(
                _("The file is larger than 5 MB. Split it into smaller files and import each one."), code="too_large"
            )
        data = upload.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            raise ValidationError(
                _("The file is larger than 5 MB. Split it into smaller files and import each one."), code="too_large"
            )
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError(
                _("The file is not UTF-8 text. Save it as “CSV UTF-8” and try again."), code="not_utf8"
            ) from None


@require_http_methods(["GET", "HEAD", "POST"])
def import_care_relationships(request):
    """The upload form; after a POST, the same page with the import's report."""
    if not may_manage_care_relationships(request.user):
        raise Http404()
    report = None
    if request.method == "POST":
        form = CareImportForm(request.POST, request.FILES)
        if form.is_valid():
            report = care_import.import_care_relationships(
                io.StringIO(form.cleaned_data["file"], newline=""),
                actor=request.user,
                request=request,
                dry_run=form.cleaned_data["dry_run"],
            )
    else:
        form = CareImportForm()
    return render(
        request,
        TEMPLATE,
        {"form": form, "report": report, "header_title": _("Import care relationships")},
    )


class CareImportMenuItem(MenuItem):
    """The screen's link in the "Secure messaging" menu, shown only to those who may use it."""

    def is_shown(self, request):
        return may_manage_care_relationships(request.user)
