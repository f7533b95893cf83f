"""Wagtail admin for clinician profiles: taxonomies as snippets, review moderation."""

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
