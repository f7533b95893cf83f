"""The scanner's configuration: public numbers, sites, inboxes and names, and the host's settings.

``PORTAL_SOCIAL_PHI_ALLOWED_NUMBERS``, ``PORTAL_SOCIAL_PHI_ALLOWED_DOMAINS``,
``PORTAL_SOCIAL_PHI_MRN_PATTERNS`` and the portal's own hosts are read on every
scan and compiled once per distinct value. So are
``PORTAL_SOCIAL_PHI_ORGANISATION_NUMBERS_PUBLIC`` (default True: toll-free
numbers and numbers named as an organisation's line are not PHI),
``PORTAL_SOCIAL_PHI_ROLE_INBOXES_PUBLIC`` (default True: "records@",
"privacy@" and the other :data:`PUBLIC_INBOXES` are not PHI) and
``PORTAL_SOCIAL_PHI_PUBLIC_INBOXES`` (more role inboxes' local parts) and
``PORTAL_SOCIAL_PHI_PHONE_REGIONS`` (regions whose national phone formats,
"020 7946 0321", are read with libphonenumber; default GB, AU, IE, NZ;
North American and "+" numbers are always read), and
``PORTAL_SOCIAL_PHI_DATES`` ("birth", the default: dates of birth only;
"tied": also dates with death, admission, discharge or appointment context).
Public names (the clinician directory, ``PORTAL_SOCIAL_PHI_ALLOWED_NAMES``)
are read lazily: see :func:`allowed_names`.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable
from typing import NamedTuple

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from portal_social.conf import app_settings

#: Numbers anyone may publish: emergency, crisis and information lines.
PUBLIC_NUMBERS = ("911", "988", "411", "311", "211", "18002738255")

#: Sites whose links are public information, not a person's.
PUBLIC_DOMAINS = (
    "cdc.gov",
    "nih.gov",
    "medlineplus.gov",
    "cms.gov",
    "medicare.gov",
    "medicaid.gov",
    "healthcare.gov",
    "hhs.gov",
    "fda.gov",
    "samhsa.gov",
    "va.gov",
    "who.int",
    "988lifeline.org",
)


#: The local parts of organisations' role inboxes ("records@", "quejas@"),
#: compared without dots, dashes and underscores.
PUBLIC_INBOXES = (
    "info",
    "contact",
    "contactus",
    "hello",
    "support",
    "help",
    "helpdesk",
    "press",
    "media",
    "news",
    "newsletter",
    "records",
    "medicalrecords",
    "healthrecords",
    "privacy",
    "compliance",
    "security",
    "patientexperience",
    "patientrelations",
    "patientadvocate",
    "feedback",
    "complaints",
    "grievances",
    "grievance",
    "appeals",
    "accessibility",
    "billing",
    "scheduling",
    "appointments",
    "referrals",
    "admissions",
    "admin",
    "office",
    "frontdesk",
    "reception",
    "noreply",
    "donotreply",
    "careers",
    "jobs",
    "hr",
    "volunteer",
    "volunteers",
    "donations",
    "giving",
    "webmaster",
    "marketing",
    "communications",
    "pharmacy",
    "nurse",
    "nurseline",
    "quejas",
    "contacto",
    "informes",
    "informacion",
    "ayuda",
    "citas",
    "expedientes",
    "privacidad",
    "fdanews",
)


class _Config(NamedTuple):
    numbers: frozenset[str]
    domains: tuple[str, ...]
    prefixes: tuple[str, ...]
    mrn_patterns: tuple[re.Pattern[str], ...]
    # Derived from domains and prefixes, for _url_allowed.
    domain_set: frozenset[str]
    domain_suffixes: tuple[str, ...]  # "." + domain
    prefix_starts: tuple[str, ...]  # prefix + "/", prefix + "?"
    # Organisations' numbers (toll-free, or named as a service's line) are public.
    public_lines: bool = True
    # Role inboxes are public; ``inboxes`` are their local parts.
    public_inboxes: bool = True
    inboxes: frozenset[str] = frozenset(PUBLIC_INBOXES)
    # Regions whose national phone formats are read (libphonenumber).
    phone_regions: tuple[str, ...] = ("GB", "AU", "IE", "NZ")
    # Dates flagged: "birth" (dates of birth) or "tied" (also death, admission, discharge, appointment).
    dates: str = "birth"


# --------------------------------------------------------------------------
# Settings (read on every call, compiled once per distinct value)
# --------------------------------------------------------------------------


def _setting(name: str, default):
    if not settings.configured:
        return default
    return getattr(settings, name, default)


def _as_tuple(value, *, split: bool = True) -> tuple:
    """A setting as a tuple; a comma-separated string (from the environment) is split."""
    if value is None:
        return ()
    if isinstance(value, re.Pattern) or (isinstance(value, str) and not split):
        value = [value]
    elif isinstance(value, str):
        value = [part.strip() for part in value.split(",")]
    return tuple(v for v in value if v)


# The last configuration built, keyed by the settings object it was read from:
# override_settings (and pytest-django's ``settings`` fixture) install a new
# settings object and send ``setting_changed``, so either invalidates it.
_config_cache: tuple[object, _Config] | None = None


def _config() -> _Config:
    global _config_cache
    wrapped = settings._wrapped
    cached = _config_cache
    if cached is not None and cached[0] is wrapped:
        return cached[1]
    config = _read_config()
    _config_cache = (wrapped, config)
    return config


@receiver(setting_changed)
def _forget_config(**kwargs) -> None:
    global _config_cache
    _config_cache = None


def _read_config() -> _Config:
    if settings.configured:
        numbers = app_settings.PHI_ALLOWED_NUMBERS
        domains = app_settings.PHI_ALLOWED_DOMAINS
        patterns = _as_tuple(app_settings.PHI_MRN_PATTERNS, split=False)
    else:
        numbers = domains = patterns = ()
    hosts = _as_tuple(_setting("ALLOWED_HOSTS", ()))
    key = tuple((p.pattern, p.flags) if isinstance(p, re.Pattern) else (str(p), 0) for p in patterns)
    config = _build_config(tuple(map(str, numbers)), tuple(map(str, domains)), tuple(map(str, hosts)), key)
    inboxes = _as_tuple(_setting("PORTAL_SOCIAL_PHI_PUBLIC_INBOXES", ()))
    return config._replace(
        public_lines=bool(_setting("PORTAL_SOCIAL_PHI_ORGANISATION_NUMBERS_PUBLIC", True)),
        public_inboxes=bool(_setting("PORTAL_SOCIAL_PHI_ROLE_INBOXES_PUBLIC", True)),
        inboxes=config.inboxes | {_inbox_key(str(i)) for i in inboxes},
        dates="tied" if str(_setting("PORTAL_SOCIAL_PHI_DATES", "birth")).lower() == "tied" else "birth",
        phone_regions=tuple(
            str(r).upper() for r in _as_tuple(_setting("PORTAL_SOCIAL_PHI_PHONE_REGIONS", config.phone_regions))
        ),
    )


def _inbox_key(local: str) -> str:
    return local.lower().split("@", 1)[0].replace(".", "").replace("-", "").replace("_", "")


@functools.lru_cache(maxsize=32)
def _build_config(
    numbers: tuple[str, ...], domains: tuple[str, ...], hosts: tuple[str, ...], patterns: tuple[tuple[str, int], ...]
) -> _Config:
    allowed_numbers = {_phone_digits(n) for n in (*PUBLIC_NUMBERS, *numbers)}
    allowed_numbers.discard("")
    plain, prefixes = [], []
    for entry in (*PUBLIC_DOMAINS, *domains, *_own_hosts(hosts)):
        entry = _strip_scheme(entry.strip().lower()).lstrip(".")
        if not entry:
            continue
        (prefixes if "/" in entry else plain).append(entry.rstrip("/") if "/" in entry else entry)
    compiled = tuple(re.compile(p, f) for p, f in patterns)
    return _Config(
        frozenset(allowed_numbers),
        tuple(plain),
        tuple(prefixes),
        compiled,
        frozenset(plain),
        tuple("." + d for d in plain),
        tuple(p + end for p in prefixes for end in "/?"),
    )


def _own_hosts(hosts: Iterable[str]) -> list[str]:
    """The portal's own host names (ALLOWED_HOSTS without wildcards and IPs)."""
    own = []
    for host in hosts:
        host = host.strip().strip("[]")
        if not host or "*" in host:
            continue
        try:
            ipaddress.ip_address(host)
        except ValueError:
            own.append(host)
    return own


_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]{0,15}://", re.ASCII | re.IGNORECASE)


def _strip_scheme(value: str) -> str:
    value = _SCHEME.sub("", value)
    return value[4:] if value.startswith("www.") else value


_NOT_A_DIGIT = re.compile(r"\D", re.ASCII)


def _phone_digits(value: str) -> str:
    digits = _NOT_A_DIGIT.sub("", value)
    return digits[1:] if len(digits) == 11 and digits.startswith("1") else digits


# --------------------------------------------------------------------------
# Names that are public: the clinician directory and the host's list
# --------------------------------------------------------------------------

#: How long the directory's names are kept before they are read again.
NAME_DIRECTORY_TTL = 300.0

_names_cache: tuple[float, object, frozenset[str]] | None = None


def clinician_directory_names() -> list[str]:
    """The names of live clinician pages ("Anita Patel", "Anita R. Patel"):
    public in this product, so never PHI. The default
    ``PORTAL_SOCIAL_PHI_NAME_DIRECTORY``. Returns nothing when the database
    cannot be read here (no database, an async context, a test without
    database access): the scan goes on without the directory."""
    try:
        from django.apps import apps

        if not apps.ready:
            return []
        model = apps.get_model("portal_social", "ClinicianPage")
        rows = list(model.objects.live().values_list("first_name", "last_name"))
    except Exception:  # noqa: BLE001 - the directory is optional; scanning must not fail
        return []
    return [f"{first} {last}".strip() for first, last in rows]


def _name_source():
    source = _setting("PORTAL_SOCIAL_PHI_NAME_DIRECTORY", "portal_social.core.phi.config.clinician_directory_names")
    if not source:
        return None
    if callable(source):
        return source
    from django.utils.module_loading import import_string

    return import_string(source)


def allowed_names() -> frozenset[str]:
    """Full names that are never PHI (case-folded): ``PORTAL_SOCIAL_PHI_ALLOWED_NAMES``
    and what ``PORTAL_SOCIAL_PHI_NAME_DIRECTORY`` (a callable or its dotted
    path returning names; default: :func:`clinician_directory_names`; None
    turns it off) gives, read lazily and kept for :data:`NAME_DIRECTORY_TTL`
    seconds."""
    global _names_cache
    import time

    now = time.monotonic()
    wrapped = settings._wrapped if settings.configured else None
    cached = _names_cache
    if cached is not None and cached[1] is wrapped and now - cached[0] < NAME_DIRECTORY_TTL:
        return cached[2]
    names = [str(n) for n in _as_tuple(_setting("PORTAL_SOCIAL_PHI_ALLOWED_NAMES", ()))]
    source = _name_source() if settings.configured else None
    if source is not None:
        names += [str(n) for n in source() or ()]
    folded = set()
    for name in names:
        words = name.split()
        if not words:
            continue
        folded.add(" ".join(words).casefold())
        if len(words) > 2:  # "Anita R. Patel" is also "Anita Patel"
            folded.add(f"{words[0]} {words[-1]}".casefold())
    result = frozenset(folded)
    _names_cache = (now, wrapped, result)
    return result


def forget_allowed_names() -> None:
    """Read the allowed names again on the next scan (after the directory changed)."""
    global _names_cache
    _names_cache = None


@receiver(setting_changed)
def _forget_names(**kwargs) -> None:
    forget_allowed_names()
