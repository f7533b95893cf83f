from django.urls import path

from portal_social.community import views

app_name = "portal_social_community"

urlpatterns = [path("", views.index, name="index")]
