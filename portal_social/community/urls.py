from django.urls import path

from portal_social.community import views
from portal_social.community.views import edits as edit_views
from portal_social.community.views import files as file_views
from portal_social.community.views import search as search_views
from portal_social.community.views import spaces as space_views

app_name = "portal_social_community"

urlpatterns = [
    path("", views.index, name="index"),
    path("name/", views.handle, name="handle"),
    # Search (views/search.py): "search" is a reserved slug, so this comes before <slug:slug>/.
    path("search/", search_views.search_page, name="search"),
    # Permalinks, reactions and who reacted (views/reactions.py): "p" is a reserved slug.
    path("p/<uuid:post_id>/", views.reactions.permalink, name="permalink"),
    path("p/<uuid:post_id>/react/", views.reactions.react, name="react"),
    path("p/<uuid:post_id>/reactions/", views.reactions.reacted_by, name="reactions"),
    path("people/<str:handle>/", views.people.member, name="member"),
    # Clinician spaces (views/spaces.py): "spaces" is a reserved slug. A space's threads use the pages below.
    path("spaces/", space_views.index, name="spaces"),
    path("spaces/ask/", space_views.ask_to_join, name="space_ask"),
    path("spaces/<slug:slug>/members/", space_views.members, name="space_members"),
    path("spaces/<slug:slug>/referrals/", space_views.referrals, name="space_referrals"),
    path("spaces/<slug:slug>/referrals/new/", space_views.new_referral, name="new_referral"),
    path("<slug:slug>/", views.community, name="community"),
    path("<slug:slug>/welcome/", views.people.welcome, name="welcome"),
    path("<slug:slug>/requests/", views.people.requests, name="requests"),
    path("<slug:slug>/join/", views.join, name="join"),
    path("<slug:slug>/leave/", views.leave, name="leave"),
    path("<slug:slug>/new/", views.new_thread, name="new_thread"),
    path("<slug:slug>/t/<uuid:thread_id>/", views.thread, name="thread"),
    path("<slug:slug>/t/<uuid:thread_id>/flag/<uuid:post_id>/", views.flag, name="flag"),
    path("<slug:slug>/t/<uuid:thread_id>/referral/", space_views.referral, name="referral"),
    path("<slug:slug>/t/<uuid:thread_id>/posts/<uuid:post_id>/", views.thread_post, name="thread_post"),
    # Files shared in a clinician space (views/files.py).
    path("<slug:slug>/t/<uuid:thread_id>/files/<uuid:file_id>/", file_views.download, name="space_file"),
    # Editing, history and deletion of a post (views/edits.py).
    path("<slug:slug>/t/<uuid:thread_id>/edit/<uuid:post_id>/", edit_views.edit_post, name="edit_post"),
    path("<slug:slug>/t/<uuid:thread_id>/history/<uuid:post_id>/", edit_views.post_history, name="post_history"),
    path("<slug:slug>/t/<uuid:thread_id>/delete/<uuid:post_id>/", edit_views.delete_post, name="delete_post"),
    # Thread tools and following (views/tools.py).
    path("t/<uuid:thread_id>/", views.tools.thread_link, name="thread_link"),
    path("t/following/", views.tools.followed, name="followed"),
    path("<slug:slug>/notifications/", views.tools.community_notifications, name="community_notifications"),
    path("<slug:slug>/slow-mode/", views.tools.community_slow_mode, name="community_slow_mode"),
    path("<slug:slug>/t/<uuid:thread_id>/follow/", views.tools.follow, name="follow"),
    path("<slug:slug>/t/<uuid:thread_id>/solve/", views.tools.solve, name="solve"),
    path("<slug:slug>/t/<uuid:thread_id>/pin/", views.tools.pin, name="pin"),
    path("<slug:slug>/t/<uuid:thread_id>/lock/", views.tools.lock, name="lock"),
    path("<slug:slug>/t/<uuid:thread_id>/slow-mode/", views.tools.slow_mode, name="slow_mode"),
]
