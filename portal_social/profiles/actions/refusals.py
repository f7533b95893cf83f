"""Why a review action refuses: one ``core.errors.Denied`` subclass per kind of refusal.

Views turn most of them into a 404, so a person cannot tell a review they
may not touch from one that does not exist (house rule 2).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _lazy

from portal_social.core.errors import Denied

__all__ = [
    "AppealDenied",
    "ModerationDenied",
    "ProfileChangesDenied",
    "ReportDenied",
    "ResponseDenied",
    "ReviewNotAllowed",
]


class ReviewNotAllowed(Denied):
    """The person may not review this clinician (not a patient they cared for, or themselves)."""

    default_message = _lazy("You can review clinicians who have cared for you.")
    code = "review_not_allowed"


class ModerationDenied(Denied):
    """Only holders of ``portal_social.moderate_reviews`` moderate reviews."""

    default_message = _lazy("Only review moderators can do that.")
    code = "moderation_denied"


class ResponseDenied(Denied):
    """Only holders of ``portal_social.respond_to_reviews`` post responses."""

    default_message = _lazy("Only patient experience staff can respond to reviews.")
    code = "response_denied"


class AppealDenied(Denied):
    """Only the reviewed clinician's own account may appeal a comment."""

    default_message = _lazy("Only the clinician who was reviewed can appeal a comment.")
    code = "appeal_denied"


class ReportDenied(Denied):
    """Reporting needs a signed-in account and a published review."""

    default_message = _lazy("Sign in to report a review.")
    code = "report_denied"


class ProfileChangesDenied(Denied):
    """Only the clinician linked to a profile page, holding the clinician role, edits it."""

    default_message = _lazy("Only the clinician whose profile this is can change it.")
    code = "profile_changes_denied"
