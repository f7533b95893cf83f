"""Every portal_social page at its default mount point.

The clinician directory is a Wagtail page tree (``ClinicianIndexPage``), so it
is served by Wagtail wherever the host places it (the example site: ``/clinicians/``).

A host may include this module whole, ``path("", include("portal_social.urls"))``,
or include each feature's module at a prefix of its choosing.
"""

from django.urls import include, path

from portal_social.core import caregiver_views
from portal_social.core.notify import views as notify_views

urlpatterns = [
    path("notifications/", notify_views.preferences, name="portal_social_notification_preferences"),
    path("caregivers/", caregiver_views.index, name="portal_social_caregivers"),
    path("caregivers/<uuid:pk>/end/", caregiver_views.end, name="portal_social_caregiver_end"),
    path("clinician-reviews/", include("portal_social.profiles.urls")),
    path("community/", include("portal_social.community.urls")),
    path("messages/", include("portal_social.messaging.urls")),
    path("feedback/", include("portal_social.feedback.urls")),
    path("px/", include("portal_social.feedback.px_urls")),
]
