"""core.errors.Denied: one refusal type, readable and translatable, for every feature."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from portal_social.core import breakglass, caregivers, ratelimit, roles
from portal_social.core.errors import Denied
from portal_social.profiles import actions


class _SampleDenied(Denied):
    default_message = _("Only sample holders can do that.")
    code = "sample_denied"


def test_denied_is_a_permission_denied_with_its_default_message_and_code():
    exc = _SampleDenied()
    assert isinstance(exc, PermissionDenied)
    assert exc.message == str(exc) == "Only sample holders can do that."
    assert exc.code == "sample_denied"


def test_a_refusal_may_carry_a_more_precise_message_and_code():
    exc = _SampleDenied(_("This one is closed."), code="closed")
    assert str(exc) == "This one is closed."
    assert exc.code == "closed"
    assert _SampleDenied.code == "sample_denied"  # the class keeps its own


def test_the_message_is_translated_when_it_is_read():
    exc = Denied()
    with translation.override("en"):
        english = str(exc)
    assert english == "You are not allowed to do that."
    with translation.override("de"):
        assert isinstance(str(exc), str)  # read in the active language, never fixed at raise time


@pytest.mark.parametrize(
    "refusal",
    [
        actions.ReviewNotAllowed,
        actions.ModerationDenied,
        actions.ResponseDenied,
        actions.AppealDenied,
        actions.ReportDenied,
        actions.ProfileChangesDenied,
        caregivers.CaregiverLinkDenied,
        breakglass.BreakGlassDenied,
        roles.RoleChangeDenied,
    ],
)
def test_every_refusal_of_the_package_is_a_denied_with_a_message_and_its_own_code(refusal):
    exc = refusal()
    assert isinstance(exc, Denied)
    assert isinstance(exc, PermissionDenied)
    assert str(exc) and exc.message == str(exc)
    assert exc.code not in ("", Denied.code)


def test_review_refusals_keep_their_wording():
    assert str(actions.ReviewNotAllowed()) == "You can review clinicians who have cared for you."
    assert str(actions.ReportDenied("This review cannot be reported.")) == "This review cannot be reported."


def test_rate_limited_is_a_denied_that_says_how_long_to_wait():
    exc = ratelimit.RateLimited(90)
    assert isinstance(exc, Denied)
    assert exc.code == "rate_limited"
    assert exc.retry_after == 90
    assert str(exc) == exc.message == "You have done that too many times. Please try again in 2 minutes."
