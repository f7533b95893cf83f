"""Community posts in the moderation queue: the ``community_post`` kind of ``core.moderation``.

A held post is shown to the moderator as written, with what the checks
found highlighted; the moderator publishes it, hides chosen parts and
publishes it, or does not publish it (with a reason for the record). Each
decision is the community's own action, which audits it, tells the author
and closes the item. Posts with crisis language arrive urgent.

An item's space is its community's slug. Besides the portal role, a
community's own moderators (an active membership with the role
``moderator``) review that community's items: ``reviewer_spaces`` names
their communities, ``space_reviewers`` the people to tell of a new item.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from portal_social.community.models import Membership, Post
from portal_social.core import moderation, roles, screening
from portal_social.core.moderation import reasons
from portal_social.core.moderation.presenting import marked_text

KIND = "community_post"

reasons.register("new_member", _lazy("A new member's first posts"), 1)
reasons.register("review_every_post", _lazy("This community reviews every post"), 0)


def moderated_spaces(user) -> set[str]:
    """The slugs of the communities ``user`` moderates through an active moderator membership (one query)."""
    return set(
        Membership.objects.filter(
            user=user, status=Membership.Status.ACTIVE, role=Membership.Role.MODERATOR
        ).values_list("community__slug", flat=True)
    )


def community_moderators(space: str):
    """The active accounts moderating the community ``space`` (a slug) through their membership."""
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            community_memberships__community__slug=space,
            community_memberships__role=Membership.Role.MODERATOR,
            community_memberships__status=Membership.Status.ACTIVE,
        )
        .distinct()
    )


def load_posts(ids: list[str]) -> dict[str, Post]:
    found = Post.objects.filter(pk__in=ids).select_related("thread", "thread__community", "author__community_profile")
    return {str(post.pk): post for post in found}


def present_post(item, post: Post) -> dict:
    profile = getattr(post.author, "community_profile", None) if post.author_id else None
    return {
        "post": post,
        "handle": profile.handle if profile else "",
        **marked_text(
            post.body_source,
            destination=screening.policy.COMMUNITY_POST,
            label=lambda f: str(screening.describe(f)),
            redactions=post.redactions,
            redacted_label=str(_("Already hidden")),
        ),
    }


def post_decisions(item, post: Post) -> list[moderation.Decision]:
    if post.status == Post.Status.PUBLISHED:  # flagged by members, still shown
        return [
            moderation.Decision(moderation.APPROVE, _lazy("Keep published")),
            moderation.Decision(
                moderation.REDACT, _lazy("Hide parts and keep published"), chooses_spans=True, style="secondary"
            ),
            moderation.Decision(moderation.REJECT, _lazy("Take down"), needs_reason=True, style="danger"),
        ]
    if post.status != Post.Status.HELD:
        return [moderation.Decision(moderation.IGNORE, _lazy("Close: the post is already decided"))]
    return [
        moderation.Decision(moderation.APPROVE, _lazy("Publish as written")),
        moderation.Decision(moderation.REDACT, _lazy("Hide parts and publish"), chooses_spans=True, style="secondary"),
        moderation.Decision(moderation.REJECT, _lazy("Do not publish"), needs_reason=True, style="danger"),
    ]


def decide_post(moderator, item, post: Post, decision: str, data: dict, request=None) -> str:
    from portal_social.community import actions  # the actions import this module

    if decision == moderation.APPROVE:
        actions.approve_post(moderator=moderator, post=post, request=request)
        return _("The post is published.")
    if decision == moderation.REJECT:
        actions.reject_post(moderator=moderator, post=post, reason=data.get("reason", ""), request=request)
        return _("The post is not published; the author is told it did not meet the guidelines.")
    if decision == moderation.REDACT:
        actions.redact_post(
            moderator=moderator,
            post=post,
            spans=data.get("spans") or [],
            use_findings=bool(data.get("use_findings")),
            request=request,
        )
        return _("The selected parts are hidden and the post is published.")
    raise ValidationError(_("Choose a decision."))


moderation.register(
    moderation.Kind(
        key=KIND,
        model=Post,
        label=_lazy("Community post"),
        permission="portal_social.moderate_community",
        reviewer_role=roles.COMMUNITY_MODERATOR,
        template="portal_social/community/admin/moderation_item.html",
        load=load_posts,
        present=present_post,
        decisions=post_decisions,
        decide=decide_post,
        author=lambda post: post.author_id,
        space=lambda post: post.thread.community.slug,
        notification="community.needs_moderation",
        reviewer_spaces=moderated_spaces,
        space_reviewers=community_moderators,
    )
)
