"""A blind search index for text that is encrypted at rest.

Titles and posts are stored encrypted (``core.crypto``), so the database
cannot search them. Instead, each indexed object keeps one row per distinct
word of each of its parts (:class:`~portal_social.core.search_models.SearchTerm`):
not the word, but a keyed hash of it, HMAC-SHA256 under a key derived from
the portal's encryption keys, cut to 16 bytes. A query's words are hashed the
same way and looked up by equality.

What this gives away: equal words give equal hashes, and each row says how
often its word occurs. Someone holding the database but not the keys learns
how often each (unknown) word is used and which objects share words, never
the words themselves; with the keys they could test guesses, as they could
decrypt the text anyway. Features index only what their readers may see.

Words are normalised before hashing (:func:`words`): Unicode NFKC, casefold,
accents folded ("Café" and "cafe" are one word), invisible characters
dropped; words of one character and a short list of English and Spanish stop
words are left out.

Keys: each row records which key it was hashed under (a fingerprint). New
rows use the first (current) key of ``PORTAL_SOCIAL_ENCRYPTION_KEYS``;
queries look under every configured key, so search keeps working while
``portal_social_search_reindex`` re-hashes everything after a key rotation.

A feature registers what it indexes (:func:`register`) so the reindex
command can rebuild it, keeps the index current with :func:`index_part` and
:func:`remove`, and searches with :func:`matching` (a queryset filter, to be
combined with ``access.visible``) and :func:`matched_parts` (for snippets).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import re
import unicodedata
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Case, Count, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from portal_social.conf import app_settings

#: A query: 1..200 characters, at most 8 words once stop words are left out.
QUERY_MAX_LENGTH = 200
QUERY_MAX_WORDS = 8
#: Bytes of HMAC-SHA256 kept per term.
TERM_BYTES = 16
#: Longer words are cut to this many characters before hashing (both when indexing and querying).
WORD_MAX_LENGTH = 64

_STOP_WORDS = """
    an and are as at be been but by do does for from had has have he her him his how if in into is it its me
    my no not of on or our she so than that the their them then there these they this to too was we were what
    when where which who why will with you your
    al como con de del el en es esta este ha la las le lo los mas me mi mis muy ni no nos para pero por que se
    si sin su sus te tu un una uno unos unas ya yo
"""
#: Common English and Spanish words that are neither indexed nor searched.
STOP_WORDS = frozenset(_STOP_WORDS.split())

_WORD = re.compile(r"\w+")
_KEY_CONTEXT = b"portal_social blind search index v1"


# --------------------------------------------------------------------------- words


def _fold(text: str) -> str:
    """NFKC, casefold, accents folded, invisible (format) characters dropped."""
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    text = unicodedata.normalize("NFKC", text).casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


def _significant(word: str) -> bool:
    return len(word) > 1 and word not in STOP_WORDS


def words(text: str) -> list[str]:
    """The normalised words of ``text`` that are indexed and searched, in order (repeats kept)."""
    return [w[:WORD_MAX_LENGTH] for w in _WORD.findall(_fold(text)) if _significant(w)]


def word_spans(text: str) -> Iterator[tuple[int, int, str]]:
    """``(start, end, normalised word)`` for each significant word of ``text``, offsets into ``text``."""
    for match in _WORD.finditer(text):
        for word in _WORD.findall(_fold(match.group())):
            if _significant(word):
                yield match.start(), match.end(), word[:WORD_MAX_LENGTH]
                break


def parse_query(value: object) -> list[str]:
    """The distinct words to search for in ``value``; ``ValidationError`` with a sentence for the searcher.

    1..200 characters, at most 8 words (very short and very common words do
    not count: they are not searched).
    """
    if not isinstance(value, str):
        raise ValidationError(_("Enter your search as text."), code="type")
    value = value.strip()
    if not value:
        raise ValidationError(_("Type a word or two to search for."), code="empty")
    if len(value) > QUERY_MAX_LENGTH:
        raise ValidationError(
            _("Keep your search to %(max)d characters or fewer (it has %(count)d).")
            % {"max": QUERY_MAX_LENGTH, "count": len(value)},
            code="long",
        )
    found = list(dict.fromkeys(words(value)))
    if not found:
        raise ValidationError(
            _("Search for longer or more specific words: very short and very common words are not searched."),
            code="no_words",
        )
    if len(found) > QUERY_MAX_WORDS:
        raise ValidationError(
            _("Search for at most %(max)d words (this search has %(count)d).")
            % {"max": QUERY_MAX_WORDS, "count": len(found)},
            code="words",
        )
    return found


# --------------------------------------------------------------------------- keys and hashes


@functools.lru_cache(maxsize=8)
def _derive(keys: tuple[str, ...]) -> tuple[tuple[str, bytes], ...]:
    derived = []
    for key in keys:
        try:
            raw = base64.urlsafe_b64decode(key.encode("ascii"))
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raw = key.encode("utf-8")
        secret = hmac.new(raw, _KEY_CONTEXT, hashlib.sha256).digest()
        key_id = hmac.new(secret, b"key id", hashlib.sha256).hexdigest()[:16]
        derived.append((key_id, secret))
    return tuple(derived)


def search_keys() -> tuple[tuple[str, bytes], ...]:
    """``(key id, secret)`` for each configured encryption key, the current one first.

    Raises ``ImproperlyConfigured`` (through ``core.crypto``) when the keys
    are missing or malformed: nothing is indexed without a key.
    """
    from portal_social.core import crypto

    crypto.get_fernet()
    return _derive(tuple(app_settings.ENCRYPTION_KEYS))


def term(secret: bytes, scope: str, word: str) -> bytes:
    """The stored form of ``word`` in ``scope`` under ``secret``."""
    message = scope.encode("utf-8") + b"\x00" + word.encode("utf-8")
    return hmac.new(secret, message, hashlib.sha256).digest()[:TERM_BYTES]


# --------------------------------------------------------------------------- object keys


def object_key(pk) -> str:
    """An object's primary key as ``object_id`` holds it: the database's form (a UUID as 32 hex digits)."""
    if isinstance(pk, uuid.UUID):
        return pk.hex
    return str(pk)


def _key_cast(model: type[models.Model]) -> models.Field:
    pk = model._meta.pk
    if isinstance(pk, models.UUIDField):
        return models.UUIDField()
    if isinstance(pk, models.IntegerField | models.AutoField):
        return models.BigIntegerField()
    return models.CharField(max_length=64)


# --------------------------------------------------------------------------- writing


@dataclass(frozen=True)
class Part:
    """A piece of an object's text to index: ``name`` is unique within the object."""

    name: str
    text: str
    weight: int = 1


def _rows(scope: str, key: str, parts: Iterable[Part]):
    from portal_social.core.search_models import SearchTerm

    key_id, secret = search_keys()[0]
    for part in parts:
        counts = Counter(words(part.text))
        for word, count in counts.items():
            yield SearchTerm(
                scope=scope,
                object_id=key,
                part=part.name,
                term=term(secret, scope, word),
                key_id=key_id,
                weight=count * max(1, part.weight),
            )


def index_part(scope: str, pk, part: Part) -> int:
    """Replace the index rows of one part of one object with those of ``part.text``; returns rows written."""
    from portal_social.core.search_models import SearchTerm

    key = object_key(pk)
    with transaction.atomic():
        SearchTerm.objects.filter(scope=scope, object_id=key, part=part.name).delete()
        return len(SearchTerm.objects.bulk_create(_rows(scope, key, [part])))


def index_object(scope: str, pk, parts: Iterable[Part]) -> int:
    """Replace every index row of one object with those of ``parts``; returns rows written."""
    return index_objects(scope, {pk: list(parts)})


def index_objects(scope: str, documents: dict) -> int:
    """Replace every index row of each object (``{pk: [Part]}``) in one transaction; returns rows written."""
    from portal_social.core.search_models import SearchTerm

    keys = {object_key(pk): parts for pk, parts in documents.items()}
    with transaction.atomic():
        SearchTerm.objects.filter(scope=scope, object_id__in=list(keys)).delete()
        rows = [row for key, parts in keys.items() for row in _rows(scope, key, parts)]
        return len(SearchTerm.objects.bulk_create(rows, batch_size=1000))


def remove(scope: str, pk, part: str | None = None) -> int:
    """Remove an object's index rows (only those of ``part`` when given), or those of every object of a
    list of primary keys, in one statement; returns rows removed."""
    from portal_social.core.search_models import SearchTerm

    if isinstance(pk, (list, tuple, set)):
        rows = SearchTerm.objects.filter(scope=scope, object_id__in=[object_key(one) for one in pk])
    else:
        rows = SearchTerm.objects.filter(scope=scope, object_id=object_key(pk))
    if part is not None:
        rows = rows.filter(part=part)
    return rows.delete()[0]


# --------------------------------------------------------------------------- searching


def _conditions(scope: str, found: list[str]) -> tuple[Q, Case]:
    """Rows holding any of the words (under any configured key), and which word each row is."""
    condition = Q()
    whens = []
    for key_id, secret in search_keys():
        hashes = [term(secret, scope, word) for word in found]
        condition |= Q(key_id=key_id, term__in=hashes)
        whens += [When(key_id=key_id, term=h, then=Value(i)) for i, h in enumerate(hashes)]
    return condition, Case(*whens, default=Value(-1), output_field=models.IntegerField())


def _grouped(model: type[models.Model], scope: str, found: list[str]) -> QuerySet:
    """One row per object of ``model`` holding every word: ``target`` (its key) and ``score``."""
    from portal_social.core.search_models import SearchTerm

    condition, which = _conditions(scope, found)
    return (
        SearchTerm.objects.filter(condition, scope=scope)
        .annotate(target=Cast("object_id", output_field=_key_cast(model)))
        .values("target")
        .annotate(hits=Count(which, distinct=True), score=Sum("weight"))
        .filter(hits=len(found))
    )


def ranked(queryset: QuerySet, scope: str, found: list[str], *, recency: str) -> list:
    """The primary keys of ``queryset``'s objects holding every word of ``found``, best first:
    the weighted number of times the words occur, then the newest ``recency`` field, then the key.

    Two queries whatever the number of matches (the scores grouped once, and the objects the
    queryset allows among them), where an annotated subquery would group again for each object;
    the caller pages the list and reads only that page's objects.
    """
    if not found:
        return []
    grouped = _grouped(queryset.model, scope, found)
    scores = {row["target"]: row["score"] for row in grouped}
    if not scores:
        return []
    allowed = queryset.filter(pk__in=grouped.values("target")).values_list("pk", recency)
    order = sorted(
        allowed, key=lambda row: (-scores.get(row[0], 0), -(row[1].timestamp() if row[1] else 0), str(row[0]))
    )
    return [pk for pk, _ in order]


def matching(queryset: QuerySet, scope: str, found: list[str]) -> QuerySet:
    """``queryset`` narrowed to the objects whose indexed text holds every word of ``found``.

    One grouped query (``GROUP BY object, HAVING every word``) as a subquery;
    each object is annotated with ``search_score``, the number of times the
    words occur (weighted), for ranking. Combine with ``access.visible``.
    """
    if not found:
        return queryset.none()
    grouped = _grouped(queryset.model, scope, found)
    return queryset.filter(pk__in=grouped.values("target")).annotate(
        search_score=Subquery(grouped.filter(target=OuterRef("pk")).values("score")[:1])
    )


def matched_parts(scope: str, pks: Iterable, found: list[str]) -> dict[str, list[tuple[str, int]]]:
    """For each object (by :func:`object_key`), its parts holding any of the words, most words first."""
    from portal_social.core.search_models import SearchTerm

    keys = [object_key(pk) for pk in pks]
    if not keys or not found:
        return {}
    condition, which = _conditions(scope, found)
    rows = (
        SearchTerm.objects.filter(condition, scope=scope, object_id__in=keys)
        .values("object_id", "part")
        .annotate(hits=Count(which, distinct=True))
        .order_by("object_id", "-hits", "part")
    )
    parts: dict[str, list[tuple[str, int]]] = {}
    for row in rows:
        parts.setdefault(row["object_id"], []).append((row["part"], row["hits"]))
    return parts


def snippet(text: str, found: list[str], *, width: int = 160) -> list[tuple[str, bool]]:
    """A short piece of ``text`` around the first searched word, as ``(piece, is_match)`` segments."""
    wanted = set(found)
    spans = [(start, end) for start, end, word in word_spans(text) if word in wanted]
    if not spans:
        return []
    first = spans[0][0]
    start = max(0, first - width // 3)
    if start:
        space = text.rfind(" ", 0, start)
        start = space + 1 if space >= 0 and start - space < 20 else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > first else end
    segments: list[tuple[str, bool]] = []
    at = start
    for span_start, span_end in spans:
        if span_start < at or span_end > end:
            continue
        if span_start > at:
            segments.append((text[at:span_start], False))
        segments.append((text[span_start:span_end], True))
        at = span_end
    if at < end:
        segments.append((text[at:end], False))
    if start:
        segments.insert(0, ("… ", False))
    if end < len(text):
        segments.append((" …", False))
    return segments


# --------------------------------------------------------------------------- registry and rebuilding


@dataclass(frozen=True)
class Indexed:
    """What a feature indexes in one scope, for :func:`rebuild`.

    ``queryset()``: every object that should be findable; ``documents(objects)``:
    ``{pk: [Part, ...]}`` for a batch of them (a fixed number of queries).
    """

    scope: str
    model: type[models.Model]
    queryset: Callable[[], QuerySet]
    documents: Callable[[list], dict]


_registry: dict[str, Indexed] = {}


def register(scope: str, *, model, queryset, documents) -> Indexed:
    if len(scope) > 40:
        raise ValueError("a search scope has at most 40 characters")
    entry = Indexed(scope, model, queryset, documents)
    _registry[scope] = entry
    return entry


def registered() -> list[Indexed]:
    return list(_registry.values())


def rebuild(scope: str, *, batch_size: int = 200, progress: Callable[[str, int], None] | None = None) -> dict:
    """Rebuild one scope's index: every findable object re-indexed in batches, rows of anything else removed.

    Idempotent, and safe to interrupt and run again (each batch is its own
    transaction). Returns ``{"objects": n, "rows": n, "removed": n}``.
    """
    from portal_social.core.search_models import SearchTerm

    entry = _registry[scope]
    objects = rows = 0
    last = None
    while True:
        batch_query = entry.queryset().order_by("pk")
        if last is not None:
            batch_query = batch_query.filter(pk__gt=last)
        batch = list(batch_query[:batch_size])
        if not batch:
            break
        rows += index_objects(scope, entry.documents(batch))
        objects += len(batch)
        last = batch[-1].pk
        if progress is not None:
            progress(scope, objects)
    removed = 0
    cast = _key_cast(entry.model)
    findable = entry.queryset().values("pk")
    stale = (
        SearchTerm.objects.filter(scope=scope)
        .annotate(target=Cast("object_id", output_field=cast))
        .exclude(target__in=findable)
        .values_list("pk", flat=True)
    )
    while True:
        ids = list(stale[:1000])
        if not ids:
            break
        removed += SearchTerm.objects.filter(pk__in=ids).delete()[0]
    return {"objects": objects, "rows": rows, "removed": removed}
