from django.urls import path

from portal_social.feedback import views

app_name = "portal_social_feedback"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.new, name="new"),
    path("c/<uuid:case_id>/", views.case, name="case"),
]
