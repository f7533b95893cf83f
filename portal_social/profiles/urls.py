from django.urls import path

from portal_social.profiles import views

app_name = "portal_social_profiles"

urlpatterns = [path("", views.directory, name="directory")]
