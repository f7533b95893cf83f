from django.urls import path

from portal_social.community import views

app_name = "portal_social_community"

urlpatterns = [
    path("", views.index, name="index"),
    path("name/", views.handle, name="handle"),
    path("<slug:slug>/", views.community, name="community"),
    path("<slug:slug>/join/", views.join, name="join"),
    path("<slug:slug>/leave/", views.leave, name="leave"),
    path("<slug:slug>/new/", views.new_thread, name="new_thread"),
    path("<slug:slug>/t/<uuid:thread_id>/", views.thread, name="thread"),
    path("<slug:slug>/t/<uuid:thread_id>/flag/<uuid:post_id>/", views.flag, name="flag"),
]
