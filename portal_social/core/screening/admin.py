"""Watched words in the Wagtail admin: the snippet, CSV import and export,
and "Try it" (screen a sample text, with an unsaved word, before saving).

Registered on import; the package's ``wagtail_hooks`` imports this module.
Editing the list is the snippet's model permissions (``add``/``change``/
``delete_watchedword``); the screens here answer moderators and whoever
may change watched words (:func:`may_manage`), and 404 for anyone else.
The sample text is posted, screened and shown back; it is never stored or logged.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.panels import FieldPanel, FieldRowPanel
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from portal_social.core import access, screening
from portal_social.core.screening import events, policy
from portal_social.core.screening.matching import reading_form
from portal_social.core.screening.models import WatchedWord
from portal_social.core.screening.words import MAX_IMPORT_BYTES, Entry, WatchList, export_csv, import_csv

#: Who may use the screens here: moderators of either kind, and whoever may change watched words.
MANAGE_PERMISSIONS = (
    "portal_social.change_watchedword",
    "portal_social.moderate_community",
    "portal_social.moderate_reviews",
)


def may_manage(user) -> bool:
    """Whether ``user`` may try, import and export watched words (through a role, never as superuser)."""
    return any(access.holds(user, perm) for perm in MANAGE_PERMISSIONS)


def _require(request) -> None:
    if not may_manage(request.user):
        raise Http404()


class WatchedWordViewSet(SnippetViewSet):
    model = WatchedWord
    icon = "warning"
    menu_label = gettext_lazy("Watched words")
    menu_order = 850
    add_to_admin_menu = True
    list_display = ["word", "match", "action", "destinations", "enabled"]
    list_filter = ["match", "action", "enabled"]
    search_fields = ["word"]
    panels = [
        FieldRowPanel([FieldPanel("word"), FieldPanel("match")]),
        FieldRowPanel([FieldPanel("action"), FieldPanel("replacement")]),
        FieldPanel("destinations"),
        FieldPanel("enabled"),
    ]


register_snippet(WatchedWordViewSet)


# --------------------------------------------------------------------------- audit of changes to the lists


@hooks.register("after_create_snippet")
def _audit_word_added(request, instance):
    if isinstance(instance, WatchedWord):
        events.word_added(actor=request.user, word=instance, request=request)


@hooks.register("after_edit_snippet")
def _audit_word_changed(request, instance):
    if isinstance(instance, WatchedWord):
        events.word_changed(actor=request.user, word=instance, request=request)


_REMOVING = "_portal_social_removing_words"


@hooks.register("before_delete_snippet")
def _note_words_to_remove(request, instances):
    # Deleting clears each instance's id: keep them for the audit written once the delete is done.
    setattr(request, _REMOVING, [obj.pk for obj in instances if isinstance(obj, WatchedWord)])


@hooks.register("after_delete_snippet")
def _audit_words_removed(request, instances):
    word_ids = getattr(request, _REMOVING, None)
    if word_ids:
        events.words_removed(actor=request.user, word_ids=word_ids, request=request)


# --------------------------------------------------------------------------- try it


class TryForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Sample text"), widget=forms.Textarea(attrs={"rows": 6}), max_length=20000
    )
    destination = forms.ChoiceField(
        label=gettext_lazy("Where it is going"),
        choices=[(d, policy.DESTINATION_LABELS[d]) for d in policy.DESTINATIONS],
    )
    word = forms.CharField(
        label=gettext_lazy("Unsaved word, phrase or pattern (optional)"), required=False, max_length=200
    )
    match = forms.ChoiceField(label=gettext_lazy("Match"), choices=policy.MATCH_CHOICES, initial=policy.WHOLE_WORD)
    action = forms.ChoiceField(label=gettext_lazy("Action"), choices=policy.ACTION_CHOICES, initial=policy.FLAG)

    def clean(self):
        data = super().clean()
        if data.get("word"):
            draft = WatchedWord(word=data["word"], match=data.get("match"), action=data.get("action"))
            try:
                draft.full_clean(exclude=["updated_at"])
            except forms.ValidationError as exc:
                for message in exc.message_dict.get("word", []) + exc.message_dict.get("match", []):
                    self.add_error("word", message)
        return data


def _draft_spans(data) -> list[tuple[int, int]]:
    """Where the unsaved word matches the sample text (offsets into the text as written)."""
    if not data.get("word"):
        return []
    entry = Entry("draft", data["word"], data["match"], data["action"])
    reading = reading_form(data["text"])
    return [reading.span(start, end) for _entry, start, end in WatchList([entry]).find(reading, data["destination"])]


def try_it(request):
    """Screen a sample text as it would be screened at a destination, with an optional unsaved word."""
    _require(request)
    form = TryForm(request.POST or None)
    context = {"form": form, "header_title": _("Try screening")}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        result = screening.screen(data["text"], destination=data["destination"], author=None)
        draft = _draft_spans(data)
        marks = [(f.start, f.end, f.code) for f in result.findings if f.end > f.start]
        marks += [(start, end, "draft") for start, end in draft]
        context.update(
            result=result,
            outcome=result.outcome,
            findings=[
                {"code": f.code, "reason": f.reason, "outcome": f.outcome, "description": screening.describe(f)}
                for f in result.findings
            ],
            segments=screening.highlight(data["text"], marks),
            draft_count=len(draft),
            published=result.publishable_text(),
            resources=result.resources(),
        )
    return render(request, "portal_social/screening/try_it.html", context)


# --------------------------------------------------------------------------- import and export


class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV file"))


def export_words(request):
    """Every watched word as a CSV download."""
    _require(request)
    response = HttpResponse(export_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="watched-words.csv"'
    return response


def import_words(request):
    """Create or update watched words from an uploaded CSV: all rows, or none."""
    _require(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            form.add_error("file", _("The file is too large."))
        else:
            report = import_csv(upload.read())
            if report.ok:
                events.words_imported(
                    actor=request.user, created=report.created, updated=report.updated, request=request
                )
                messages.success(
                    request,
                    _("Imported watched words: %(created)s added, %(updated)s updated.")
                    % {"created": report.created, "updated": report.updated},
                )
                return HttpResponseRedirect(reverse("portal_social_screening_import"))
    return render(
        request,
        "portal_social/screening/import.html",
        {"form": form, "report": report, "header_title": _("Import watched words")},
    )


@hooks.register("register_admin_urls")
def _screening_urls():
    return [
        path("portal-social/screening/try/", try_it, name="portal_social_screening_try"),
        path("portal-social/screening/words.csv", export_words, name="portal_social_screening_export"),
        path("portal-social/screening/import/", import_words, name="portal_social_screening_import"),
    ]


class _TryMenuItem(MenuItem):
    def is_shown(self, request):
        return may_manage(request.user)


@hooks.register("register_admin_menu_item")
def _try_menu_item():
    return _TryMenuItem(_("Try screening"), reverse("portal_social_screening_try"), icon_name="search", order=851)
