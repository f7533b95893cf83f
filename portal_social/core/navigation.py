"""Where each person's tools are: the staff screens their roles open, and a clinician's own profile.

Each :class:`NavEntry` names a screen by URL name and the permission that
opens it. :func:`tools_for` returns the entries a user may open, resolved to
URLs, for the portal's navigation, the staff-area page and the page that
follows enrolling an authenticator. Permissions are asked through
``access.holds``: a role must grant them, and ``is_superuser`` alone shows
nothing, exactly as the screens themselves decide.

Entries whose URL name the host did not mount (for example a portal without
the Wagtail admin) are left out rather than failing the page.

In templates::

    {% load portal_social_nav %}
    {% portal_social_tools as tools %}
    {% for tool in tools %}<a href="{{ tool.url }}">{{ tool.label }}</a>{% endfor %}
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from portal_social.core import access

__all__ = ["OWN_PROFILE", "STAFF_TOOLS", "NavEntry", "NavLink", "own_profile_link", "staff_tools", "tools_for"]


@dataclass(frozen=True)
class NavEntry:
    """A staff screen: shown to holders of ``permission``, at ``reverse(url_name)``."""

    key: str
    label: str | Promise
    url_name: str
    permission: str
    description: str | Promise = ""


@dataclass(frozen=True)
class NavLink:
    """One entry resolved for one user: what the navigation renders."""

    key: str
    label: str | Promise
    url: str
    description: str | Promise = ""


#: Not a permission: the moderation queue opens for a reviewer of any kind of content it holds.
MODERATION = "moderation:any-kind"

#: The staff screens, in the order the navigation lists them. Each permission
#: is the one the screen itself asks for, so a link never leads to a refusal.
STAFF_TOOLS: tuple[NavEntry, ...] = (
    NavEntry(
        "moderation_queue",
        _("Moderation queue"),
        "portal_social_moderation_queue",
        MODERATION,
        _("Held, flagged and appealed content waiting for a decision, urgent first."),
    ),
    NavEntry(
        "review_responses",
        _("Respond to reviews"),
        "portal_social_review_respond_list",
        "portal_social.respond_to_reviews",
        _("Published reviews without a public response."),
    ),
    NavEntry(
        "px_workspace",
        _("PX workspace"),
        "portal_social_px:workspace",
        "portal_social.work_feedback_cases",
        _("Feedback cases and service recovery."),
    ),
    NavEntry(
        "px_reports",
        _("Feedback reports"),
        "portal_social_px:reports",
        "portal_social.view_feedback_reports",
        _("Volumes, service levels, recovery and top themes, with exports and a tip sheet."),
    ),
    NavEntry(
        "caregiver_links",
        _("Caregiver links"),
        "portal_social_caregiver_links",
        "portal_social.manage_caregivers",
        _("Record a caregiver's checked access for a patient, or end it."),
    ),
    NavEntry(
        "audit_log",
        _("Audit log"),
        "portal_social_audit_log",
        "portal_social.view_audit_log",
        _("Who opened or changed what, and when."),
    ),
    NavEntry(
        "staff_admin",
        _("Content management"),
        "wagtailadmin_home",
        "wagtailadmin.access_admin",
        _("The staff admin: portal pages, the clinician directory and every staff screen."),
    ),
)

#: A clinician's own public profile; shown to holders of the permission who are linked to a live page.
OWN_PROFILE = NavEntry(
    "own_profile",
    _("Edit my profile"),
    "edit_profile",
    "portal_social.edit_own_profile",
    _("Change your public profile; an approver publishes your changes."),
)

_CACHE_ATTR = "_portal_social_tools"


def _reverse(url_name: str) -> str | None:
    try:
        return reverse(url_name)
    except NoReverseMatch:
        return None


def _opens(user, permission: str) -> bool:
    if permission == MODERATION:
        from portal_social.core.moderation import rules

        return rules.reviews_anything(user)
    return access.holds(user, permission)


def staff_tools(user) -> list[NavLink]:
    """The staff screens ``user``'s roles open, resolved to URLs (none for signed-out visitors)."""
    links = []
    for entry in STAFF_TOOLS:
        if not _opens(user, entry.permission):
            continue
        url = _reverse(entry.url_name)
        if url is not None:
            links.append(NavLink(entry.key, entry.label, url, entry.description))
    return links


def own_profile_link(user, request=None) -> NavLink | None:
    """The self-service edit page of the live profile linked to ``user``, when their role lets them edit it."""
    if not access.holds(user, OWN_PROFILE.permission):
        return None
    from portal_social.profiles.models import ClinicianPage

    page = ClinicianPage.objects.live().filter(user=user).first()
    if page is None or not access.can(user, "edit_profile", page):
        return None
    base = page.get_url(request=request)
    if not base:
        return None
    url = base + page.reverse_subpage(OWN_PROFILE.url_name)
    return NavLink(OWN_PROFILE.key, OWN_PROFILE.label, url, OWN_PROFILE.description)


def tools_for(user, request=None) -> list[NavLink]:
    """Everything ``user`` may open beyond the patient pages: their own profile first, then staff screens.

    Cached on the user object for the request (at most two queries the first time).
    """
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return list(cached)
    links = []
    profile = own_profile_link(user, request)
    if profile is not None:
        links.append(profile)
    links.extend(staff_tools(user))
    if getattr(user, "is_authenticated", False):
        setattr(user, _CACHE_ATTR, tuple(links))
    return links
