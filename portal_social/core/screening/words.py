"""The watched-word list as screening uses it: loaded once, compiled once,
cached until a word changes; and its CSV import and export.

The compiled list lives in each process; a version number in Django's cache
tells every process (every ASGI and task worker) when a moderator changed a
word, so the next screen anywhere reloads it with one query.
"""

from __future__ import annotations

import csv
import io
import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction

from portal_social.core.screening import policy
from portal_social.core.screening.matching import PhraseMatcher, Reading, check_regex, match_key

_VERSION_KEY = "portal_social:screening:watched_words:version"
_lock = threading.Lock()
_local: dict[str, object] = {"version": None, "list": None}

#: The CSV columns, in order.
CSV_COLUMNS = ("word", "match", "action", "replacement", "destinations", "enabled")
#: Largest CSV accepted for import.
MAX_IMPORT_BYTES = 1_000_000
MAX_IMPORT_ROWS = 10_000


@dataclass(frozen=True)
class Entry:
    """One watched word as screening uses it."""

    reason: str  # "watched_word:<id>", or "setting:WATCHED_WORDS"
    word: str
    match: str
    action: str
    replacement: str = ""
    destinations: frozenset[str] = frozenset()  # empty: every destination

    def applies_to(self, destination: str) -> bool:
        return not self.destinations or destination in self.destinations


@dataclass
class WatchList:
    """Every enabled watched word, compiled: one trie pattern for the words and
    phrases, one checked pattern per regular expression."""

    entries: list[Entry] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.by_key: dict[str, list[Entry]] = {}
        self.regexes = []
        phrases = []
        for entry in self.entries:
            if entry.match == policy.REGEX:
                try:
                    self.regexes.append((entry, check_regex(entry.word)))
                except ValueError:
                    continue  # saved before a stricter check: skipped, never run
            else:
                key = match_key(entry.word)
                if key:
                    self.by_key.setdefault(key, []).append(entry)
                    phrases.append((entry.word, entry.match == policy.WHOLE_WORD))
        self.matcher = PhraseMatcher(phrases)

    def find(self, reading: Reading, destination: str) -> Iterator[tuple[Entry, int, int]]:
        """``(entry, start, end)`` for each watched word in ``reading`` that applies to
        ``destination``; offsets into the reading form."""
        for hit in self.matcher.find(reading.work):
            for entry in self.by_key.get(hit.key, ()):
                if entry.applies_to(destination) and _bounded_for(entry, reading.work, hit.start, hit.end):
                    yield entry, hit.start, hit.end
        for entry, pattern in self.regexes:
            if entry.applies_to(destination):
                for m in pattern.finditer(reading.work):
                    if m.end() > m.start():
                        yield entry, m.start(), m.end()


def _bounded_for(entry: Entry, work: str, start: int, end: int) -> bool:
    # Two entries may share a key with different modes: the matcher answered for the looser.
    if entry.match != policy.WHOLE_WORD:
        return True
    before = work[start - 1] if start > 0 else " "
    after = work[end] if end < len(work) else " "
    return not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_")


def _settings_entries() -> list[Entry]:
    """``PORTAL_SOCIAL_WATCHED_WORDS``: whole words held for approval in public places."""
    from portal_social.conf import app_settings

    public = frozenset(policy.PUBLIC_DESTINATIONS)
    return [
        Entry("setting:WATCHED_WORDS", word, policy.WHOLE_WORD, policy.REQUIRE_APPROVAL, "", public)
        for word in app_settings.WATCHED_WORDS
    ]


def _load() -> WatchList:
    from portal_social.core.screening.models import WatchedWord

    rows = WatchedWord.objects.filter(enabled=True).order_by("pk")
    entries = [
        Entry(row.reason, row.word, row.match, row.action, row.replacement, frozenset(row.destinations or ()))
        for row in rows
    ]
    return WatchList(entries + _settings_entries())


def watch_list() -> WatchList:
    """The compiled list: one query when a word changed since this process last loaded it, else none.

    A change to ``PORTAL_SOCIAL_WATCHED_WORDS`` (a deploy, or a test's
    ``override_settings``) is a change too: the list is compiled again.
    """
    from portal_social.conf import app_settings

    version = cache.get(_VERSION_KEY)
    if version is None:
        version = uuid.uuid4().hex
        cache.add(_VERSION_KEY, version, timeout=None)
        version = cache.get(_VERSION_KEY, version)
    version = f"{version}:{hash(tuple(app_settings.WATCHED_WORDS))}"
    with _lock:
        if _local["version"] == version and _local["list"] is not None:
            return _local["list"]  # type: ignore[return-value]
    loaded = _load()
    with _lock:
        _local["version"], _local["list"] = version, loaded
    return loaded


def invalidate() -> None:
    """Forget the compiled list here and in every process (after any change to a word)."""
    with _lock:
        _local["version"], _local["list"] = None, None
    cache.set(_VERSION_KEY, uuid.uuid4().hex, timeout=None)


# --------------------------------------------------------------------------- CSV

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    # A spreadsheet runs a cell that starts like a formula: quote it.
    return "'" + value if value.startswith(_FORMULA_START) else value


def _uncell(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:].startswith(_FORMULA_START) else value


def export_csv(words: Iterable | None = None) -> str:
    """The watched words (default: all of them) as CSV text, one row per word."""
    from portal_social.core.screening.models import WatchedWord

    if words is None:
        words = WatchedWord.objects.order_by("word", "pk")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for w in words:
        writer.writerow(
            [
                _cell(w.word),
                w.match,
                w.action,
                _cell(w.replacement),
                " ".join(w.destinations or ()),
                "yes" if w.enabled else "no",
            ]
        )
    return out.getvalue()


@dataclass
class ImportReport:
    """What an import did: counts, and errors by CSV line (codes and field names, never the cells)."""

    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str, list[str]]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def import_csv(data: str | bytes) -> ImportReport:
    """Create or update watched words from CSV (the columns of :func:`export_csv`;
    ``word`` required, the rest optional). A word is the same word when its
    text and match mode are. All or nothing: with any invalid row, nothing is
    saved and the report lists each invalid line and field."""
    from portal_social.core.screening.models import WatchedWord

    report = ImportReport()
    if isinstance(data, bytes):
        if len(data) > MAX_IMPORT_BYTES:
            report.errors.append((0, "file", ["too_large"]))
            return report
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            report.errors.append((0, "file", ["encoding"]))
            return report
    if len(data) > MAX_IMPORT_BYTES:
        report.errors.append((0, "file", ["too_large"]))
        return report
    reader = csv.DictReader(io.StringIO(data))
    if not reader.fieldnames or "word" not in [name.strip() for name in reader.fieldnames]:
        report.errors.append((1, "file", ["no_word_column"]))
        return report
    existing = {(w.word, w.match): w for w in WatchedWord.objects.all()}
    pending: list[tuple[WatchedWord, bool]] = []
    for number, raw in enumerate(reader, start=2):
        if number > MAX_IMPORT_ROWS + 1:
            report.errors.append((number, "file", ["too_many_rows"]))
            break
        row = {(k or "").strip(): (v or "").strip() if isinstance(v, str) else "" for k, v in raw.items()}
        if not any(row.values()):
            continue
        word = _uncell(row.get("word", ""))
        match = row.get("match") or policy.WHOLE_WORD
        target = existing.get((word, match))
        is_new = target is None
        if is_new:
            target = WatchedWord(word=word, match=match)
        target.action = row.get("action") or target.action or policy.FLAG
        target.replacement = _uncell(row.get("replacement", ""))
        target.destinations = row.get("destinations", "").replace(",", " ").split()
        target.enabled = row.get("enabled", "yes").lower() not in ("no", "false", "0", "off")
        try:
            target.full_clean(exclude=["updated_at"])
        except ValidationError as exc:
            for name, problems in exc.error_dict.items():
                report.errors.append((number, name, [p.code or "invalid" for p in problems]))
            continue
        existing[(word, match)] = target
        pending.append((target, is_new))
    if report.errors:
        return report
    with transaction.atomic():
        for target, is_new in pending:
            target.save()
            if is_new:
                report.created += 1
            else:
                report.updated += 1
    invalidate()
    return report
