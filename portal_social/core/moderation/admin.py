"""The moderation queue's place in the Wagtail admin: its URLs and its menu item."""

from __future__ import annotations

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from portal_social.core.moderation import rules, views


@hooks.register("register_admin_urls")
def _moderation_urls():
    return [
        path("portal-social/moderation/", views.queue, name="portal_social_moderation_queue"),
        path("portal-social/moderation/<uuid:item_id>/", views.item_action, name="portal_social_moderation_item"),
    ]


class _QueueMenuItem(MenuItem):
    def is_shown(self, request):
        return rules.reviews_anything(request.user)


@hooks.register("register_admin_menu_item")
def _moderation_menu_item():
    return _QueueMenuItem(
        _("Moderation queue"), reverse("portal_social_moderation_queue"), icon_name="warning", order=810
    )
