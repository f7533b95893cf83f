"""The patient-experience workspace, mounted apart from patient-facing feedback."""

from django.urls import path

from portal_social.feedback import px_views

app_name = "portal_social_px"

urlpatterns = [
    path("", px_views.workspace, name="workspace"),
    path("new/", px_views.new_case, name="new"),
    path("assign/", px_views.bulk_assign, name="bulk_assign"),
    path("c/<uuid:case_id>/", px_views.case, name="case"),
    path("c/<uuid:case_id>/<str:what>/", px_views.case_action, name="case_action"),
]
