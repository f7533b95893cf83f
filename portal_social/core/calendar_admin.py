"""Wagtail admin for business calendars and their local closures.

Registered on import, under "Business calendars" in the admin menu; the
package's ``wagtail_hooks`` imports this module. Who may edit is the snippet
model permissions (add/change/delete ``businesscalendar`` and
``calendarclosure``), granted to roles in ``portal_social.core.roles``.
"""

from django import forms
from django.utils.choices import CallableChoiceIterator  # choices built on first use, not at start-up
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from portal_social.core.calendar.schedule import country_choices, time_zone_choices
from portal_social.core.calendar_models import BusinessCalendar, CalendarClosure


def _country_choices():
    return [("", "No public holidays"), *country_choices()]


class BusinessCalendarViewSet(SnippetViewSet):
    model = BusinessCalendar
    icon = "date"
    menu_label = "Calendars"
    list_display = ["name", "slug", "time_zone", "country", "subdivision"]
    search_fields = ["name", "slug"]
    panels = [
        FieldPanel("name"),
        FieldPanel("slug"),
        FieldPanel("time_zone", widget=forms.Select(choices=CallableChoiceIterator(time_zone_choices))),
        FieldRowPanel(
            [
                FieldPanel(
                    "country",
                    widget=forms.Select(choices=CallableChoiceIterator(_country_choices)),
                ),
                FieldPanel("subdivision"),
            ],
            heading="Public holidays",
        ),
        MultiFieldPanel([FieldPanel(field) for field in BusinessCalendar.DAY_FIELDS], heading="Opening hours"),
    ]


class CalendarClosureViewSet(SnippetViewSet):
    model = CalendarClosure
    icon = "warning"
    menu_label = "Closures"
    list_display = ["reason", "calendar", "starts_on", "start_time", "ends_on", "end_time"]
    list_filter = ["calendar"]
    search_fields = ["reason"]
    panels = [
        FieldPanel("calendar"),
        FieldRowPanel([FieldPanel("starts_on"), FieldPanel("start_time")]),
        FieldRowPanel([FieldPanel("ends_on"), FieldPanel("end_time")]),
        FieldPanel("reason"),
    ]


class BusinessCalendarGroup(SnippetViewSetGroup):
    menu_label = "Business calendars"
    menu_icon = "date"
    items = (BusinessCalendarViewSet, CalendarClosureViewSet)


register_snippet(BusinessCalendarGroup)
