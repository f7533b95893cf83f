"""Review pages that are not under a clinician's profile: the published exclusion policy.

The host mounts this module, for example ``path("clinician-reviews/", include("portal_social.profiles.urls"))``.
"""

from django.urls import path

from portal_social.profiles import views

app_name = "portal_social_profiles"

urlpatterns = [path("review-policy/", views.exclusion_policy, name="review_policy")]
