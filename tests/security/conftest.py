"""A small portal for attacking: a clinician page with reviews in every state, and a user per role."""

from dataclasses import dataclass

import pytest
from django.utils import timezone

from portal_social.conf import app_settings
from portal_social.core import roles
from portal_social.profiles import actions
from portal_social.profiles.models import ClinicianPage, Review
from portal_social.profiles.workflow import ensure_profile_workflow
from tests.clinicians import ESTABLISHED


@dataclass
class World:
    page: ClinicianPage
    owner: object  # the clinician the page belongs to
    patient: object  # on the owner's care team: may review
    moderator: object
    px: object
    risk: object
    held: Review  # a comment with a phone number, held for moderation
    published: Review  # a published comment: reportable, appealable, awaiting a response


def _ratings(stars=4):
    return {key: stars for key, _label in app_settings.REVIEW_QUESTIONS}


@pytest.fixture
def world(directory_page, clinician, clinician_user, patient, make_patient, moderator, px, make_user):
    ensure_profile_workflow(directory_page)
    held = actions.submit_review(
        author=make_patient(), clinician=clinician, ratings=_ratings(2), comment="Call me at 555-867-5309 please."
    )
    published = actions.submit_review(
        author=make_patient(date_joined=timezone.now() - ESTABLISHED),
        clinician=clinician,
        ratings=_ratings(5),
        comment="Dr Lopez listened and explained everything.",
    )
    assert held.status == Review.Status.HELD and published.status == Review.Status.PUBLISHED
    return World(
        page=clinician,
        owner=clinician_user,
        patient=patient,
        moderator=moderator,
        px=px,
        risk=make_user(roles.RISK_MANAGER, mfa=True),
        held=held,
        published=published,
    )
