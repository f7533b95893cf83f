"""The public clinician directory: search, filters, sorting, pagination and JSON-LD.

``directory_context(request, page)`` is what ``ClinicianIndexPage.get_context``
adds to the directory template. Everything is read from GET parameters, so a
filtered list is a shareable URL and the page needs no JavaScript:

``q``
    Words matched by Wagtail's search backend against name, biography, board
    certifications, specialties and conditions treated. Every word must match
    (operator "and"). At most ``MAX_QUERY_LENGTH`` characters are used.
``specialty``, ``location``, ``language``
    A slug. An unknown slug gives no results and a friendly message rather
    than silently showing everyone.
``accepting=1``, ``telehealth=1``
    Only clinicians accepting new patients / offering telehealth.
``sort=name|rating``
    ``name`` (default): last name, first name. ``rating``: clinicians whose
    stars are public (``ClinicianRating.count >= PORTAL_SOCIAL_REVIEWS_MIN_COUNT``)
    first, best average first; then everyone else **by name**. The average of
    a clinician below the minimum is never used for ordering, because that
    would reveal a rating we do not show.
``page=N``
    ``PER_PAGE`` results a page. A number below 1 or past the end is clamped
    to the first / last page; anything that is not a number means page 1.

The query count does not depend on the number of results or the page size:
filter options (3 queries), count, one page of rows (with each clinician's
``ClinicianRating`` joined in), and one prefetch each
for specialties, languages, locations and photos (with their renditions).

Search results are combined with the ordinary queryset filters by primary
key. The database search backends (SQLite FTS5, PostgreSQL, MySQL, fallback)
expose the match as a queryset, so it stays a SQL subquery; an external
backend (Elasticsearch, OpenSearch) gives ids, of which the first
``MAX_EXTERNAL_HITS`` are used.
"""

from __future__ import annotations

import json
import re
import time
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.db.models import Case, F, Prefetch, When
from django.db.models.functions import Lower
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from wagtail.images import get_image_model

from portal_social.conf import app_settings

PER_PAGE = 20
MAX_QUERY_LENGTH = 200
MAX_EXTERNAL_HITS = 1000
#: Rendition of the photo on a directory card; prefetched with the page rows.
CARD_PHOTO_SPEC = "fill-96x96"
SORTS = ("name", "rating")

_WORD = re.compile(r"[^\W_]+")
_TITLES = frozenset({"dr", "doctor"})
_PAGE_NUMBER = re.compile(r"-?[0-9]+")
_JSON_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def _flag(request, name: str) -> bool:
    return request.GET.get(name, "") == "1"


def parse_page_number(raw: str | None, num_pages: int) -> int:
    """The page to show: non-numbers mean 1; numbers are clamped to 1..num_pages."""
    raw = (raw or "").strip()
    last = max(num_pages, 1)
    if not _PAGE_NUMBER.fullmatch(raw):
        return 1
    if len(raw) > 12:  # a huge number: no need to parse it to know it is out of range
        return 1 if raw.startswith("-") else last
    return min(max(int(raw), 1), last)


def clean_query(raw: str | None) -> tuple[str, bool]:
    """The search words to use (whitespace collapsed), and whether they were cut short."""
    words = " ".join((raw or "").split())
    if len(words) > MAX_QUERY_LENGTH:
        return words[:MAX_QUERY_LENGTH].rstrip(), True
    return words, False


def search_terms(query: str) -> str:
    """The words of ``query`` for the search backend, or "" when none are left.

    Only letters and digits reach the backend: quotes, ``*``, brackets and
    the like are query syntax for SQLite FTS5 or PostgreSQL, and a stray
    double quote makes modelsearch's SQLite query invalid. A leading "Dr" or
    "Doctor" is dropped, because titles are not indexed and every word must
    match.
    """
    words = _WORD.findall(query)
    while len(words) > 1 and words[0].lower() in _TITLES:
        words.pop(0)
    return " ".join(words)


def _search_matches(base, query: str):
    """The clinicians in ``base`` matching ``query``: a pk subquery, or a list of pks."""
    terms = search_terms(query)
    if not terms:
        return base.none().values("pk")
    results = base.search(terms, operator="and", order_by_relevance=False)
    get_queryset = getattr(results, "get_queryset", None)
    if callable(get_queryset):
        return get_queryset().values("pk")
    return [hit.pk for hit in results[:MAX_EXTERNAL_HITS]]


def _order(queryset, sort: str, min_count: int):
    by_name = [Lower("last_name"), Lower("first_name"), "pk"]
    if sort == "rating":
        public_average = Case(When(rating__count__gte=min_count, then=F("rating__average")), default=None)
        return queryset.order_by(public_average.desc(nulls_last=True), *by_name)
    return queryset.order_by(*by_name)


def directory_context(request, page) -> dict[str, Any]:
    """Context for the directory template: options, active filters, one page of results."""
    from portal_social.profiles.models import ClinicianPage, Language, Location, Specialty

    min_count = app_settings.REVIEWS_MIN_COUNT
    query, query_truncated = clean_query(request.GET.get("q"))
    sort = request.GET.get("sort", "")
    sort = sort if sort in SORTS else "name"
    accepting = _flag(request, "accepting")
    telehealth = _flag(request, "telehealth")

    options = {
        "specialty": list(Specialty.objects.order_by("name")),
        "location": list(Location.objects.order_by("name")),
        "language": list(Language.objects.order_by("name")),
    }
    unknown_labels = {
        "specialty": _("We don't recognise that specialty."),
        "location": _("We don't recognise that location."),
        "language": _("We don't recognise that language."),
    }
    selected: dict[str, Any] = {}
    notices: list[str] = []
    for name, choices in options.items():
        slug = request.GET.get(name, "").strip()
        if not slug:
            continue
        match = next((choice for choice in choices if choice.slug == slug), None)
        if match is None:
            notices.append(unknown_labels[name])
        selected[name] = match

    base = ClinicianPage.objects.live().child_of(page)
    if any(value is None for value in selected.values()):
        queryset = base.none()
    else:
        queryset = base
        if query:
            queryset = queryset.filter(pk__in=_search_matches(base, query))
        if selected.get("specialty"):
            queryset = queryset.filter(specialties=selected["specialty"])
        if selected.get("location"):
            queryset = queryset.filter(locations=selected["location"])
        if selected.get("language"):
            queryset = queryset.filter(languages=selected["language"])
        if accepting:
            queryset = queryset.filter(accepting_new_patients=True)
        if telehealth:
            queryset = queryset.filter(telehealth=True)

    queryset = (
        _order(queryset, sort, min_count)
        .select_related("rating")
        .prefetch_related(
            "specialties",
            "languages",
            "locations",
            Prefetch("photo", queryset=get_image_model().objects.prefetch_renditions(CARD_PHOTO_SPEC)),
        )
    )

    paginator = Paginator(queryset, PER_PAGE)
    number = parse_page_number(request.GET.get("page"), paginator.num_pages)
    results = paginator.page(number)

    params: dict[str, str] = {}
    if query:
        params["q"] = query
    for name, value in selected.items():
        params[name] = value.slug if value is not None else request.GET.get(name, "").strip()
    if accepting:
        params["accepting"] = "1"
    if telehealth:
        params["telehealth"] = "1"
    if sort != "name":
        params["sort"] = sort
    base_url = page.get_url(request=request) or page.url or ""

    def page_url(n: int) -> str:
        query_params = dict(params, page=str(n)) if n > 1 else params
        return f"{base_url}?{urlencode(query_params)}" if query_params else base_url

    return {
        "query": query,
        "query_truncated": query_truncated,
        "max_query_length": MAX_QUERY_LENGTH,
        "sort": sort,
        "accepting": accepting,
        "telehealth": telehealth,
        "selected_specialty": selected.get("specialty"),
        "selected_location": selected.get("location"),
        "selected_language": selected.get("language"),
        "specialty_options": options["specialty"],
        "location_options": options["location"],
        "language_options": options["language"],
        "filter_notices": notices,
        "filtering": bool(params.keys() - {"sort"}),
        "clinicians": list(results.object_list),
        "results": results,
        "result_count": paginator.count,
        "per_page": PER_PAGE,
        "prev_url": page_url(results.previous_page_number()) if results.has_previous() else "",
        "next_url": page_url(results.next_page_number()) if results.has_next() else "",
        "page_links": [
            {"number": n, "url": page_url(n), "current": n == number}
            if isinstance(n, int)
            else {"number": n, "url": "", "current": False, "gap": True}
            for n in paginator.get_elided_page_range(number, on_each_side=2, on_ends=1)
        ],
        "clear_url": base_url,
        "reviews_min_count": min_count,
    }


def stars_are_public(count: int | None) -> bool:
    """Whether a clinician's stars may be shown (enough ratings to be fair)."""
    return (count or 0) >= app_settings.REVIEWS_MIN_COUNT


def _number(value) -> float | None:
    if value is None or value == "":
        return None
    return float(round(Decimal(str(value)), 2))


def clinician_jsonld_data(page, request=None, aggregate: dict | None = None) -> dict[str, Any]:
    """schema.org ``Physician`` data for a clinician's public profile.

    ``aggregate`` is ``{"average": …, "count": …}``; when None, the page's
    ``ClinicianRating`` (``page.rating_summary``) is used. The rating is
    included only when ``count >= PORTAL_SOCIAL_REVIEWS_MIN_COUNT``, the same
    rule as the stars shown on the page.
    """
    from django.db.models import prefetch_related_objects

    missing = [
        name
        for name in ("specialties", "languages", "locations")
        if name not in getattr(page, "_prefetched_objects_cache", {})
    ]
    if missing and page.pk:
        prefetch_related_objects([page], *missing)

    url = page.get_url(request=request) or ""
    if url.startswith("/") and request is not None:
        url = request.build_absolute_uri(url)
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Physician",
        "name": page.display_name,
        "url": url,
        "medicalSpecialty": [specialty.name for specialty in page.specialties.all()],
        "knowsLanguage": [language.name for language in page.languages.all()],
        "isAcceptingNewPatients": bool(page.accepting_new_patients),
    }
    addresses = []
    phones = []
    for location in page.locations.all():
        address = {
            "@type": "PostalAddress",
            "name": location.name,
            "streetAddress": ", ".join(line.strip() for line in location.address.splitlines() if line.strip()),
        }
        if location.phone:
            address["telephone"] = location.phone
            phones.append(location.phone)
        addresses.append(address)
    if addresses:
        data["address"] = addresses if len(addresses) > 1 else addresses[0]
    if phones:
        data["telephone"] = phones[0]

    if aggregate is None:
        summary = page.rating_summary
        aggregate = {"average": summary.average, "count": summary.count}
    count = int(aggregate.get("count") or 0)
    average = _number(aggregate.get("average"))
    if stars_are_public(count) and average is not None:
        data["aggregateRating"] = {
            "@type": "AggregateRating",
            "ratingValue": average,
            "ratingCount": count,
            "bestRating": 5,
            "worstRating": 1,
        }
    return data


def clinician_jsonld(page, request=None, aggregate: dict | None = None) -> SafeString:
    """A ``<script type="application/ld+json">`` element, safe to put in HTML.

    ``<``, ``>`` and ``&`` are escaped as ``\\u003C``… so no value can close
    the script element. The script is data, not code, so the site's CSP
    (no inline scripts) does not block it.
    """
    data = clinician_jsonld_data(page, request, aggregate)
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).translate(_JSON_SCRIPT_ESCAPES)
    return mark_safe(f'<script type="application/ld+json" id="clinician-jsonld">{text}</script>')  # noqa: S308


# --------------------------------------------------------------------------- the directory's address

#: How long a process remembers the directory's address (every page's navigation links to it).
DIRECTORY_URL_SECONDS = 60
_directory_urls: dict[str, tuple[float, str]] = {}


def directory_url(request) -> str:
    """The address of the live clinician directory page for ``request``'s site, or "" when there is none.

    Every page of the portal links to the directory, so the address is remembered by this process for
    ``DIRECTORY_URL_SECONDS`` (per host name, for at most 64 of them) instead of read on every page;
    publishing, unpublishing, moving or deleting a page forgets it at once here, and other processes
    catch up within the minute. Only the address of a public page is kept, never anything of a user.
    """
    from portal_social.profiles.models import ClinicianIndexPage

    key = request.get_host() if request is not None else ""
    now = time.monotonic()
    known = _directory_urls.get(key)
    if known is not None and known[0] > now:
        return known[1]
    page = ClinicianIndexPage.objects.live().first()
    url = (page.get_url(request=request) or "") if page is not None else ""
    if len(_directory_urls) >= 64:
        _directory_urls.clear()
    _directory_urls[key] = (now + DIRECTORY_URL_SECONDS, url)
    return url


def forget_directory_url(**kwargs) -> None:
    """Forget the remembered directory addresses (a page was published, unpublished, moved or deleted)."""
    _directory_urls.clear()


def connect() -> None:
    """Forget the directory's address whenever the page tree changes."""
    from django.db.models.signals import post_delete
    from wagtail.models import Page
    from wagtail.signals import page_published, page_slug_changed, page_unpublished, post_page_move

    for signal in (page_published, page_unpublished, page_slug_changed, post_page_move):
        signal.connect(forget_directory_url, dispatch_uid="portal_social_directory_url")
    post_delete.connect(forget_directory_url, sender=Page, dispatch_uid="portal_social_directory_url")
