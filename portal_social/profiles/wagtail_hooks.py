"""Wagtail admin for clinician profiles: taxonomies as snippets, responses to reviews.

Reviews are moderated in the shared moderation queue (``core.moderation``).
"""

from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from portal_social.profiles.models import Condition, Language, Location, Specialty


class SpecialtyViewSet(SnippetViewSet):
    model = Specialty
    icon = "tag"
    list_display = ["name", "slug"]
    search_fields = ["name"]


class ConditionViewSet(SnippetViewSet):
    model = Condition
    icon = "tag"
    list_display = ["name", "slug"]
    search_fields = ["name"]


class LanguageViewSet(SnippetViewSet):
    model = Language
    icon = "globe"
    list_display = ["name", "slug"]


class LocationViewSet(SnippetViewSet):
    model = Location
    icon = "site"
    list_display = ["name", "phone"]
    search_fields = ["name", "address"]


class ClinicianTaxonomyGroup(SnippetViewSetGroup):
    menu_label = "Clinician directory"
    menu_icon = "group"
    items = (SpecialtyViewSet, ConditionViewSet, LanguageViewSet, LocationViewSet)


register_snippet(ClinicianTaxonomyGroup)


# --------------------------------------------------------------------------- responses to reviews

from django.http import HttpResponseRedirect  # noqa: E402
from django.urls import path, reverse  # noqa: E402
from wagtail import hooks  # noqa: E402
from wagtail.admin.menu import MenuItem  # noqa: E402

from portal_social.core import access  # noqa: E402
from portal_social.profiles import respond_views  # noqa: E402


def _to_review_items(request):
    return HttpResponseRedirect(reverse("portal_social_moderation_queue") + "?type=review")


@hooks.register("register_admin_urls")
def _review_admin_urls():
    return [
        # The review queue became the shared moderation queue; old links land on its reviews.
        path(
            "portal-social/reviews/",
            _to_review_items,
            name="portal_social_review_queue",
        ),
        path("portal-social/reviews/respond/", respond_views.respond_list, name="portal_social_review_respond_list"),
        path(
            "portal-social/reviews/<uuid:review_id>/respond/",
            respond_views.respond,
            name="portal_social_review_respond",
        ),
    ]


class _PermissionMenuItem(MenuItem):
    def __init__(self, *args, permission: str, **kwargs):
        self.permission = permission
        super().__init__(*args, **kwargs)

    def is_shown(self, request):
        return access.holds(request.user, self.permission)


@hooks.register("register_admin_menu_item")
def _review_response_menu_item():
    return _PermissionMenuItem(
        "Respond to reviews",
        reverse("portal_social_review_respond_list"),
        icon_name="comment",
        order=811,
        permission="portal_social.respond_to_reviews",
    )
