"""An object a user may not see answers exactly like one that does not exist, so ids cannot be probed."""

import re
import uuid

import pytest

from portal_social.conf import app_settings
from portal_social.core import roles
from portal_social.profiles import actions
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

PHONE = "555-867-5309"


def _submit(author, page, comment):
    ratings = {key: 4 for key, _label in app_settings.REVIEW_QUESTIONS}
    return actions.submit_review(author=author, clinician=page, ratings=ratings, comment=comment)


#: Django masks the CSRF token afresh for every response; nothing else may differ.
_CSRF_TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')


def _shape(response):
    """What a prober can compare: status, templates rendered and body length."""
    return response.status_code, [template.name for template in response.templates], len(response.content)


def _assert_alike(forbidden, missing):
    assert forbidden.status_code == 404
    assert _shape(forbidden) == _shape(missing)
    unmasked = [_CSRF_TOKEN.sub(b'name="csrfmiddlewaretoken"', r.content) for r in (forbidden, missing)]
    assert unmasked[0] == unmasked[1]
    assert PHONE not in forbidden.content.decode()


def test_report_page_of_a_held_review_answers_like_a_missing_review(client, make_patient, clinician):
    held = _submit(make_patient(), clinician, f"Call me at {PHONE}.")
    assert held.status == held.Status.HELD
    sign_in(client, make_patient())
    forbidden = client.get(f"{clinician.url}reviews/{held.pk}/report/")
    missing = client.get(f"{clinician.url}reviews/{uuid.uuid4()}/report/")
    _assert_alike(forbidden, missing)


def test_appeal_page_for_another_clinicians_review_answers_like_a_missing_review(
    client, make_patient, make_user, clinician
):
    review = _submit(make_patient(), clinician, "Kind and thorough.")
    assert review.status == review.Status.PUBLISHED
    sign_in(client, make_user(roles.CLINICIAN, mfa=True))
    forbidden = client.get(f"{clinician.url}reviews/{review.pk}/appeal/")
    missing = client.get(f"{clinician.url}reviews/{uuid.uuid4()}/appeal/")
    _assert_alike(forbidden, missing)


@pytest.mark.parametrize("role", [roles.PATIENT_EXPERIENCE, roles.RISK_MANAGER])
def test_decide_on_a_held_review_by_a_non_moderator_answers_like_a_missing_review(
    client, make_patient, make_user, clinician, role
):
    held = _submit(make_patient(), clinician, f"Call me at {PHONE}.")
    sign_in(client, make_user(role, mfa=True))
    forbidden = client.post(f"/cms/portal-social/reviews/{held.pk}/decide/", {"action": "approve"})
    missing = client.post(f"/cms/portal-social/reviews/{uuid.uuid4()}/decide/", {"action": "approve"})
    _assert_alike(forbidden, missing)
    held.refresh_from_db()
    assert held.status == held.Status.HELD
