"""Communities in the Wagtail admin: staff set them up as snippets; held posts are in the moderation queue.

Clinician spaces are not the admin's business: every screen of the snippet (list, chooser, edit, copy,
delete, inspect, history, usage) answers as if a space did not exist. Spaces are opened with
``manage.py portal_social_space`` and run by their owners.
"""

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views import chooser
from wagtail.snippets.views import snippets as views
from wagtail.snippets.views.snippets import SnippetViewSet

from portal_social.community.models import Community


class _NoSpace:
    """An admin view of one community: 404 for a clinician space."""

    def get_object(self, *args, **kwargs):
        found = super().get_object(*args, **kwargs)
        if getattr(found, "kind", None) == Community.Kind.SPACE:
            raise Http404()
        return found


class _CommunitiesOnly:
    """An admin list of communities (the chooser's): no clinician space."""

    def get_object_list(self):
        return super().get_object_list().filter(kind=Community.Kind.COMMUNITY)


class ChooseView(_CommunitiesOnly, chooser.ChooseView):
    pass


class ChooseResultsView(_CommunitiesOnly, chooser.ChooseResultsView):
    pass


class ChosenView(_NoSpace, chooser.SnippetChosenView):
    pass


class CommunityChooserViewSet(chooser.SnippetChooserViewSet):
    choose_view_class = ChooseView
    choose_results_view_class = ChooseResultsView
    chosen_view_class = ChosenView


class EditView(_NoSpace, views.EditView):
    pass


class CopyView(_NoSpace, views.CopyView):
    pass


class DeleteView(_NoSpace, views.DeleteView):
    pass


class InspectView(_NoSpace, views.InspectView):
    pass


class HistoryView(_NoSpace, views.HistoryView):
    pass


class UsageView(_NoSpace, views.UsageView):
    pass


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
    chooser_viewset_class = CommunityChooserViewSet
    edit_view_class = EditView
    copy_view_class = CopyView
    delete_view_class = DeleteView
    inspect_view_class = InspectView
    history_view_class = HistoryView
    usage_view_class = UsageView

    def get_queryset(self, request):
        # Clinician spaces are not listed to the people who set up patient communities.
        return Community.objects.filter(kind=Community.Kind.COMMUNITY)


register_snippet(CommunityViewSet)
