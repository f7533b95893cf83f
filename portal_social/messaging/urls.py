from django.urls import path

from portal_social.messaging import views

app_name = "portal_social_messaging"

urlpatterns = [path("", views.inbox, name="inbox")]
