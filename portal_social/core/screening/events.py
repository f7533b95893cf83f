"""Audit events for changes to the watched-word lists (see ``core.audit_events``).

Who added, changed, removed or imported watched words, and when: screening
decides what patients may publish, so changing it is recorded like any other
moderation decision. Details hold the word's id, its action and match mode,
or the import's counts; never the sample texts moderators try.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from portal_social.core.audit_events import Severity, register

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

    from portal_social.core.models import AuditEvent
    from portal_social.core.screening.models import WatchedWord

WORD_ADDED = register("screening.word_add", _("Watched word added"), Severity.NOTICE)
WORD_CHANGED = register("screening.word_change", _("Watched word changed"), Severity.NOTICE)
WORD_REMOVED = register("screening.word_remove", _("Watched word removed"), Severity.NOTICE)
WORDS_IMPORTED = register("screening.words_import", _("Watched words imported"), Severity.NOTICE)


def _word_details(word: WatchedWord) -> dict:
    return {"action": word.action, "match": word.match, "enabled": bool(word.enabled)}


def word_added(*, actor: AbstractBaseUser, word: WatchedWord, request: HttpRequest | None = None) -> AuditEvent:
    return WORD_ADDED.record(actor=actor, target=word, request=request, details=_word_details(word))


def word_changed(*, actor: AbstractBaseUser, word: WatchedWord, request: HttpRequest | None = None) -> AuditEvent:
    return WORD_CHANGED.record(actor=actor, target=word, request=request, details=_word_details(word))


def words_removed(
    *, actor: AbstractBaseUser, word_ids: Iterable[int], request: HttpRequest | None = None
) -> AuditEvent:
    ids = [str(word_id) for word_id in word_ids]
    return WORD_REMOVED.record(
        actor=actor,
        request=request,
        target_type="portal_social.watchedword",
        target_id=ids[0] if len(ids) == 1 else "",
        details={"words": ids},
    )


def words_imported(
    *, actor: AbstractBaseUser, created: int, updated: int, request: HttpRequest | None = None
) -> AuditEvent:
    return WORDS_IMPORTED.record(
        actor=actor,
        request=request,
        target_type="portal_social.watchedword",
        details={"created": int(created), "updated": int(updated)},
    )
