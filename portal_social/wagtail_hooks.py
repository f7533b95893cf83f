"""Wagtail admin integration: staff screens register here."""

from django.templatetags.static import static
from django.urls import path, reverse
from django.utils.html import format_html
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from portal_social.community import wagtail_hooks as _community_hooks  # noqa: F401  (registers on import)
from portal_social.core import access, audit_views, caregiver_admin
from portal_social.core import calendar_admin as _calendar_admin  # noqa: F401  (registers on import)
from portal_social.core.moderation import admin as _moderation_admin  # noqa: F401  (registers on import)
from portal_social.core.screening import admin as _screening_admin  # noqa: F401  (registers on import)
from portal_social.feedback import wagtail_hooks as _feedback_hooks  # noqa: F401  (registers on import)
from portal_social.messaging import wagtail_hooks as _messaging_hooks  # noqa: F401  (registers on import)
from portal_social.profiles import wagtail_hooks as _profiles_hooks  # noqa: F401  (registers on import)


@hooks.register("register_admin_urls")
def _audit_urls():
    return [path("portal-social/audit/", audit_views.audit_log, name="portal_social_audit_log")]


class _AuditMenuItem(MenuItem):
    def is_shown(self, request):
        return access.holds(request.user, "portal_social.view_audit_log")


@hooks.register("register_admin_menu_item")
def _audit_menu_item():
    return _AuditMenuItem("Audit log", reverse("portal_social_audit_log"), icon_name="history", order=900)


@hooks.register("register_admin_urls")
def _caregiver_link_urls():
    return [
        path("portal-social/caregivers/", caregiver_admin.caregiver_links, name="portal_social_caregiver_links"),
        path(
            "portal-social/caregivers/<uuid:pk>/end/", caregiver_admin.end_link, name="portal_social_caregiver_link_end"
        ),
    ]


@hooks.register("register_admin_menu_item")
def _caregiver_links_menu_item():
    return caregiver_admin.CaregiverLinksMenuItem(
        "Caregiver links", reverse("portal_social_caregiver_links"), icon_name="group", order=890
    )


@hooks.register("insert_global_admin_css")
def _portal_social_admin_css():
    """The staff screens' own classes (queue, audit log, button rows), styled inside the Wagtail admin."""
    return format_html('<link rel="stylesheet" href="{}">', static("portal_social/css/portal_social_admin.css"))
