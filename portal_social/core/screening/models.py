"""Watched words: words, phrases and patterns moderators watch for, managed in the Wagtail admin."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm

from portal_social.core.screening import policy
from portal_social.core.screening.matching import (
    MAX_PHRASE_LENGTH,
    MAX_REGEX_LENGTH,
    UnsafeRegex,
    check_regex,
    match_key,
)

#: Why a regular expression is refused, by ``UnsafeRegex.code``.
REGEX_ERRORS = {
    "empty": _("Enter a pattern that cannot match an empty text."),
    "too_long": _("Keep the pattern to %(max)s characters or fewer.") % {"max": MAX_REGEX_LENGTH},
    "invalid": _("This is not a valid regular expression."),
    "unbounded": _("Use bounded repeats such as {1,20} (up to 50), not *, + or {n,}."),
    "nested": _("A repeat inside a repeat can take too long; rewrite the pattern without one."),
    "backreference": _("Back-references (\\1) are not allowed."),
}


class WatchedWordForm(WagtailAdminModelForm):
    """The admin form: destinations as check boxes (none ticked: every destination)."""

    destinations = forms.MultipleChoiceField(
        choices=[(d, policy.DESTINATION_LABELS[d]) for d in policy.DESTINATIONS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label=_("Applies to"),
        help_text=_("Leave all unticked to apply everywhere."),
    )


class WatchedWord(models.Model):
    """A word, phrase or pattern, what to do when it is found, and where."""

    word = models.CharField(
        _("word, phrase or pattern"),
        max_length=MAX_REGEX_LENGTH,
        help_text=_("Matched in any case, on the text as a reader sees it (look-alike letters and hidden "
                    "characters do not evade it)."),
    )  # fmt: skip
    match = models.CharField(_("match"), max_length=10, choices=policy.MATCH_CHOICES, default=policy.WHOLE_WORD)
    action = models.CharField(_("action"), max_length=20, choices=policy.ACTION_CHOICES, default=policy.FLAG)
    replacement = models.CharField(
        _("replacement"),
        max_length=MAX_PHRASE_LENGTH,
        blank=True,
        help_text=_("For \u201ccensor\u201d: what is shown instead (empty: \u201c***\u201d)."),
    )
    destinations = models.JSONField(_("applies to"), default=list, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    base_form_class = WatchedWordForm

    class Meta:
        app_label = "portal_social"
        ordering = ("word", "pk")
        verbose_name = _("watched word")
        verbose_name_plural = _("watched words")

    def __str__(self) -> str:
        return self.word

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        _invalidate_after_commit()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        _invalidate_after_commit()
        return result

    def clean(self) -> None:
        super().clean()
        self.word = (self.word or "").strip()
        if self.match == policy.REGEX:
            try:
                check_regex(self.word)
            except UnsafeRegex as exc:
                raise ValidationError(
                    {"word": ValidationError(REGEX_ERRORS[exc.code], code=f"regex_{exc.code}")}
                ) from None
        else:
            if not match_key(self.word):
                raise ValidationError({"word": _("Enter a word or phrase.")}, code="empty")
            if len(self.word) > MAX_PHRASE_LENGTH:
                raise ValidationError(
                    {"word": _("Keep words and phrases to %(max)s characters or fewer.") % {"max": MAX_PHRASE_LENGTH}},
                    code="too_long",
                )
        unknown = [d for d in self.destinations or () if d not in policy.DESTINATIONS]
        if not isinstance(self.destinations, list) or unknown:
            raise ValidationError({"destinations": _("Choose destinations from the list.")}, code="destination")
        if self.action != policy.CENSOR:
            self.replacement = ""

    def applies_to(self, destination: str) -> bool:
        return not self.destinations or destination in self.destinations

    @property
    def reason(self) -> str:
        """The reason code findings carry: which entry of the list matched."""
        return f"watched_word:{self.pk}"


def _invalidate_after_commit() -> None:
    from django.db import transaction

    from portal_social.core.screening import words

    words.invalidate()
    # A screen that ran inside the transaction may have cached the old list; drop it again once committed.
    transaction.on_commit(words.invalidate)


def _on_change(sender, **kwargs) -> None:
    _invalidate_after_commit()


# Queryset deletes and bulk changes bypass save()/delete(): the signals still fire for deletes.
models.signals.post_delete.connect(_on_change, sender=WatchedWord, dispatch_uid="portal_social_watched_word_delete")


def _declare_text_fields() -> None:
    """Place the model's text fields in the register of user-written text (``core.user_text``)."""
    from portal_social.core import user_text

    configuration = "moderation configuration written by moderators and administrators in the admin; never patient text"
    for name in ("word", "match", "action", "replacement"):
        user_text.not_user_written(WatchedWord, name, reason=configuration)


_declare_text_fields()
