"""What every messaging test may ask for: a small world of pools, patients, caregivers and staff."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from portal_social.core import caregivers, roles
from portal_social.messaging.models import CarePool, PoolMember, PoolPatient


@dataclass
class World:
    patient: object
    other_patient: object
    caregiver: object
    clinician: object
    nurse: object
    outsider_clinician: object
    moderator: object
    superuser: object
    pool: CarePool
    other_pool: CarePool


@pytest.fixture
def world(make_user):
    """Two pools. ``clinician`` and ``nurse`` answer ``pool``; ``outsider_clinician`` answers ``other_pool``.
    ``patient`` may write to ``pool``; ``caregiver`` holds a messaging link for ``patient``. Staff have MFA."""
    patient = make_user(roles.PATIENT, first_name="Maria", last_name="Lopez")
    other_patient = make_user(roles.PATIENT, first_name="James", last_name="Carter")
    caregiver = make_user(first_name="Ana", last_name="Lopez")
    caregivers.link_caregiver(actor=patient, caregiver=caregiver, patient=patient, scopes=["messaging"])
    clinician = make_user(roles.CLINICIAN, mfa=True, first_name="Priya", last_name="Raman")
    nurse = make_user(roles.CARE_TEAM, mfa=True, first_name="Grace", last_name="Kim")
    outsider = make_user(roles.CLINICIAN, mfa=True, first_name="David", last_name="Okafor")
    moderator = make_user(roles.COMMUNITY_MODERATOR, mfa=True)
    superuser = make_user(None, mfa=True, is_superuser=True, is_staff=True)
    pool = CarePool.objects.create(name="Cardiology — Dr. Raman's team", slug="cardiology", lead=clinician)
    other_pool = CarePool.objects.create(name="Primary care", slug="primary", lead=outsider)
    for user in (clinician, nurse):
        PoolMember.objects.create(pool=pool, user=user)
    PoolMember.objects.create(pool=other_pool, user=outsider)
    PoolPatient.objects.create(pool=pool, patient=patient)
    PoolPatient.objects.create(pool=other_pool, patient=other_patient)
    return World(patient, other_patient, caregiver, clinician, nurse, outsider, moderator, superuser, pool, other_pool)


@pytest.fixture
def start(world):
    """``start(sender=world.patient, body=..., **kw)``: a conversation with ``world.pool`` through the action."""
    from portal_social.messaging import actions

    def make(sender=None, *, patient=None, body="Is it normal to feel dizzy on the new pill?", **kwargs):
        sender = sender or world.patient
        kwargs.setdefault("pool", world.pool)
        kwargs.setdefault("topic", "medical_question")
        kwargs.setdefault("subject", "Dizzy on the new pill")
        return actions.start_conversation(sender=sender, patient=patient or world.patient, body=body, **kwargs)

    return make
