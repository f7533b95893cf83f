"""Communities in the Wagtail admin: staff set them up as snippets; held posts are in the moderation queue."""

from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from portal_social.community.models import Community


class CommunityViewSet(SnippetViewSet):
    model = Community
    icon = "group"
    menu_label = _("Communities")
    menu_order = 820
    add_to_admin_menu = True
    list_display = ["name", "visibility", "review_every_post"]
    list_filter = ["visibility"]
    search_fields = ["name"]
    panels = [
        FieldPanel("name"),
        FieldPanel("slug"),
        FieldPanel("description"),
        FieldPanel("guidelines"),
        FieldPanel("visibility"),
        FieldPanel("review_every_post"),
    ]

    def get_queryset(self, request):
        # Clinician spaces are not listed to the people who set up patient communities.
        return Community.objects.filter(kind=Community.Kind.COMMUNITY)


register_snippet(CommunityViewSet)
