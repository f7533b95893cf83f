from django.urls import path

from portal_social.messaging import staff_views, views

app_name = "portal_social_messaging"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("new/", views.compose, name="compose"),
    path("away/", staff_views.away, name="away"),
    path("c/<uuid:conversation_id>/", views.conversation, name="conversation"),
    path("c/<uuid:conversation_id>/m/<uuid:message_id>/", views.message_fragment, name="message"),
    path("c/<uuid:conversation_id>/m/<uuid:message_id>/retract/", views.retract, name="retract"),
    path("c/<uuid:conversation_id>/a/<uuid:attachment_id>/", views.attachment, name="attachment"),
    path("c/<uuid:conversation_id>/emergency/", staff_views.emergency_access, name="emergency_access"),
    path("c/<uuid:conversation_id>/read/", views.read, name="read"),
    path("c/<uuid:conversation_id>/typing/", views.typing, name="typing"),
    path("c/<uuid:conversation_id>/close/", views.close, name="close"),
    path("c/<uuid:conversation_id>/file/", views.file_record, name="file_record"),
    path("c/<uuid:conversation_id>/assign/", views.assign, name="assign"),
    path("c/<uuid:conversation_id>/confidential/", views.confidential, name="confidential"),
]
