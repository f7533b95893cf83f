"""Review pages that are not under a clinician's profile: the published exclusion policy, and review invitations.

The host mounts this module, for example ``path("clinician-reviews/", include("portal_social.profiles.urls"))``.
"""

from django.urls import path

from portal_social.profiles import invitation_views, views

app_name = "portal_social_profiles"

urlpatterns = [
    path("review-policy/", views.exclusion_policy, name="review_policy"),
    path("invitation/<str:token>/", invitation_views.invitation, name="invitation"),
    path("requests/", invitation_views.requests, name="invitation_requests"),
]
