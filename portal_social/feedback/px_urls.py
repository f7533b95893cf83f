"""The patient-experience workspace, mounted apart from patient-facing feedback."""

from django.urls import path

from portal_social.feedback import views

app_name = "portal_social_px"

urlpatterns = [path("", views.workspace, name="workspace")]
