"""Communities, write side: every change goes through a function here (house rule 1).

Each action checks permission (``CommunityDenied``), validates
(``ValidationError`` by field), changes data in one transaction, writes its
audit event, and defers notifications and live updates until it commits.

Posting (:func:`start_thread`, :func:`reply`) screens the title and the
post for ``community_post`` (a clinician's or staff member's post: the
stricter ``staff_public_reply`` rules) before anything is saved:

* language the community does not allow is refused;
* personal details are refused with ``PhiFound`` (the kinds and where they
  are, for the author to edit) unless the author chose to post anyway: then
  the post is held for a moderator, who can hide the details and publish;
* crisis language holds the post as **urgent** (first in the queue, every
  moderator told at once); the author is shown crisis resources and what
  happens next;
* a new member's first posts (``PORTAL_SOCIAL_COMMUNITY_HELD_FIRST_POSTS``),
  a community that reviews every post, and words moderators read first hold
  the post too.

A held post is a ``community_post`` item of the shared moderation queue;
:func:`approve_post`, :func:`reject_post` and :func:`redact_post` decide it
and close the item, from the queue or anywhere else.
"""

from portal_social.community.actions._common import KIND, REASON_MAX_LENGTH, THREAD_STREAM, CommunityDenied
from portal_social.community.actions.badges import award_badges
from portal_social.community.actions.decisions import approve_post, redact_post, reject_post
from portal_social.community.actions.edits import delete_post, edit_post
from portal_social.community.actions.flags import FLAG_WEIGHTS, flag_post
from portal_social.community.actions.following import follow_thread, set_community_notifications
from portal_social.community.actions.membership import join, leave, set_handle
from portal_social.community.actions.people import (
    decide_join_request,
    lift_penalty,
    penalize,
    set_community_moderator,
    set_mentor,
    set_trust_level,
    welcome,
)
from portal_social.community.actions.posting import PhiFound, reply, start_thread
from portal_social.community.actions.reactions import react
from portal_social.community.actions.tools import set_locked, set_pinned, set_slow_mode, solve

__all__ = [
    "FLAG_WEIGHTS",
    "KIND",
    "REASON_MAX_LENGTH",
    "THREAD_STREAM",
    "CommunityDenied",
    "PhiFound",
    "approve_post",
    "award_badges",
    "decide_join_request",
    "delete_post",
    "edit_post",
    "flag_post",
    "follow_thread",
    "join",
    "leave",
    "lift_penalty",
    "penalize",
    "redact_post",
    "react",
    "reject_post",
    "reply",
    "set_community_moderator",
    "set_community_notifications",
    "set_handle",
    "set_mentor",
    "set_trust_level",
    "set_locked",
    "set_pinned",
    "set_slow_mode",
    "solve",
    "start_thread",
    "welcome",
]
